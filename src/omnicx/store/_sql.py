"""The store's reads and writes in SQL, shared by the SQLite and PostgreSQL backends.

A backend hands :class:`SqlSession` a :class:`Db`: a thin wrapper over one
connection that is inside a transaction. Statements are written with ``?``
placeholders and ``GREATEST`` / ``LEAST``; each ``Db`` translates them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import TypeAdapter

from omnicx.errors import Conflict, NotFound, ValidationError
from omnicx.identity import Erasure, LedgerEntry, Link, NeverLink, Revocation, Sighting, ledger_entry_adapter
from omnicx.models import (
    Assurance,
    Conversation,
    ConversationStatus,
    Customer,
    CustomerIdentifier,
    Identifier,
    InboundRequest,
    Interaction,
    interaction_adapter,
)
from omnicx.store._checks import check_customer, check_enum, check_interaction, identifier_map
from omnicx.store._codec import decode_cursor, encode_cursor, from_us, to_us
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
)

__all__ = [
    "ASSURANCE_RANK",
    "CHUNK",
    "Db",
    "SqlSession",
    "chunks",
    "check_limit",
    "entry_refs",
    "interaction_row",
    "revocation_ref",
]

CHUNK = 500
"""Most values bound in one ``IN (...)`` list."""

ASSURANCE_RANK = {Assurance.INFERRED: 0, Assurance.ASSERTED: 1, Assurance.VERIFIED: 2}
_RANK_ASSURANCE = {rank: assurance for assurance, rank in ASSURANCE_RANK.items()}

Row = tuple[Any, ...]


class Db(Protocol):
    """One connection inside a transaction, with the dialect's quirks hidden."""

    dialect: str

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run ``sql`` and return every row it produced."""
        ...

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run ``sql``; return the number of rows it changed."""
        ...

    def put(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run ``sql`` for its effect alone. A backend may send it with what comes next
        (PostgreSQL's pipeline): an error it causes is raised by a later call or at commit."""
        ...

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        """Run ``sql`` once per parameter tuple."""
        ...

    def insert_new_interactions(self, rows: list[Row]) -> set[str]:
        """Insert interaction rows (columns of :func:`interaction_row`), skipping conflicts.

        Return the ids actually inserted.
        """
        ...


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """``values`` in slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` values."""
    return ", ".join("?" * count)


def check_limit(limit: int, most: int = 1000) -> int:
    """``limit`` when it is an int in 1..``most``, else :class:`~omnicx.errors.ValidationError`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise ValidationError(f"limit must be an integer from 1 to {most}, got {limit!r}", limit=repr(limit))
    return limit


def revocation_ref(link_id: str) -> str:
    """The ledger reference under which revocations of ``link_id`` are found.

    ``#`` cannot start an identifier key, so it never collides with one.
    """
    return f"#rev:{link_id}"


def entry_refs(entry: LedgerEntry) -> tuple[str, ...]:
    """The identifier keys (and revoked link) a ledger entry names, for lookups and erasure."""
    if isinstance(entry, Sighting):
        return (entry.identifier.key,)
    if isinstance(entry, Link | NeverLink):
        return tuple(sorted({entry.a.key, entry.b.key}))
    if isinstance(entry, Revocation):
        return (revocation_ref(entry.link_id),)
    return ()


def interaction_row(
    tenant: str, interaction: Interaction, conversation_id: str | None, raw_id: str | None
) -> Row:
    """The column values of an interaction row, in ``_INTERACTION_COLUMNS`` order."""
    return (
        tenant,
        interaction.id,
        interaction.adapter,
        interaction.dedupe_key,
        interaction.channel,
        interaction.type,
        interaction.endpoint.key,
        to_us(interaction.occurred_at),
        conversation_id,
        raw_id,
        interaction_adapter.dump_json(interaction).decode(),
    )


INTERACTION_COLUMNS = (
    "tenant, id, adapter, dedupe_key, channel, type, endpoint, occurred_us, conversation_id, raw_id, body"
)

_RAW_COLUMNS = "id, channel, received_us, method, url, headers, body, status, error"


def _now_us() -> int:
    return to_us(datetime.now(UTC))


def _stored(row: Row) -> StoredInteraction:
    body, conversation_id, raw_id = row
    return StoredInteraction(
        interaction=interaction_adapter.validate_json(body), conversation_id=conversation_id, raw_id=raw_id
    )


_interaction_list: TypeAdapter[list[Interaction]] = TypeAdapter(list[Interaction])


def _stored_many(rows: Sequence[Row]) -> tuple[StoredInteraction, ...]:
    """Rows of (body, conversation_id, raw_id): every body validated in one pydantic call."""
    if not rows:
        return ()
    parsed = _interaction_list.validate_json("[" + ",".join(row[0] for row in rows) + "]")
    # Every part is validated already (the interaction just now, the ids when stored).
    return tuple(
        StoredInteraction.model_construct(interaction=ix, conversation_id=row[1], raw_id=row[2])
        for ix, row in zip(parsed, rows, strict=True)
    )


class SqlSession:
    """:class:`~omnicx.store.StoreSession` over a :class:`Db` (see the protocol for each method)."""

    def __init__(self, db: Db, tenant: str) -> None:
        self._db = db
        self._tenant = tenant
        self.erased = False
        """Set when :meth:`forget_customer` ran: a backend may then scrub its files after commit."""
        self._fresh_raw: set[str] = set()
        """Raw payloads recorded in this transaction: they have no dedupe keys to delete yet."""
        self._state: dict[str, dict[str, str | None]] = {}
        """Derived state read or written in this transaction (customer → key → value, None:
        absent), so that a hub reading the same keys again does not ask the database.
        :meth:`forget_state_cache` empties it (a backend whose transactions are not
        serialized does so when it takes locks, after which others' writes must be seen)."""

    @property
    def tenant(self) -> str:
        return self._tenant

    # --- raw inbox --------------------------------------------------------

    def record_raw(self, channel: str, request: InboundRequest) -> str:
        raw_id = f"raw_{uuid.uuid4().hex}"
        self._db.put(
            f"INSERT INTO omnicx_raw_inbox (tenant, {_RAW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                self._tenant,
                raw_id,
                channel,
                to_us(request.received_at),
                request.method,
                request.url,
                json.dumps(request.headers, ensure_ascii=False),
                request.body,
                RawStatus.RECEIVED.value,
            ),
        )
        self._fresh_raw.add(raw_id)
        return raw_id

    def mark_raw(
        self,
        raw_id: str,
        status: RawStatus,
        *,
        error: str | None = None,
        dedupe_keys: Sequence[str] = (),
    ) -> None:
        status = check_enum(RawStatus, status)
        changed = self._db.run(
            "UPDATE omnicx_raw_inbox SET status = ?, error = ? WHERE tenant = ? AND id = ?",
            (status.value, None if error is None else error[:4096], self._tenant, raw_id),
        )
        if not changed:
            raise NotFound(f"no raw payload {raw_id!r} in tenant {self._tenant!r}", raw_id=raw_id)
        if raw_id in self._fresh_raw:  # its first marking: no keys stored yet
            self._fresh_raw.discard(raw_id)
        else:
            self._db.put(
                "DELETE FROM omnicx_raw_inbox_keys WHERE tenant = ? AND raw_id = ?", (self._tenant, raw_id)
            )
        self._db.many(
            "INSERT INTO omnicx_raw_inbox_keys (tenant, raw_id, dedupe_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(self._tenant, raw_id, key) for key in dict.fromkeys(dedupe_keys)],
        )

    def delete_raw(self, raw_id: str) -> None:
        if not self._db.run(
            "DELETE FROM omnicx_raw_inbox WHERE tenant = ? AND id = ?", (self._tenant, raw_id)
        ):
            raise NotFound(f"no raw payload {raw_id!r} in tenant {self._tenant!r}", raw_id=raw_id)
        self._db.put(
            "DELETE FROM omnicx_raw_inbox_keys WHERE tenant = ? AND raw_id = ?", (self._tenant, raw_id)
        )
        self.erased = True  # SQLite then checkpoints its WAL: no copy of the bytes stays there

    def _raw_from_row(self, row: Row) -> RawPayload:
        raw_id, channel, received_us, method, url, headers, body, status, error = row
        keys = self._db.rows(
            "SELECT dedupe_key FROM omnicx_raw_inbox_keys WHERE tenant = ? AND raw_id = ? ORDER BY dedupe_key",
            (self._tenant, raw_id),
        )
        request = InboundRequest(
            method=method,
            url=url,
            headers=json.loads(headers),
            body=bytes(body),
            received_at=from_us(received_us),
        )
        return RawPayload(
            id=raw_id,
            tenant=self._tenant,
            channel=channel,
            request=request,
            status=RawStatus(status),
            error=error,
            dedupe_keys=tuple(k for (k,) in keys),
        )

    def get_raw(self, raw_id: str) -> RawPayload:
        rows = self._db.rows(
            f"SELECT {_RAW_COLUMNS} FROM omnicx_raw_inbox WHERE tenant = ? AND id = ?", (self._tenant, raw_id)
        )
        if not rows:
            raise NotFound(f"no raw payload {raw_id!r} in tenant {self._tenant!r}", raw_id=raw_id)
        return self._raw_from_row(rows[0])

    def raw_payloads(
        self,
        status: RawStatus | None = None,
        *,
        channel: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[RawPayload]:
        check_limit(limit)
        where, params = ["tenant = ?"], [self._tenant]
        if status is not None:
            where.append("status = ?")
            params.append(check_enum(RawStatus, status).value)
        if channel is not None:
            where.append("channel = ?")
            params.append(channel)
        if cursor is not None:
            position, last_id = decode_cursor(cursor, "raw")
            where.append("(received_us > ? OR (received_us = ? AND id > ?))")
            params.extend([position, position, last_id])  # type: ignore[list-item]
        rows = self._db.rows(
            f"SELECT {_RAW_COLUMNS} FROM omnicx_raw_inbox WHERE {' AND '.join(where)} "
            "ORDER BY received_us, id LIMIT ?",
            (*params, limit + 1),
        )
        items = tuple(self._raw_from_row(row) for row in rows[:limit])
        more = len(rows) > limit
        next_cursor = encode_cursor("raw", rows[limit - 1][2], rows[limit - 1][0]) if more else None
        return RawPage(items=items, next_cursor=next_cursor)

    # --- interactions -----------------------------------------------------

    def append_interaction(
        self,
        interaction: Interaction,
        *,
        conversation_id: str | None = None,
        raw_id: str | None = None,
    ) -> bool:
        interaction = check_interaction(interaction)
        inserted = self._db.insert_new_interactions(
            [interaction_row(self._tenant, interaction, conversation_id, raw_id)]
        )
        return interaction.id in inserted

    def append_interactions(
        self, interactions: Iterable[Interaction], *, raw_id: str | None = None
    ) -> AppendReport:
        order: list[str] = []
        rows: list[Row] = []
        seen_ids: set[str] = set()
        seen_keys: set[tuple[str, str]] = set()
        for item in interactions:
            interaction = check_interaction(item)
            order.append(interaction.id)
            key = (interaction.adapter, interaction.dedupe_key)
            if interaction.id in seen_ids or key in seen_keys:
                continue
            seen_ids.add(interaction.id)
            seen_keys.add(key)
            rows.append(interaction_row(self._tenant, interaction, None, raw_id))
        inserted = self._db.insert_new_interactions(rows)
        stored: list[str] = []
        duplicates: list[str] = []
        for interaction_id in order:
            if interaction_id in inserted:
                stored.append(interaction_id)
                inserted.discard(interaction_id)
            else:
                duplicates.append(interaction_id)
        return AppendReport(stored=tuple(stored), duplicates=tuple(duplicates))

    def get_interaction(self, interaction_id: str) -> StoredInteraction:
        rows = self._db.rows(
            "SELECT body, conversation_id, raw_id FROM omnicx_interactions WHERE tenant = ? AND id = ?",
            (self._tenant, interaction_id),
        )
        if not rows:
            raise NotFound(
                f"no interaction {interaction_id!r} in tenant {self._tenant!r}", interaction_id=interaction_id
            )
        return _stored(rows[0])

    def find_interaction(self, adapter: str, dedupe_key: str) -> StoredInteraction | None:
        rows = self._db.rows(
            "SELECT body, conversation_id, raw_id FROM omnicx_interactions "
            "WHERE tenant = ? AND dedupe_key = ? AND adapter = ?",
            (self._tenant, dedupe_key, adapter),
        )
        return _stored(rows[0]) if rows else None

    def set_conversation(self, interaction_id: str, conversation_id: str | None) -> None:
        changed = self._db.run(
            "UPDATE omnicx_interactions SET conversation_id = ? WHERE tenant = ? AND id = ?",
            (conversation_id, self._tenant, interaction_id),
        )
        if not changed:
            raise NotFound(
                f"no interaction {interaction_id!r} in tenant {self._tenant!r}", interaction_id=interaction_id
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
        keys = sorted(identifier_map(identifiers))
        after = decode_cursor(cursor, kind) if cursor is not None else None
        if not keys:
            return InteractionPage(items=())
        direction, compare = ("DESC", "<") if newest_first else ("ASC", ">")
        filters, filter_params = [], []
        if channels is not None:
            wanted = sorted(set(channels))
            if not wanted:
                return InteractionPage(items=())
            filters.append(f"channel IN ({marks(len(wanted))})")
            filter_params.extend(wanted)
        if types is not None:
            wanted = sorted(set(types))
            if not wanted:
                return InteractionPage(items=())
            filters.append(f"type IN ({marks(len(wanted))})")
            filter_params.extend(wanted)
        if conversation_id is not None:
            filters.append("conversation_id = ?")
            filter_params.append(conversation_id)
        if after is not None:
            filters.append(f"(occurred_us, id) {compare} (?, ?)")
        extra = "".join(f" AND {f}" for f in filters)
        # One index range per identifier, each cut at the page size, then merged: the cost
        # does not grow with the number of interactions a customer has.
        parts: list[str] = []
        params: list[Any] = []
        for number, key in enumerate(keys):
            parts.append(
                f"SELECT * FROM (SELECT id, occurred_us FROM omnicx_interactions "
                f"WHERE tenant = ? AND endpoint = ?{extra} "
                f"ORDER BY occurred_us {direction}, id {direction} LIMIT ?) AS p{number}"
            )
            params.extend([self._tenant, key, *filter_params])
            if after is not None:
                params.extend(after)
            params.append(limit + 1)
        sql = (
            f"WITH top AS ({' UNION ALL '.join(parts)} ORDER BY occurred_us {direction}, id {direction} LIMIT ?) "
            "SELECT i.body, i.conversation_id, i.raw_id, top.occurred_us, top.id FROM top "
            "JOIN omnicx_interactions i ON i.tenant = ? AND i.id = top.id "
            f"ORDER BY top.occurred_us {direction}, top.id {direction}"
        )
        rows = self._db.rows(sql, (*params, limit + 1, self._tenant))
        items = _stored_many(rows[:limit])
        more = len(rows) > limit
        next_cursor = encode_cursor(kind, rows[limit - 1][3], rows[limit - 1][4]) if more else None
        return InteractionPage(items=items, next_cursor=next_cursor)

    # --- identifiers and customers ---------------------------------------

    def upsert_identifiers(self, identifiers: Iterable[CustomerIdentifier]) -> None:
        self._db.many(
            "INSERT INTO omnicx_identifiers (tenant, key, kind, value, scope, assurance, first_us, last_us, "
            "customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (tenant, key) DO UPDATE SET "
            "assurance = GREATEST(omnicx_identifiers.assurance, excluded.assurance), "
            "first_us = LEAST(omnicx_identifiers.first_us, excluded.first_us), "
            "last_us = GREATEST(omnicx_identifiers.last_us, excluded.last_us)",
            [self._identifier_params(item) for item in identifiers],
        )

    def _identifier_params(self, item: CustomerIdentifier) -> Row:
        ident = item.identifier
        return (
            self._tenant,
            ident.key,
            ident.kind,
            ident.value,
            ident.scope,
            ASSURANCE_RANK[item.assurance],
            to_us(item.first_seen),
            to_us(item.last_seen),
        )

    def assign_customer(self, identifiers: Iterable[Identifier], customer_id: str | None) -> None:
        idents = identifier_map(identifiers)
        if not idents:
            return
        now = _now_us()
        self._db.many(
            "INSERT INTO omnicx_identifiers (tenant, key, kind, value, scope, assurance, first_us, last_us, "
            "customer_id) VALUES (?, ?, ?, ?, ?, 0, ?, ?, NULL) ON CONFLICT (tenant, key) DO NOTHING",
            [(self._tenant, i.key, i.kind, i.value, i.scope, now, now) for i in idents.values()],
        )
        keys = sorted(idents)
        for part in chunks(keys):
            self._db.put(
                f"UPDATE omnicx_identifiers SET customer_id = ? WHERE tenant = ? AND key IN ({marks(len(part))})",
                (customer_id, self._tenant, *part),
            )
        if customer_id is None:
            return
        self._db.put(
            "DELETE FROM omnicx_customer_aliases WHERE tenant = ? AND alias = ?", (self._tenant, customer_id)
        )
        first = self._db.rows(
            "SELECT MIN(first_us) FROM omnicx_identifiers WHERE tenant = ? AND customer_id = ?",
            (self._tenant, customer_id),
        )[0][0]
        self._db.put(
            "INSERT INTO omnicx_customers (tenant, id, created_us, display_name, traits) VALUES (?, ?, ?, NULL, '{}') "
            "ON CONFLICT (tenant, id) DO NOTHING",
            (self._tenant, customer_id, first if first is not None else now),
        )

    def add_alias(self, alias: str, customer_id: str) -> None:
        if alias == customer_id:
            raise Conflict(
                f"customer id {alias!r} cannot be an alias of itself", alias=alias, customer_id=customer_id
            )
        t = self._tenant
        self._db.put("DELETE FROM omnicx_customer_aliases WHERE tenant = ? AND alias = ?", (t, customer_id))
        self._db.put(
            "UPDATE omnicx_customer_aliases SET customer_id = ? WHERE tenant = ? AND customer_id = ?",
            (customer_id, t, alias),
        )
        self._db.put(
            "INSERT INTO omnicx_customer_aliases (tenant, alias, customer_id) VALUES (?, ?, ?) "
            "ON CONFLICT (tenant, alias) DO UPDATE SET customer_id = excluded.customer_id",
            (t, alias, customer_id),
        )
        self._db.put(
            "UPDATE omnicx_identifiers SET customer_id = ? WHERE tenant = ? AND customer_id = ?",
            (customer_id, t, alias),
        )
        self._db.put("DELETE FROM omnicx_customers WHERE tenant = ? AND id = ?", (t, alias))

    def save_customer(self, customer: Customer) -> None:
        customer = check_customer(customer)
        t, cid = self._tenant, customer.id
        self._db.put("DELETE FROM omnicx_customer_aliases WHERE tenant = ? AND alias = ?", (t, cid))
        self._db.put(
            "INSERT INTO omnicx_customers (tenant, id, created_us, display_name, traits) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (tenant, id) DO UPDATE SET created_us = excluded.created_us, "
            "display_name = excluded.display_name, traits = excluded.traits",
            (t, cid, to_us(customer.created_at), customer.display_name, json.dumps(customer.traits)),
        )
        self._db.put(
            "UPDATE omnicx_identifiers SET customer_id = NULL WHERE tenant = ? AND customer_id = ?", (t, cid)
        )
        self._db.many(
            "INSERT INTO omnicx_identifiers (tenant, key, kind, value, scope, assurance, first_us, last_us, "
            "customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, key) DO UPDATE SET "
            "assurance = excluded.assurance, first_us = excluded.first_us, last_us = excluded.last_us, "
            "customer_id = excluded.customer_id",
            [(*self._identifier_params(item), cid) for item in customer.identifiers],
        )
        self._db.put("DELETE FROM omnicx_customer_aliases WHERE tenant = ? AND customer_id = ?", (t, cid))
        for alias in customer.aliases:
            self.add_alias(alias, cid)

    def delete_customer(self, customer_id: str) -> None:
        t = self._tenant
        self._db.put("DELETE FROM omnicx_customers WHERE tenant = ? AND id = ?", (t, customer_id))
        self._db.put(
            "DELETE FROM omnicx_customer_aliases WHERE tenant = ? AND (alias = ? OR customer_id = ?)",
            (t, customer_id, customer_id),
        )
        self._db.put(
            "UPDATE omnicx_identifiers SET customer_id = NULL WHERE tenant = ? AND customer_id = ?",
            (t, customer_id),
        )
        self.clear_customer_state(customer_id)

    def customer_of(self, identifier: Identifier) -> str | None:
        rows = self._db.rows(
            "SELECT COALESCE(a.customer_id, i.customer_id) FROM omnicx_identifiers i "
            "LEFT JOIN omnicx_customer_aliases a ON a.tenant = i.tenant AND a.alias = i.customer_id "
            "WHERE i.tenant = ? AND i.key = ?",
            (self._tenant, *identifier_map([identifier])),
        )
        return rows[0][0] if rows else None

    def resolve_customer_id(self, customer_id: str) -> str:
        rows = self._db.rows(
            "SELECT customer_id FROM omnicx_customer_aliases WHERE tenant = ? AND alias = ?",
            (self._tenant, customer_id),
        )
        if rows:
            return str(rows[0][0])
        rows = self._db.rows(
            "SELECT id FROM omnicx_customers WHERE tenant = ? AND id = ?", (self._tenant, customer_id)
        )
        if not rows:
            raise NotFound(f"no customer {customer_id!r} in tenant {self._tenant!r}", customer_id=customer_id)
        return customer_id

    def identifiers_of(self, customer_id: str) -> list[CustomerIdentifier]:
        cid = self.resolve_customer_id(customer_id)
        rows = self._db.rows(
            "SELECT kind, value, scope, assurance, first_us, last_us FROM omnicx_identifiers "
            "WHERE tenant = ? AND customer_id = ? ORDER BY first_us, key",
            (self._tenant, cid),
        )
        return [
            CustomerIdentifier(
                identifier=Identifier(kind=kind, value=value, scope=scope),
                assurance=_RANK_ASSURANCE[assurance],
                first_seen=from_us(first_us),
                last_seen=from_us(last_us),
            )
            for kind, value, scope, assurance, first_us, last_us in rows
        ]

    def get_customer(self, customer_id: str) -> Customer:
        cid = self.resolve_customer_id(customer_id)
        created_us, display_name, traits = self._db.rows(
            "SELECT created_us, display_name, traits FROM omnicx_customers WHERE tenant = ? AND id = ?",
            (self._tenant, cid),
        )[0]
        aliases = self._db.rows(
            "SELECT alias FROM omnicx_customer_aliases WHERE tenant = ? AND customer_id = ? ORDER BY alias",
            (self._tenant, cid),
        )
        return Customer(
            id=cid,
            created_at=from_us(created_us),
            identifiers=tuple(self.identifiers_of(cid)),
            aliases=tuple(a for (a,) in aliases),
            display_name=display_name,
            traits=json.loads(traits),
        )

    def customer_ids(self) -> list[str]:
        rows = self._db.rows("SELECT id FROM omnicx_customers WHERE tenant = ? ORDER BY id", (self._tenant,))
        return [str(r[0]) for r in rows]

    # --- ledger -------------------------------------------------------------

    def append_ledger(self, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        added: list[LedgerEntry] = []
        for entry in entries:
            got = self._db.rows(
                "INSERT INTO omnicx_ledger (tenant, id, type, at_us, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant, id) DO NOTHING RETURNING id",
                (
                    self._tenant,
                    entry.id,
                    entry.type,
                    to_us(entry.at),
                    ledger_entry_adapter.dump_json(entry).decode(),
                ),
            )
            if not got:
                continue
            added.append(entry)
            self._db.many(
                "INSERT INTO omnicx_ledger_refs (tenant, entry_id, ref) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(self._tenant, entry.id, ref) for ref in entry_refs(entry)],
            )
            if isinstance(entry, Erasure):
                self._db.many(
                    "INSERT INTO omnicx_tombstones (tenant, hash, erasure_id) VALUES (?, ?, ?) "
                    "ON CONFLICT DO NOTHING",
                    [(self._tenant, tomb, entry.id) for tomb in entry.tombstones],
                )
        return added

    def _entries_by_refs(self, refs: Sequence[str]) -> dict[str, LedgerEntry]:
        return self._entries_indexed("omnicx_ledger_refs", "entry_id", "ref", refs)

    def _entries_indexed(
        self, index: str, entry_column: str, column: str, values: Iterable[str]
    ) -> dict[str, LedgerEntry]:
        """``{id: entry}`` of the ledger entries that the table ``index`` lists (by ``entry_column``)
        with ``column`` among ``values``."""
        found: dict[str, LedgerEntry] = {}
        for part in chunks(sorted(set(values))):
            rows = self._db.rows(
                f"SELECT l.id, l.body FROM {index} x JOIN omnicx_ledger l "
                f"ON l.tenant = x.tenant AND l.id = x.{entry_column} "
                f"WHERE x.tenant = ? AND x.{column} IN ({marks(len(part))})",
                (self._tenant, *part),
            )
            for entry_id_, body in rows:
                if entry_id_ not in found:
                    found[entry_id_] = ledger_entry_adapter.validate_json(body)
        return found

    def _with_revocations(self, found: dict[str, LedgerEntry]) -> list[LedgerEntry]:
        links = [revocation_ref(e.id) for e in found.values() if isinstance(e, Link | NeverLink)]
        found.update(self._entries_by_refs(links))
        return sorted(found.values(), key=lambda e: (e.at, e.id))

    def ledger(self, identifiers: Iterable[Identifier] | None = None) -> list[LedgerEntry]:
        if identifiers is None:
            rows = self._db.rows(
                "SELECT body FROM omnicx_ledger WHERE tenant = ? ORDER BY at_us, id", (self._tenant,)
            )
            return [ledger_entry_adapter.validate_json(body) for (body,) in rows]
        return self._with_revocations(self._entries_by_refs(list(identifier_map(identifiers))))

    def ledger_component(self, identifiers: Iterable[Identifier]) -> list[LedgerEntry]:
        return self._with_revocations(walk_component(identifier_map(identifiers), self._entries_by_refs))

    def tombstoned(self, hashes: Iterable[str]) -> frozenset[str]:
        wanted = sorted(set(hashes))
        hits: set[str] = set()
        for part in chunks(wanted):
            rows = self._db.rows(
                f"SELECT hash FROM omnicx_tombstones WHERE tenant = ? AND hash IN ({marks(len(part))})",
                (self._tenant, *part),
            )
            hits.update(r[0] for r in rows)
        return frozenset(hits)

    def erasures(self, hashes: Iterable[str]) -> list[Erasure]:
        found = self._entries_indexed("omnicx_tombstones", "erasure_id", "hash", hashes).values()
        return sorted((e for e in found if isinstance(e, Erasure)), key=lambda e: (e.at, e.id))

    def lock_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        """Writes are serialized by the backend's transaction; subclasses lock finer."""
        return

    # --- conversations and audit -----------------------------------------

    def save_conversation(self, conversation: Conversation) -> None:
        self._db.put(
            "INSERT INTO omnicx_conversations (tenant, id, customer_id, status, last_activity_us, body) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, id) DO UPDATE SET customer_id = excluded.customer_id, "
            "status = excluded.status, last_activity_us = excluded.last_activity_us, body = excluded.body",
            (
                self._tenant,
                conversation.id,
                conversation.customer_id,
                conversation.status.value,
                to_us(conversation.last_activity_at),
                conversation.model_dump_json(),
            ),
        )

    def delete_conversation(self, conversation_id: str) -> None:
        self._db.put(
            "DELETE FROM omnicx_conversations WHERE tenant = ? AND id = ?", (self._tenant, conversation_id)
        )

    def get_conversation(self, conversation_id: str) -> Conversation:
        rows = self._db.rows(
            "SELECT body FROM omnicx_conversations WHERE tenant = ? AND id = ?",
            (self._tenant, conversation_id),
        )
        if not rows:
            raise NotFound(
                f"no conversation {conversation_id!r} in tenant {self._tenant!r}",
                conversation_id=conversation_id,
            )
        return Conversation.model_validate_json(rows[0][0])

    def conversations_of(
        self, customer_id: str, *, status: ConversationStatus | None = None
    ) -> list[Conversation]:
        sql = "SELECT body FROM omnicx_conversations WHERE tenant = ? AND customer_id = ?"
        params: list[Any] = [self._tenant, customer_id]
        if status is not None:
            sql += " AND status = ?"
            params.append(check_enum(ConversationStatus, status).value)
        rows = self._db.rows(sql + " ORDER BY last_activity_us DESC, id DESC", params)
        return [Conversation.model_validate_json(body) for (body,) in rows]

    # --- derived per-customer state ----------------------------------------

    def forget_state_cache(self) -> None:
        """Read derived state from the database again from now on (see ``_state``)."""
        self._state.clear()

    def customer_state(self, customer_id: str, keys: Iterable[str]) -> dict[str, str]:
        known = self._state.setdefault(customer_id, {})
        wanted = set(keys)
        missing = sorted(k for k in wanted if k not in known)
        for part in chunks(missing):
            found: dict[str, str] = dict(
                self._db.rows(
                    "SELECT key, value FROM omnicx_customer_state WHERE tenant = ? AND customer_id = ? "
                    f"AND key IN ({marks(len(part))})",
                    (self._tenant, customer_id, *part),
                )
            )
            for k in part:
                known[k] = found.get(k)
        return {k: v for k in wanted if (v := known[k]) is not None}

    def put_customer_state(
        self, customer_id: str, values: Mapping[str, str], *, overwrite: bool = True
    ) -> None:
        if not values:
            return
        conflict = "DO UPDATE SET value = excluded.value" if overwrite else "DO NOTHING"
        self._db.many(
            "INSERT INTO omnicx_customer_state (tenant, customer_id, key, value) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT (tenant, customer_id, key) {conflict}",
            [(self._tenant, customer_id, k, v) for k, v in values.items()],
        )
        known = self._state.setdefault(customer_id, {})
        for k, v in values.items():
            # Without overwrite, a key this session has not read keeps whatever the database
            # holds, so the cache learns nothing about it.
            if overwrite or (k in known and known[k] is None):
                known[k] = v

    def clear_customer_state(self, customer_id: str, prefix: str = "") -> None:
        if not prefix:
            self._db.put(
                "DELETE FROM omnicx_customer_state WHERE tenant = ? AND customer_id = ?",
                (self._tenant, customer_id),
            )
        else:
            self._db.put(
                "DELETE FROM omnicx_customer_state WHERE tenant = ? AND customer_id = ? "
                "AND substr(key, 1, ?) = ?",
                (self._tenant, customer_id, len(prefix), prefix),
            )
        known = self._state.get(customer_id)
        if known:
            for k in known:
                if k.startswith(prefix):
                    known[k] = None

    def append_audit(self, record: AuditRecord) -> AuditRecord:
        rows = self._db.rows(
            "INSERT INTO omnicx_audit_log (tenant, at_us, action, actor, details) VALUES (?, ?, ?, ?, ?) "
            "RETURNING id",
            (self._tenant, to_us(record.at), record.action.value, record.actor, json.dumps(record.details)),
        )
        audit_id = int(rows[0][0])
        self._db.many(
            "INSERT INTO omnicx_audit_customers (tenant, customer_id, audit_id) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [(self._tenant, cid, audit_id) for cid in dict.fromkeys(record.customer_ids)],
        )
        return record.model_copy(update={"id": audit_id})

    def audit_log(self, customer_id: str | None = None, *, limit: int = 100) -> list[AuditRecord]:
        check_limit(limit, 100_000)
        if customer_id is None:
            rows = self._db.rows(
                "SELECT id, at_us, action, actor, details FROM omnicx_audit_log WHERE tenant = ? "
                "ORDER BY id LIMIT ?",
                (self._tenant, limit),
            )
        else:
            rows = self._db.rows(
                "SELECT l.id, l.at_us, l.action, l.actor, l.details FROM omnicx_audit_customers c "
                "JOIN omnicx_audit_log l ON l.id = c.audit_id "
                "WHERE c.tenant = ? AND c.customer_id = ? ORDER BY l.id LIMIT ?",
                (self._tenant, customer_id, limit),
            )
        records = []
        for audit_id, at_us, action, actor, details in rows:
            members = self._db.rows(
                "SELECT customer_id FROM omnicx_audit_customers WHERE tenant = ? AND audit_id = ? "
                "ORDER BY customer_id",
                (self._tenant, audit_id),
            )
            records.append(
                AuditRecord(
                    id=audit_id,
                    at=from_us(at_us),
                    action=AuditAction(action),
                    customer_ids=tuple(m for (m,) in members),
                    actor=actor,
                    details=json.loads(details),
                )
            )
        return records

    # --- erasure ------------------------------------------------------------

    def forget_customer(self, customer_id: str, erasure: Erasure) -> ErasureReport:
        t = self._tenant
        cid = self.resolve_customer_id(customer_id)
        aliases = [
            a
            for (a,) in self._db.rows(
                "SELECT alias FROM omnicx_customer_aliases WHERE tenant = ? AND customer_id = ? ORDER BY alias",
                (t, cid),
            )
        ]
        ids = [cid, *aliases]
        if erasure.customer_id not in ids:
            raise ValidationError(
                f"the erasure entry is for customer {erasure.customer_id!r}, not {cid!r} or its aliases",
                customer_id=cid,
            )
        idents = self._db.rows(
            f"SELECT key, value FROM omnicx_identifiers WHERE tenant = ? AND customer_id IN ({marks(len(ids))})",
            (t, *ids),
        )
        keys = [k for k, _ in idents]
        conversations = [
            c
            for (c,) in self._db.rows(
                f"SELECT id FROM omnicx_conversations WHERE tenant = ? AND customer_id IN ({marks(len(ids))})",
                (t, *ids),
            )
        ]
        doomed: dict[str, tuple[str, str | None]] = {}
        for column, values in (("endpoint", keys), ("conversation_id", conversations)):
            for part in chunks(values):
                for ix_id, dedupe_key, raw_id in self._db.rows(
                    f"SELECT id, dedupe_key, raw_id FROM omnicx_interactions "
                    f"WHERE tenant = ? AND {column} IN ({marks(len(part))})",
                    (t, *part),
                ):
                    doomed[ix_id] = (dedupe_key, raw_id)
        raw_ids = {raw for _, raw in doomed.values() if raw is not None}
        dedupe_keys = sorted({key for key, _ in doomed.values()})
        for part in chunks(dedupe_keys):
            raw_ids.update(
                r
                for (r,) in self._db.rows(
                    f"SELECT raw_id FROM omnicx_raw_inbox_keys WHERE tenant = ? AND dedupe_key IN ({marks(len(part))})",
                    (t, *part),
                )
            )
        raw_ids.update(self._raw_holding([v for _, v in idents]))
        entries = self._with_revocations(self._entries_by_refs(keys))
        entry_ids = [e.id for e in entries]

        def delete(table: str, column: str, values: Sequence[str]) -> int:
            count = 0
            for part in chunks(sorted(set(values))):
                count += self._db.run(
                    f"DELETE FROM {table} WHERE tenant = ? AND {column} IN ({marks(len(part))})", (t, *part)
                )
            return count

        report = ErasureReport(
            customer_id=cid,
            aliases=tuple(aliases),
            interactions=delete("omnicx_interactions", "id", list(doomed)),
            raw_payloads=delete("omnicx_raw_inbox", "id", list(raw_ids)),
            identifiers=delete("omnicx_identifiers", "key", keys),
            ledger_entries=delete("omnicx_ledger", "id", entry_ids),
            conversations=delete("omnicx_conversations", "id", conversations),
            tombstones=len(set(erasure.tombstones)),
        )
        delete("omnicx_raw_inbox_keys", "raw_id", list(raw_ids))
        self._db.many(  # by the refs' primary key: no scan of the whole table
            "DELETE FROM omnicx_ledger_refs WHERE tenant = ? AND ref = ? AND entry_id = ?",
            [(t, ref, e.id) for e in entries for ref in entry_refs(e)],
        )
        delete("omnicx_customers", "id", ids)
        delete("omnicx_customer_aliases", "alias", aliases)
        delete("omnicx_customer_state", "customer_id", ids)
        for gone in ids:
            self._state.pop(gone, None)
        audit_ids = [
            a
            for part in chunks(ids)
            for (a,) in self._db.rows(
                f"SELECT audit_id FROM omnicx_audit_customers WHERE tenant = ? AND customer_id IN ({marks(len(part))})",
                (t, *part),
            )
        ]
        delete("omnicx_audit_customers", "audit_id", audit_ids)
        delete("omnicx_audit_log", "id", audit_ids)
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
        self.erased = True
        return report

    def _raw_holding(self, values: Sequence[str]) -> set[str]:
        """Raw payloads whose body holds any of ``values`` (as UTF-8, and phones without ``+``)."""
        needles = sorted({n for v in values for n in (v, v.removeprefix("+")) if len(n) >= 4})
        found: set[str] = set()
        search = "instr(body, ?) > 0" if self._db.dialect == "sqlite" else "position(?::bytea in body) > 0"
        for part in chunks(needles, 50):
            condition = " OR ".join([search] * len(part))
            found.update(
                r
                for (r,) in self._db.rows(
                    f"SELECT id FROM omnicx_raw_inbox WHERE tenant = ? AND ({condition})",
                    (self._tenant, *[n.encode() for n in part]),
                )
            )
        return found
