"""The DuckDB engine of ``omnicx resolve`` (the ``fast`` extra): the record loop in SQL.

:class:`~omnicx.cli._batch.BatchResolver` reads the records one by one in Python;
at a million records that loop, not the evaluation, is most of the time.
:class:`DuckDBResolver` lets DuckDB do the relational work on every core and keeps
the decisions in Python, where the reference code is:

1. DuckDB reads the JSON Lines file and unnests the identifiers;
2. raw values are grouped as the batch path's caches group them (emails by their
   lower-cased ASCII text, phones without spaces, dashes and dots; non-ASCII text,
   whose folding SQL cannot reproduce, in finer groups that go through
   ``BatchResolver.identifier`` itself, in input order); Python normalizes each
   group's first value in input order (half of them in a forked helper process)
   and checks the blocklist once per key;
3. DuckDB finds each identifier's first instant and every pair seen together;
4. ``BatchResolver._evaluate`` decides the customers from those (quarantine,
   limits with the canonical-order replay, canonical identifiers);
5. DuckDB gives each record the customer of its first member identifier, computes
   the customer ids (the SHA-256 of the canonical identifier's first sighting) and
   writes the CSV.

Same CSV as the batch path, which is the same as the incremental engine's. The
engine only takes input it reads exactly as the standard library's ``json`` does:
:meth:`DuckDBResolver.load` returns ``False`` for a file it cannot prove that of
(see :func:`_scan`), or with a line the batch path would skip (bad JSON, a
malformed record), or a time written in another ISO 8601 style than
``2024-01-31T09:00:00Z`` / ``…+02:00``; ``omnicx resolve`` then runs the batch
path, which reports those lines.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from omnicx.cli._batch import (
    _LOW,
    _SHIFT,
    ID_PREFIX,
    BatchResolver,
    link_id,
    normalized_key,
    write_csv_rows,
)
from omnicx.identity import MergePolicy

__all__ = ["HELPER_BYTES", "DuckDBResolver", "available"]

_TS = (
    r"[12][0-9]{3}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
"""The ISO 8601 times whose instant DuckDB reads exactly as ``datetime.fromisoformat`` (years
1000 to 2999, so that no offset moves an instant out of Python's range)."""
_ASCII_SPACE = "".join(map(chr, (32, 9, 10, 13, 11, 12, 28, 29, 30, 31)))
"""What ``str.strip()`` removes from an ASCII string."""
_TRAILING_COMMA = re.compile(rb",[ \t\r\n]*[\]}]")
_ASCII_ESCAPE = re.compile(rb"\\u00[0-7]")
_CHUNK = 1 << 23
_LABELS = (
    "SELECT r.rid AS record_id, m.name AS customer_id FROM recs r "
    "LEFT JOIN rc USING (n) LEFT JOIN named m USING (c) ORDER BY r.n"
)
"""Each record's customer id (NULL when it has none), in input order."""
_CSV_SPECIAL = re.compile(r'[,"\r\n]')
HELPER_BYTES = 64 << 20
"""From this input size on, ``omnicx resolve`` forks the helper process (about 400k records):
below it the helper's start and its memory (about 120 MiB) cost more than it saves."""


def available() -> bool:
    """True when DuckDB can be imported (``pip install 'omnicx[fast]'``)."""
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return False
    return True


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_LENIENT = (
    "a line may read otherwise than json.loads reads it (a trailing comma, a vertical tab or form feed, "
    "an escaped ASCII character, a record_id, ts, type or value that is not a string)"
)
_STRING_KEYS = (b"record_id", b"ts", b"type", b"value")
"""The keys whose values DuckDB reads as text; the scan proves every one of them holds a string."""


def _scan(path: Path) -> bool:
    """True when DuckDB reads the file's records exactly as ``json.loads`` does.

    DuckDB's JSON reader also takes trailing commas and vertical tab or form feed
    between tokens, and it reads a number or an object as text where a string is
    expected. So the file must hold none of the first (a match inside a string value
    only costs the fast path) and every ``"record_id"``, ``"ts"``, ``"type"`` and
    ``"value"`` must be followed by ``:"`` or ``: "``: with no ``\\u00..`` escape of an
    ASCII character, every such key is spelled so, and then each of them holds a string.
    """
    counts = [0] * len(_STRING_KEYS)
    with open(path, "rb") as f:
        tail = b""
        while True:
            chunk = f.read(_CHUNK)
            block = tail + chunk
            cut = block.rfind(b"\n") + 1 if chunk else len(block)
            body, tail = block[:cut], block[cut:]
            if (
                b"\x0b" in body
                or b"\x0c" in body
                or _TRAILING_COMMA.search(body)
                or _ASCII_ESCAPE.search(body)
            ):
                return False
            for i, key in enumerate(_STRING_KEYS):
                quoted = b'"' + key + b'"'
                counts[i] += body.count(quoted) - body.count(quoted + b':"') - body.count(quoted + b': "')
            if not chunk:
                break
    return not any(counts)


class DuckDBResolver(BatchResolver):
    """``omnicx resolve``'s batch evaluation over a JSON Lines file read by DuckDB.

    :meth:`load` reads the file (or declines it); then :meth:`label_list`,
    :meth:`labels`, :meth:`write_csv` and :meth:`shared_count` answer as
    :class:`~omnicx.cli._batch.BatchResolver` does.
    """

    def __init__(
        self,
        policy: MergePolicy,
        region: str | None = "US",
        *,
        threads: int | None = None,
        worker: bool = False,
        memory_mib: int = 400,
    ) -> None:
        """``threads``: DuckDB's threads (default: one per core). ``worker``: fork one helper
        process, before DuckDB starts any thread, that checks the file and normalizes half of
        the raw values while this process does the rest (for a command-line run). It is only
        forked from a process with one thread (on Linux, where that can be seen): forking a
        process whose other threads may hold a lock can hang the child.
        ``memory_mib``: DuckDB's memory limit; past it DuckDB spills to temporary files."""
        super().__init__(policy, region)
        import duckdb

        self._pool: Any = None
        if worker and _single_threaded():
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(1, initializer=_worker_init, initargs=(policy, region))
        self._tmp = tempfile.TemporaryDirectory(prefix="omnicx-resolve-")
        self._db = duckdb.connect(":memory:")
        if threads is not None:
            self._db.execute(f"SET threads = {int(threads)}")
        self._db.execute("SET preserve_insertion_order = true")
        self._db.execute(f"SET temp_directory = {_sql_text(self._tmp.name)}")
        self._db.execute(f"SET memory_limit = '{int(memory_mib)}MB'")
        self.records = 0
        """How many records :meth:`load` read."""
        self.declined: str | None = None
        """Why :meth:`load` left the file to the batch path (None when it read it)."""
        self._pks: list[int] = []
        self._labelled = False

    def close(self) -> None:
        """Close DuckDB, stop the helper process and remove the temporary files."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        self._db.close()
        self._tmp.cleanup()

    def __enter__(self) -> DuckDBResolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    def load(self, path: str | Path) -> bool:
        """Read every record of the file at ``path``; False when the batch path must read it
        instead (see the module docstring; :attr:`declined` says why). After False this
        resolver holds a partial state: read the file with a new BatchResolver."""
        import duckdb

        try:
            return self._load(Path(path))
        except duckdb.Error as exc:  # out of memory or disk for its temporary files, say
            return self._decline(f"DuckDB failed: {str(exc).splitlines()[0][:200]}")

    def _load(self, path: Path) -> bool:
        import duckdb

        scanning = self._pool.apply_async(_scan, (path,)) if self._pool is not None else None
        if scanning is None and not _scan(path):
            return self._decline(_LENIENT)
        db = self._db
        columns = (
            "{'record_id': 'VARCHAR', 'ts': 'VARCHAR', 'channel': 'JSON', "
            "'identifiers': 'STRUCT(type VARCHAR, value VARCHAR)[]'}"
        )
        try:
            db.execute(
                "CREATE TABLE raw AS SELECT * FROM read_json("
                f"{_sql_text(str(path))}, format = 'newline_delimited', columns = {columns})"
            )
        except duckdb.Error as exc:
            # not JSON Lines as DuckDB reads them: bad lines for the batch path to report
            return self._decline(
                f"DuckDB cannot read it as JSON Lines records ({str(exc).splitlines()[0][:200]})"
            )
        if scanning is not None and not scanning.get():
            return self._decline(_LENIENT)
        db.execute(
            f"""
            CREATE TABLE recs AS SELECT
                rowid AS n, record_id AS rid,
                CASE WHEN json_type(channel) = 'VARCHAR' THEN channel ->> '$' END AS channel, ts,
                CASE WHEN record_id IS NOT NULL AND identifiers IS NOT NULL
                          AND regexp_full_match(ts, {_sql_text(_TS)})
                     THEN epoch_us(try_cast(ts AS TIMESTAMPTZ)) END AS at_us
            FROM raw
            """
        )
        got = db.execute("SELECT count(*) FILTER (WHERE at_us IS NULL), count(*) FROM recs").fetchone()
        assert got is not None
        if got[0]:
            return self._decline(
                "a record has no record_id or identifiers, or a time not written as 2024-01-31T09:00:00Z "
                "or 2024-01-31T11:00:00+02:00"
            )
        self.records = int(got[1])
        space = _sql_text(_ASCII_SPACE)
        db.execute(
            """
            CREATE TABLE item AS
            WITH e AS (
                SELECT rowid AS n, coalesce(json_type(channel) = 'VARCHAR' AND channel ->> '$' = 'whatsapp', false) AS wa,
                       unnest(identifiers) AS e, generate_subscripts(identifiers, 1) AS pos
                FROM raw
            )
            SELECT n, pos, wa, e.type AS kind, e.value AS raw, e.type IS NOT NULL AND e.value IS NOT NULL AS ok,
                   strlen(e.value) = length(e.value) AS ascii
            FROM e
            """
        )
        db.execute("DROP TABLE raw")
        # Group raw values as BatchResolver's caches do, or finer for non-ASCII text, whose
        # folding SQL cannot reproduce: a group's values all get the answer of its first
        # value in input order.
        db.execute(
            f"""
            CREATE TABLE grouped AS SELECT n, pos, raw, wa, kind, ascii,
                CASE WHEN NOT ascii THEN raw
                     WHEN kind = 'email' THEN lower(trim(raw, {space}))
                     WHEN kind = 'phone' THEN translate(
                         CASE WHEN wa AND regexp_full_match(raw, '[0-9]+') THEN '+' || raw ELSE raw END,
                         {_sql_text(" " + chr(9) + "-.")}, '')
                     ELSE raw END AS fold,
                CASE WHEN kind = 'phone' AND NOT ascii THEN 1 + wa::INTEGER ELSE 0 END AS side,
                n * 4294967296 + pos AS seq
            FROM item WHERE ok
            """
        )
        db.execute(
            """
            CREATE TABLE grp AS
            SELECT kind, fold, ascii, side, min(seq) AS g, arg_min(raw, seq) AS raw, arg_min(wa, seq) AS wa
            FROM grouped GROUP BY kind, fold, ascii, side
            """
        )
        groups = db.execute("SELECT g, kind, raw, wa, ascii FROM grp").fetchall()
        xs = self._normalize_groups(groups)
        self._table("gx", ("g", "x"), zip((g for g, *_ in groups), xs, strict=True))
        del groups, xs
        db.execute(
            """
            CREATE TABLE mapped AS SELECT n, pos, x FROM grouped JOIN grp USING (kind, fold, ascii, side) JOIN gx USING (g)
            """
        )
        for name in ("grouped", "grp", "gx"):
            db.execute(f"DROP TABLE {name}")
        db.execute("CREATE TABLE ids AS SELECT n, x, min(pos) AS pos FROM mapped WHERE x >= 0 GROUP BY n, x")
        bad = db.execute(
            "SELECT (SELECT count(*) FROM item WHERE NOT ok) + (SELECT count(*) FROM mapped WHERE x < 0)"
        ).fetchone()
        assert bad is not None
        self.bad_identifiers = int(bad[0])
        db.execute("DROP TABLE mapped")
        db.execute("DROP TABLE item")
        self._sightings()
        self._pairs()
        return True

    def _decline(self, reason: str) -> bool:
        self.declined = reason
        return False

    def _normalize_groups(self, groups: list[tuple[int, str, str, bool, bool]]) -> list[int]:
        """The identifier int of each group's first value (-1: unreadable).

        A group is ``(first position, kind, first raw value, whatsapp, ascii)``. Non-ASCII
        emails and phones go through ``BatchResolver.identifier`` in input order (its caches
        fold them); every other group is one of its cache entries, normalized directly, half
        of them in the helper process when there is one.
        """
        out = [-1] * len(groups)
        direct: list[int] = []
        later: list[int] = []
        for i, (_, kind, _, _, ascii) in enumerate(groups):
            (later if not ascii and kind in ("email", "phone") else direct).append(i)
        texts = [_text(*groups[i][1:4]) for i in direct]
        half = len(direct) // 2 if self._pool is not None else 0
        helped = self._pool.apply_async(_normalize_many, (texts[:half],)) if half else None
        intern, region = self._intern, self.region
        for i, (kind, text) in zip(direct[half:], texts[half:], strict=True):
            got = normalized_key(kind, text, region)
            if got is not None:
                out[i] = intern(*got)
        if helped is not None:
            for i, got3 in zip(direct[:half], helped.get(), strict=True):
                if got3 is not None:
                    out[i] = intern(*got3)
        identifier = self.identifier
        for i in sorted(later, key=lambda i: groups[i][0]):
            _, kind, raw, wa, _ = groups[i]
            out[i] = identifier(kind, raw, wa)
        return out

    def _table(self, name: str, columns: tuple[str, str], rows: Iterable[tuple[int, int]]) -> None:
        """Create table ``name`` of two BIGINT ``columns`` from pairs of ints, through a CSV file
        (far faster than a list parameter)."""
        file = Path(self._tmp.name) / f"{name}.csv"
        file.write_text("".join([f"{a},{b}\n" for a, b in rows]))
        a, b = columns
        self._db.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv({_sql_text(str(file))}, "
            f"columns = {{'{a}': 'BIGINT', '{b}': 'BIGINT'}}, header = false, auto_detect = false)"
        )
        file.unlink()

    def _sightings(self) -> None:
        """Each identifier's first instant (epoch microseconds)."""
        db = self._db
        db.execute(
            "CREATE TABLE first AS SELECT x, min(at_us) AS at_us FROM ids JOIN recs USING (n) GROUP BY x"
        )
        first_at: list[Any] = [None] * len(self.keys)
        for x, at_us in db.execute("SELECT x, at_us FROM first").fetchall():
            first_at[x] = at_us
        self.first_at = first_at

    def _pairs(self) -> None:
        self._db.execute(
            """
            CREATE TABLE pairs AS
            SELECT DISTINCT a.x AS lo, b.x AS hi FROM ids a JOIN ids b ON a.n = b.n AND a.x < b.x
            """
        )
        rows = self._db.execute(f"SELECT (lo << {_SHIFT}) | hi FROM pairs").fetchall()
        self._pks = [pk for (pk,) in rows]

    # ------------------------------------------------------------------ evaluation

    def _pair_keys(self) -> Iterable[int]:
        return self._pks

    def _link_order(self, pks: list[int]) -> list[tuple[Any, str, int]]:
        """The earliest link of each pair: its time and, of the records at that time, the smallest link id."""
        if not pks:
            return []
        rows = self._db.execute(
            f"""
            WITH want AS (SELECT unnest($1::BIGINT[]) AS pk),
            seen AS (
                SELECT w.pk, a.n FROM want w
                JOIN ids a ON a.x = w.pk >> {_SHIFT} JOIN ids b ON b.x = w.pk & {_LOW} AND a.n = b.n
            ),
            timed AS (SELECT s.pk, s.n, r.at_us, r.ts, r.channel, r.rid FROM seen s JOIN recs r USING (n))
            SELECT pk, at_us, ts, channel, rid FROM timed
            WHERE at_us = (SELECT min(t.at_us) FROM timed t WHERE t.pk = timed.pk)
            """,
            [pks],
        ).fetchall()
        keys = self.keys
        best: dict[int, tuple[int, str]] = {}
        for pk, at_us, ts, channel, rid in rows:
            lid = link_id(keys[pk >> _SHIFT], keys[pk & _LOW], str(datetime.fromisoformat(ts)), channel, rid)
            old = best.get(pk)
            if old is None or lid < old[1]:
                best[pk] = (at_us, lid)
        return [(at_us, lid, pk) for pk, (at_us, lid) in best.items()]

    def _label(self) -> None:
        """The tables of :data:`_LABELS`: ``rc`` (each record's customer identifier) and ``named`` (their ids)."""
        if self._labelled:
            return
        db = self._db
        customer = self._evaluate()
        self._table("cx", ("x", "c"), enumerate(customer))
        del customer
        db.execute(
            "CREATE TABLE rc AS SELECT n, arg_min(c, pos) AS c FROM ids JOIN cx USING (x) WHERE c >= 0 GROUP BY n"
        )
        # The customer id: the birth id of its canonical identifier (Core.birth_id) in SQL;
        # the key list is the only upload.
        canon = [c for (c,) in db.execute("SELECT DISTINCT c FROM rc").fetchall()]
        keys = self.keys
        db.execute(
            "CREATE TABLE ck AS SELECT unnest($1::BIGINT[]) AS c, unnest($2::VARCHAR[]) AS key",
            [canon, [keys[c] for c in canon]],
        )
        del canon
        prefix = _sql_text(ID_PREFIX.decode("ascii"))
        db.execute(
            f"""
            CREATE TABLE named AS SELECT ck.c, 'cus_' || left(sha256(
                {prefix} || ck.key || chr(31) || f.at_us::VARCHAR
            ), 26) AS name
            FROM ck JOIN first f ON f.x = ck.c
            """
        )
        db.execute("DROP TABLE ck")
        db.execute("DROP TABLE cx")
        self._labelled = True

    def label_list(self) -> list[str]:
        self._label()
        return [name or "" for (_, name) in self._db.execute(_LABELS).fetchall()]

    def labels(self) -> Iterator[tuple[str, str]]:
        self._label()
        return ((rid, name or "") for rid, name in self._db.execute(_LABELS).fetchall())

    def customer_count(self) -> int:
        """How many customers the records name."""
        self._label()
        got = self._db.execute("SELECT count(*) FROM named").fetchone()
        assert got is not None
        return int(got[0])

    def write_csv(self, out: str | IO[str]) -> None:
        """Write ``record_id,customer_id`` rows in input order to the file named ``out`` (or to a text stream)."""
        self._label()
        db = self._db
        plain = db.execute(
            "SELECT count(*) FROM recs WHERE rid = '' OR regexp_matches(rid, $1)", [_CSV_SPECIAL.pattern]
        ).fetchone()
        assert plain is not None
        if isinstance(out, str) and not plain[0]:
            # every record id is written as it is: DuckDB writes the file
            db.execute(f"COPY ({_LABELS}) TO {_sql_text(out)} (FORMAT csv, HEADER true, QUOTE '\"')")
            return
        if not isinstance(out, str):
            write_csv_rows(out, self.labels())
            return
        with open(out, "w", encoding="utf-8", newline="") as sink:
            write_csv_rows(sink, self.labels())


def _single_threaded() -> bool:
    """True when this process runs one thread (threads of native libraries such as DuckDB count)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: nothing to tell it by
        return False


def _text(kind: str, raw: str, wa: bool) -> tuple[str, str]:
    """(kind, text to normalize) of a raw value: a WhatsApp wa_id gets its ``+``."""
    return kind, ("+" + raw if wa and kind == "phone" and raw.isdigit() else raw)


_WORKER: tuple[Any, str | None] | None = None


def _worker_init(policy: MergePolicy, region: str | None) -> None:
    global _WORKER
    _WORKER = (policy.compile(), region)


def _normalize_many(texts: list[tuple[str, str]]) -> list[tuple[str, str, bool] | None]:
    """In the helper process: ``(key, kind, blocked)`` of each value, None when unreadable."""
    assert _WORKER is not None
    policy, region = _WORKER
    blocked: dict[str, bool] = {}
    out: list[tuple[str, str, bool] | None] = []
    for kind, text in texts:
        got = normalized_key(kind, text, region)
        if got is None:
            out.append(None)
            continue
        key, real = got
        verdict = blocked.get(key)
        if verdict is None:
            verdict = blocked[key] = policy.is_blocked(real, key.split(":", 1)[1], key)
        out.append((key, real, verdict))
    return out
