"""Twilio Programmable Messaging: SMS, MMS and WhatsApp through Twilio, and status callbacks.

Inbound webhooks (``MessageSid``, ``From``, ``To``, ``Body``, ``NumMedia``,
``MediaUrlN`` / ``MediaContentTypeN``; for WhatsApp also ``WaId``,
``ProfileName``, ``ButtonText`` / ``ButtonPayload``, ``Latitude`` /
``Longitude`` / ``Address`` / ``Label`` and ``OriginalRepliedMessageSid``)
become :class:`~omnicx.models.Message`; status callbacks (``MessageStatus``,
``ErrorCode``) become :class:`~omnicx.models.StatusUpdate`. Parameters from
https://www.twilio.com/docs/messaging/guides/webhook-request and the outbound
message status callback documentation. See docs/channels/twilio.md.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlencode

from pydantic import SecretStr, StringConstraints

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter, OutboundMessage
from omnicx.channels._twilio_form import TwilioParams, read_params
from omnicx.channels._twilio_signature import TwilioSigningConfig, verify_twilio_request
from omnicx.errors import ConfigurationError, PayloadError, UnsupportedEvent, ValidationError
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    Channel,
    ContentPart,
    DeliveryError,
    DeliveryStatus,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    InteractiveReplyPart,
    LocationPart,
    MediaPart,
    Message,
    ObservedIdentifier,
    OutboundRequest,
    TextPart,
    ThreadHints,
    interaction_id,
)
from omnicx.models._interactions import StatusUpdate

__all__ = ["STATUS_MAP", "TwilioAdapter", "TwilioConfig"]

API_BASE = "https://api.twilio.com/2010-04-01"
MAX_MEDIA = 10
"""Twilio attaches at most 10 media to a message; ``NumMedia`` above that is refused."""

STATUS_MAP: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
"""Twilio ``MessageStatus`` → omnicx status. ``received`` / ``receiving`` are inbound messages."""

_INBOUND_STATUSES = frozenset({"received", "receiving"})
_CHANNEL_PREFIXES = {"whatsapp:": Channel.WHATSAPP}
_ACCOUNT_SID = r"^AC[0-9a-fA-F]{32}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TwilioConfig(TwilioSigningConfig):
    """Settings of the Twilio messaging adapter.

    ``auth_token`` verifies webhooks (``shared_keys`` those a Webhook Rule signs
    with a SharedKey) and, with ``account_sid``, authenticates outbound requests. ``key_sid`` / ``key_secret`` (a Twilio API key) replace
    the auth token for outbound requests when set, as Twilio recommends.
    ``default_sender`` is the From of outbound messages when the message names
    none: a number (``+14155550100``, SMS) or a channel address
    (``whatsapp:+14155238886``); ``messaging_service_sid`` sends through a
    Messaging Service instead.
    """

    account_sid: Annotated[str, StringConstraints(pattern=_ACCOUNT_SID)] | None = None
    key_sid: Annotated[str, StringConstraints(pattern=r"^SK[0-9a-fA-F]{32}$")] | None = None
    key_secret: SecretStr | None = None
    default_sender: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-fA-F]{32}$")] | None = None


class TwilioAdapter(ChannelAdapter[TwilioConfig]):
    """Twilio Programmable Messaging (SMS, MMS, WhatsApp) and its status callbacks."""

    name: ClassVar[str] = "twilio"
    display_name: ClassVar[str] = "Twilio Messaging (SMS, MMS, WhatsApp)"
    api_version: ClassVar[str] = "2010-04-01"
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
    Config: ClassVar[type[AdapterConfig]] = TwilioConfig

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Twilio-Signature``; see :func:`omnicx.channels._twilio_signature.verify_twilio_request`.

        Returns ``None`` when it verifies; raises :class:`~omnicx.errors.SignatureError` otherwise.
        """
        verify_twilio_request(request, self.config, channel=self.name)

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Return the one event of a Twilio messaging webhook.

        An inbound message gives a :class:`~omnicx.models.Message` with the
        sender's verified phone; a status callback a
        :class:`~omnicx.models.StatusUpdate` (endpoint: the recipient ``To``,
        observed as asserted). Raises :class:`~omnicx.errors.PayloadError`
        for a malformed webhook and :class:`~omnicx.errors.UnsupportedEvent`
        for a channel address omnicx does not model (``messenger:``, ``rcs:`` …)
        or an unknown ``MessageStatus``.
        """
        params = read_params(request, self.checked_body(request), channel=self.name)
        try:
            status = params.get("MessageStatus")
            if status is not None and status not in _INBOUND_STATUSES:
                return [self._status(params, status, request)]
            return [self._inbound(params, request)]
        except ValidationError as exc:  # a model refused a value (too long, out of range)
            raise PayloadError(
                f"the Twilio webhook holds a value omnicx cannot store: {exc}"[:500],
                channel=self.name,
            ) from exc

    # --- inbound -------------------------------------------------------------

    def _address(self, params: TwilioParams, name: str, what: str) -> tuple[str, Identifier]:
        """The channel and phone identifier of the address in parameter ``name``."""
        raw = params.require(name, what)
        channel: str = Channel.SMS
        number = raw
        for prefix, prefixed_channel in _CHANNEL_PREFIXES.items():
            if raw.lower().startswith(prefix):
                channel, number = prefixed_channel, raw[len(prefix) :]
                break
        else:
            scheme, colon, _ = raw.partition(":")
            if colon and scheme.isalpha():
                raise UnsupportedEvent(
                    f"the Twilio address {raw[:60]!r} is on channel {scheme!r}, which the twilio "
                    "adapter does not model (it handles SMS, MMS and WhatsApp)",
                    channel=self.name,
                )
        return channel, Identifier(kind="phone", value=params.phone(name, number))

    def _inbound(self, params: TwilioParams, request: InboundRequest) -> InboundEvent:
        sid = params.require("MessageSid", "message webhook")
        channel, sender = self._address(params, "From", "message webhook")
        profile = params.get("ProfileName")
        if profile is not None:
            profile = profile[:256]
        wa_id = params.get("WaId")
        if wa_id is not None and channel == Channel.WHATSAPP:
            wa_phone = params.phone("WaId", wa_id)
            if wa_phone != sender.value:
                raise PayloadError(
                    f"WaId {wa_id[:40]!r} and From {params.get('From')!r} name different numbers; "
                    "refusing a payload that contradicts itself",
                    channel=self.name,
                )
        parts = self._parts(params)
        if not parts:
            raise PayloadError(
                "the Twilio message has no Body, media, location or button: nothing to record",
                channel=self.name,
            )
        metadata: dict[str, str] = {}
        for key, param in (
            ("account_sid", "AccountSid"),
            ("to", "To"),
            ("messaging_service_sid", "MessagingServiceSid"),
        ):
            value = params.get(param)
            if value is not None:
                metadata[key] = value[:256]
        message = Message(
            id=interaction_id(self.name, sid),
            channel=channel,
            adapter=self.name,
            dedupe_key=sid,
            occurred_at=request.received_at,
            received_at=request.received_at,
            direction=Direction.INBOUND,
            author=Author(role=AuthorRole.CUSTOMER, id=sender.value, name=profile),
            endpoint=sender,
            thread=ThreadHints(reply_to=params.get("OriginalRepliedMessageSid")),
            parts=tuple(parts),
            platform_message_id=sid,
            metadata=metadata,
        )
        observed = ObservedIdentifier(identifier=sender, assurance=Assurance.VERIFIED, display_name=profile)
        return InboundEvent(interaction=message, identifiers=(observed,), raw_type="message")

    def _parts(self, params: TwilioParams) -> list[ContentPart]:
        parts: list[ContentPart] = []
        body = params.get("Body")
        button_text, button_payload = params.get("ButtonText"), params.get("ButtonPayload")
        if button_text is not None or button_payload is not None:
            parts.append(
                InteractiveReplyPart(reply_kind="button", reply_id=button_payload, title=button_text)
            )
            if body == button_text:
                body = None  # Twilio repeats the button's text as the Body
        if body is not None:
            parts.append(TextPart(text=body))
        count = params.integer("NumMedia", limit=MAX_MEDIA) or 0
        for index in range(count):
            url = params.require(f"MediaUrl{index}", f"message with NumMedia={count}")
            mime = params.get(f"MediaContentType{index}")
            parts.append(MediaPart(media_kind=_media_kind(mime), url=url, mime_type=mime))
        latitude, longitude = params.get("Latitude"), params.get("Longitude")
        if latitude is not None and longitude is not None:
            try:
                lat, lon = float(latitude), float(longitude)
            except ValueError as exc:
                raise PayloadError(
                    f"Latitude={latitude[:30]!r} / Longitude={longitude[:30]!r} are not numbers",
                    channel=self.name,
                ) from exc
            parts.append(
                LocationPart(
                    latitude=lat, longitude=lon, name=params.get("Label"), address=params.get("Address")
                )
            )
        return parts

    # --- status callbacks ------------------------------------------------------

    def _status(self, params: TwilioParams, status: str, request: InboundRequest) -> InboundEvent:
        mapped = STATUS_MAP.get(status)
        if mapped is None:
            raise UnsupportedEvent(
                f"MessageStatus {status[:40]!r} is not one omnicx knows "
                f"({', '.join(sorted(STATUS_MAP))}); acknowledged and skipped",
                channel=self.name,
            )
        sid = params.require("MessageSid", "status callback")
        channel, recipient = self._address(params, "To", "status callback")
        error = None
        if mapped is DeliveryStatus.FAILED:
            code = params.get("ErrorCode")
            error = DeliveryError(code=code, title=status, detail=params.get("ErrorMessage"))
        update = StatusUpdate(
            id=interaction_id(self.name, f"{sid}:{status}"),
            channel=channel,
            adapter=self.name,
            dedupe_key=f"{sid}:{status}",
            occurred_at=request.received_at,
            received_at=request.received_at,
            direction=Direction.OUTBOUND,
            author=Author(role=AuthorRole.SYSTEM),
            endpoint=recipient,
            target_message_id=sid,
            status=mapped,
            error=error,
            metadata={"twilio_status": status},
        )
        # The business chose the number it sent to: a sighting of it, asserted, never proof.
        observed = ObservedIdentifier(identifier=recipient, assurance=Assurance.ASSERTED)
        return InboundEvent(interaction=update, identifiers=(observed,), raw_type="status_callback")

    # --- outbound --------------------------------------------------------------

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """Build ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` sending ``message`` to ``endpoint``.

        The body is form-encoded ``To``, ``From`` (or ``MessagingServiceSid``),
        ``Body``, ``MediaUrl`` and, for a template, ``ContentSid`` (the
        ``template_name``) with ``ContentVariables`` (``template_parameters``
        numbered from 1). ``To`` takes the channel prefix of the sender
        (``whatsapp:``). The sender is ``message.sender`` (a ``phone``
        identifier, or a ``twilio_address`` one such as
        ``whatsapp:+14155238886``), else ``config.default_sender``, else
        ``config.messaging_service_sid``. Authorization is HTTP Basic with
        the API key, or the account SID and auth token.

        Raises :class:`~omnicx.errors.ConfigurationError` without an account
        SID or sender, :class:`~omnicx.errors.ValidationError` when the
        endpoint is not a phone or the message has nothing to send.
        """
        self.check_tag(message)
        account = self.config.account_sid
        if account is None:
            raise ConfigurationError(
                "set account_sid in the twilio adapter's config to send messages", channel=self.name
            )
        if endpoint.kind != "phone":
            raise ValidationError(
                f"Twilio sends to phone numbers; the endpoint is a {endpoint.kind} identifier",
                channel=self.name,
            )
        if message.text is None and message.media_url is None and message.template_name is None:
            raise ValidationError(
                "the message has no text, media_url or template_name: nothing to send", channel=self.name
            )
        sender = self._sender(message)
        prefix = ""
        if sender is not None and ":" in sender:
            prefix = sender.split(":", 1)[0] + ":"
        fields: list[tuple[str, str]] = [("To", prefix + endpoint.value)]
        if sender is not None:
            fields.append(("From", sender))
        else:
            fields.append(("MessagingServiceSid", str(self.config.messaging_service_sid)))
        if message.text is not None:
            fields.append(("Body", message.text))
        if message.media_url is not None:
            fields.append(("MediaUrl", message.media_url))
        if message.template_name is not None:
            fields.append(("ContentSid", message.template_name))
            if message.template_parameters:
                variables = {str(i): value for i, value in enumerate(message.template_parameters, start=1)}
                fields.append(("ContentVariables", _json(variables)))
        return OutboundRequest(
            method="POST",
            url=f"{API_BASE}/Accounts/{account}/Messages.json",
            headers={
                "authorization": self._authorization(account),
                "content-type": "application/x-www-form-urlencoded",
                "accept": "application/json",
            },
            body=urlencode(fields).encode("ascii"),
        )

    def _sender(self, message: OutboundMessage) -> str | None:
        if message.sender is not None:
            if message.sender.kind not in {"phone", "twilio_address"}:
                raise ValidationError(
                    f"a Twilio sender is a phone or twilio_address identifier, not {message.sender.kind}",
                    channel=self.name,
                )
            return message.sender.value
        if self.config.default_sender is not None:
            return self.config.default_sender
        if self.config.messaging_service_sid is not None:
            return None
        raise ConfigurationError(
            "the message names no sender: set message.sender, or default_sender or "
            "messaging_service_sid in the twilio adapter's config",
            channel=self.name,
        )

    def _authorization(self, account: str) -> str:
        if self.config.key_sid is not None and self.config.key_secret is not None:
            user, secret = self.config.key_sid, self.config.key_secret.get_secret_value()
        else:
            user, secret = account, self.config.auth_token.get_secret_value()
        if _CONTROL.search(secret):
            raise ConfigurationError(
                "the Twilio secret holds control characters; copy it again from the console",
                channel=self.name,
            )
        return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")


def _media_kind(mime: str | None) -> Literal["image", "audio", "video", "document", "file"]:
    """The media kind of a content type: ``image/*``, ``audio/*``, ``video/*``, documents, else file."""
    if mime is None:
        return "file"
    major, slash, minor = mime.lower().partition("/")
    if not slash:
        return "file"
    if major in ("image", "audio", "video"):
        return major  # type: ignore[return-value]
    if major == "text" or minor in _DOCUMENT_SUBTYPES or minor.startswith("vnd."):
        return "document"
    return "file"


_DOCUMENT_SUBTYPES = frozenset({"pdf", "msword", "rtf", "vcard", "x-vcard"})


def _json(value: dict[str, str]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
