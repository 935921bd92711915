"""The default store: one SQLite file (stdlib ``sqlite3``), safe for several processes.

The file is in WAL mode (readers never block the writer), writers take the
database lock at ``BEGIN IMMEDIATE`` and wait up to the busy timeout for it, and
``secure_delete`` overwrites deleted rows with zeros.

**After an erasure** (a forgotten customer, a deleted raw payload) the store runs
``VACUUM`` and truncates the WAL. ``secure_delete`` alone is not enough: when SQLite
rebuilds a b-tree page it can leave stale copies of cells in the page's unused area,
which no later delete zeroes, so a forgotten customer's bytes could outlive the
erasure there. ``VACUUM`` writes every page afresh. It costs time in proportion to the
file; ``erasure=checkpoint`` only truncates the WAL, for a host that runs ``VACUUM``
on its own schedule.

**Checkpoints in the background.** Copying the WAL back into the database file (a
checkpoint, with its fsync) is what makes an occasional commit slow when the committing
writer does it. By default a store runs passive checkpoints in a thread of its own, woken
by commits, so requests do not wait for them; each connection still checkpoints itself
past :data:`BACKSTOP_PAGES` (a process forked after the thread started has no thread).
``checkpoint=inline`` leaves checkpoints to the writers, as SQLite does by default.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from omnicx.errors import ConfigurationError, Conflict, StorageError, StorageUnavailable
from omnicx.store._codec import to_us
from omnicx.store._models import check_tenant
from omnicx.store._protocol import StoreReader, StoreSession
from omnicx.store._schema import run_migrations
from omnicx.store._sql import CHUNK, Row, SqlSession, chunks, marks

__all__ = ["BACKSTOP_PAGES", "SQLiteStore", "ScrubPendingWarning"]

_CHECKPOINT = {"background", "inline"}
_ERASURE = {"vacuum", "checkpoint"}
BACKSTOP_PAGES = 4000
"""With background checkpoints, a writer still checkpoints when the WAL holds this many pages
(16 MiB at 4 KiB pages): the bound when the background thread is behind or absent."""
_COALESCE = 0.02
"""Seconds the checkpointer waits after a commit wakes it, so that one checkpoint copies many."""

_SYNCHRONOUS = {"off", "normal", "full", "extra"}


class ScrubPendingWarning(UserWarning):
    """An erasure committed, but the store could not finish scrubbing the file after it.

    Either a reader kept SQLite from truncating the WAL within the busy timeout (the
    store's next commit tries again), or SQLite failed (a ``VACUUM`` out of disk space:
    call :meth:`SQLiteStore.scrub` once it can succeed). Until then the file or its
    WAL may still hold the erased bytes."""


@lru_cache(maxsize=512)
def _translate(sql: str) -> str:
    return sql.replace("GREATEST(", "max(").replace("LEAST(", "min(")


class _SqliteDb:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(_translate(sql), params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(_translate(sql), params).rowcount

    def put(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_translate(sql), params)

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        self._conn.executemany(_translate(sql), params)

    def insert_new_interactions(self, rows: list[Row]) -> set[str]:
        # The write lock is held (BEGIN IMMEDIATE): what is absent now stays absent until we insert.
        if not rows:
            return set()
        tenant = rows[0][0]
        ids = [row[1] for row in rows]
        present: set[str] = set()
        for part in chunks(ids):
            present.update(
                r
                for (r,) in self._conn.execute(
                    f"SELECT id FROM omnicx_interactions WHERE tenant = ? AND id IN ({marks(len(part))})",
                    (tenant, *part),
                )
            )
        fresh = [row for row in rows if row[1] not in present]
        before = self._conn.total_changes
        self._conn.executemany(
            "INSERT INTO omnicx_interactions (tenant, id, adapter, dedupe_key, channel, type, endpoint, "
            "occurred_us, conversation_id, raw_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            fresh,
        )
        inserted = {row[1] for row in fresh}
        if self._conn.total_changes - before != len(fresh):
            # Some rows clashed on (adapter, dedupe_key) under another id: keep those that landed.
            landed: set[str] = set()
            for part in chunks([row[1] for row in fresh], CHUNK):
                landed.update(
                    r
                    for (r,) in self._conn.execute(
                        f"SELECT id FROM omnicx_interactions WHERE tenant = ? AND id IN ({marks(len(part))})",
                        (tenant, *part),
                    )
                )
            inserted = landed
        return inserted


def _storage_error(exc: sqlite3.Error, path: str) -> StorageError:
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        return Conflict(f"the write clashes with stored data in {path}: {text}", path=path)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StorageUnavailable(
            f"the SQLite database {path} stayed locked by another writer past the busy timeout; retry, "
            "or raise ?timeout= in the store URL",
            path=path,
        )
    return StorageError(f"SQLite error on {path}: {text}", path=path)


class SQLiteStore:
    """A :class:`~omnicx.store.Store` in one SQLite file.

    ``timeout`` is how long (seconds) a writer waits for another process's write
    transaction before raising :class:`~omnicx.errors.StorageUnavailable`;
    ``synchronous`` is SQLite's durability setting (``normal``: a power cut may
    lose the last transactions but never corrupts; ``full``: fsync every commit).
    ``checkpoint`` is ``background`` or ``inline`` and ``erasure`` is ``vacuum`` or
    ``checkpoint`` (see the module docstring). Each thread gets its own connection.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout: float = 30.0,
        synchronous: str = "normal",
        checkpoint: str = "background",
        erasure: str = "vacuum",
        migrate: bool = True,
    ) -> None:
        if synchronous not in _SYNCHRONOUS:
            raise ConfigurationError(
                f"synchronous must be one of {sorted(_SYNCHRONOUS)}, got {synchronous!r}",
                synchronous=synchronous,
            )
        if checkpoint not in _CHECKPOINT:
            raise ConfigurationError(
                f"checkpoint must be one of {sorted(_CHECKPOINT)}, got {checkpoint!r}", checkpoint=checkpoint
            )
        if erasure not in _ERASURE:
            raise ConfigurationError(
                f"erasure must be one of {sorted(_ERASURE)}, got {erasure!r}", erasure=erasure
            )
        self.path = Path(path)
        self._vacuum = erasure == "vacuum"
        self._timeout = timeout
        self._synchronous = synchronous
        self._background = checkpoint == "background"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()
        """Held by a background checkpoint and by :meth:`scrub`: they do not race each other."""
        self.checkpoints = 0
        """How many background checkpoints ran (for tests and monitoring)."""
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self._scrub_pending = False
        """An erasure's WAL truncation is still to do (a reader held old frames past the timeout)."""
        if migrate:
            self.migrate()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.

        Query parameters: ``timeout`` (seconds, default 30), ``synchronous``
        (``normal`` or ``full``), ``checkpoint`` (``background``, the default, or
        ``inline``) and ``erasure`` (``vacuum``, the default, or ``checkpoint``; see the
        module docstring). Raises :class:`~omnicx.errors.ConfigurationError` for a URL without
        a file path or an unknown option.
        """
        parts = urlsplit(url)
        if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise ConfigurationError(
                f"{url!r} is not a SQLite store URL: write sqlite:///relative.db or sqlite:////absolute/path.db",
                url=url,
            )
        path = unquote(parts.path[1:])
        if path == ":memory:":
            raise ConfigurationError(
                "an in-memory SQLite store is not supported: use memory:// instead", url=url
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"timeout", "synchronous", "checkpoint", "erasure"}
        if unknown:
            raise ConfigurationError(
                f"unknown SQLite store option(s) {sorted(unknown)}: the options are timeout, synchronous, "
                "checkpoint and erasure",
                url=url,
            )
        try:
            timeout = float(query.get("timeout", "30"))
        except ValueError as exc:
            raise ConfigurationError(
                f"timeout must be a number of seconds, got {query['timeout']!r}"
            ) from exc
        return cls(
            path,
            timeout=timeout,
            synchronous=query.get("synchronous", "normal").lower(),
            checkpoint=query.get("checkpoint", "background").lower(),
            erasure=query.get("erasure", "vacuum").lower(),
        )

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"the store {self.url} is closed; open a new one with open_store()")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:  # a folder that does not exist, a file that cannot be read
                raise StorageError(
                    f"cannot open the SQLite database {self.path}: {exc} (does its folder exist, and may "
                    "this process read and write there?)",
                    path=str(self.path),
                ) from exc
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                # Switching a fresh file to WAL needs a moment alone with it; SQLite answers
                # "locked" at once instead of waiting, so wait here.
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {self._synchronous.upper()}")
                conn.execute("PRAGMA secure_delete = ON")
                if self._background:
                    conn.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
                break
            except sqlite3.Error as exc:
                conn.close()
                retry = isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
                if not retry or time.monotonic() > deadline:
                    raise _storage_error(exc, str(self.path)) from exc
                time.sleep(0.01)
        self._local.conn = conn
        with self._guard:
            self._all.append(conn)
        return conn

    @contextmanager
    def _begin(self, mode: str) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        if conn.in_transaction:
            raise StorageError(
                "a transaction is already open on this thread: nest the work inside it instead of opening another"
            )
        try:
            conn.execute(f"BEGIN {mode}")
        except sqlite3.Error as exc:
            raise _storage_error(exc, str(self.path)) from exc
        try:
            yield conn
        except BaseException as exc:
            conn.rollback()
            if isinstance(exc, sqlite3.Error):
                raise _storage_error(exc, str(self.path)) from exc
            raise
        else:
            try:
                conn.commit()
            except sqlite3.Error as exc:
                conn.rollback()
                raise _storage_error(exc, str(self.path)) from exc

    @contextmanager
    def transaction(self, tenant: str = "default") -> Iterator[StoreSession]:
        check_tenant(tenant)
        with self._begin("IMMEDIATE") as conn:
            session = SqlSession(_SqliteDb(conn), tenant)
            yield session
        if session.erased:
            try:
                self.scrub()
            except StorageError as exc:  # the erasure is committed: say so, do not undo the call
                warnings.warn(
                    ScrubPendingWarning(
                        f"{exc.message}; the erasure is committed, but the file may still hold its "
                        "bytes: call store.scrub() again"
                    ),
                    stacklevel=3,
                )
        elif self._scrub_pending:
            self._retry_scrub()
        elif self._background:
            self._committed()

    # --- background checkpoints ------------------------------------------------

    def _committed(self) -> None:
        """A write transaction committed: wake the checkpointer (started on the first one)."""
        if self._checkpointer is None:
            with self._guard:
                if self._checkpointer is None and not self._closed:
                    thread = threading.Thread(
                        target=self._checkpoint_loop, name=f"omnicx-checkpoint:{self.path.name}", daemon=True
                    )
                    thread.start()
                    self._checkpointer = thread
        self._wake.set()

    def _checkpoint_loop(self) -> None:
        """Run passive checkpoints after commits until :meth:`close`; never raises."""
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()  # before looking at the stop flag: close() sets both
                if self._stop.wait(_COALESCE):
                    return
                try:
                    if conn is None:
                        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                        conn.execute(f"PRAGMA synchronous = {self._synchronous.upper()}")
                    with self._checkpoint_lock:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.checkpoints += 1
                except sqlite3.Error:  # the file went away or is busy: the writers' backstop holds
                    if conn is not None:
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()

    @contextmanager
    def snapshot(self, tenant: str = "default") -> Iterator[StoreReader]:
        check_tenant(tenant)
        with self._begin("DEFERRED") as conn:
            yield SqlSession(_SqliteDb(conn), tenant)

    def scrub(self) -> None:
        """Leave no deleted byte in the database file or its WAL.

        Called after every erasure. Rewrites the file with ``VACUUM`` (unless the store
        was opened with ``erasure="checkpoint"``), then moves every WAL frame into the
        file and truncates the WAL to zero bytes, waiting up to the busy timeout for
        readers to finish. When one is still reading then, it warns with
        :class:`ScrubPendingWarning` and the store's next commit tries again.

        Raises :class:`~omnicx.errors.StorageError` when SQLite fails (``VACUUM`` needs
        free disk space about the size of the file); the WAL is still truncated. After an
        erasure's commit the store turns that error into a :class:`ScrubPendingWarning`
        instead: the erasure stands, and calling ``scrub()`` again completes it.
        """
        conn = self._connect()
        failure: sqlite3.Error | None = None
        with self._checkpoint_lock:
            if self._vacuum:
                try:
                    conn.execute("VACUUM")
                except sqlite3.Error as exc:
                    failure = exc
            try:
                done = self._truncate_wal(conn, self._timeout)
            except sqlite3.Error as exc:
                failure, done = failure or exc, False
        self._scrub_pending = not done
        if failure is not None:
            raise _storage_error(failure, str(self.path)) from failure
        if not done:
            warnings.warn(
                ScrubPendingWarning(
                    f"{self.path}: a reader kept the WAL busy for {self._timeout} s after an erasure; "
                    "the WAL still holds the erased bytes, and the next commit truncates it"
                ),
                stacklevel=2,
            )

    def _retry_scrub(self) -> None:
        """After a commit: one more try at the WAL truncation an erasure could not finish
        (an error leaves it for the next commit: this commit succeeded)."""
        with self._checkpoint_lock:
            try:
                self._scrub_pending = not self._truncate_wal(self._connect(), 0.0)
            except sqlite3.Error:
                self._scrub_pending = True

    @staticmethod
    def _truncate_wal(conn: sqlite3.Connection, wait: float) -> bool:
        """Checkpoint every frame and truncate the WAL, trying for ``wait`` seconds while a
        reader still needs old frames; True when done."""
        deadline = time.monotonic() + wait
        while True:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)  # a reader still needs old frames: let it finish

    def migrate(self, target: int | None = None) -> int:
        """Apply the missing schema migrations (up to ``target``); return the version reached."""
        conn = self._connect()

        def in_transaction(step: Callable[[Callable[..., list[tuple[object, ...]]]], None]) -> None:
            with self._begin("IMMEDIATE") as c:
                step(lambda sql, params: c.execute(sql, params).fetchall())

        del conn
        return run_migrations("sqlite", in_transaction, lambda: to_us(datetime.now(UTC)), target=target)

    def schema_version(self) -> int:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT MAX(version) FROM omnicx_schema_version").fetchall()
        except sqlite3.OperationalError:
            return 0
        return int(rows[0][0] or 0)

    def close(self) -> None:
        with self._guard:
            conns, self._all = self._all, []
            self._closed = True
            thread, self._checkpointer = self._checkpointer, None
        if thread is not None:
            self._stop.set()
            self._wake.set()
            thread.join()
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"
