"""WhatsApp Cloud API: webhooks in, Graph API ``/{phone-number-id}/messages`` requests out.

A webhook is ``entry[] x changes[] x messages[] / statuses[]``; every message,
status and Coexistence echo becomes one :class:`~omnicx.models.InboundEvent`,
in payload order. The sender's ``wa_id`` becomes a verified E.164 phone and its
business-scoped user id (``user_id`` / ``from_user_id``, ``US.1349…``) a verified
``whatsapp_bsuid`` identifier scoped by the business (``business_id`` in the
config, else the WhatsApp Business Account id of the entry); a sender that
arrives with a BSUID and no phone at all gets the BSUID as its endpoint.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    OutboundMessage,
)
from omnicx.channels._meta_adapter import MetaAdapter, MetaConfig
from omnicx.channels._meta_send import bearer_token
from omnicx.channels._whatsapp_webhook import CHANNEL, parse_webhook
from omnicx.errors import ConfigurationError, ValidationError
from omnicx.models import Identifier, IdentifierKind, InboundEvent, InboundRequest, OutboundRequest

__all__ = ["WhatsAppAdapter", "WhatsAppConfig"]

_MAX_TEXT_OUT = 4096


class WhatsAppConfig(MetaConfig):
    """Settings of the WhatsApp Cloud API adapter.

    ``app_secret`` (the Meta app's secret) checks webhook signatures;
    ``verify_token`` answers the subscription handshake; ``access_token`` and
    ``phone_number_id`` are needed only to build outbound requests.
    """

    access_token: SecretStr | None = None
    phone_number_id: Annotated[str, Field(pattern=r"^\d{1,32}$")] | None = None
    """The business phone number id replies are sent from (``OutboundMessage.sender`` may override it)."""
    business_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._\-]{1,128}$")] | None = None
    """The Meta business portfolio id: the scope of BSUIDs. Default: each entry's WABA id."""
    graph_api_version: Annotated[str, Field(pattern=r"^v\d{1,3}\.\d{1,2}$")] = "v25.0"


class WhatsAppAdapter(MetaAdapter[WhatsAppConfig]):
    """WhatsApp Cloud API (Meta): messages, statuses, edits, revokes, Coexistence echoes."""

    name: ClassVar[str] = "whatsapp"
    reply_window: ClassVar[timedelta | None] = timedelta(hours=24)
    """The customer service window: a free-form message only within 24 hours of the customer's
    last message; a template (``OutboundMessage.template_name``) at any time."""
    display_name: ClassVar[str] = "WhatsApp Cloud API"
    api_version: ClassVar[str] = "v25.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.INBOUND,
            Capability.SIGNATURES,
            Capability.OUTBOUND,
            Capability.STATUS,
            Capability.MEDIA,
            Capability.THREADING,
        }
    )
    Config: ClassVar[type[AdapterConfig]] = WhatsAppConfig

    # --- inbound ------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Every message, status and echo of the webhook, in payload order.

        Raises :class:`~omnicx.errors.PayloadError` for a malformed payload (or
        one over ``max_body_bytes``) and :class:`~omnicx.errors.UnsupportedEvent`
        for a well-formed one with nothing omnicx handles (template status
        updates, account alerts …).
        """
        return parse_webhook(
            self.checked_body(request), request.received_at, business_id=self.config.business_id
        )

    # --- outbound -----------------------------------------------------------

    def reply_refusal(self, message: OutboundMessage, elapsed: timedelta) -> str | None:
        """Past the 24-hour customer service window only a template goes."""
        if message.template_name:
            return None
        refusal = super().reply_refusal(message, elapsed)
        if refusal is None:
            return None
        return (
            f"{refusal}; send a template instead: OutboundMessage(template_name=..., template_language=...)"
        )

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """A Graph API ``POST /{phone-number-id}/messages`` request sending ``message`` to ``endpoint``.

        ``endpoint`` is a ``phone`` (sent as ``to``) or a ``whatsapp_bsuid``
        (sent as ``recipient``). A ``template_name`` sends a template message
        (``template_language`` required, ``template_parameters`` as body text
        parameters); otherwise ``text`` is sent. ``reply_to`` quotes a wamid.
        Raises :class:`~omnicx.errors.ConfigurationError` without an
        ``access_token`` or a phone number id, and :class:`~omnicx.errors.ValidationError`
        for an endpoint or message WhatsApp cannot carry.
        """
        self.check_tag(message)
        if message.media_url is not None:
            raise ValidationError(
                "the WhatsApp adapter builds text and template messages, not media; "
                "send the link in text, or build the media request yourself",
                value=message.media_url[:80],
            )
        token = bearer_token(self.config.access_token, channel=CHANNEL, setting="access_token")
        phone_number_id = self._phone_number_id(message)
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        if endpoint.kind == IdentifierKind.PHONE:
            body["to"] = endpoint.value
        elif endpoint.kind == IdentifierKind.WHATSAPP_BSUID:
            body["recipient"] = endpoint.value
        else:
            raise ValidationError(
                f"WhatsApp sends to a phone or a whatsapp_bsuid identifier, not to {endpoint.kind}",
                value=str(endpoint),
            )
        if message.reply_to:
            body["context"] = {"message_id": message.reply_to}
        if message.template_name:
            if not message.template_language:
                raise ValidationError(
                    "a WhatsApp template message needs template_language (such as 'en_US')",
                    value=message.template_name,
                )
            template: dict[str, Any] = {
                "name": message.template_name,
                "language": {"code": message.template_language},
            }
            if message.template_parameters:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": p} for p in message.template_parameters],
                    }
                ]
            body.update(type="template", template=template)
        elif message.text:
            if len(message.text) > _MAX_TEXT_OUT:
                raise ValidationError(
                    f"a WhatsApp text message holds at most {_MAX_TEXT_OUT} characters, "
                    f"this one has {len(message.text)}; split it",
                    value=message.text[:80],
                )
            body.update(type="text", text={"preview_url": False, "body": message.text})
        else:
            raise ValidationError("nothing to send: set text or template_name", value="")
        return OutboundRequest(
            method="POST",
            url=f"https://graph.facebook.com/{self.config.graph_api_version}/{phone_number_id}/messages",
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        )

    def _phone_number_id(self, message: OutboundMessage) -> str:
        sender = message.sender
        if sender is not None and sender.kind == "whatsapp_phone_number_id":
            if not sender.value.isdigit() or len(sender.value) > 32:
                raise ValidationError(
                    "a whatsapp_phone_number_id sender must be digits", value=sender.value[:80]
                )
            return sender.value
        if self.config.phone_number_id is None:
            raise ConfigurationError(
                "set phone_number_id in the WhatsApp config (or pass sender=Identifier("
                "kind='whatsapp_phone_number_id', value=...)) to send messages",
                channel=CHANNEL,
            )
        return self.config.phone_number_id
