"""The versioned SQL schema shared by SQLite and PostgreSQL, and its migration runner.

Each :class:`Migration` moves the schema one version up; the runner applies the
missing ones in order, each in its own transaction together with its row in
``omnicx_schema_version``. Statements use four tokens, replaced per dialect:
``{BIGINT}``, ``{BLOB}``, ``{SERIAL}`` (an auto-increasing primary key) and
``{ERASURE_TOMBSTONES}`` (the tombstones of the erasure ledger entry ``l``, as a table ``t``
of one column ``value``).
Every table is prefixed ``omnicx_`` so the schema can share a database with the host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from omnicx.errors import ConfigurationError

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "render", "run_migrations"]


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``version`` is reached by running ``statements``."""

    version: int
    description: str
    statements: tuple[str, ...]


_V1 = (
    """CREATE TABLE omnicx_raw_inbox (
        tenant TEXT NOT NULL, id TEXT NOT NULL, channel TEXT NOT NULL,
        received_us {BIGINT} NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL,
        headers TEXT NOT NULL, body {BLOB} NOT NULL,
        status TEXT NOT NULL, error TEXT,
        PRIMARY KEY (tenant, id))""",
    "CREATE INDEX omnicx_raw_inbox_status ON omnicx_raw_inbox (tenant, status, received_us, id)",
    """CREATE TABLE omnicx_raw_inbox_keys (
        tenant TEXT NOT NULL, raw_id TEXT NOT NULL, dedupe_key TEXT NOT NULL,
        PRIMARY KEY (tenant, raw_id, dedupe_key))""",
    """CREATE TABLE omnicx_interactions (
        tenant TEXT NOT NULL, id TEXT NOT NULL, adapter TEXT NOT NULL, dedupe_key TEXT NOT NULL,
        channel TEXT NOT NULL, type TEXT NOT NULL, endpoint TEXT NOT NULL,
        occurred_us {BIGINT} NOT NULL, conversation_id TEXT, raw_id TEXT, body TEXT NOT NULL,
        PRIMARY KEY (tenant, id))""",
    "CREATE UNIQUE INDEX omnicx_interactions_dedupe ON omnicx_interactions (tenant, dedupe_key, adapter)",
    "CREATE INDEX omnicx_interactions_endpoint ON omnicx_interactions (tenant, endpoint)",
    "CREATE INDEX omnicx_interactions_conversation ON omnicx_interactions (tenant, conversation_id)",
    """CREATE TABLE omnicx_identifiers (
        tenant TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
        scope TEXT, assurance INTEGER NOT NULL, first_us {BIGINT} NOT NULL, last_us {BIGINT} NOT NULL,
        customer_id TEXT,
        PRIMARY KEY (tenant, key))""",
    "CREATE INDEX omnicx_identifiers_customer ON omnicx_identifiers (tenant, customer_id)",
    """CREATE TABLE omnicx_customers (
        tenant TEXT NOT NULL, id TEXT NOT NULL, created_us {BIGINT} NOT NULL,
        display_name TEXT, traits TEXT NOT NULL,
        PRIMARY KEY (tenant, id))""",
    """CREATE TABLE omnicx_customer_aliases (
        tenant TEXT NOT NULL, alias TEXT NOT NULL, customer_id TEXT NOT NULL,
        PRIMARY KEY (tenant, alias))""",
    "CREATE INDEX omnicx_customer_aliases_customer ON omnicx_customer_aliases (tenant, customer_id)",
    """CREATE TABLE omnicx_ledger (
        tenant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, at_us {BIGINT} NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (tenant, id))""",
    "CREATE INDEX omnicx_ledger_order ON omnicx_ledger (tenant, at_us, id)",
    """CREATE TABLE omnicx_ledger_refs (
        tenant TEXT NOT NULL, entry_id TEXT NOT NULL, ref TEXT NOT NULL,
        PRIMARY KEY (tenant, ref, entry_id))""",
    """CREATE TABLE omnicx_conversations (
        tenant TEXT NOT NULL, id TEXT NOT NULL, customer_id TEXT NOT NULL, status TEXT NOT NULL,
        last_activity_us {BIGINT} NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (tenant, id))""",
    "CREATE INDEX omnicx_conversations_customer ON omnicx_conversations (tenant, customer_id, last_activity_us)",
    """CREATE TABLE omnicx_audit_log (
        id {SERIAL}, tenant TEXT NOT NULL, at_us {BIGINT} NOT NULL, action TEXT NOT NULL,
        actor TEXT, details TEXT NOT NULL)""",
    """CREATE TABLE omnicx_audit_customers (
        tenant TEXT NOT NULL, customer_id TEXT NOT NULL, audit_id {BIGINT} NOT NULL,
        PRIMARY KEY (tenant, customer_id, audit_id))""",
)

_V2 = (
    # The timeline reads the newest interactions of each identifier straight off this index
    # (keyset paging on (occurred_us, id)); v1 had to sort every interaction of the identifier.
    "DROP INDEX omnicx_interactions_endpoint",
    "CREATE INDEX omnicx_interactions_timeline ON omnicx_interactions (tenant, endpoint, occurred_us, id)",
    # Erasure finds every delivery of a forgotten interaction, retries included, by its dedupe key.
    "CREATE INDEX omnicx_raw_inbox_keys_key ON omnicx_raw_inbox_keys (tenant, dedupe_key)",
    # Tombstones looked up by hash when an erased identifier shows up again.
    """CREATE TABLE omnicx_tombstones (
        tenant TEXT NOT NULL, hash TEXT NOT NULL, erasure_id TEXT NOT NULL,
        PRIMARY KEY (tenant, hash))""",
)

