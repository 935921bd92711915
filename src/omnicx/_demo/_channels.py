"""The demo's adapters, configured with demo-only secrets.

DEMO ONLY: these secrets are public (they ship in the wheel, so anyone can
sign requests with them). Never configure a real deployment with them.
"""

from __future__ import annotations

from typing import Any

from omnicx.channels._base import ChannelAdapter
from omnicx.channels.email import EmailAdapter, EmailConfig
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig
from omnicx.channels.telegram import TelegramAdapter, TelegramConfig
from omnicx.channels.twilio import TwilioAdapter, TwilioConfig
from omnicx.channels.twilio_voice import TwilioVoiceAdapter, TwilioVoiceConfig
from omnicx.channels.webchat import WebchatAdapter, WebchatConfig
from omnicx.channels.webform import WebformAdapter, WebformConfig
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig

__all__ = [
    "DEMO_FORGED_SECRET",
    "DEMO_META_APP_SECRET",
    "DEMO_SUPPORT_EMAIL",
    "DEMO_SUPPORT_PHONE",
    "DEMO_TELEGRAM_SECRET_TOKEN",
    "DEMO_TWILIO_ACCOUNT_SID",
    "DEMO_TWILIO_AUTH_TOKEN",
    "DEMO_WEBCHAT_SECRET",
    "DEMO_WEBFORM_SECRET",
    "demo_channels",
]

# --- DEMO-ONLY SECRETS: public values, for the shipped sample data set only ---------
DEMO_WEBCHAT_SECRET = "demo-only-webchat-secret-0f3a9c"
DEMO_META_APP_SECRET = "demo0only0meta0app0secret0000001"  # WhatsApp and Messenger (one Meta app)
DEMO_TWILIO_AUTH_TOKEN = "demo0only0twilio0auth0token00001"  # SMS and voice (one Twilio account)
DEMO_TELEGRAM_SECRET_TOKEN = "demo-only-telegram-secret-token"
DEMO_WEBFORM_SECRET = "demo-only-webform-secret"
DEMO_FORGED_SECRET = "not-the-auth-token"
"""What the data set's one forged request is signed with: not any adapter's secret."""
# ------------------------------------------------------------------------------------

DEMO_SUPPORT_EMAIL = "support@northwind-outfitters.example"
DEMO_SUPPORT_PHONE = "+14155550100"
DEMO_TWILIO_ACCOUNT_SID = "AC3f0c2a9e8b7d6c5b4a39281706f5e4d3"


def demo_channels() -> dict[str, ChannelAdapter[Any]]:
    """Return adapter name -> adapter configured with the demo secrets, one per channel the data set uses.

    The eight adapters are ``email``, ``messenger``, ``telegram``, ``twilio``,
    ``twilio_voice``, ``webchat``, ``webform`` and ``whatsapp``; each call builds
    new instances. The email adapter knows the demo business address, so mail
    from it is an agent reply.
    """
    return {
        "email": EmailAdapter(
            EmailConfig(business_addresses=(DEMO_SUPPORT_EMAIL,), from_address=DEMO_SUPPORT_EMAIL)
        ),
        "messenger": MessengerAdapter(MessengerConfig.model_validate({"app_secret": DEMO_META_APP_SECRET})),
        "telegram": TelegramAdapter(
            TelegramConfig.model_validate({"secret_token": DEMO_TELEGRAM_SECRET_TOKEN})
        ),
        "twilio": TwilioAdapter(
            TwilioConfig.model_validate(
                {
                    "auth_token": DEMO_TWILIO_AUTH_TOKEN,
                    "account_sid": DEMO_TWILIO_ACCOUNT_SID,
                    "default_sender": DEMO_SUPPORT_PHONE,
                }
            )
        ),
        "twilio_voice": TwilioVoiceAdapter(
            TwilioVoiceConfig.model_validate({"auth_token": DEMO_TWILIO_AUTH_TOKEN})
        ),
        "webchat": WebchatAdapter(WebchatConfig.model_validate({"secret": DEMO_WEBCHAT_SECRET})),
        "webform": WebformAdapter(WebformConfig.model_validate({"secret": DEMO_WEBFORM_SECRET})),
        "whatsapp": WhatsAppAdapter(WhatsAppConfig.model_validate({"app_secret": DEMO_META_APP_SECRET})),
    }
