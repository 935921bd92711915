"""What the identity engine hands back: frozen pydantic models (the boundary)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, PrivateAttr, StringConstraints

from omnicx.identity._ledger import Evidence, LedgerEntry, LinkKind
from omnicx.models import Assurance, Identifier
from omnicx.models._base import OmnicxModel, UtcDatetime

__all__ = [
    "Change",
    "Conflict",
    "ConflictReason",
    "EvidenceStep",
    "Explanation",
    "Forgotten",
    "HistoryEvent",
    "ObservedBatch",
    "attach_entries",
]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]

_R = TypeVar("_R", bound="_WithEntries")

ConflictReason = Literal["blocked", "quarantined", "limit", "unique", "never_link", "suggestion", "erased"]
"""Why a link did not merge (``suggestion``: too weak; ``erased``: a forgotten identifier came back)."""


class Conflict(OmnicxModel):
    """A link the policy refused (kept in the ledger, never silently dropped)."""

    reason: ConflictReason
    detail: str
    identifiers: tuple[Identifier, ...]
    link_ids: tuple[Id, ...] = ()


class _WithEntries(OmnicxModel):
    """A result that carries the ledger entries its operation appended (built on first access)."""

    _entries: Callable[[], tuple[LedgerEntry, ...]] | tuple[LedgerEntry, ...] = PrivateAttr(default=())

    @property
    def entries(self) -> tuple[LedgerEntry, ...]:
        """The ledger entries this operation appended, to persist in this order."""
        held = self._entries
        if isinstance(held, tuple):
            return held
        built = held()
        BaseModel.__setattr__(self, "_entries", built)  # a private cache; the fields stay frozen
        return built


class Change(_WithEntries):
    """The outcome of one engine operation.

    ``customer_id`` is the customer the operation's identifiers ended in (the first
    one that belongs to a customer; ``None`` when every one is a shared attribute);
    ``merged`` the customer ids this operation retired (they now resolve to a
    survivor); ``split`` the customer ids of the parts an unmerge left;
    ``conflicts`` the links the policy refused or demoted.

    ``entries`` are the new ledger entries to persist, in order (built on first access).
    """

    customer_id: Id | None = None
    created: bool = False
    """True when ``customer_id`` is a new customer: none of its identifiers was known before."""
    merged: tuple[Id, ...] = ()
    split: tuple[Id, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


class ObservedBatch(_WithEntries):
    """The outcome of :meth:`IdentityEngine.observe_many`, as it stands after the whole batch.

    ``customer_ids`` holds one item per observation, in input order: the customer the
    observation's first identifier that belongs to a customer is in *after the batch*
    (``None`` when every one is a shared attribute or was forgotten). ``created``: the
    customers among them none of whose identifiers was known before the batch;
    ``merged``: customer ids that existed before the batch and were retired by it (they
    resolve to a survivor); ``split``: the customers a quarantine rearranged outside the
    batch's own identifiers; ``conflicts``: the batch's links whose pair the policy
    refuses or demotes after the batch (one per pair, with every link id of the batch),
    the identifiers the batch made hot that are still quarantined, and the forgotten
    identifiers it dropped.

    ``entries`` equals the concatenation of the entries :meth:`IdentityEngine.observe`
    would have returned for each observation in turn (built on first access).
    """

    customer_ids: tuple[Id | None, ...] = ()
    created: tuple[Id, ...] = ()
    merged: tuple[Id, ...] = ()
    split: tuple[Id, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


def attach_entries(change: _R, build: Callable[[], tuple[LedgerEntry, ...]]) -> _R:
    """Give ``change`` the (lazily built) ledger entries of its operation; returns it."""
    BaseModel.__setattr__(change, "_entries", build)
    return change


class Forgotten(Change):
    """The outcome of :meth:`IdentityEngine.forget`.

    Storage must delete every ledger entry listed in ``removed_entry_ids`` (the
    forgotten identifiers' links, never-link rules and revocations) and every
    sighting of an identifier in ``identifiers``, then append ``entries`` (the
    :class:`~omnicx.identity.Erasure` with the salted-hash tombstones).
    """

    customer_id: Id | None = None
    identifiers: tuple[Identifier, ...] = ()
    removed_entry_ids: tuple[Id, ...] = ()


class EvidenceStep(OmnicxModel):
    """One hop of an explanation: ``source`` and ``target`` are linked by ``link_id``."""

    source: Identifier
    target: Identifier
    link_id: Id
    kind: LinkKind
    at: UtcDatetime
    assurance: Assurance
    evidence: Evidence


class Explanation(OmnicxModel):
    """Why two identifiers are one customer: the shortest chain of admitted links."""

    a: Identifier
    b: Identifier
    customer_id: Id
    steps: tuple[EvidenceStep, ...]


class HistoryEvent(OmnicxModel):
    """One event of a customer's history, as the ledger and the current policy explain it.

    * ``merged``: ``link_id`` joined ``retired_id`` into ``customer_id``;
    * ``refused``: a link touching the customer was refused (``reason``);
    * ``revoked``: a link was revoked (an unmerge), or a never-link rule (``reason`` says
      which; ``link_id`` is the entry revoked); ``customer_id`` the part it lies in;
    * ``never_link``: a rule keeps two identifiers apart.
    """

    type: Literal["merged", "refused", "revoked", "never_link"]
    at: UtcDatetime
    customer_id: Id
    retired_id: Id | None = None
    identifiers: tuple[Identifier, ...] = ()
    link_id: Id | None = None
    reason: str = ""
    evidence: Evidence = Evidence()
