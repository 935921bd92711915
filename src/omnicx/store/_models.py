"""What the store hands back: raw payloads, stored interactions, pages, audit records."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import Field, JsonValue, StringConstraints

from omnicx.errors import ValidationError
from omnicx.models import InboundRequest, Interaction, OmnicxModel, UtcDatetime

__all__ = [
    "DEFAULT_TENANT",
    "AppendReport",
    "AuditAction",
    "AuditRecord",
    "ErasureReport",
    "InteractionPage",
    "Page",
    "RawPage",
    "RawPayload",
    "RawStatus",
    "StoredInteraction",
    "check_tenant",
]

DEFAULT_TENANT = "default"
"""The tenant every row belongs to unless the host serves several businesses."""

_TENANT_RE = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=512)]

T = TypeVar("T")


def check_tenant(tenant: object) -> str:
    """Return ``tenant`` when it is a valid tenant id, else raise :class:`~omnicx.errors.ValidationError`.

    A tenant id is 1 to 64 characters of letters, digits, ``.``, ``_`` and ``-``.
    """
    if not isinstance(tenant, str) or not _TENANT_RE.match(tenant):
        raise ValidationError(
            f"{tenant!r} is not a tenant id: use 1 to 64 letters, digits, '.', '_' or '-' "
            f"(the single-tenant default is {DEFAULT_TENANT!r})",
            tenant=repr(tenant)[:80],
        )
    return tenant


class RawStatus(StrEnum):
    """Where a raw payload is in its life."""

    RECEIVED = "received"
    """Stored, not parsed yet (or the process died while parsing it)."""
    PARSED = "parsed"
    """Parsed; its events are stored."""
    FAILED = "failed"
    """Verification or parsing failed; ``error`` says why. Replay it after a fix."""
    UNSUPPORTED = "unsupported"
    """A well-formed event the adapter does not handle; kept, acknowledged."""


class RawPayload(OmnicxModel):
    """A payload exactly as it was received, before any parsing.

    ``dedupe_keys`` are the keys of the events it produced (empty until parsed).
    """

    id: Id
    tenant: Id
    channel: Key
    request: InboundRequest
    status: RawStatus = RawStatus.RECEIVED
    error: Annotated[str, StringConstraints(max_length=4096)] | None = None
    dedupe_keys: tuple[Key, ...] = ()


class StoredInteraction(OmnicxModel):
    """An interaction as stored, with the conversation and raw payload it belongs to."""

    interaction: Interaction
    conversation_id: Id | None = None
    raw_id: Id | None = None


class Page(OmnicxModel, Generic[T]):
    """One page of results. ``next_cursor`` fetches the next page; ``None`` when this is the last."""

    items: tuple[T, ...]
    next_cursor: str | None = None


InteractionPage = Page[StoredInteraction]
"""``Page[StoredInteraction]``, parametrized once (pydantic builds a class per parametrization)."""
RawPage = Page[RawPayload]
"""``Page[RawPayload]``, parametrized once."""


class AppendReport(OmnicxModel):
    """What a bulk append did: ids newly stored and ids that were already there (duplicates)."""

    stored: tuple[Id, ...] = ()
    duplicates: tuple[Id, ...] = ()


class AuditAction(StrEnum):
    """What an audit record is about."""

    MERGE = "merge"
    SPLIT = "split"
    LINK = "link"
    UNLINK = "unlink"
    ERASURE = "erasure"
    CONVERSATION = "conversation"
    """An agent's action on a conversation (``details`` holds the ConversationAction)."""
    PROFILE = "profile"
    """The host changed a customer's display name or traits (``details`` names the trait keys only)."""


class AuditRecord(OmnicxModel):
    """One line of the audit log: a merge, split or erasure, who did it and when.

    ``details`` must not hold personal data (identifier values): erasure keeps the
    audit log but deletes the forgotten customer's earlier records.
    """

    id: int = 0
    """Assigned by the store, increasing in append order; ``0`` before storing."""
    at: UtcDatetime
    action: AuditAction
    customer_ids: tuple[Id, ...]
    actor: Annotated[str, StringConstraints(max_length=256)] | None = None
    details: dict[str, JsonValue] = Field(default_factory=dict)


class ErasureReport(OmnicxModel):
    """What :meth:`~omnicx.store.StoreSession.forget_customer` removed."""

    customer_id: Id
    aliases: tuple[Id, ...] = ()
    interactions: int = 0
    raw_payloads: int = 0
    identifiers: int = 0
    ledger_entries: int = 0
    conversations: int = 0
    tombstones: int = 0
