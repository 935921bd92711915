"""SQLite specifics: WAL, busy timeout, secure_delete, and a writer that stays busy."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from omnicx.errors import ConfigurationError, StorageError, StorageUnavailable
from omnicx.store import SQLiteStore, open_store
from omnicx.store._sqlite import _COALESCE


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


def _write(store: SQLiteStore, n: int) -> None:
    for i in range(n):
        with store.transaction() as tx:
            tx.put_customer_state(f"cus_{i}", {"i@": "x" * 500})


def _in_database_file(path: Path) -> int:
    """Rows of derived state in the database file itself, ignoring the WAL."""
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM omnicx_customer_state").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema is there yet: it is all in the WAL
        return 0
    finally:
        conn.close()


def test_commits_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    assert store._connect().execute("PRAGMA wal_autocheckpoint").fetchone() == (4000,)  # the backstop
    _write(store, 50)  # far below the backstop: no writer checkpoints
    deadline = time.monotonic() + 10
    while _in_database_file(store.path) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.checkpoints >= 1
    assert _in_database_file(store.path) == 50
    thread = store._checkpointer
    assert thread is not None
    assert thread.is_alive()
    store.close()
    assert not thread.is_alive()


def test_inline_checkpoints_start_no_thread(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = SQLiteStore.from_url(f"sqlite:///{tmp_path / 's.db'}?checkpoint=inline")
    assert store._connect().execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)  # SQLite's own
    _write(store, 5)
    assert store._checkpointer is None
    assert set(threading.enumerate()) == before
    store.close()
    with pytest.raises(ConfigurationError, match="checkpoint must be one of"):
        SQLiteStore.from_url(f"sqlite:///{tmp_path / 't.db'}?checkpoint=sometimes")


def test_closing_right_after_a_commit_always_stops_the_checkpointer(tmp_path: Path) -> None:
    # close() lands in turn before, during and after the checkpointer's wait after a commit
    store = SQLiteStore(tmp_path / "c.db")
    _write(store, 1)
    store.close()

    def cycles() -> None:
        for n in range(100):
            store = SQLiteStore(tmp_path / "c.db", migrate=False)
            _write(store, 1)
            time.sleep(_COALESCE * (0.9 + (n % 20) / 100))  # about when its wait ends
            store.close()

    worker = threading.Thread(target=cycles, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "close() waited for a checkpointer that never woke"


class _CloseDuringWait(threading.Event):
    """A stop flag that close() sets just as the checkpointer's wait after a commit times out."""

    def __init__(self, wake: threading.Event) -> None:
        super().__init__()
        self._wake = wake
        self._first = True

    def wait(self, timeout: float | None = None) -> bool:
        if self._first:
            self._first = False
            self.set()  # what close() does, in this order, between the timeout and what follows
            self._wake.set()
            return False
        return super().wait(timeout)


def test_a_close_that_lands_as_the_wait_ends_is_not_lost(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", checkpoint="inline")  # no thread of its own
    store._wake.set()  # a commit woke it
    store._stop = _CloseDuringWait(store._wake)
    loop = threading.Thread(target=store._checkpoint_loop, daemon=True)
    loop.start()
    loop.join(timeout=10)
    assert not loop.is_alive(), "the checkpointer missed the stop: close() would wait forever"
    store.close()


def test_a_file_that_cannot_be_opened_raises_a_storage_error(tmp_path: Path) -> None:
    """Not sqlite3.OperationalError: the folder of the file does not exist."""
    with pytest.raises(StorageError, match="does its folder exist"):
        open_store(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
