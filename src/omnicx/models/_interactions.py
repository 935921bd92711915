"""Interactions: everything that happens between a customer and the business.

An interaction is one of :class:`Message`, :class:`CallRecord`, :class:`StatusUpdate`,
:class:`Note`, :class:`Rating`, :class:`Edit` or :class:`Deletion`, told apart by
its ``type`` field (a discriminated union, :data:`Interaction`).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from omnicx.models._base import Metadata, Name, OmnicxModel, UtcDatetime
from omnicx.models._identifiers import Identifier

__all__ = [
    "Author",
    "AuthorRole",
    "CallRecord",
    "CallStatus",
    "Channel",
    "ContactPart",
    "ContentPart",
    "Deletion",
    "DeliveryError",
    "DeliveryStatus",
    "Direction",
    "Edit",
    "Interaction",
    "InteractiveReplyPart",
    "LocationPart",
    "MediaPart",
    "Message",
    "Note",
    "Rating",
    "RatingScale",
    "ReactionPart",
    "RecordingRef",
    "StatusUpdate",
    "TextPart",
    "ThreadHints",
    "UnsupportedPart",
    "interaction_id",
]

ShortText = Annotated[str, StringConstraints(max_length=1024)]
PlatformId = Annotated[str, StringConstraints(min_length=1, max_length=512)]
DedupeKey = Annotated[str, StringConstraints(min_length=1, max_length=512)]
MAX_TEXT = 1_000_000


class Channel(StrEnum):
    """The built-in channels: the medium a customer used.

    Any other lowercase name (``slack``, ``line``) is accepted for plugin channels.
    """

    EMAIL = "email"
    VOICE = "voice"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    WEBFORM = "webform"


class Direction(StrEnum):
    """Whether the customer (inbound) or the business (outbound) sent it."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class AuthorRole(StrEnum):
    """Who wrote an interaction. KPIs count only ``agent`` replies as human responses."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Author(OmnicxModel):
    """The author of an interaction: a role, and an id and name where known."""

    role: AuthorRole
    id: ShortText | None = None
    name: ShortText | None = None


class ThreadHints(OmnicxModel):
    """What ties an interaction to others: email headers, platform threads, replies."""

    message_id: ShortText | None = None
    """Email ``Message-ID`` (angle brackets stripped)."""
    in_reply_to: ShortText | None = None
    """Email ``In-Reply-To`` (angle brackets stripped)."""
    references: tuple[ShortText, ...] = ()
    """Email ``References``, oldest first."""
    thread_id: ShortText | None = None
    """A platform thread, chat or session id (Telegram ``chat.id``, a web chat session)."""
    reply_to: ShortText | None = None
    """The platform id of the message this one replies to (WhatsApp ``context.id``)."""


# --- content parts -----------------------------------------------------------


class TextPart(OmnicxModel):
    """Text. ``format`` is ``plain``, ``html`` or ``markdown``."""

    type: Literal["text"] = "text"
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT)]
    format: Literal["plain", "html", "markdown"] = "plain"


class MediaPart(OmnicxModel):
    """A media file, by reference: omnicx never downloads or opens it."""

    type: Literal["media"] = "media"
    media_kind: Literal["image", "audio", "voice", "video", "document", "sticker", "file"]
    url: Annotated[str, StringConstraints(max_length=4096)] | None = None
    platform_media_id: PlatformId | None = None
    mime_type: ShortText | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    sha256: ShortText | None = None
    caption: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None
    filename: ShortText | None = None

    @model_validator(mode="after")
    def _has_reference(self) -> Self:
        if self.url is None and self.platform_media_id is None:
            raise ValueError("a media part needs a url or a platform_media_id")
        return self


class LocationPart(OmnicxModel):
    """A shared location."""

    type: Literal["location"] = "location"
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    name: ShortText | None = None
    address: ShortText | None = None
    url: ShortText | None = None


class ContactPart(OmnicxModel):
    """A shared contact card. Its phones and emails are asserted, never verified."""

    type: Literal["contact"] = "contact"
    name: ShortText | None = None
    phones: tuple[ShortText, ...] = ()
    emails: tuple[ShortText, ...] = ()


class InteractiveReplyPart(OmnicxModel):
    """The customer pressed a button, picked a list row or a postback."""

    type: Literal["interactive_reply"] = "interactive_reply"
    reply_kind: Literal["button", "list", "quick_reply", "postback", "callback"]
    reply_id: ShortText | None = None
    """The payload or id the business attached to the choice."""
    title: ShortText | None = None
    """What the customer saw and pressed."""
    description: ShortText | None = None


class ReactionPart(OmnicxModel):
    """An emoji reaction added to or removed from an earlier message."""

    type: Literal["reaction"] = "reaction"
    action: Literal["add", "remove"]
    emoji: ShortText | None = None
    target_message_id: PlatformId


class UnsupportedPart(OmnicxModel):
    """Content omnicx does not model; ``raw_type`` keeps the channel's name for it."""

    type: Literal["unsupported"] = "unsupported"
    raw_type: ShortText
    description: ShortText | None = None


ContentPart = Annotated[
    TextPart | MediaPart | LocationPart | ContactPart | InteractiveReplyPart | ReactionPart | UnsupportedPart,
    Field(discriminator="type"),
]


