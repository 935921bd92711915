"""Where the built-in adapters live; imported only when asked for."""

from __future__ import annotations

__all__ = ["BUILTIN_ADAPTERS"]

BUILTIN_ADAPTERS: dict[str, str] = {
    "email": "omnicx.channels.email:EmailAdapter",
    "whatsapp": "omnicx.channels.whatsapp:WhatsAppAdapter",
    "messenger": "omnicx.channels.messenger:MessengerAdapter",
    "instagram": "omnicx.channels.instagram:InstagramAdapter",
    "twilio": "omnicx.channels.twilio:TwilioAdapter",
    "twilio_voice": "omnicx.channels.twilio_voice:TwilioVoiceAdapter",
    "telegram": "omnicx.channels.telegram:TelegramAdapter",
    "webchat": "omnicx.channels.webchat:WebchatAdapter",
    "webform": "omnicx.channels.webform:WebformAdapter",
}
"""Adapter name → ``module:Class``. Each is also declared in the ``omnicx.channels`` entry-point group."""
