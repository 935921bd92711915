"""Customers and conversations."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, JsonValue, StringConstraints, model_validator

from omnicx.models._base import Metadata, Name, OmnicxModel, UtcDatetime
from omnicx.models._identifiers import Assurance, Identifier

__all__ = ["Conversation", "ConversationStatus", "Customer", "CustomerIdentifier"]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CustomerIdentifier(OmnicxModel):
    """An identifier of a customer, with the strongest assurance seen for it.

    ``first_seen`` and ``last_seen`` are the times of its first and last sighting (a
    payload that carried it, or an agent's manual link). A never-link rule or a
    revocation is no sighting; an identifier that the ledger names only in links or
    rules is seen at the earliest of them.
    """

    identifier: Identifier
    assurance: Assurance
    first_seen: UtcDatetime
    last_seen: UtcDatetime


class Customer(OmnicxModel):
    """One person: a connected component of identifiers.

    ``id`` is the canonical customer id (the id first assigned in the component);
    ``aliases`` are retired ids of customers merged into this one, which still
    resolve to it.
    """

    id: Id
    created_at: UtcDatetime
    identifiers: tuple[CustomerIdentifier, ...] = ()
    aliases: tuple[Id, ...] = ()
    display_name: Annotated[str, StringConstraints(max_length=256)] | None = None
    traits: Metadata = Field(default_factory=dict)


class ConversationStatus(StrEnum):
    """``open → pending → resolved``, and ``resolved → open`` on reopen."""

    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class Conversation(OmnicxModel):
    """Interactions about one matter, across every channel the customer used."""

    id: Id
    customer_id: Id
    status: ConversationStatus = ConversationStatus.OPEN
    channels: tuple[Name, ...] = ()
    """Channels in the order the conversation first used them."""
    opened_at: UtcDatetime
    last_activity_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    subject: Annotated[str, StringConstraints(max_length=1024)] | None = None
    assignee: Annotated[str, StringConstraints(max_length=256)] | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _times(self) -> Self:
        if self.last_activity_at < self.opened_at:
            raise ValueError("last_activity_at is before opened_at")
        if self.status is ConversationStatus.RESOLVED and self.resolved_at is None:
            raise ValueError("a resolved conversation needs resolved_at")
        return self
