"""The schema migrates in order from every earlier version, once, and refuses a newer database."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from omnicx.errors import ConfigurationError
from omnicx.identity import Erasure
from omnicx.models import Author, AuthorRole, Direction, Identifier, Message, TextPart, interaction_id
from omnicx.store import LATEST_VERSION, PostgresStore, SQLiteStore
from omnicx.store._schema import MIGRATIONS

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANA = Identifier(kind="email", value="ana@shop.fr")


def _message(n: int) -> Message:
    return Message(
        id=interaction_id("email", f"k{n}"),
        channel="email",
        adapter="email",
        dedupe_key=f"k{n}",
        occurred_at=T0 + timedelta(minutes=n),
        received_at=T0 + timedelta(minutes=n),
        direction=Direction.INBOUND,
        author=Author(role=AuthorRole.CUSTOMER),
        endpoint=ANA,
        parts=(TextPart(text=f"message {n}"),),
    )


def test_versions_are_consecutive_from_one() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert LATEST_VERSION == 4


TOMB = "b" * 64


def _forget_one_hash_twice(tx: Any) -> None:
    """Before v4: a customer forgotten, back and forgotten again; the tombstone table of v2 and v3
    kept the first erasure of the hash alone."""
    tx.append_ledger(
        [
            Erasure(id="era_t0", customer_id="cus_old", tombstones=(TOMB,), at=T0),
            Erasure(id="era_t1", customer_id="cus_back", tombstones=(TOMB,), at=T0 + timedelta(hours=1)),
        ]
    )


def _every_erasure_is_found(store: Any, start: int) -> None:
    """After v4 the store finds every erasure of a hash: those v3 dropped (recovered from the
    ledger) and a new one."""
    with store.transaction() as tx:
        tx.append_ledger(
            [Erasure(id="era_t2", customer_id="cus_again", tombstones=(TOMB,), at=T0 + timedelta(days=1))]
        )
    with store.snapshot() as view:
        found = [e.id for e in view.erasures([TOMB])]
    assert found == (["era_t0", "era_t1", "era_t2"] if start >= 2 else ["era_t2"])


def _sqlite_schema(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name LIKE 'omnicx_%' "
            "AND name != 'omnicx_schema_version' ORDER BY name"
        ).fetchall()
    return [(t, n, tbl, " ".join((sql or "").split())) for t, n, tbl, sql in rows]


@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_sqlite_upgrades_from_every_earlier_version(tmp_path: Path, start: int) -> None:
    old = SQLiteStore(tmp_path / "old.db", migrate=False)
    assert old.migrate(target=start) == start
    assert old.schema_version() == start
    if start > 0:  # data written by the older schema must survive the upgrade
        with old.transaction() as tx:
            tx.append_interactions([_message(n) for n in range(5)])
            tx.assign_customer([ANA], "cus_ana")
            if start >= 2:
                _forget_one_hash_twice(tx)
    old.close()

    store = SQLiteStore(tmp_path / "old.db")
    assert store.schema_version() == LATEST_VERSION
    fresh = SQLiteStore(tmp_path / "fresh.db")
    fresh.close()
    assert _sqlite_schema(tmp_path / "old.db") == _sqlite_schema(tmp_path / "fresh.db")
    with sqlite3.connect(tmp_path / "old.db") as conn:
        versions = conn.execute("SELECT version FROM omnicx_schema_version ORDER BY version").fetchall()
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM omnicx_interactions WHERE tenant = 'default' AND endpoint = 'x' "
            "ORDER BY occurred_us DESC, id DESC LIMIT 5"
        ).fetchall()
    assert versions == [(v,) for v in range(1, LATEST_VERSION + 1)]
    assert "omnicx_interactions_timeline" in str(plan)
    assert "TEMP B-TREE" not in str(plan)  # v2's index serves the order: no sort
    if start > 0:
        with store.snapshot() as view:
            page = view.timeline([ANA], limit=2)
            assert [s.interaction for s in page.items] == [_message(4), _message(3)]
        with store.transaction() as tx:  # v2's tombstone table is in place
            tx.forget_customer(
                "cus_ana", Erasure(id="era_1", customer_id="cus_ana", tombstones=("a" * 64,), at=T0)
            )
        with store.snapshot() as view:
            assert view.tombstoned(["a" * 64]) == frozenset({"a" * 64})
        _every_erasure_is_found(store, start)
        with store.transaction() as tx:  # v3's derived-state table is in place
            tx.put_customer_state("cus_bo", {"t@": "{}"})
        with store.snapshot() as view:
            assert view.customer_state("cus_bo", ["t@"]) == {"t@": "{}"}
    store.close()


def test_migrating_twice_changes_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    assert store.migrate() == LATEST_VERSION
    assert store.migrate() == LATEST_VERSION
    store.close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM omnicx_schema_version").fetchone() == (LATEST_VERSION,)


def test_concurrent_openers_apply_each_migration_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def opener() -> None:
        try:
            barrier.wait()
            SQLiteStore(tmp_path / "race.db").close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite3.connect(tmp_path / "race.db") as conn:
        rows = conn.execute("SELECT version FROM omnicx_schema_version ORDER BY version").fetchall()
    assert rows == [(v,) for v in range(1, LATEST_VERSION + 1)]


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        conn.execute("INSERT INTO omnicx_schema_version VALUES (99, 'from the future', 0)")
    with pytest.raises(ConfigurationError, match="newer than this omnicx"):
        SQLiteStore(tmp_path / "s.db")


def test_an_unknown_target_is_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", migrate=False)
    with pytest.raises(ConfigurationError, match="does not exist"):
        store.migrate(target=LATEST_VERSION + 1)
    store.close()


def _pg_schema(url: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name LIKE 'omnicx_%' ORDER BY 1, 2"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1"
        ).fetchall()
    # Index definitions name the schema ("ON t1.omnicx_x"): keep what follows it.
    return [*columns, *[(name, sql.split(" ON ", 1)[1].split(".", 1)[1]) for name, sql in indexes]]


@pytest.mark.postgres
@pytest.mark.parametrize("start", range(LATEST_VERSION))
def test_postgres_upgrades_from_every_earlier_version(pg_url: str, pg_server: object, start: int) -> None:
    import psycopg

    old = PostgresStore(pg_url, migrate=False)
    assert old.migrate(target=start) == start
    if start > 0:
        with old.transaction() as tx:
            tx.append_interactions([_message(n) for n in range(5)])
            if start >= 2:
                _forget_one_hash_twice(tx)
    old.close()
    store = PostgresStore(pg_url)
    assert store.schema_version() == LATEST_VERSION
    if start > 0:
        _every_erasure_is_found(store, start)
    with store.snapshot() as view:
        expected = [_message(4), _message(3)] if start > 0 else []
        assert [s.interaction for s in view.timeline([ANA], limit=2).items] == expected
    store.close()
    fresh_schema = f"fresh_{start}"
    base = pg_url.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {fresh_schema}")
    fresh_url = f"{base}?options=-csearch_path%3D{fresh_schema}"
    PostgresStore(fresh_url).close()
    assert _pg_schema(pg_url) == _pg_schema(fresh_url)
