"""The ``webchat`` adapter: omnicx's own JSON format for a live-chat widget.

The host's chat backend posts batches of widget events (visitor messages, agent
and bot replies, session closed with an optional rating), signed with
HMAC-SHA256 over a timestamp and the raw body. The full protocol, with a worked
signature vector, is in ``docs/reference/webchat-protocol.md``.

Identity: the widget's visitor id is the endpoint (``chat_visitor``, scoped by
``site_id`` when given), *verified* because the signed request comes from the
host's own backend, which issued it. The email, phone and name the visitor typed
are *asserted*; a value that is not an address or a number is left out and
named in the event's ``metadata["rejected_identifiers"]``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter
from omnicx.channels._payload import json_object, optional_str, require_mapping, require_str
from omnicx.errors import NormalizationError, PayloadError, SignatureError, UnsupportedEvent
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContentPart,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    MediaPart,
    Message,
    Note,
    ObservedIdentifier,
    Rating,
    RatingScale,
    TextPart,
    ThreadHints,
    interaction_id,
)
from omnicx.normalize import normalize_identifier, normalize_timestamp

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebchatAdapter",
    "WebchatConfig",
    "sign_webchat",
    "webchat_signature",
]

SIGNATURE_HEADER = "x-omnicx-signature"
TIMESTAMP_HEADER = "x-omnicx-timestamp"
PROTOCOL_VERSION = 1
MAX_EVENTS = 500
_CHANNEL = "webchat"
_ROLES = {"visitor": AuthorRole.CUSTOMER, "agent": AuthorRole.AGENT, "bot": AuthorRole.BOT}


def webchat_signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``v1=`` signature of ``body`` sent at Unix second ``timestamp``.

    ``v1=`` + lowercase hex HMAC-SHA256(key = secret, msg = ``b"v1:" + timestamp + b":" + body``).
    """
    key = secret.encode() if isinstance(secret, str) else secret
    message = b"v1:" + str(int(timestamp)).encode() + b":" + body
    return "v1=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_webchat(secret: str | bytes, body: bytes, sent_at: datetime) -> dict[str, str]:
    """The two headers a chat backend adds to a webchat request sent at ``sent_at``."""
    timestamp = int(sent_at.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: webchat_signature(secret, timestamp, body),
    }


class WebchatConfig(AdapterConfig):
    """Configuration of the webchat adapter."""

    secret: SecretStr
    """The shared signing secret (at least 16 characters)."""
    previous_secret: SecretStr | None = None
    """The secret being rotated out; accepted too until you remove it."""
    replay_window_seconds: int = Field(default=300, gt=0, le=86_400)
    """How far the signed timestamp may be from the time of receipt."""