_V3 = (
    # Derived state kept per customer so that ingesting one more interaction reads a few rows
    # instead of the customer's whole history: the identity facts of its identifiers, the
    # conversation snapshot and thread keys (message ids, platform ids, chat sessions).
    # Everything here can be rebuilt from the interactions, the ledger and the audit log.
    """CREATE TABLE omnicx_customer_state (
        tenant TEXT NOT NULL, customer_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (tenant, customer_id, key))""",
)

_V4 = (
    # Every erasure that left a hash, not only the first: a customer forgotten, back and
    # forgotten again has two, and the later one is what voids a payload delivered again.
    """CREATE TABLE omnicx_tombstones_v4 (
        tenant TEXT NOT NULL, hash TEXT NOT NULL, erasure_id TEXT NOT NULL,
        PRIMARY KEY (tenant, hash, erasure_id))""",
    "INSERT INTO omnicx_tombstones_v4 (tenant, hash, erasure_id) SELECT tenant, hash, erasure_id FROM omnicx_tombstones",
    # the erasures v3 dropped (after the first of each hash) are still in the ledger
    """INSERT INTO omnicx_tombstones_v4 (tenant, hash, erasure_id)
        SELECT l.tenant, t.value, l.id FROM omnicx_ledger l, {ERASURE_TOMBSTONES}
        WHERE l.type = 'erasure' ON CONFLICT DO NOTHING""",
    "DROP TABLE omnicx_tombstones",
    "ALTER TABLE omnicx_tombstones_v4 RENAME TO omnicx_tombstones",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "raw inbox, interactions, identifiers, customers, ledger, conversations, audit", _V1),
    Migration(2, "timeline index, raw payloads by dedupe key, tombstones", _V2),
    Migration(3, "derived per-customer state for constant-time ingestion", _V3),
    Migration(4, "tombstones keep every erasure of a hash", _V4),
)
LATEST_VERSION = MIGRATIONS[-1].version

_TOKENS = {
    "sqlite": {
        "BIGINT": "INTEGER",
        "BLOB": "BLOB",
        "SERIAL": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ERASURE_TOMBSTONES": "json_each(l.body, '$.tombstones') AS t",
    },
    "postgresql": {
        "BIGINT": "BIGINT",
        "BLOB": "BYTEA",
        "SERIAL": "BIGSERIAL PRIMARY KEY",
        "ERASURE_TOMBSTONES": "jsonb_array_elements_text(l.body::jsonb -> 'tombstones') AS t(value)",
    },
}


def render(statement: str, dialect: str) -> str:
    """``statement`` with its type tokens replaced for ``dialect`` (``sqlite`` or ``postgresql``)."""
    return statement.format(**_TOKENS[dialect])


VERSION_TABLE = """CREATE TABLE IF NOT EXISTS omnicx_schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_us {BIGINT} NOT NULL)"""


def run_migrations(
    dialect: str,
    in_transaction: Callable[[Callable[[Callable[..., list[tuple[object, ...]]]], None]], None],
    now_us: Callable[[], int],
    *,
    target: int | None = None,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Bring the schema up to ``target`` (the latest when ``None``); return the version reached.

    ``in_transaction(step)`` runs ``step(execute)`` in one exclusive transaction,
    where ``execute(sql, params)`` returns the rows. Each migration runs in its own
    transaction, which re-reads the version first, so several processes opening
    one database at once apply each migration exactly once. Raises
    :class:`~omnicx.errors.ConfigurationError` when the database is newer than
    this omnicx, or ``target`` is not a known version.
    """
    goal = migrations[-1].version if target is None else target
    known = {m.version for m in migrations} | {0}
    if goal not in known:
        raise ConfigurationError(
            f"schema version {goal} does not exist; this omnicx knows versions 0 to {migrations[-1].version}",
            target=goal,
        )
    reached = {"version": 0}

    def current(execute: Callable[..., list[tuple[object, ...]]]) -> int:
        execute(render(VERSION_TABLE, dialect), ())
        rows = execute("SELECT MAX(version) FROM omnicx_schema_version", ())
        found = rows[0][0] if rows and rows[0][0] is not None else 0
        assert isinstance(found, int)
        if found > migrations[-1].version:
            raise ConfigurationError(
                f"the database schema is at version {found}, newer than this omnicx "
                f"(which knows up to {migrations[-1].version}): upgrade omnicx",
                version=found,
            )
        return found

    for migration in migrations:
        if migration.version > goal:
            break

        def step(execute: Callable[..., list[tuple[object, ...]]], migration: Migration = migration) -> None:
            version = current(execute)
            reached["version"] = version
            if version >= migration.version:
                return
            for statement in migration.statements:
                execute(render(statement, dialect), ())
            execute(
                "INSERT INTO omnicx_schema_version (version, description, applied_us) VALUES (?, ?, ?)",
                (migration.version, migration.description, now_us()),
            )
            reached["version"] = migration.version

        in_transaction(step)
    if goal == 0 or not migrations:
        in_transaction(lambda execute: reached.__setitem__("version", current(execute)))
    return reached["version"]
