"""What the hub's calls return."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from omnicx.identity import Conflict, HistoryEvent
from omnicx.models import (
    Conversation,
    Customer,
    CustomerIdentifier,
    Interaction,
    OutboundRequest,
    Rating,
)
from omnicx.models._base import Name, OmnicxModel, UtcDatetime

__all__ = [
    "Accepted",
    "ChannelContact",
    "ConversationBrief",
    "CustomerContext",
    "IngestResult",
    "Rejection",
    "ReplyResult",
    "TimelineEntry",
    "TimelinePage",
]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=4096)]


class Accepted(OmnicxModel):
    """An event of the request that was stored."""

    interaction_id: Id
    dedupe_key: Text
    customer_id: Id | None
    """``None`` when the sender is only a shared attribute (a quarantined switchboard)."""
    conversation_id: Id | None
    created_customer: bool = False
    merged: tuple[Id, ...] = ()
    """Customer ids this event merged into ``customer_id``."""
    conflicts: tuple[Conflict, ...] = ()


class Rejection(OmnicxModel):
    """Why a request (or one of its events) was refused or skipped."""

    error: Name
    """The omnicx exception class, in snake case (``signature_error``, ``payload_error`` …)."""
    message: Text


class IngestResult(OmnicxModel):
    """The outcome of one :meth:`Hub.ingest` call.

    ``status`` is what the host answers the channel: ``accepted`` (and
    ``duplicate``, ``unsupported``, ``erased``) → 200, ``rejected`` → :attr:`http_status`
    (401 for a bad signature, 400 for a malformed payload), ``handshake`` → 200
    with :attr:`handshake_body`.
    """

    channel: Name
    raw_id: Id | None = None
    """The kept raw payload; it is gone again when ``status`` is ``erased``."""
    status: Literal["accepted", "duplicate", "unsupported", "rejected", "handshake", "erased"]
    accepted: tuple[Accepted, ...] = ()
    duplicates: tuple[Text, ...] = ()
    """Dedupe keys already stored: a redelivery, acknowledged and changing nothing."""
    erased: tuple[Text, ...] = ()
    """Dedupe keys of events whose sender a customer's erasure forgot, sent before it (a replayed
    webhook, an old export): acknowledged and not stored. When every event of the request is one,
    ``status`` is ``erased`` and the raw payload is deleted too."""
    rejections: tuple[Rejection, ...] = ()
    handshake_body: bytes | None = None

    @property
    def http_status(self) -> int:
        """The HTTP status to answer the channel with."""
        if self.status != "rejected":
            return 200
        return 401 if any(r.error == "signature_error" for r in self.rejections) else 400

    @property
    def customer_ids(self) -> tuple[str, ...]:
        """The customers the accepted events belong to, without repeats."""
        return tuple(dict.fromkeys(a.customer_id for a in self.accepted if a.customer_id))

    @property
    def merges(self) -> tuple[str, ...]:
        """Every customer id this request merged away."""
        return tuple(cid for a in self.accepted for cid in a.merged)


class TimelineEntry(OmnicxModel):
    """One entry of a customer's timeline: an interaction, or an identity event."""

    type: Literal["interaction", "identity"]
    at: UtcDatetime
    interaction: Interaction | None = None
    conversation_id: Id | None = None
    identity: HistoryEvent | None = None


class TimelinePage(OmnicxModel):
    """A page of a timeline, newest first; ``next_cursor`` fetches older entries."""

    customer_id: Id
    entries: tuple[TimelineEntry, ...]
    next_cursor: str | None = None


class ChannelContact(OmnicxModel):
    """The last contact with a customer on one channel."""

    channel: Name
    at: UtcDatetime
    direction: Literal["inbound", "outbound"]
    endpoint: str


class ConversationBrief(OmnicxModel):
    """An open conversation with its latest interactions, across its channels."""

    conversation: Conversation
    latest: tuple[Interaction, ...]


class CustomerContext(OmnicxModel):
    """Everything an agent needs to answer without making the customer repeat themselves."""

    customer: Customer
    identifiers: tuple[CustomerIdentifier, ...]
    identifier_channels: dict[str, tuple[Name, ...]]
    """Identifier key → the channels it was used on."""
    open_conversations: tuple[ConversationBrief, ...]
    last_contact: tuple[ChannelContact, ...]
    """Per channel, most recent first."""
    preferred_channel: Name | None
    satisfaction: tuple[Rating, ...]
    counts: dict[str, int]
    brief: str
    """A plain-text summary an agent reads in ten seconds."""

    def to_markdown(self) -> str:
        """The context as Markdown, for a side panel or a ticket note."""
        from omnicx.hub._context import context_markdown

        return context_markdown(self)


class ReplyResult(OmnicxModel):
    """A reply built for the host to send, and the outbound interaction recorded for it."""

    request: OutboundRequest | None
    """The HTTP request that sends the reply; None when :attr:`delivery` is ``"host"``."""
    delivery: Literal["request", "host"] = "request"
    """``request``: send :attr:`request` with your own HTTP client. ``host``: the channel's adapter
    cannot send (web chat runs in the host's own widget), so the host shows the reply itself, to
    the conversation's chat session; the outbound interaction is recorded all the same."""
    interaction_id: Id
    conversation_id: Id
    channel: Name
    adapter: Name
    endpoint: str
