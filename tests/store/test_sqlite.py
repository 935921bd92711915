"""SQLite specifics: WAL, busy timeout, secure_delete, and a writer that stays busy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from omnicx.errors import StorageError, StorageUnavailable
from omnicx.store import SQLiteStore


def test_connection_settings(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", timeout=2.5)
    conn = store._connect()
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA secure_delete").fetchone() == (1,)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (2500,)
    assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    store.close()


def test_a_writer_held_by_another_process_gives_storage_unavailable(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", timeout=0.2)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageUnavailable, match="stayed locked") as caught, store.transaction():
            pass
        assert caught.value.retryable
        with store.snapshot() as view:  # readers are not blocked by the writer (WAL)
            assert view.customer_ids() == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    with store.transaction() as tx:
        tx.assign_customer([], "cus_x")
    store.close()


def test_nested_transactions_on_one_thread_are_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    with store.transaction(), pytest.raises(StorageError, match="already open"), store.transaction():
        pass
    store.close()


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.close()
    with pytest.raises(StorageError, match="closed"), store.snapshot():
        pass
