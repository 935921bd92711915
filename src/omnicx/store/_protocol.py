"""The storage extension point: the :class:`Store` protocol and what its sessions do.

A store keeps, per tenant, the raw inbox, interactions, identifiers and their
customer assignments, the identity ledger, conversations and an audit log.
Every call works inside one tenant: nothing read or written crosses tenants.
A backend may refuse values it cannot store with :class:`~omnicx.errors.ValidationError`
(PostgreSQL refuses the NUL character in ids, keys, names and URLs).

Reads happen in a :meth:`Store.snapshot` (a consistent read-only view), writes in
a :meth:`Store.transaction` (a unit of work: everything in it commits together,
or, when the block raises, nothing does). One ingestion is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from omnicx.identity import Erasure, LedgerEntry
from omnicx.models import (
    Conversation,
    ConversationStatus,
    Customer,
    CustomerIdentifier,
    Identifier,
    InboundRequest,
    Interaction,
)
from omnicx.store._models import (
    AppendReport,
    AuditRecord,
    ErasureReport,
    Page,
    RawPayload,
    RawStatus,
    StoredInteraction,
)

__all__ = ["Store", "StoreReader", "StoreSession"]


@runtime_checkable
class StoreReader(Protocol):
    """Reads of one tenant's data, all from one consistent view."""

    @property
    def tenant(self) -> str:
        """The tenant every call of this session reads (and writes)."""
        ...

    # --- raw inbox --------------------------------------------------------

    def get_raw(self, raw_id: str) -> RawPayload:
        """The raw payload ``raw_id``. Raises :class:`~omnicx.errors.NotFound` when there is none."""
        ...

    def raw_payloads(
        self,
        status: RawStatus | None = None,
        *,
        channel: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[RawPayload]:
        """Raw payloads with ``status`` (any when ``None``), oldest received first, for replay.

        ``cursor`` is a page's ``next_cursor``; a cursor from another query raises
        :class:`~omnicx.errors.ValidationError`.
        """
        ...

    # --- interactions -----------------------------------------------------

    def get_interaction(self, interaction_id: str) -> StoredInteraction:
        """The interaction ``interaction_id``. Raises :class:`~omnicx.errors.NotFound` when there is none."""
        ...

    def find_interaction(self, adapter: str, dedupe_key: str) -> StoredInteraction | None:
        """The interaction ``adapter`` stored under ``dedupe_key``, or ``None``."""
        ...

    def timeline(
        self,
        identifiers: Iterable[Identifier],
        *,
        limit: int = 50,
        cursor: str | None = None,
        newest_first: bool = True,
        channels: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
        conversation_id: str | None = None,
    ) -> Page[StoredInteraction]:
        """One page of the interactions whose endpoint is one of ``identifiers``.

        Ordered by ``(occurred_at, id)``, newest first unless ``newest_first`` is false.
        Paging is keyset paging: following ``next_cursor`` never repeats or skips an
        interaction that was stored before the first page was read, whatever is
        inserted meanwhile. ``channels``, ``types`` and ``conversation_id`` narrow the
        page. The cursor is opaque; one made for another ordering raises
        :class:`~omnicx.errors.ValidationError`, as does ``limit`` outside 1..1000.
        """
        ...

    # --- identity -----------------------------------------------------------

    def customer_of(self, identifier: Identifier) -> str | None:
        """The customer id ``identifier`` is assigned to, or ``None`` when it has none."""
        ...

    def resolve_customer_id(self, customer_id: str) -> str:
        """The canonical id of ``customer_id``: itself, or the survivor it was merged into.

        Raises :class:`~omnicx.errors.NotFound` when no customer or alias has that id.
        """
        ...

    def get_customer(self, customer_id: str) -> Customer:
        """The customer ``customer_id`` (an alias resolves to its survivor).

        Its ``identifiers`` are ordered by first sighting, then key; ``aliases`` sorted.
        Raises :class:`~omnicx.errors.NotFound` when there is none.
        """
        ...

    def identifiers_of(self, customer_id: str) -> list[CustomerIdentifier]:
        """The identifiers assigned to ``customer_id`` (aliases resolved), ordered as in :meth:`get_customer`."""
        ...

    def customer_ids(self) -> list[str]:
        """Every canonical customer id of the tenant, sorted."""
        ...

    def ledger(self, identifiers: Iterable[Identifier] | None = None) -> list[LedgerEntry]:
        """Ledger entries in the canonical order ``(at, id)``.

        With ``identifiers``: the entries naming any of them (sightings, links and
        never-link rules) and the revocations of those links and rules. Without: every entry,
        erasures included. An identity engine rebuilds its state from this list.
        """
        ...

    def ledger_component(self, identifiers: Iterable[Identifier]) -> list[LedgerEntry]:
        """The entries of every identifier reachable from ``identifiers`` through links and
        never-link rules.

        Both are followed whatever their status, so the result is a superset of the
        component an engine needs to re-evaluate those identifiers. Canonical order.
        """
        ...

    def tombstoned(self, hashes: Iterable[str]) -> frozenset[str]:
        """Those of ``hashes`` that an erasure left as tombstones."""
        ...

    def erasures(self, hashes: Iterable[str]) -> list[Erasure]:
        """The erasure entries that left any of ``hashes`` as tombstones, in ledger order.

        An erasure names no identifier (only their salted hashes), so a ledger component
        does not bring it along: an engine rebuilt from a component adds these to know
        which re-observed identifiers were forgotten.
        """
        ...

    # --- conversations and audit ------------------------------------------

    def get_conversation(self, conversation_id: str) -> Conversation:
        """The conversation ``conversation_id``. Raises :class:`~omnicx.errors.NotFound` when there is none."""
        ...

    def conversations_of(
        self, customer_id: str, *, status: ConversationStatus | None = None
    ) -> list[Conversation]:
        """The conversations of ``customer_id`` (exactly that id), latest activity first."""
        ...

    def audit_log(self, customer_id: str | None = None, *, limit: int = 100) -> list[AuditRecord]:
        """Audit records (of ``customer_id`` when given), oldest first, at most ``limit``."""
        ...

    def customer_state(self, customer_id: str, keys: Iterable[str]) -> dict[str, str]:
        """The stored values of those ``keys`` of ``customer_id``'s derived state (absent keys left out).

        Derived state is what a hub keeps beside a customer to ingest the next
        interaction without reading the customer's history (see
        :meth:`StoreSession.put_customer_state`). ``customer_id`` is taken as it is
        (no alias resolution).
        """
        ...


@runtime_checkable
class StoreSession(StoreReader, Protocol):
    """Reads and writes inside one transaction: all of it commits, or none of it does."""

    def lock_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        """Serialize identity changes touching ``identifiers`` and their customers.

        Held until the transaction ends. Call it before reading the ledger to
        decide a merge, so that several processes merging the same customers end
        in the state of one process doing it in sequence. A store whose
        transactions are already serialized may do nothing.
        """
        ...

    def record_raw(self, channel: str, request: InboundRequest) -> str:
        """Store ``request`` as received (status ``received``); return its new raw id."""
        ...

    def mark_raw(
        self,
        raw_id: str,
        status: RawStatus,
        *,
        error: str | None = None,
        dedupe_keys: Sequence[str] = (),
    ) -> None:
        """Set the raw payload's status, error (replacing the old one) and produced dedupe keys.

        Raises :class:`~omnicx.errors.NotFound` when there is no such payload.
        """
        ...

    def delete_raw(self, raw_id: str) -> None:
        """Remove a raw payload and its dedupe keys, leaving no copy of its bytes (as an erasure does).

        For a payload that must not be kept, such as a replayed one of a forgotten customer.
        Raises :class:`~omnicx.errors.NotFound` when there is no such payload.
        """
        ...

    def append_interaction(
        self,
        interaction: Interaction,
        *,
        conversation_id: str | None = None,
        raw_id: str | None = None,
    ) -> bool:
        """Store ``interaction`` unless its id or ``(adapter, dedupe_key)`` is stored already.

        Returns ``True`` when stored, ``False`` for a duplicate (which changes nothing).
        """
        ...

    def append_interactions(
        self, interactions: Iterable[Interaction], *, raw_id: str | None = None
    ) -> AppendReport:
        """Bulk :meth:`append_interaction`: the report lists stored ids and duplicate ids in input order."""
        ...

    def set_conversation(self, interaction_id: str, conversation_id: str | None) -> None:
        """Attach the interaction to a conversation (or detach it with ``None``).

        Raises :class:`~omnicx.errors.NotFound` when there is no such interaction.
        """
        ...

    def upsert_identifiers(self, identifiers: Iterable[CustomerIdentifier]) -> None:
        """Record identifiers: new ones are added unassigned; known ones keep the
        strongest assurance, the earliest ``first_seen`` and the latest ``last_seen``."""
        ...

    def assign_customer(self, identifiers: Iterable[Identifier], customer_id: str | None) -> None:
        """Assign ``identifiers`` to ``customer_id`` (``None`` unassigns).

        Unknown identifiers are recorded first (assurance inferred, seen now).
        """
        ...

    def add_alias(self, alias: str, customer_id: str) -> None:
        """Record that the retired id ``alias`` now resolves to ``customer_id``.

        Aliases already pointing at ``alias`` follow it to ``customer_id``. Raises
        :class:`~omnicx.errors.Conflict` when ``alias`` equals ``customer_id``.
        """
        ...

    def save_customer(self, customer: Customer) -> None:
        """Store ``customer``: its row, its aliases, and exactly its identifiers.

        Identifiers previously assigned to it and absent from ``customer.identifiers``
        are unassigned. :meth:`get_customer` then returns an equal model (identifiers
        ordered by first sighting, then key; aliases sorted). Raises
        :class:`~omnicx.errors.ValidationError` when an identifier is listed twice or the
        customer's own id is among its aliases.
        """
        ...

    def delete_customer(self, customer_id: str) -> None:
        """Remove a customer a recomputation no longer has (exactly this id; unknown ids are ignored).

        Its row, the aliases that resolve to it and its derived state go; identifiers still
        assigned to it are unassigned. Its conversations are the caller's to delete first
        (:meth:`delete_conversation`); interactions and audit records keep their rows. A hub
        calls it when every identifier of a customer became a shared attribute.
        """
        ...

    def append_ledger(self, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        """Append ledger entries; return the new ones (an id already stored is skipped)."""
        ...

    def save_conversation(self, conversation: Conversation) -> None:
        """Insert or replace the conversation with this id."""
        ...

    def delete_conversation(self, conversation_id: str) -> None:
        """Remove the conversation with this id (one a recomputation no longer has); unknown ids are ignored.

        Interactions attached to it keep their rows; reattach them with :meth:`set_conversation`.
        """
        ...

    def append_audit(self, record: AuditRecord) -> AuditRecord:
        """Append ``record`` and return it with the id the store gave it."""
        ...

    def put_customer_state(
        self, customer_id: str, values: Mapping[str, str], *, overwrite: bool = True
    ) -> None:
        """Store derived-state ``values`` (key → text) for ``customer_id``.

        ``overwrite=False`` keeps a value already stored under a key. The state is
        derived (rebuildable from interactions, ledger and audit log); erasure of the
        customer removes it.
        """
        ...

    def clear_customer_state(self, customer_id: str, prefix: str = "") -> None:
        """Remove ``customer_id``'s derived-state keys that start with ``prefix`` (all by default)."""
        ...

    def forget_customer(self, customer_id: str, erasure: Erasure) -> ErasureReport:
        """Erase a customer, keeping only tombstones.

        Removes, for the customer and its aliases: the interactions on its
        identifiers, the raw payloads that produced them (and unparsed ones whose
        body holds an identifier's value), its identifiers, the ledger entries that
        name them and the revocations of those entries, its conversations, its
        customer row and aliases, their derived state, and its earlier audit records. Then appends
        ``erasure`` to the ledger, records its tombstones and an ``erasure`` audit
        record. Raises :class:`~omnicx.errors.NotFound` for an unknown customer.
        """
        ...


@runtime_checkable
class Store(Protocol):
    """A place where omnicx keeps its history. Safe to share between threads."""

    @property
    def url(self) -> str:
        """The URL the store was opened with (a password, if any, is masked)."""
        ...

    def transaction(self, tenant: str = "default") -> AbstractContextManager[StoreSession]:
        """A unit of work on ``tenant``: committed when the block ends, rolled back when it raises.

        The exception propagates. Raises :class:`~omnicx.errors.StorageUnavailable`
        when the store stays busy past its timeout.
        """
        ...

    def snapshot(self, tenant: str = "default") -> AbstractContextManager[StoreReader]:
        """A consistent read-only view of ``tenant``."""
        ...

    def schema_version(self) -> int:
        """The schema version the store's data is at (``0`` for stores without a schema)."""
        ...

    def close(self) -> None:
        """Release connections and files. Closing twice does nothing."""
        ...