class WebchatAdapter(ChannelAdapter[WebchatConfig]):
    """omnicx's live-chat widget protocol, version 1."""

    name: ClassVar[str] = "webchat"
    display_name: ClassVar[str] = "omnicx web chat"
    api_version: ClassVar[str] = "1"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INBOUND, Capability.SIGNATURES, Capability.MEDIA, Capability.THREADING}
    )
    Config: ClassVar[type[AdapterConfig]] = WebchatConfig

    # --- verify ---------------------------------------------------------------

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Omnicx-Signature`` over ``X-Omnicx-Timestamp`` and the body, and the replay window.

        Raises :class:`~omnicx.errors.SignatureError` when a header is missing or
        malformed, no ``v1=`` signature matches the secret (or the previous
        secret), or the timestamp is outside ``replay_window_seconds``.
        """
        stamp = request.header(TIMESTAMP_HEADER)
        given = request.header(SIGNATURE_HEADER)
        if not stamp or not given:
            raise SignatureError(
                f"the webchat request lacks the {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header; "
                "sign it with omnicx.channels.webchat.sign_webchat()",
                channel=_CHANNEL,
            )
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise SignatureError(
                f"{TIMESTAMP_HEADER} must be Unix seconds, got {stamp[:40]!r}", channel=_CHANNEL
            )
        sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
        window = timedelta(seconds=self.config.replay_window_seconds)
        if abs(request.received_at - sent_at) > window:
            raise SignatureError(
                f"the webchat request was signed at {sent_at.isoformat()}, more than "
                f"{self.config.replay_window_seconds} s from its receipt at "
                f"{request.received_at.isoformat()}: a replayed or delayed request, refused",
                channel=_CHANNEL,
            )
        secrets = [self.config.secret] + (
            [self.config.previous_secret] if self.config.previous_secret else []
        )
        candidates = [part.strip() for part in given.split(",") if part.strip().startswith("v1=")]
        for secret in secrets:
            expected = webchat_signature(secret.get_secret_value(), int(stamp), request.body)
            if any(hmac.compare_digest(expected.encode(), c.encode("utf-8", "replace")) for c in candidates):
                return
        raise SignatureError(
            "the webchat signature does not match the body and timestamp under the configured secret",
            channel=_CHANNEL,
        )

    # --- parse ----------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """The events of a webchat batch, in order: messages, and closed sessions (with their rating).

        Raises :class:`~omnicx.errors.PayloadError` for a malformed batch and
        :class:`~omnicx.errors.UnsupportedEvent` when every event in it is of a
        type this version does not know (unknown types next to known ones are skipped).
        """
        doc = json_object(self.checked_body(request), channel=_CHANNEL)
        version = doc.get("version")
        if version != PROTOCOL_VERSION or isinstance(version, bool):
            raise PayloadError(
                f"webchat protocol version {version!r} is not supported; send version {PROTOCOL_VERSION}",
                channel=_CHANNEL,
            )
        site = optional_str(doc, "site_id", channel=_CHANNEL, max_length=128)
        events = doc.get("events")
        if not isinstance(events, list) or not events:
            raise PayloadError("a webchat batch needs a non-empty list 'events'", channel=_CHANNEL)
        if len(events) > MAX_EVENTS:
            raise PayloadError(
                f"a webchat batch holds at most {MAX_EVENTS} events, got {len(events)}", channel=_CHANNEL
            )
        out: list[InboundEvent] = []
        skipped: list[str] = []
        for index, raw in enumerate(events):
            if not isinstance(raw, Mapping):
                raise PayloadError(f"webchat events[{index}] must be an object", channel=_CHANNEL)
            kind = require_str(raw, "type", channel=_CHANNEL, where=f"events[{index}].", max_length=64)
            if kind == "message":
                out.append(self._message(raw, index, site, request))
            elif kind == "session.closed":
                out.extend(self._closed(raw, index, site, request))
            else:
                skipped.append(kind)
        if not out:
            raise UnsupportedEvent(
                f"no webchat event of a known type in this batch (got {sorted(set(skipped))}); "
                "version 1 knows 'message' and 'session.closed'",
                channel=_CHANNEL,
            )
        return out

    def _common(
        self, raw: Mapping[str, Any], index: int, site: str | None, request: InboundRequest
    ) -> tuple[str, datetime, str, Identifier, list[ObservedIdentifier], dict[str, Any]]:
        where = f"events[{index}]."
        event_id = require_str(raw, "id", channel=_CHANNEL, where=where, max_length=256)
        stamp = raw.get("occurred_at")
        if stamp is None:
            occurred = request.received_at
        else:
            if not isinstance(stamp, str):
                raise PayloadError(f"webchat {where}occurred_at must be an ISO-8601 string", channel=_CHANNEL)
            try:
                occurred = normalize_timestamp(stamp)
            except NormalizationError as exc:
                raise PayloadError(f"webchat {where}occurred_at: {exc}", channel=_CHANNEL) from None
        session = require_str(raw, "session_id", channel=_CHANNEL, where=where, max_length=256)
        visitor = require_mapping(raw, "visitor", channel=_CHANNEL, where=where)
        visitor_id = require_str(visitor, "id", channel=_CHANNEL, where=f"{where}visitor.", max_length=128)
        try:
            endpoint = normalize_identifier("chat_visitor", visitor_id, site)
        except NormalizationError as exc:
            raise PayloadError(f"webchat {where}visitor.id: {exc}", channel=_CHANNEL) from None
        name = optional_str(visitor, "name", channel=_CHANNEL, where=f"{where}visitor.", max_length=256)
        identifiers = [
            ObservedIdentifier(identifier=endpoint, assurance=Assurance.VERIFIED, display_name=name)
        ]
        metadata: dict[str, Any] = {}
        rejected: list[str] = []
        for kind in ("email", "phone"):
            typed = optional_str(visitor, kind, channel=_CHANNEL, where=f"{where}visitor.", max_length=512)
            if typed is None or not typed.strip():
                continue
            try:
                ident = normalize_identifier(kind, typed)
            except NormalizationError as exc:
                rejected.append(f"{kind}: {exc.message[:160]}")
                continue
            identifiers.append(
                ObservedIdentifier(identifier=ident, assurance=Assurance.ASSERTED, display_name=name)
            )
        if rejected:
            metadata["rejected_identifiers"] = rejected
        key = f"{site or '-'}:{event_id}"
        return key, occurred, session, endpoint, identifiers, metadata

    def _message(
        self, raw: Mapping[str, Any], index: int, site: str | None, request: InboundRequest
    ) -> InboundEvent:
        where = f"events[{index}]."
        key, occurred, session, endpoint, identifiers, metadata = self._common(raw, index, site, request)
        message = require_mapping(raw, "message", channel=_CHANNEL, where=where)
        message_id = require_str(message, "id", channel=_CHANNEL, where=f"{where}message.", max_length=256)
        author_raw = message.get("author", {"role": "visitor"})
        if not isinstance(author_raw, Mapping):
            raise PayloadError(f"webchat {where}message.author must be an object", channel=_CHANNEL)
        role_name = require_str(author_raw, "role", channel=_CHANNEL, where=f"{where}message.author.")
        role = _ROLES.get(role_name)
        if role is None:
            raise PayloadError(
                f"webchat {where}message.author.role must be one of {sorted(_ROLES)}, got {role_name[:40]!r}",
                channel=_CHANNEL,
            )
        author = Author(
            role=role,
            id=optional_str(
                author_raw, "id", channel=_CHANNEL, where=f"{where}message.author.", max_length=1024
            ),
            name=optional_str(
                author_raw, "name", channel=_CHANNEL, where=f"{where}message.author.", max_length=1024
            )
            # the visitor's own message, author unnamed: the name they typed in the pre-chat form
            or (identifiers[0].display_name if role is AuthorRole.CUSTOMER else None),
        )
        parts: list[ContentPart] = []
        text = optional_str(message, "text", channel=_CHANNEL, where=f"{where}message.", max_length=100_000)
        if text:
            parts.append(TextPart(text=text))
        parts.extend(self._attachments(message, where))
        if not parts:
            raise PayloadError(f"webchat {where}message has neither text nor attachments", channel=_CHANNEL)
        return InboundEvent(
            interaction=Message(
                id=interaction_id(self.name, key),
                channel="webchat",
                adapter=self.name,
                dedupe_key=key,
                occurred_at=occurred,
                received_at=request.received_at,
                direction=Direction.INBOUND if role is AuthorRole.CUSTOMER else Direction.OUTBOUND,
                author=author,
                endpoint=endpoint,
                thread=ThreadHints(thread_id=session),
                parts=tuple(parts),
                platform_message_id=message_id,
                automated=role is AuthorRole.BOT,
                metadata=metadata,
            ),
            identifiers=tuple(identifiers),
            raw_type="message",
        )

    def _attachments(self, message: Mapping[str, Any], where: str) -> list[MediaPart]:
        items = message.get("attachments", [])
        if not isinstance(items, list) or len(items) > 50:
            raise PayloadError(
                f"webchat {where}message.attachments must be a list of at most 50 objects", channel=_CHANNEL
            )
        parts: list[MediaPart] = []
        for number, item in enumerate(items):
            at = f"{where}message.attachments[{number}]."
            if not isinstance(item, Mapping):
                raise PayloadError(f"webchat {at[:-1]} must be an object", channel=_CHANNEL)
            url = require_str(item, "url", channel=_CHANNEL, where=at, max_length=4096)
            mime = optional_str(item, "mime_type", channel=_CHANNEL, where=at, max_length=255)
            size = item.get("size")
            if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
                raise PayloadError(f"webchat {at}size must be a non-negative integer", channel=_CHANNEL)
            major = (mime or "").split("/", 1)[0]
            kind = major if major in {"image", "audio", "video"} else "file"
            parts.append(
                MediaPart(
                    media_kind=kind,
                    url=url,
                    mime_type=mime,
                    size=size,
                    filename=optional_str(item, "name", channel=_CHANNEL, where=at, max_length=1024),
                )
            )
        return parts

    def _closed(
        self, raw: Mapping[str, Any], index: int, site: str | None, request: InboundRequest
    ) -> list[InboundEvent]:
        where = f"events[{index}]."
        key, occurred, session, endpoint, identifiers, metadata = self._common(raw, index, site, request)
        closed_by = raw.get("closed_by", "visitor")
        if closed_by not in ("visitor", "agent", "system"):
            raise PayloadError(
                f"webchat {where}closed_by must be 'visitor', 'agent' or 'system'", channel=_CHANNEL
            )
        thread = ThreadHints(thread_id=session)
        common: dict[str, Any] = {
            "channel": "webchat",
            "adapter": self.name,
            "occurred_at": occurred,
            "received_at": request.received_at,
            "endpoint": endpoint,
            "thread": thread,
        }
        events = [
            InboundEvent(
                interaction=Note(
                    id=interaction_id(self.name, key),
                    dedupe_key=key,
                    direction=Direction.INBOUND,
                    author=Author(role=AuthorRole.SYSTEM),
                    text=f"Chat session {session} closed by the {closed_by}.",
                    metadata={**metadata, "event": "session.closed", "closed_by": closed_by},
                    **common,
                ),
                identifiers=tuple(identifiers),
                raw_type="session.closed",
            )
        ]
        rating = raw.get("rating")
        if rating is not None:
            if not isinstance(rating, Mapping):
                raise PayloadError(f"webchat {where}rating must be an object", channel=_CHANNEL)
            scale = rating.get("scale", "csat")
            score = rating.get("score")
            if scale not in tuple(s.value for s in RatingScale):
                raise PayloadError(f"webchat {where}rating.scale must be csat, nps or ces", channel=_CHANNEL)
            if isinstance(score, bool) or not isinstance(score, int):
                raise PayloadError(f"webchat {where}rating.score must be an integer", channel=_CHANNEL)
            comment = optional_str(
                rating, "comment", channel=_CHANNEL, where=f"{where}rating.", max_length=100_000
            )
            try:
                interaction = Rating(
                    id=interaction_id(self.name, f"{key}:rating"),
                    dedupe_key=f"{key}:rating",
                    direction=Direction.INBOUND,
                    author=Author(role=AuthorRole.CUSTOMER),
                    scale=RatingScale(scale),
                    score=score,
                    comment=comment,
                    **common,
                )
            except ValueError as exc:
                raise PayloadError(f"webchat {where}rating: {exc}", channel=_CHANNEL) from None
            events.append(
                InboundEvent(interaction=interaction, identifiers=tuple(identifiers), raw_type="rating")
            )
        return events
