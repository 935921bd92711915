"""The PostgreSQL store (extra ``postgres``: psycopg 3 and psycopg_pool).

Connections come from a pool. Transactions run at READ COMMITTED; identity
changes are serialized per identifier and per customer with transaction-scoped
advisory locks (:meth:`PostgresSession.lock_identifiers`), so several processes
merging the same customers end in the state one process would reach doing the
same work in sequence, while unrelated customers are written in parallel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from omnicx.errors import ConfigurationError, Conflict, StorageError, StorageUnavailable, ValidationError
from omnicx.models import Identifier
from omnicx.store._checks import identifier_map
from omnicx.store._codec import to_us
from omnicx.store._models import check_tenant
from omnicx.store._protocol import StoreReader, StoreSession
from omnicx.store._schema import run_migrations
from omnicx.store._sql import Row, SqlSession, marks

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresSession", "PostgresStore"]

_POOL_OPTIONS = {"pool_min", "pool_max", "pool_timeout"}


@lru_cache(maxsize=512)
def _translate(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def _lock_key(namespace: str, tenant: str, value: str) -> int:
    digest = hashlib.blake2b(f"{namespace}\x1f{tenant}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _no_nul(params: Sequence[Any]) -> Sequence[Any]:
    """``params``, or :class:`~omnicx.errors.ValidationError` when a text value holds NUL,
    which PostgreSQL text cannot store (JSON columns escape it and are not affected)."""
    for value in params:
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError(
                f"PostgreSQL cannot store the NUL character, found in {value[:60]!r}: "
                "remove it from ids, keys, names and URLs before storing",
                value=value[:80],
            )
        if isinstance(value, list):
            _no_nul(value)
    return params


class _PgDb:
    """A connection; in a write transaction, in pipeline mode: :meth:`put` and :meth:`many`
    are sent with the next statement whose answer is needed, instead of a round trip each."""

    dialect = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any], pipeline: psycopg.Pipeline | None = None) -> None:
        self._conn = conn
        self._pipeline = pipeline

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn.execute(_translate(sql), _no_nul(params))
        if self._pipeline is not None:
            self._pipeline.sync()  # the answer is needed now (and any error of what was sent before)
        return cur.fetchall() if cur.description is not None else []

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_translate(sql), _no_nul(params))
        if self._pipeline is not None:
            self._pipeline.sync()
        return cur.rowcount

    def put(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_translate(sql), _no_nul(params))

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        batch = [_no_nul(p) for p in params]
        if batch:
            with self._conn.cursor() as cur:
                cur.executemany(_translate(sql), batch)

    def insert_new_interactions(self, rows: list[Row]) -> set[str]:
        if not rows:
            return set()
        for row in rows:
            _no_nul(row)
        columns = list(zip(*rows, strict=True))
        types = ["text"] * 7 + ["bigint"] + ["text"] * 3
        unnest = ", ".join(f"%s::{t}[]" for t in types)
        cur = self._conn.execute(
            "INSERT INTO omnicx_interactions (tenant, id, adapter, dedupe_key, channel, type, endpoint, "
            "occurred_us, conversation_id, raw_id, body) "
            f"SELECT * FROM unnest({unnest}) ON CONFLICT DO NOTHING RETURNING id",
            [list(c) for c in columns],
        )
        return {r[0] for r in cur.fetchall()}


def _storage_error(exc: Exception, where: str) -> StorageError:
    import psycopg
    from psycopg import errors as pg_errors

    text = str(exc).strip()
    if isinstance(
        exc, pg_errors.DeadlockDetected | pg_errors.SerializationFailure | pg_errors.LockNotAvailable
    ):
        return StorageUnavailable(f"PostgreSQL at {where} broke a lock cycle ({text}); retry the transaction")
    if isinstance(exc, psycopg.IntegrityError):
        return Conflict(f"the write clashes with stored data in PostgreSQL at {where}: {text}")
    if isinstance(exc, psycopg.OperationalError):
        return StorageUnavailable(f"PostgreSQL at {where} is unreachable or busy ({text}); retry later")
    return StorageError(f"PostgreSQL error at {where}: {text}")


_OWNERSHIP_TABLES = ("omnicx_identifiers", "omnicx_customer_aliases", "omnicx_customers")
"""Tables whose writes can change which customer an identifier belongs to."""


class _Watched:
    """A :class:`_PgDb` that tells its session when a write may change an identifier's customer."""

    def __init__(self, db: _PgDb, changed: Callable[[], None]) -> None:
        self._inner = db
        self._changed = changed
        self.dialect = db.dialect

    def _check(self, sql: str) -> None:
        if any(table in sql for table in _OWNERSHIP_TABLES) and not sql.lstrip().startswith("SELECT"):
            self._changed()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        self._check(sql)
        return self._inner.rows(sql, params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._check(sql)
        return self._inner.run(sql, params)

    def put(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._check(sql)
        self._inner.put(sql, params)

    def many(self, sql: str, params: Iterable[Sequence[Any]]) -> None:
        self._check(sql)
        self._inner.many(sql, params)

    def insert_new_interactions(self, rows: list[Row]) -> set[str]:
        return self._inner.insert_new_interactions(rows)


class PostgresSession(SqlSession):
    """A session whose :meth:`lock_identifiers` takes advisory locks.

    Under those locks no other session can move the identifiers to another customer, so the
    customers the lock loop read last answer :meth:`customer_of` until this session writes
    anything that could change them.
    """

    def __init__(self, db: _PgDb, tenant: str) -> None:
        self._owners: dict[str, str | None] = {}
        super().__init__(_Watched(db, self._owners.clear), tenant)
        self._held: set[int] = set()

    def customer_of(self, identifier: Identifier) -> str | None:
        (key,) = identifier_map([identifier])
        if key in self._owners:
            return self._owners[key]
        return super().customer_of(identifier)

    def _lock(self, keys: Iterable[int]) -> None:
        wanted = sorted(set(keys) - self._held)
        if not wanted:
            return
        # one round trip; unnest yields the keys in the array's (sorted) order, and should a
        # server ever take them otherwise, a cycle is a deadlock PostgreSQL breaks (retried)
        self._db.rows("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::bigint[]) AS k", (wanted,))
        self._held.update(wanted)

    def lock_identifiers(self, identifiers: Iterable[Identifier]) -> None:
        """Lock the identifiers, then the customers they belong to, until the transaction ends.

        Identifier locks first and customer locks after, each group in sorted order,
        so two sessions cannot wait on each other in a cycle through one group. The
        customers are re-read after locking until no new one shows up (a merge that
        committed meanwhile may have moved an identifier to another customer).
        """
        keys = sorted(identifier_map(identifiers))
        if not keys:
            return
        self.forget_state_cache()  # others may have written it before these locks were ours
        self._lock(_lock_key("identifier", self.tenant, k) for k in keys)
        locked: set[str] = set()
        while True:
            owners: dict[str, str | None] = dict.fromkeys(keys)
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                owners.update(
                    self._db.rows(
                        "SELECT i.key, COALESCE(a.customer_id, i.customer_id) FROM omnicx_identifiers i "
                        "LEFT JOIN omnicx_customer_aliases a ON a.tenant = i.tenant AND a.alias = i.customer_id "
                        f"WHERE i.tenant = ? AND i.key IN ({marks(len(part))}) AND i.customer_id IS NOT NULL",
                        (self.tenant, *part),
                    )
                )
            customers = {c for c in owners.values() if c is not None}
            fresh = customers - locked
            if not fresh:
                self._owners.update(owners)  # read under every lock they need: they hold until we write
                return
            self._lock(_lock_key("customer", self.tenant, c) for c in fresh)
            locked |= fresh


def _mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class PostgresStore:
    """A :class:`~omnicx.store.Store` in PostgreSQL (tables prefixed ``omnicx_``).

    ``conninfo`` is a libpq URL or connection string; the pool keeps between
    ``pool_min`` and ``pool_max`` connections and waits ``pool_timeout`` seconds for
    a free one before raising :class:`~omnicx.errors.StorageUnavailable`.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        pool_timeout: float = 30.0,
        migrate: bool = True,
    ) -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as exc:
            raise ConfigurationError(
                "the PostgreSQL store needs psycopg 3 and psycopg_pool: pip install 'omnicx[postgres]'"
            ) from exc
        self._url = _mask(conninfo)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            conninfo,
            min_size=pool_min,
            max_size=pool_max,
            timeout=pool_timeout,
            open=False,
            name="omnicx",
        )
        try:
            self._pool.open(wait=True, timeout=pool_timeout)
        except Exception as exc:
            self._pool.close()
            raise StorageUnavailable(
                f"cannot connect to PostgreSQL at {self._url}: {exc}; check that the server runs and the URL"
            ) from exc
        self._closed = False
        if migrate:
            self.migrate()

    @classmethod
    def from_url(cls, url: str) -> PostgresStore:
        """Open ``postgresql://user:password@host:port/dbname`` (``postgres://`` too).

        Query parameters ``pool_min``, ``pool_max`` and ``pool_timeout`` set the pool;
        the others go to libpq. Raises :class:`~omnicx.errors.ConfigurationError` for a
        bad option and :class:`~omnicx.errors.StorageUnavailable` when the server cannot be reached.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigurationError(f"{_mask(url)!r} is not a PostgreSQL store URL", url=_mask(url))
        query = parse_qsl(parts.query, keep_blank_values=True)
        options = {k: v for k, v in query if k in _POOL_OPTIONS}
        rest = [(k, v) for k, v in query if k not in _POOL_OPTIONS]
        try:
            pool_min = int(options.get("pool_min", "1"))
            pool_max = int(options.get("pool_max", "10"))
            pool_timeout = float(options.get("pool_timeout", "30"))
        except ValueError as exc:
            raise ConfigurationError(f"bad pool option in {_mask(url)!r}: {exc}", url=_mask(url)) from exc
        if not 0 <= pool_min <= pool_max or pool_max < 1:
            raise ConfigurationError(
                f"need 0 <= pool_min <= pool_max and pool_max >= 1, got {pool_min} and {pool_max}",
                url=_mask(url),
            )
        conninfo = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(rest)))
        return cls(conninfo, pool_min=pool_min, pool_max=pool_max, pool_timeout=pool_timeout)

    @property
    def url(self) -> str:
        return self._url

    @contextmanager
    def _connection(self, read_only: bool) -> Iterator[_PgDb]:
        """A transaction on a pooled connection: read-only at REPEATABLE READ, or a write
        transaction in pipeline mode (see :class:`_PgDb`)."""
        if self._closed:
            raise StorageError(f"the store {self._url} is closed; open a new one with open_store()")
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as conn:
                if read_only:
                    with conn.transaction():
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        yield _PgDb(conn)
                else:
                    with conn.pipeline() as pipeline, conn.transaction():
                        yield _PgDb(conn, pipeline)
        except PoolTimeout as exc:
            raise StorageUnavailable(f"no free connection to PostgreSQL at {self._url}: {exc}") from exc
        except psycopg.Error as exc:
            raise _storage_error(exc, self._url) from exc

    @contextmanager
    def transaction(self, tenant: str = "default") -> Iterator[StoreSession]:
        check_tenant(tenant)
        with self._connection(read_only=False) as db:
            yield PostgresSession(db, tenant)

    @contextmanager
    def snapshot(self, tenant: str = "default") -> Iterator[StoreReader]:
        check_tenant(tenant)
        with self._connection(read_only=True) as db:
            yield SqlSession(db, tenant)

    def migrate(self, target: int | None = None) -> int:
        """Apply the missing schema migrations (up to ``target``); return the version reached.

        A transaction-scoped advisory lock makes concurrent openers wait for each other.
        """

        def in_transaction(step: Callable[[Callable[..., list[tuple[object, ...]]]], None]) -> None:
            with self._connection(read_only=False) as db:
                db.rows("SELECT pg_advisory_xact_lock(?)", (_lock_key("schema", "", "omnicx"),))
                step(db.rows)

        return run_migrations("postgresql", in_transaction, lambda: to_us(datetime.now(UTC)), target=target)

    def schema_version(self) -> int:
        with self._connection(read_only=True) as db:
            found = db.rows("SELECT to_regclass('omnicx_schema_version')")
            if not found or found[0][0] is None:
                return 0
            row = db.rows("SELECT MAX(version) FROM omnicx_schema_version")
        return int(row[0][0] or 0) if row else 0

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._pool.close()

    def __repr__(self) -> str:
        return f"PostgresStore({self._url!r})"
