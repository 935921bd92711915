"""The in-memory store: the fake shipped with the protocol, for tests, demos and docs.

Everything lives in Python dictionaries of frozen models. One lock serializes
transactions and snapshots; a transaction keeps an undo log and replays it
backwards when the block raises, so a failed unit of work leaves no trace.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from omnicx.errors import ConfigurationError, Conflict, NotFound, StorageError, ValidationError
from omnicx.identity import Erasure, LedgerEntry, Link, NeverLink
from omnicx.models import (
    Assurance,
    Conversation,
    ConversationStatus,
    Customer,
    CustomerIdentifier,
    Identifier,
    InboundRequest,
    Interaction,
)
from omnicx.store._checks import check_customer, check_enum, check_interaction, identifier_map
from omnicx.store._codec import decode_cursor, encode_cursor, to_us
from omnicx.store._component import walk_component
from omnicx.store._models import (
    AppendReport,
    AuditAction,
    AuditRecord,
    ErasureReport,
    InteractionPage,
    Page,
    RawPage,
    RawPayload,
    RawStatus,
    StoredInteraction,
    check_tenant,
)
from omnicx.store._protocol import StoreReader, StoreSession
from omnicx.store._sql import check_limit, entry_refs, revocation_ref

__all__ = ["MemoryStore"]

_MISSING = object()


class _Tables:
    def __init__(self) -> None:
        self.raw: dict[str, RawPayload] = {}
        self.interactions: dict[str, StoredInteraction] = {}
        self.dedupe: dict[tuple[str, str], str] = {}
        self.by_endpoint: dict[str, dict[str, None]] = {}
        self.identifiers: dict[str, tuple[CustomerIdentifier, str | None]] = {}
        self.customers: dict[str, tuple[datetime, str | None, dict[str, Any]]] = {}
        self.aliases: dict[str, str] = {}
        self.ledger: dict[str, LedgerEntry] = {}
        self.refs: dict[str, dict[str, None]] = {}
        self.tombstones: dict[str, dict[str, None]] = {}
        """Tombstone hash -> the ids of every erasure that left it."""
        self.conversations: dict[str, Conversation] = {}
        self.audit: dict[int, AuditRecord] = {}
        self.state: dict[str, dict[str, str]] = {}
        self.counters: dict[str, int] = {"audit": 0}


class _MemorySession:
    """:class:`~omnicx.store.StoreSession` over one tenant's tables (see the protocol for each method)."""

    def __init__(self, tables: _Tables, tenant: str, writable: bool) -> None:
        self._t = tables
        self._tenant = tenant
        self._writable = writable
        self.undo: list[tuple[dict[Any, Any], Any, Any]] = []

    @property
    def tenant(self) -> str:
        return self._tenant

    # --- the undo log -------------------------------------------------------

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if not self._writable:
            raise ConfigurationError("this is a read-only snapshot: write inside store.transaction()")
        self.undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def _pop(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            self._put(table, key, _MISSING)
            del table[key]

    def rollback(self) -> None:
        for table, key, old in reversed(self.undo):
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        self.undo.clear()

    # --- raw inbox --------------------------------------------------------

    def record_raw(self, channel: str, request: InboundRequest) -> str:
        raw_id = f"raw_{uuid.uuid4().hex}"
        self._put(
            self._t.raw, raw_id, RawPayload(id=raw_id, tenant=self._tenant, channel=channel, request=request)
        )
        return raw_id

    def mark_raw(
        self, raw_id: str, status: RawStatus, *, error: str | None = None, dedupe_keys: Sequence[str] = ()
    ) -> None:
        raw = self.get_raw(raw_id)
        update = {
            "status": check_enum(RawStatus, status),
            "error": None if error is None else error[:4096],
            "dedupe_keys": tuple(sorted(set(dedupe_keys))),
        }
        self._put(self._t.raw, raw_id, raw.model_copy(update=update))

    def delete_raw(self, raw_id: str) -> None:
        self.get_raw(raw_id)
        self._pop(self._t.raw, raw_id)

    def get_raw(self, raw_id: str) -> RawPayload:
        try:
            return self._t.raw[raw_id]
        except KeyError:
            raise NotFound(f"no raw payload {raw_id!r} in tenant {self._tenant!r}", raw_id=raw_id) from None

    def raw_payloads(
        self,
        status: RawStatus | None = None,
        *,
        channel: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[RawPayload]:
        check_limit(limit)
        if status is not None:
            status = check_enum(RawStatus, status)
        after = decode_cursor(cursor, "raw") if cursor is not None else None
        rows = sorted(
            (to_us(raw.request.received_at), raw.id, raw)
            for raw in self._t.raw.values()
            if (status is None or raw.status == status) and (channel is None or raw.channel == channel)
        )
        if after is not None:
            rows = [row for row in rows if (row[0], row[1]) > after]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor("raw", rows[-1][0], rows[-1][1]) if more else None
        return RawPage(items=tuple(r[2] for r in rows), next_cursor=next_cursor)

    # --- interactions -----------------------------------------------------

    def append_interaction(
        self, interaction: Interaction, *, conversation_id: str | None = None, raw_id: str | None = None
    ) -> bool:
        interaction = check_interaction(interaction)
        key = (interaction.adapter, interaction.dedupe_key)
        if interaction.id in self._t.interactions or key in self._t.dedupe:
            return False
        stored = StoredInteraction(interaction=interaction, conversation_id=conversation_id, raw_id=raw_id)
        self._put(self._t.interactions, interaction.id, stored)
        self._put(self._t.dedupe, key, interaction.id)
        self._put(self._t.by_endpoint.setdefault(interaction.endpoint.key, {}), interaction.id, None)
        return True

    def append_interactions(
        self, interactions: Iterable[Interaction], *, raw_id: str | None = None
    ) -> AppendReport:
        stored: list[str] = []
        duplicates: list[str] = []
        for interaction in interactions:
            (stored if self.append_interaction(interaction, raw_id=raw_id) else duplicates).append(
                interaction.id
            )
        return AppendReport(stored=tuple(stored), duplicates=tuple(duplicates))

    def get_interaction(self, interaction_id: str) -> StoredInteraction:
        try:
            return self._t.interactions[interaction_id]
        except KeyError:
            raise NotFound(
                f"no interaction {interaction_id!r} in tenant {self._tenant!r}", interaction_id=interaction_id
            ) from None

    def find_interaction(self, adapter: str, dedupe_key: str) -> StoredInteraction | None:
        found = self._t.dedupe.get((adapter, dedupe_key))
        return None if found is None else self._t.interactions[found]

    def set_conversation(self, interaction_id: str, conversation_id: str | None) -> None:
        stored = self.get_interaction(interaction_id)
        self._put(
            self._t.interactions,
            interaction_id,
            stored.model_copy(update={"conversation_id": conversation_id}),
        )

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
        check_limit(limit)
        kind = "tl-desc" if newest_first else "tl-asc"
        after = decode_cursor(cursor, kind) if cursor is not None else None
        wanted_channels = None if channels is None else set(channels)
        wanted_types = None if types is None else set(types)
        rows = []
        for key in set(identifier_map(identifiers)):
            for ix_id in self._t.by_endpoint.get(key, {}):
                stored = self._t.interactions[ix_id]
                ix = stored.interaction
                if wanted_channels is not None and ix.channel not in wanted_channels:
                    continue
                if wanted_types is not None and ix.type not in wanted_types:
                    continue
                if conversation_id is not None and stored.conversation_id != conversation_id:
                    continue
                position = (to_us(ix.occurred_at), ix.id)
                if after is not None and (position >= after if newest_first else position <= after):
                    continue
                rows.append((position, stored))
        rows.sort(key=lambda row: row[0], reverse=newest_first)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(kind, *rows[-1][0]) if more else None
        return InteractionPage(items=tuple(r[1] for r in rows), next_cursor=next_cursor)

    # --- identifiers and customers ---------------------------------------

    def upsert_identifiers(self, identifiers: Iterable[CustomerIdentifier]) -> None:
        for item in identifiers:
            key = item.identifier.key
            old = self._t.identifiers.get(key)
            if old is None:
                self._put(self._t.identifiers, key, (item, None))
                continue
            known, customer = old
            merged = known.model_copy(
                update={
                    "assurance": max(known.assurance, item.assurance, key=lambda a: a.rank),
                    "first_seen": min(known.first_seen, item.first_seen),
                    "last_seen": max(known.last_seen, item.last_seen),
                }
            )
            self._put(self._t.identifiers, key, (merged, customer))

    def assign_customer(self, identifiers: Iterable[Identifier], customer_id: str | None) -> None:
        idents = identifier_map(identifiers)
        if not idents:
            return
        now = datetime.now(UTC)
        for key, ident in idents.items():
            old = self._t.identifiers.get(key)
            item = (
                old[0]
                if old
                else CustomerIdentifier(
                    identifier=ident, assurance=Assurance.INFERRED, first_seen=now, last_seen=now
                )
            )
            self._put(self._t.identifiers, key, (item, customer_id))
        if customer_id is None:
            return
        self._pop(self._t.aliases, customer_id)
        if customer_id not in self._t.customers:
            firsts = [i.first_seen for i, c in self._t.identifiers.values() if c == customer_id]
            self._put(self._t.customers, customer_id, (min(firsts, default=now), None, {}))

    def add_alias(self, alias: str, customer_id: str) -> None:
        if alias == customer_id:
            raise Conflict(
                f"customer id {alias!r} cannot be an alias of itself", alias=alias, customer_id=customer_id
            )
        self._pop(self._t.aliases, customer_id)
        for other, target in list(self._t.aliases.items()):
            if target == alias:
                self._put(self._t.aliases, other, customer_id)
        self._put(self._t.aliases, alias, customer_id)
        for key, (item, owner) in list(self._t.identifiers.items()):
            if owner == alias:
                self._put(self._t.identifiers, key, (item, customer_id))
        self._pop(self._t.customers, alias)

    def save_customer(self, customer: Customer) -> None:
        customer = check_customer(customer)
        cid = customer.id
        self._pop(self._t.aliases, cid)
        self._put(self._t.customers, cid, (customer.created_at, customer.display_name, dict(customer.traits)))
        for key, (item, owner) in list(self._t.identifiers.items()):
            if owner == cid:
                self._put(self._t.identifiers, key, (item, None))
        for item in customer.identifiers:
            self._put(self._t.identifiers, item.identifier.key, (item, cid))
        for alias, target in list(self._t.aliases.items()):
            if target == cid:
                self._pop(self._t.aliases, alias)
        for alias in customer.aliases:
            self.add_alias(alias, cid)

    def delete_customer(self, customer_id: str) -> None:
        self._pop(self._t.customers, customer_id)
        self._pop(self._t.aliases, customer_id)
        for alias, target in list(self._t.aliases.items()):
            if target == customer_id:
                self._pop(self._t.aliases, alias)
        for key, (item, owner) in list(self._t.identifiers.items()):
            if owner == customer_id:
                self._put(self._t.identifiers, key, (item, None))
        self.clear_customer_state(customer_id)

    def customer_of(self, identifier: Identifier) -> str | None:
        (key,) = identifier_map([identifier])
        found = self._t.identifiers.get(key)
        if found is None or found[1] is None:
            return None
        return self._t.aliases.get(found[1], found[1])

    def resolve_customer_id(self, customer_id: str) -> str:
        if customer_id in self._t.aliases:
            return self._t.aliases[customer_id]
        if customer_id not in self._t.customers:
            raise NotFound(f"no customer {customer_id!r} in tenant {self._tenant!r}", customer_id=customer_id)
        return customer_id

    def identifiers_of(self, customer_id: str) -> list[CustomerIdentifier]:
        cid = self.resolve_customer_id(customer_id)
        items = [item for item, owner in self._t.identifiers.values() if owner == cid]
        return sorted(items, key=lambda i: (to_us(i.first_seen), i.identifier.key))

    def get_customer(self, customer_id: str) -> Customer:
        cid = self.resolve_customer_id(customer_id)
        created_at, display_name, traits = self._t.customers[cid]
        return Customer(
            id=cid,
            created_at=created_at,
            identifiers=tuple(self.identifiers_of(cid)),
            aliases=tuple(sorted(a for a, t in self._t.aliases.items() if t == cid)),
            display_name=display_name,
            traits=traits,
        )

    def customer_ids(self) -> list[str]:
        return sorted(self._t.customers)

    # --- ledger -------------------------------------------------------------

    def append_ledger(self, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        added: list[LedgerEntry] = []
        for entry in entries:
            if entry.id in self._t.ledger:
                continue
            self._put(self._t.ledger, entry.id, entry)
            for ref in entry_refs(entry):
                self._put(self._t.refs.setdefault(ref, {}), entry.id, None)
            if isinstance(entry, Erasure):
                for tomb in entry.tombstones:
                    self._put(self._t.tombstones.setdefault(tomb, {}), entry.id, None)
            added.append(entry)
        return added

    def _by_refs(self, refs: Iterable[str]) -> dict[str, LedgerEntry]:
        return {e: self._t.ledger[e] for ref in refs for e in self._t.refs.get(ref, {})}

    def _with_revocations(self, found: dict[str, LedgerEntry]) -> list[LedgerEntry]:
        found.update(
            self._by_refs(
                revocation_ref(e.id) for e in list(found.values()) if isinstance(e, Link | NeverLink)
            )
        )
        return sorted(found.values(), key=lambda e: (e.at, e.id))

    def ledger(self, identifiers: Iterable[Identifier] | None = None) -> list[LedgerEntry]:
        if identifiers is None:
            return sorted(self._t.ledger.values(), key=lambda e: (e.at, e.id))
        return self._with_revocations(self._by_refs(identifier_map(identifiers)))

    def ledger_component(self, identifiers: Iterable[Identifier]) -> list[LedgerEntry]:
        return self._with_revocations(walk_component(identifier_map(identifiers), self._by_refs))

    def tombstoned(self, hashes: Iterable[str]) -> frozenset[str]:
        return frozenset(h for h in hashes if self._t.tombstones.get(h))  # (a rollback leaves {})

    def erasures(self, hashes: Iterable[str]) -> list[Erasure]:
        ids = {i for h in hashes for i in self._t.tombstones.get(h, ())}
        found = [e for e in (self._t.ledger.get(i) for i in ids) if isinstance(e, Erasure)]
        return sorted(found, key=lambda e: (e.at, e.id))

    def lock_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        """Transactions already run one at a time: nothing to lock."""
        return

    # --- conversations and audit -----------------------------------------

    def save_conversation(self, conversation: Conversation) -> None:
        self._put(self._t.conversations, conversation.id, conversation)

    def delete_conversation(self, conversation_id: str) -> None:
        self._pop(self._t.conversations, conversation_id)

    def get_conversation(self, conversation_id: str) -> Conversation:
        try:
            return self._t.conversations[conversation_id]
        except KeyError:
            raise NotFound(
                f"no conversation {conversation_id!r} in tenant {self._tenant!r}",
                conversation_id=conversation_id,
            ) from None

    def conversations_of(
        self, customer_id: str, *, status: ConversationStatus | None = None
    ) -> list[Conversation]:
        if status is not None:
            status = check_enum(ConversationStatus, status)
        found = [
            c
            for c in self._t.conversations.values()
            if c.customer_id == customer_id and (status is None or c.status == status)
        ]
        return sorted(found, key=lambda c: (c.last_activity_at, c.id), reverse=True)

    def append_audit(self, record: AuditRecord) -> AuditRecord:
        number = self._t.counters["audit"] + 1
        self._put(self._t.counters, "audit", number)
        stored = record.model_copy(
            update={"id": number, "customer_ids": tuple(sorted(set(record.customer_ids)))}
        )
        self._put(self._t.audit, number, stored)
        return stored.model_copy(update={"customer_ids": record.customer_ids})

    def audit_log(self, customer_id: str | None = None, *, limit: int = 100) -> list[AuditRecord]:
        check_limit(limit, 100_000)
        records = [
            r
            for _, r in sorted(self._t.audit.items())
            if customer_id is None or customer_id in r.customer_ids
        ]
        return records[:limit]

    # --- derived per-customer state ----------------------------------------

    def customer_state(self, customer_id: str, keys: Iterable[str]) -> dict[str, str]:
        state = self._t.state.get(customer_id, {})
        return {k: state[k] for k in keys if k in state}

    def put_customer_state(
        self, customer_id: str, values: Mapping[str, str], *, overwrite: bool = True
    ) -> None:
        state = self._t.state.setdefault(customer_id, {})
        for key, value in values.items():
            if overwrite or key not in state:
                self._put(state, key, value)

    def clear_customer_state(self, customer_id: str, prefix: str = "") -> None:
        state = self._t.state.get(customer_id, {})
        for key in [k for k in state if k.startswith(prefix)]:
            self._pop(state, key)

    # --- erasure ------------------------------------------------------------

    def forget_customer(self, customer_id: str, erasure: Erasure) -> ErasureReport:
        cid = self.resolve_customer_id(customer_id)
        aliases = sorted(a for a, t in self._t.aliases.items() if t == cid)
        ids = {cid, *aliases}
        if erasure.customer_id not in ids:
            raise ValidationError(
                f"the erasure entry is for customer {erasure.customer_id!r}, not {cid!r} or its aliases",
                customer_id=cid,
            )
        idents = {
            k: item.identifier.value for k, (item, owner) in self._t.identifiers.items() if owner in ids
        }
        conversations = [c.id for c in self._t.conversations.values() if c.customer_id in ids]
        doomed = {ix_id for key in idents for ix_id in self._t.by_endpoint.get(key, {})}
        doomed.update(
            s.interaction.id for s in self._t.interactions.values() if s.conversation_id in set(conversations)
        )
        raw_ids = {r for ix in doomed if (r := self._t.interactions[ix].raw_id) is not None}
        dedupe_keys = {self._t.interactions[ix].interaction.dedupe_key for ix in doomed}
        needles = [n.encode() for v in idents.values() for n in (v, v.removeprefix("+")) if len(n) >= 4]
        raw_ids.update(
            raw.id
            for raw in self._t.raw.values()
            if dedupe_keys.intersection(raw.dedupe_keys) or any(n in raw.request.body for n in needles)
        )
        entries = self._with_revocations(self._by_refs(idents))
        for ix_id in doomed:
            ix = self._t.interactions[ix_id].interaction
            self._pop(self._t.dedupe, (ix.adapter, ix.dedupe_key))
            self._pop(self._t.by_endpoint.get(ix.endpoint.key, {}), ix_id)
            self._pop(self._t.interactions, ix_id)
        for raw_id in raw_ids:
            self._pop(self._t.raw, raw_id)
        for key in idents:
            self._pop(self._t.identifiers, key)
        for entry in entries:
            self._pop(self._t.ledger, entry.id)
            for ref in entry_refs(entry):
                self._pop(self._t.refs.get(ref, {}), entry.id)
        for conversation_id in conversations:
            self._pop(self._t.conversations, conversation_id)
        for other in sorted(ids):
            self.clear_customer_state(other)
        for other in ids:
            self._pop(self._t.customers, other)
            self._pop(self._t.aliases, other)
        for number, record in list(self._t.audit.items()):
            if ids.intersection(record.customer_ids):
                self._pop(self._t.audit, number)
        report = ErasureReport(
            customer_id=cid,
            aliases=tuple(aliases),
            interactions=len(doomed),
            raw_payloads=len(raw_ids),
            identifiers=len(idents),
            ledger_entries=len(entries),
            conversations=len(conversations),
            tombstones=len(set(erasure.tombstones)),
        )
        self.append_ledger([erasure])
        self.append_audit(
            AuditRecord(
                at=erasure.at,
                action=AuditAction.ERASURE,
                customer_ids=(cid,),
                actor=erasure.evidence.actor,
                details=report.model_dump(mode="json", exclude={"customer_id"}),
            )
        )
        return report


class MemoryStore:
    """A :class:`~omnicx.store.Store` in this process's memory; gone when the process ends."""

    _numbers = itertools.count(1)

    def __init__(self) -> None:
        self._tenants: dict[str, _Tables] = {}
        self._lock = threading.RLock()
        self._number = next(self._numbers)
        self._active: threading.local = threading.local()

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        """Open ``memory://`` (a new, empty store every call).

        Raises :class:`~omnicx.errors.ConfigurationError` for anything after ``//``.
        """
        if url not in ("memory://", "memory:"):
            raise ConfigurationError(f"{url!r} is not a memory store URL: write memory://", url=url)
        return cls()

    @property
    def url(self) -> str:
        return "memory://"

    def _tables(self, tenant: str) -> _Tables:
        return self._tenants.setdefault(check_tenant(tenant), _Tables())

    @contextmanager
    def _session(self, tenant: str, writable: bool) -> Iterator[_MemorySession]:
        check_tenant(tenant)
        if getattr(self._active, "open", False):
            raise StorageError(
                "a transaction is already open on this thread: nest the work inside it instead of opening another"
            )
        with self._lock:
            self._active.open = True
            session = _MemorySession(self._tables(tenant), tenant, writable)
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            finally:
                self._active.open = False

    @contextmanager
    def transaction(self, tenant: str = "default") -> Iterator[StoreSession]:
        """See :meth:`omnicx.store.Store.transaction`."""
        with self._session(tenant, True) as session:
            yield session

    @contextmanager
    def snapshot(self, tenant: str = "default") -> Iterator[StoreReader]:
        """See :meth:`omnicx.store.Store.snapshot`."""
        with self._session(tenant, False) as session:
            yield session

    def schema_version(self) -> int:
        return 0

    def close(self) -> None:
        return

    def __repr__(self) -> str:
        return f"MemoryStore(#{self._number})"