# --- interactions ------------------------------------------------------------


def interaction_id(adapter: str, dedupe_key: str) -> str:
    """The stable id of an interaction: derived from its adapter and dedupe key.

    A redelivered payload gives the same id, so storage can be idempotent.
    """
    digest = hashlib.sha256(f"{adapter}\x1f{dedupe_key}".encode()).hexdigest()
    return f"ix_{digest[:26]}"


class _InteractionBase(OmnicxModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    """Stable id; derived from ``adapter`` and ``dedupe_key`` when not given."""
    channel: Name
    """The medium (:class:`Channel` or a plugin's name)."""
    adapter: Name
    """The adapter that produced it; replies go back through the same adapter."""
    dedupe_key: DedupeKey
    """Identical for every delivery of the same event (webhook retries)."""
    occurred_at: UtcDatetime
    """When it happened, by the channel's clock where it gives one."""
    received_at: UtcDatetime
    """When omnicx received it."""
    direction: Direction
    author: Author
    endpoint: Identifier
    """The customer's identifier it arrived from or went to."""
    thread: ThreadHints = ThreadHints()
    metadata: Metadata = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            adapter, key = data.get("adapter"), data.get("dedupe_key")
            if isinstance(adapter, str) and isinstance(key, str):
                return {**data, "id": interaction_id(adapter, key)}
        return data


class Message(_InteractionBase):
    """A message on any channel: email, chat, SMS, WhatsApp …"""

    type: Literal["message"] = "message"
    parts: tuple[ContentPart, ...]
    subject: ShortText | None = None
    new_text: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None
    """The text the author newly wrote, quoted replies and signatures stripped (email)."""
    platform_message_id: PlatformId | None = None
    automated: bool = False
    """An auto-reply, bounce or other machine-sent message (never a human contact)."""

    @property
    def text(self) -> str:
        """The plain text of the message: plain text parts, else captions, joined."""
        plain = [p.text for p in self.parts if isinstance(p, TextPart) and p.format != "html"]
        if plain:
            return "\n".join(plain)
        return "\n".join(p.caption for p in self.parts if isinstance(p, MediaPart) and p.caption)


class CallStatus(StrEnum):
    """The state of a phone call."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


class RecordingRef(OmnicxModel):
    """A call recording, by reference."""

    url: Annotated[str, StringConstraints(max_length=4096)] | None = None
    platform_id: PlatformId | None = None
    duration_seconds: Annotated[float, Field(ge=0)] | None = None


class CallRecord(_InteractionBase):
    """A phone call, or an update of one (status, recording, transcript)."""

    type: Literal["call"] = "call"
    call_id: PlatformId
    status: CallStatus
    duration_seconds: Annotated[float, Field(ge=0)] | None = None
    recordings: tuple[RecordingRef, ...] = ()
    transcript: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None


class DeliveryStatus(StrEnum):
    """Delivery state of an outbound message, ranked so it only moves forward.

    ``queued < sent < delivered < read < failed``: a failure is final and never
    hidden by a late ``sent`` that arrives after it.
    """

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        """Position in the order above; a status update applies only if it ranks higher."""
        return _DELIVERY_RANK[self]

    def advance(self, new: DeliveryStatus) -> DeliveryStatus:
        """The status after ``new`` arrives: whichever of the two ranks higher."""
        return new if new.rank > self.rank else self


_DELIVERY_RANK = {s: i for i, s in enumerate(DeliveryStatus)}


class DeliveryError(OmnicxModel):
    """Why a delivery failed, as the channel said it."""

    code: ShortText | None = None
    title: ShortText | None = None
    detail: ShortText | None = None


class StatusUpdate(_InteractionBase):
    """A delivery status for an earlier outbound message."""

    type: Literal["status"] = "status"
    target_message_id: PlatformId
    status: DeliveryStatus
    error: DeliveryError | None = None


class Note(_InteractionBase):
    """An internal note written by an agent; never sent to the customer."""

    type: Literal["note"] = "note"
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


class RatingScale(StrEnum):
    """Survey scales: CSAT 1-5, NPS 0-10, CES 1-7."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"


_SCALE_RANGE = {RatingScale.CSAT: (1, 5), RatingScale.NPS: (0, 10), RatingScale.CES: (1, 7)}


class Rating(_InteractionBase):
    """A satisfaction survey answer."""

    type: Literal["rating"] = "rating"
    scale: RatingScale
    score: int
    comment: Annotated[str, StringConstraints(max_length=MAX_TEXT)] | None = None

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        low, high = _SCALE_RANGE[self.scale]
        if not low <= self.score <= high:
            raise ValueError(f"a {self.scale} score is {low} to {high}, got {self.score}")
        return self


class Edit(_InteractionBase):
    """An edit of an earlier message: ``parts`` replace its content."""

    type: Literal["edit"] = "edit"
    target_message_id: PlatformId
    parts: tuple[ContentPart, ...]


class Deletion(_InteractionBase):
    """The author deleted (revoked) an earlier message."""

    type: Literal["deletion"] = "deletion"
    target_message_id: PlatformId


Interaction = Annotated[
    Message | CallRecord | StatusUpdate | Note | Rating | Edit | Deletion,
    Field(discriminator="type"),
]
"""Any interaction; pydantic picks the class by its ``type``."""
