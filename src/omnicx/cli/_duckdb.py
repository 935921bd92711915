"""The DuckDB engine of ``omnicx resolve`` (the ``fast`` extra): the batch evaluation in SQL.

:class:`~omnicx.cli._batch.BatchResolver` reads the records one by one in Python;
at a million records that loop, not the evaluation, is most of the time.
:class:`DuckDBResolver` lets DuckDB do the relational work on every core and keeps
in Python only what SQL cannot decide exactly as the reference code does:

1. DuckDB reads the JSON Lines file (identifier values and record ids as JSON, whose
   types it checks) and unnests the identifiers;
2. each distinct raw value gets, in SQL, the key the normalizers' own fast paths give it
   for certain (dot-atom ASCII emails, ``+`` and digits, ten North American digits,
   handles of the platforms with a fixed id pattern), written from the same constants,
   and so do trunk prefixes after a country code (:func:`_trunk_sql`, from phonenumbers'
   metadata). A value takes the answer of its fold group's first value in input order, as
   in BatchResolver's caches; groups SQL answers whole need no grouping, and the few
   values SQL cannot answer go to the normalizers in Python (half of them in a forked
   helper process), non-ASCII text through ``BatchResolver.identifier`` in input order;
3. the blocklist is checked in SQL (the default patterns as RE2 regexes, on ASCII
   values), a host's own patterns in Python; quarantine is a count in SQL;
4. NumPy finds the components of the candidate pairs (:func:`_components`); the few
   components over a limit or a unique kind are replayed pair by pair in the canonical
   order by ``BatchResolver._replay``;
5. DuckDB names each customer (the SHA-256 of its oldest identifier's first sighting),
   gives each record the customer of its first member identifier and writes the CSV.

Same CSV as the batch path, which is the same as the incremental engine's. The
engine only takes input it reads exactly as the standard library's ``json`` does:
:meth:`DuckDBResolver.load` returns ``False`` for a file it cannot prove that of
(see :func:`_scan`), or with a line the batch path would skip (bad JSON, a
malformed record), or a time written in another ISO 8601 style than
``2024-01-31T09:00:00Z`` / ``…+02:00``; ``omnicx resolve`` then runs the batch
path, which reports those lines.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from omnicx.cli._batch import (
    _LOW,
    _SCOPED,
    _SHIFT,
    DEFAULT_SCOPE,
    FOLDABLE_PHONE,
    HANDLE_KINDS,
    ID_PREFIX,
    BatchResolver,
    finder,
    link_id,
    normalized_key,
    write_csv_rows,
)
from omnicx.errors import ConfigurationError, StorageError
from omnicx.identity import MergePolicy
from omnicx.identity._policy import DEFAULT_BLOCKLIST, DEFAULT_PATTERNS_RE2, CompiledPolicy
from omnicx.models._base import _aware_utc as aware_utc
from omnicx.normalize._email import FAST_SHAPE, SPECIAL_TLDS
from omnicx.normalize._phone import _NANP_REGIONS, ASCII_STRIP, E164_DIGITS, _possible
from omnicx.normalize._platform import _PATTERNS, _SCOPE

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
    "SELECT r.rid AS record_id, m.name AS customer_id FROM recs r LEFT JOIN rc USING (n) "
    "LEFT JOIN named m USING (c) ORDER BY r.n"
)
"""Each record's customer id (NULL when it has none), in input order."""
_CSV_SPECIAL = re.compile(r'[,"\r\n#]')
"""What DuckDB's CSV writer quotes in a record id: Python's ``csv`` quotes the first three
and a line feed, DuckDB also a carriage return and ``#``; with any of them, or an empty id,
the CSV is written by Python."""
HELPER_BYTES = 64 << 20
"""From this input size on, ``omnicx resolve`` forks the helper process (about 400k records):
below it the helper's start and its memory (about 120 MiB) cost more than it saves."""


def available() -> bool:
    """True when DuckDB and NumPy are installed (``pip install 'omnicx[fast]'``). Neither is
    imported here: NumPy starts threads on import, and the helper process is only forked from
    a process with one thread."""
    return all(importlib.util.find_spec(name) is not None for name in ("duckdb", "numpy"))


def _bigint(count: int | None) -> int | None:
    """A policy's count as a BIGINT: one beyond its range (the policy takes any) is no limit
    on a table, which cannot hold so many rows."""
    return count if count is None else min(count, 1 << 62)


def _said(exc: Exception) -> str:
    """The first line of what a DuckDB error says (its messages go on with hints and SQL)."""
    return str(exc).splitlines()[0][:200]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Any) -> str:
    """A SQL list literal of strings (``[]::VARCHAR[]`` when empty)."""
    items = sorted(values)
    return "[" + ", ".join(map(_sql_text, items)) + "]" if items else "[]::VARCHAR[]"


_LENIENT = (
    "a line may read otherwise than json.loads reads it (a trailing comma, a vertical tab or form feed, "
    "an escaped ASCII character, a nan or inf literal)"
)
_GLOB = "*?["
"""What DuckDB's ``read_json`` expands in a path as a pattern matching other files."""
_VALUE_START = frozenset(b":,[\n")
"""The bytes a JSON value can follow (``\n``: a line's start), spaces and a sign aside."""


def _literal_at(low: bytes, i: int) -> bool:
    """True when the ``nan`` or ``inf`` at ``low[i]`` may be a value DuckDB reads, not part of a
    string: nothing but spaces and a sign between it and a byte a value can follow."""
    j = i - 1
    if j >= 0 and low[j] in b"+-":
        j -= 1
    while j >= 0 and low[j] in b" \t\r":
        j -= 1
    return j < 0 or low[j] in _VALUE_START


_JSON_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
"""A JSON string token (on one line)."""


def _in_string(body: bytes, i: int) -> bool:
    """True when byte ``i`` of ``body`` (whole lines) lies inside a string token of its line."""
    start, end = body.rfind(b"\n", 0, i) + 1, body.find(b"\n", i)
    for token in _JSON_STRING.finditer(body, start, len(body) if end < 0 else end):
        if token.start() > i:
            break
        if i < token.end():
            return True
    return False


def _literals(body: bytes) -> bool:
    """True when ``body`` (whole lines) holds a ``nan`` or ``inf`` literal in any case outside
    a string: DuckDB's reader takes ``nan``, ``-inf``, ``INFINITY`` and the like, which
    ``json.loads`` refuses (it takes ``NaN``, ``Infinity`` and ``-Infinity`` alone, as DuckDB
    does). A candidate needs only spaces and a sign between it and a byte a value can follow,
    and then to lie outside every string of its line (``"Evans, Nancy"`` is text)."""
    low = body.lower()
    for word in (b"nan", b"inf"):
        i = low.find(word)
        while i >= 0:
            if _literal_at(low, i) and not _in_string(body, i):
                return True
            i = low.find(word, i + 3)
    return False


def _scan(path: Path) -> bool:
    """True when DuckDB's JSON reader takes the file's records exactly as ``json.loads`` does.

    DuckDB's reader also takes trailing commas, a vertical tab or form feed between
    tokens and ``nan`` or ``inf`` literals in any case, so the file must hold none of them
    (a match inside a string value only costs the fast path); and no ``\\u00..`` escape of
    an ASCII character, which could spell a key DuckDB would not recognise. The values of
    ``record_id``, ``type`` and ``value`` are read as JSON and their types checked in SQL;
    ``ts`` is read as text, and whatever is no string (a number, an object) fails the shape of
    time the engine takes.
    """
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
                or (b"\\" in body and _ASCII_ESCAPE.search(body))  # most files hold no backslash
                or _literals(body)
            ):
                return False
            if not chunk:
                return True


# --------------------------------------------------------------------------- SQL normalization


_SPACE_CLASS = "[" + "".join(f"\\x{ord(c):02x}" for c in sorted(_ASCII_SPACE)) + "]"
"""The characters of :data:`_ASCII_SPACE` as an RE2 class."""


def _strip(column: str) -> str:
    """SQL for ``str.strip()`` of an ASCII ``column``: DuckDB's ``trim`` with a character set
    is slow, and most values have nothing to strip, which a regex tells faster."""
    return (
        f"CASE WHEN regexp_matches({column}, '^{_SPACE_CLASS}|{_SPACE_CLASS}$') "
        f"THEN trim({column}, {_sql_text(_ASCII_SPACE)}) ELSE {column} END"
    )


def _drop(column: str, characters: str) -> str:
    """SQL for ``column`` without any of ``characters`` (nested ``replace``: faster than ``translate``)."""
    out = column
    for char in characters:
        out = f"replace({out}, {_sql_text(char)}, '')"
    return out


def _wa_plus(otherwise: str) -> str:
    """SQL for the text a phone value is read as: a WhatsApp wa_id (digits only) gets its ``+``
    (as :func:`_text` does); ``otherwise`` for any other value."""
    return f"CASE WHEN wa AND regexp_full_match(raw, '[0-9]+') THEN '+' || raw ELSE {otherwise} END"


def _phone_texts(rows: str) -> str:
    """SQL adding to ``rows`` (a query with ``raw`` and ``wa``) a phone's stripped text ``ps`` and
    its compact form ``pc`` without the separators ``normalize_phone``'s fast path drops."""
    return f"""
        SELECT *, CASE WHEN regexp_full_match(ps, '[+]?[0-9]+') THEN ps
                       ELSE {_drop("ps", ASCII_STRIP)} END AS pc
        FROM (SELECT *, {_wa_plus(_strip("raw"))} AS ps FROM ({rows}))"""


def _phones_readable(region: str | None) -> bool:
    """False when every phone fails on ``region`` (one phonenumbers does not know)."""
    import phonenumbers

    return region is None or region.upper() in phonenumbers.SUPPORTED_REGIONS


def _pattern_body(pattern: re.Pattern[str]) -> str:
    """The regex of an anchored ``^…$`` pattern, for a full match."""
    text = pattern.pattern
    assert text.startswith("^"), text
    assert text.endswith("$"), text
    return text[1:-1]


@cache
def _possible_lengths(code: int) -> tuple[tuple[int, int], ...]:
    """``(key, code length)`` of every E.164 number shape of the country calling code ``code``
    whose national length phonenumbers finds possible (it decides from those two alone, see
    ``omnicx.normalize._phone._possible``). The key is the first three digits times 32 plus the
    number of digits: country codes are prefix-free, so the first three digits name the code.
    Asked per code (each loads its region's metadata), for the codes the input holds."""
    size = len(str(code))
    return tuple(
        (head * 32 + size + national, size)
        for national in range(1, 16 - size)
        if _possible(code, 10 ** (national - 1))
        for head in _heads(code)
    )


def _heads(code: int) -> range:
    """The three-digit starts of the E.164 digits of the country calling code ``code``."""
    text = str(code)
    return range(int(text.ljust(3, "0")), int(text.ljust(3, "9")) + 1)


def _normalizing_sql(region: str | None) -> str:
    """A query over ``dv`` giving ``s`` and ``key`` of every raw value: the key where the
    normalizers' fast paths give it for certain (on ASCII text), NULL where Python must decide
    (see :meth:`DuckDBResolver._normalize`).

    It mirrors, on ASCII text: ``normalize_email``'s dot-atom path, ``normalize_phone``'s
    ``_fast_path`` and ``omnicx.cli._batch._handle_fast``'s direct returns. Each kind is
    computed on its own rows only. Needs table ``possible`` (:func:`_possible_lengths` of the
    codes the input holds).
    """
    # an ASCII email's fold is its lower-cased, stripped text: the fast path's input
    email = f"""
        SELECT s, CASE WHEN regexp_full_match(fold, {_sql_text(FAST_SHAPE)}) AND length(fold) <= 254
                AND strpos(fold, '@') <= 65
                AND NOT list_contains({_sql_list(SPECIAL_TLDS)}, regexp_extract(fold, '[^.]*$'))
                AND strpos(split_part(fold, '@', 2), '--') = 0
            THEN 'email:' || fold END AS key
        FROM dv WHERE ascii AND kind = 'email'"""
    # "+" and digits: the country calling code is the one prefix of 1 to 3 digits that is a
    # code (codes are prefix-free, so the first three digits tell it), its national number
    # must not start with 0, and (code, national length) must be possible: table
    # ``possible`` holds the code's length for each possible (first three digits, length)
    possible = "p.ccl IS NOT NULL AND substr(pc, p.ccl + 2, 1) <> '0'"
    nanp = region is not None and region.upper() in _NANP_REGIONS and _possible(1, 10**9)
    national = (
        "CASE WHEN regexp_full_match(pc, '[2-9][0-9]{9}') THEN 'phone:+1' || pc END" if nanp else "NULL"
    )
    if _phones_readable(region):
        phone = f"""
        SELECT s, CASE WHEN left(ps, 1) <> '+' THEN {national}
                WHEN regexp_full_match(pc, {_sql_text("[+]" + E164_DIGITS)}) AND ({possible})
                THEN 'phone:' || pc END AS key
        FROM ({_phone_texts("SELECT * FROM dv WHERE ascii AND kind = 'phone'")})
        LEFT JOIN possible p ON p.k = try_cast(substr(pc, 2, 3) AS INTEGER) * 32 + length(pc) - 1"""
    else:  # every phone fails on the region: Python says so
        phone = "SELECT s, NULL::VARCHAR AS key FROM dv WHERE ascii AND kind = 'phone'"
    platforms = " ".join(
        f"WHEN {_sql_text(name)} THEN {_sql_text(kind)}" for name, kind in sorted(HANDLE_KINDS.items())
    )
    rules = " ".join(
        f"WHEN {_sql_text(kind)} THEN regexp_full_match(hv, {_sql_text(_pattern_body(rule[0]))})"
        for kind, rule in sorted(_PATTERNS.items())
    )
    scope_ok = f"regexp_full_match(hs, {_sql_text(_pattern_body(_SCOPE))})"
    # the common spelling first: a platform's name in lower case, ":" and a valid id, nothing
    # around them; its key is the name's kind (scoped to the default scope) and the id
    names = {
        **{kind: kind for kind in _PATTERNS},
        **{n: k for n, k in HANDLE_KINDS.items() if k in _PATTERNS},
    }
    plain = "|".join(
        f"(?:{re.escape(name)}:{_pattern_body(_PATTERNS[kind][0])})" for name, kind in sorted(names.items())
    )
    named = " ".join(
        f"WHEN {_sql_text(name)} THEN {_sql_text(kind + ('@' + DEFAULT_SCOPE if kind in _SCOPED else '') + ':')}"
        for name, kind in sorted(names.items())
    )
    common = f"""
        SELECT s, CASE split_part(raw, ':', 1) {named} END || substr(raw, strpos(raw, ':') + 1) AS key
        FROM dv WHERE ascii AND kind = 'handle' AND regexp_full_match(raw, {_sql_text(plain)})"""
    # anything else: platform[@scope]:id, split at the first ":" and the head's first "@"
    # (the value may hold any character, the regex matches whenever there is a ":")
    split = r"(?s)^([^:@]*)(@?)([^:]*):(.*)$"
    handle = f"""
        SELECT s, CASE WHEN hc > 1 AND length(m.v) > 0 AND list_contains({_sql_list(_PATTERNS)}, hk)
                AND (CASE hk {rules} END) AND length(hv) <= 512
            THEN CASE WHEN m.at = '' AND NOT list_contains({_sql_list(_SCOPED)}, hk) THEN hk || ':' || hv
                      WHEN m.at = '' THEN hk || '@{DEFAULT_SCOPE}:' || hv
                      WHEN length(hs) > 0 AND {scope_ok} THEN hk || '@' || hs || ':' || hv END END AS key
        FROM (
            SELECT *, CASE lower(m.p) {platforms} ELSE lower(m.p) END AS hk,
                {_strip("m.v")} AS hv, {_strip("m.scope")} AS hs
            FROM (
                SELECT *, strpos(hx, ':') AS hc,
                    regexp_extract(hx, {_sql_text(split)}, ['p', 'at', 'scope', 'v']) AS m
                FROM (
                    SELECT *, {_strip("raw")} AS hx FROM dv
                    WHERE ascii AND kind = 'handle' AND NOT regexp_full_match(raw, {_sql_text(plain)}))))"""
    rest = """
        SELECT s, NULL::VARCHAR AS key FROM dv
        WHERE NOT ascii OR kind NOT IN ('email', 'phone', 'handle')"""
    return " UNION ALL ".join((email, phone, common, handle, rest))


@cache
def _code_of_prefix() -> dict[int, int]:
    """Each three-digit start of an E.164 number's digits → the length of its country calling
    code (codes are prefix-free: the first three digits name one code at most)."""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    return {head: len(str(code)) for code in COUNTRY_CODE_TO_REGION_CODE for head in _heads(code)}


def _trunk_sql(codes: list[str]) -> str | None:
    """A query over table ``trunk`` (``s``, country code ``cc``, national digits ``nat0``
    starting with 0) giving each number's key as ``phonenumbers.parse`` and omnicx's
    possible-length check give it, or NULL where that is no number (Python says why).

    It mirrors ``parse`` after the country code: the region's national prefix for parsing is
    stripped (``_maybe_strip_national_prefix_carrier_code``: not when the number fits the
    region's general pattern and what is left does not) when what is left has a length the
    region accepts (``_test_number_length``); a leading zero that stays is kept, as the
    Italian leading zero. Codes whose region transforms the prefix are left to Python.
    None when no code of ``codes`` can be answered.
    """
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import (
        ValidationResult,
        _test_number_length,
        region_code_for_country_code,
    )

    strip_ok = (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
    possible = (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY)
    prefix, viable, viable_rest, keeps, fits, handled = [], [], [], [], [], []
    for cc in codes:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            int(cc), region_code_for_country_code(int(cc))
        )
        if metadata is None or metadata.national_prefix_transform_rule:
            continue
        general = metadata.general_desc.national_number_pattern if metadata.general_desc else None
        lengths = {size: _test_number_length("0" * size, metadata) for size in range(18)}
        when = f"WHEN {_sql_text(cc)} THEN"
        npfp = metadata.national_prefix_for_parsing
        if npfp:
            prefix.append(f"{when} regexp_extract(nat0, {_sql_text('^(?:' + npfp + ')')})")
        if general:
            viable.append(f"{when} regexp_full_match(nat0, {_sql_text(general)})")
            viable_rest.append(f"{when} regexp_full_match(cand, {_sql_text(general)})")
        keeps.append(
            f"{when} length(stripped) IN ({', '.join(str(n) for n, r in lengths.items() if r in strip_ok) or 'NULL'})"
        )
        fits.append(
            f"{when} length(nat) IN ({', '.join(str(n) for n, r in lengths.items() if r in possible) or 'NULL'})"
        )
        handled.append(cc)
    if not handled:
        return None

    def case(branches: list[str], otherwise: str) -> str:
        return f"CASE cc {' '.join(branches)} ELSE {otherwise} END" if branches else otherwise

    return f"""
        SELECT s, CASE WHEN length(nat) BETWEEN 2 AND 17 AND {case(fits, "false")}
                  THEN 'phone:+' || cc || nat END AS key
        FROM (
            SELECT *, CASE WHEN NOT keep0 AND {case(keeps, "false")} THEN stripped ELSE nat0 END AS nat FROM (
                SELECT *, CASE WHEN keep0 THEN nat0 ELSE cand END AS stripped FROM (
                    SELECT *, length(m) = 0 OR ({case(viable, "false")} AND NOT {case(viable_rest, "false")}) AS keep0
                    FROM (
                        SELECT *, substr(nat0, length(m) + 1) AS cand FROM (
                            SELECT *, {case(prefix, "''")} AS m FROM trunk
                            WHERE cc IN ({", ".join(map(_sql_text, handled))}) AND length(nat0) >= 2)))))
    """


# --------------------------------------------------------------------------- SQL blocklist


def _blocklist_sql(policy: CompiledPolicy) -> tuple[str, frozenset[str] | None]:
    """A SQL condition on ``kind``, ``key`` and ``value`` that is the policy's blocklist verdict,
    and the kinds it cannot decide (a host's own patterns, which Python checks; None: every
    kind, for a host's own pattern for every kind).

    Exact values and host identifiers are plain comparisons. Patterns run as RE2 regexes with
    the case ignored, as the policy compiles them: the default patterns only, each as it is or
    as :data:`~omnicx.identity._policy.DEFAULT_PATTERNS_RE2` rewrites it; on ASCII values,
    where RE2 and Python's ``re`` read them alike. A kind with any other pattern is left to
    Python, and the condition holds no pattern of it.
    """
    default = {k: set(v) for k, v in DEFAULT_BLOCKLIST.patterns.items()}
    python = frozenset(
        kind
        for kind, patterns in policy.patterns.items()
        if any(p.pattern not in default.get(kind, ()) for p in patterns)
    )
    if "*" in python:
        return "NULL", None
    terms = [f"key IN (SELECT unnest({_sql_list(policy.host)}))"]
    for kind in sorted({*policy.exact, *policy.patterns} - python):
        exact = policy.exact.get(kind)
        patterns = policy.patterns.get(kind, ())
        parts = []
        if exact:
            parts.append(f"value IN (SELECT unnest({_sql_list(exact)}))")
        if patterns:
            joined = "|".join(f"(?:{DEFAULT_PATTERNS_RE2.get(p.pattern, p.pattern)})" for p in patterns)
            parts.append(f"regexp_full_match(value, {_sql_text(joined)}, 'i')")
        if parts:
            condition = " OR ".join(parts)
            terms.append(condition if kind == "*" else f"(kind = {_sql_text(kind)} AND ({condition}))")
    return " OR ".join(terms), python


class DuckDBResolver(BatchResolver):
    """``omnicx resolve``'s batch evaluation over a JSON Lines file read by DuckDB.

    :meth:`load` reads the file (or declines it); then :meth:`label_list`,
    :meth:`labels`, :meth:`write_csv`, :meth:`customer_count` and :meth:`shared_count`
    answer as :class:`~omnicx.cli._batch.BatchResolver` does.
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
        the values SQL leaves to Python while this process does the rest (for a command-line
        run). It is only forked from a process with one thread (on Linux, where that can be
        seen): forking a process whose other threads may hold a lock can hang the child.
        ``memory_mib``: DuckDB's memory limit; past it DuckDB spills to temporary files."""
        super().__init__(policy, region)
        import duckdb

        self._pool: Any = None
        if worker and _single_threaded():
            import multiprocessing

            context = multiprocessing.get_context("fork")
            self._pool = context.Pool(1, initializer=_worker_init, initargs=(region,))
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
            return self._decline(f"DuckDB failed: {_said(exc)}")

    def _load(self, path: Path) -> bool:
        import duckdb

        path = path.absolute()
        if any(char in str(path) for char in _GLOB):
            return self._decline(f"its path holds one of {_GLOB}, which DuckDB reads as a file name pattern")
        scanning = self._pool.apply_async(_scan, (path,)) if self._pool is not None else None
        if scanning is None and not _scan(path):
            return self._decline(_LENIENT)
        db = self._db
        columns = (
            "{'record_id': 'JSON', 'ts': 'VARCHAR', 'channel': 'JSON', "
            "'identifiers': 'STRUCT(type JSON, value JSON)[]'}"
        )
        # each record's id and time are read with the file (rowid is the line order)
        try:
            db.execute(
                f"""
                CREATE TABLE raw AS SELECT rid, channel, ts,
                    CASE WHEN rid IS NOT NULL AND identifiers IS NOT NULL AND regexp_full_match(ts, {_sql_text(_TS)})
                         THEN epoch_us(try_cast(ts AS TIMESTAMPTZ)) END AS at_us,
                    identifiers
                FROM (
                    SELECT CASE WHEN json_type(record_id) = 'VARCHAR' THEN record_id ->> '$' END AS rid,
                        channel, ts, identifiers
                    FROM read_json({_sql_text(str(path))}, format = 'newline_delimited', columns = {columns})
                )
                """
            )
        except duckdb.Error as exc:
            # not JSON Lines as DuckDB reads them: bad lines for the batch path to report
            return self._decline(f"DuckDB cannot read it as JSON Lines records ({_said(exc)})")
        if scanning is not None and not scanning.get():
            return self._decline(_LENIENT)
        # rowid is the line order from here on: no later table needs its rows in order
        db.execute("SET preserve_insertion_order = false")
        db.execute("CREATE TABLE recs AS SELECT rowid AS n, rid, channel, ts, at_us FROM raw")
        got = db.execute("SELECT count(*) FILTER (WHERE at_us IS NULL), count(*) FROM recs").fetchone()
        assert got is not None
        if got[0]:
            return self._decline(
                "a record has no record_id or identifiers, or a time not written as 2024-01-31T09:00:00Z "
                "or 2024-01-31T11:00:00+02:00"
            )
        self.records = int(got[1])
        # each identifier item; h, a hash of what the item says, lets the items find their
        # distinct value by one integer (checked free of collisions)
        db.execute(
            """
            CREATE TABLE item AS
            WITH e AS (
                SELECT rowid AS n, at_us, coalesce(channel = '"whatsapp"', false) AS wa,
                       unnest(identifiers) AS e, generate_subscripts(identifiers, 1) AS pos
                FROM raw
            ), v AS (
                SELECT n, at_us, pos,
                    CASE WHEN json_type(e.type) = 'VARCHAR' THEN e.type ->> '$' END AS kind,
                    CASE WHEN json_type(e.value) = 'VARCHAR' THEN e.value ->> '$' END AS raw,
                    wa AND coalesce(e.type = '"phone"', false) AS wa
                FROM e
            )
            SELECT *, CASE WHEN kind IS NOT NULL AND raw IS NOT NULL THEN hash(kind, raw, wa) END AS h FROM v
            """
        )
        db.execute("DROP TABLE raw")
        self._group()
        self._normalize()
        self._identify()
        return True

    def _upload(self, name: str, columns: dict[str, Any]) -> None:
        """Create table ``name`` from NumPy arrays of equal length (no copy through Python objects)."""
        view = f"{name}_upload"
        self._db.register(view, columns)
        try:
            self._db.execute(f"CREATE TABLE {name} AS SELECT * FROM {view}")
        finally:
            self._db.unregister(view)

    def _decline(self, reason: str) -> bool:
        self.declined = reason
        return False

    def _group(self) -> None:
        """Table ``dv``: each distinct raw value (per kind, and WhatsApp for phones) with its
        first position ``s`` and its fold group; table ``sk``: the key SQL gives it
        (NULL where Python must decide); view ``dvk``: both."""
        db = self._db
        # The fold groups of BatchResolver's caches: emails by their lower-cased ASCII text,
        # phones as fold_phone folds them (the FOLDABLE_PHONE spellings without spaces, dots
        # and dashes); non-ASCII text, whose folding SQL cannot reproduce, in finer groups
        # that BatchResolver.identifier folds itself.
        db.execute(
            f"""
            CREATE TABLE dv AS
            SELECT h, kind, raw, wa, s, ascii,
                CASE WHEN NOT ascii THEN raw
                     WHEN kind = 'email' THEN lower({_strip("raw")})
                     -- fold_phone: a FOLDABLE_PHONE text of more than two digits, without separators
                     WHEN kind = 'phone' THEN CASE WHEN regexp_full_match(pt, {_sql_text(FOLDABLE_PHONE)})
                         AND length(ltrim(pd, '+')) > 2 THEN pd ELSE pt END
                     ELSE raw END AS fold,
                CASE WHEN kind = 'phone' AND NOT ascii THEN 1 + wa::INTEGER ELSE 0 END AS side
            FROM (
                SELECT *, {_drop("pt", " -.")} AS pd FROM (
                    SELECT h, kind, raw, wa, min(n * 4294967296 + pos) AS s,
                        strlen(raw) = length(raw) AS ascii,
                        CASE WHEN kind = 'phone' THEN {_wa_plus("raw")} END AS pt
                    FROM item WHERE h IS NOT NULL GROUP BY h, kind, raw, wa
                )
            )
            """
        )
        ((clashes,),) = db.execute(
            "SELECT count(*) FROM (SELECT h FROM dv GROUP BY h HAVING count(*) > 1)"
        ).fetchall()
        self._by_hash = clashes == 0
        # the country codes the phones may start with: every digit string's first three digits
        heads = db.execute(
            "SELECT DISTINCT left(regexp_replace(raw, '[^0-9]', '', 'g'), 3) AS p FROM dv "
            "WHERE kind = 'phone' AND ascii"
        ).fetchall()
        code_of = _code_of_prefix()
        codes = {int(p[: code_of[int(p)]]) for (p,) in heads if len(p) == 3 and int(p) in code_of}
        if codes:
            shapes = [shape for code in sorted(codes) for shape in _possible_lengths(code)]
            db.execute(
                "CREATE TABLE possible AS SELECT unnest($1::INTEGER[]) AS k, unnest($2::INTEGER[]) AS ccl",
                [[k for k, _ in shapes], [c for _, c in shapes]],
            )
        else:
            db.execute("CREATE TABLE possible (k INTEGER, ccl INTEGER)")
        db.execute(f"CREATE TABLE sk AS {_normalizing_sql(self.region)}")
        db.execute("CREATE VIEW dvk AS SELECT dv.*, sk.key FROM dv JOIN sk USING (s)")
        db.execute("DROP TABLE possible")
        self._trunk_prefixes()

    def _trunk_prefixes(self) -> None:
        """Answer in SQL the ``+`` numbers whose national part starts with 0, written with a
        trunk prefix after the country code (``+44 (0) 7911 123456``), as ``phonenumbers.parse``
        reads them (see :func:`_trunk_sql`); Python answers the rest."""
        import duckdb

        if not _phones_readable(self.region):
            return  # every phone fails on the region
        db = self._db
        code_of = _code_of_prefix()
        db.execute(
            "CREATE TABLE cc3 AS SELECT unnest($1::INTEGER[]) AS p, unnest($2::INTEGER[]) AS ccl",
            [list(code_of), list(code_of.values())],
        )
        db.execute(
            f"""
            CREATE TABLE trunk AS SELECT s, left(substr(pc, 2), ccl) AS cc, substr(pc, ccl + 2) AS nat0 FROM (
                {_phone_texts("SELECT * FROM dvk WHERE kind = 'phone' AND ascii AND key IS NULL")}
            ) JOIN cc3 ON cc3.p = try_cast(substr(pc, 2, 3) AS INTEGER)
            WHERE left(ps, 1) = '+' AND length(ps) <= 250 AND regexp_full_match(pc, {_sql_text("[+]" + E164_DIGITS)})
                AND substr(pc, ccl + 2, 1) = '0' AND length(pc) >= ccl + 3
            """
        )
        codes = [c for (c,) in db.execute("SELECT DISTINCT cc FROM trunk ORDER BY cc").fetchall()]
        answer = _trunk_sql(codes)
        if answer is not None:
            # a region's pattern RE2 cannot read fails the query: Python answers them all. The
            # answers are a table first: a filter on the query itself is pushed into its nested
            # CASEs, one regex branch per code, and copies them (gigabytes at 50 codes)
            with contextlib.suppress(duckdb.Error):
                db.execute(f"CREATE TABLE trunk_key AS SELECT s, key FROM ({answer})")
                db.execute(
                    "UPDATE sk SET key = t.key FROM trunk_key t WHERE sk.s = t.s AND t.key IS NOT NULL"
                )
            db.execute("DROP TABLE IF EXISTS trunk_key")
        db.execute("DROP TABLE trunk")
        db.execute("DROP TABLE cc3")

    def _normalize(self) -> None:
        """Table ``dvx``: the key of every distinct raw value (NULL: unreadable).

        A value takes the answer of its fold group's first value in input order, as in
        BatchResolver's caches. Where SQL answers every value of a group, they all get the
        same key (the SQL rules read only what folding keeps), so those need no grouping;
        a group with a value SQL cannot answer takes its first value's answer, from SQL or
        from Python.
        """
        import numpy as np

        db = self._db
        db.execute(
            """
            CREATE TABLE ug AS
            WITH f AS (SELECT DISTINCT kind, fold, ascii, side FROM dvk WHERE key IS NULL),
            m AS (
                SELECT kind, fold, ascii, side, min(s) AS g FROM dvk JOIN f USING (kind, fold, ascii, side)
                GROUP BY kind, fold, ascii, side
            )
            SELECT m.kind, m.fold, m.ascii, m.side, m.g, d.raw AS rep, d.wa, d.key FROM m JOIN dvk d ON d.s = m.g
            """
        )
        rest = db.execute("SELECT g, kind, rep, wa, ascii FROM ug WHERE key IS NULL ORDER BY g").fetchall()
        got: list[str | None] = [None] * len(rest)
        direct = [
            i for i, (_, kind, _, _, ascii) in enumerate(rest) if ascii or kind not in ("email", "phone")
        ]
        texts = [_text(*rest[i][1:4]) for i in direct]
        half = len(direct) // 2 if self._pool is not None else 0
        helped = self._pool.apply_async(_normalize_many, (texts[:half],)) if half else None
        region = self.region
        for i, (kind, text) in zip(direct[half:], texts[half:], strict=True):
            answer = normalized_key(kind, text, region)
            got[i] = answer[0] if answer else None
        # non-ASCII emails and phones, in input order: BatchResolver's caches fold them
        keys = self.keys
        for i, (_, kind, raw, wa, ascii) in enumerate(rest):
            if not ascii and kind in ("email", "phone"):
                x = self.identifier(kind, raw, wa)
                got[i] = None if x < 0 else keys[x]
        if helped is not None:
            for i, key in zip(direct[:half], helped.get(), strict=True):
                got[i] = key
        self._upload(
            "py",
            {
                "g": np.array([g for g, *_ in rest], dtype=np.int64),
                "key": np.array(got, dtype=object),
            },
        )
        del rest, got, texts
        db.execute(
            """
            CREATE TABLE dvx AS
            SELECT d.h, d.kind, d.raw, d.wa,
                CASE WHEN u.g IS NULL THEN d.key ELSE coalesce(u.key, py.key) END AS key
            FROM dvk d LEFT JOIN ug u USING (kind, fold, ascii, side) LEFT JOIN py ON py.g = u.g
            """
        )
        db.execute("DROP VIEW dvk")
        for name in ("sk", "dv", "ug", "py"):
            db.execute(f"DROP TABLE {name}")

    def _identify(self) -> None:
        """Tables ``kx`` (every identifier: int ``x``, key, kind, blocked), ``ids`` (each record's
        identifiers with their positions), ``first`` (first instants) and ``pairs``."""
        import numpy as np

        db = self._db
        condition, python = _blocklist_sql(self.policy)
        decided = "false" if python is None else f"kind NOT IN (SELECT unnest({_sql_list(python)}))"
        # the blocklist's verdict in SQL where it can be given there (ASCII values); NULL: Python's
        db.execute(
            f"""
            CREATE TABLE kx0 AS
            SELECT key, kind, value,
                CASE WHEN strlen(value) = length(value) AND {decided} THEN ({condition})::BOOLEAN END AS blocked
            FROM (
                SELECT key, regexp_extract(key, '^[a-z][a-z0-9_]*') AS kind, substr(key, strpos(key, ':') + 1) AS value
                FROM (SELECT DISTINCT key FROM dvx WHERE key IS NOT NULL)
            )
            """
        )
        # the identifiers' ints: the rows' places in the new table (0 to n - 1), which a row
        # number over the whole table would give on one thread only
        db.execute("CREATE VIEW kx AS SELECT rowid AS x, key, kind, value, blocked FROM kx0")
        kinds = [k for (k,) in db.execute("SELECT DISTINCT kind FROM kx ORDER BY kind").fetchall()]
        rest = db.execute("SELECT x, kind, key, value FROM kx WHERE blocked IS NULL").fetchall()
        if rest:
            blocked = self.policy.is_blocked
            self._upload(
                "verdict",
                {
                    "x": np.array([x for x, *_ in rest], dtype=np.int64),
                    "b": np.array([blocked(kind, value, key) for _, kind, key, value in rest], dtype=bool),
                },
            )
            db.execute("UPDATE kx0 SET blocked = verdict.b FROM verdict WHERE kx0.rowid = verdict.x")
            db.execute("DROP TABLE verdict")
        del rest
        self.kinds = kinds
        self._kind_code = {k: i for i, k in enumerate(kinds)}
        # each record's identifiers with their positions; an identifier a record names twice
        # is there twice, which no later query minds
        on = "USING (h)" if self._by_hash else "USING (kind, raw, wa)"
        db.execute(
            f"CREATE TABLE ids AS SELECT n, x, pos, at_us FROM item JOIN (SELECT h, d.kind, raw, wa, x FROM dvx d "
            f"JOIN kx USING (key)) {on}"
        )
        db.execute("DROP TABLE dvx")
        ((bad,),) = db.execute("SELECT (SELECT count(*) FROM item) - (SELECT count(*) FROM ids)").fetchall()
        self.bad_identifiers = int(bad)
        db.execute("DROP TABLE item")
        db.execute("CREATE TABLE first AS SELECT x, min(at_us) AS at_us FROM ids GROUP BY x")
        db.execute(
            """
            CREATE TABLE pairs AS
            SELECT DISTINCT a.x AS lo, b.x AS hi FROM ids a JOIN ids b ON a.n = b.n AND a.x < b.x
            """
        )

    # ------------------------------------------------------------------ evaluation

    def _evaluate_sql(self) -> None:
        """Table ``cx``: the customer (canonical identifier) of every identifier that has one."""
        import numpy as np

        db = self._db
        policy = self.policy
        kinds = self.kinds
        qualifying = policy.min_assurance_rank <= 1
        # (a count over BIGINT's range is no limit: no table has so many rows)
        thresholds = [(k, _bigint(policy.threshold(k))) for k in kinds]
        db.execute("CREATE TABLE hot (x BIGINT)")
        if qualifying and any(t is not None for _, t in thresholds):
            db.execute(
                "CREATE TABLE thr AS SELECT unnest($1::VARCHAR[]) AS kind, unnest($2::BIGINT[]) AS t",
                [[k for k, t in thresholds if t is not None], [t for _, t in thresholds if t is not None]],
            )
            # quarantine: distinct non-blocked partners of each kind
            db.execute(
                """
                INSERT INTO hot
                WITH p AS (
                    SELECT p.lo, p.hi, a.kind AS ka, b.kind AS kb FROM pairs p
                    JOIN kx a ON a.x = p.lo JOIN kx b ON b.x = p.hi
                    WHERE NOT a.blocked AND NOT b.blocked
                ), c AS (SELECT lo AS x, kb AS kind FROM p UNION ALL SELECT hi AS x, ka AS kind FROM p)
                SELECT DISTINCT x FROM c JOIN thr USING (kind) GROUP BY x, kind, t HAVING count(*) > t
                """
            )
        db.execute("CREATE TABLE shared AS SELECT x FROM kx WHERE blocked UNION SELECT x FROM hot")
        empty = np.zeros(0, dtype=np.int64)
        lo, hi = empty, empty
        if qualifying:
            got = db.execute(
                """
                SELECT lo, hi FROM pairs
                WHERE lo NOT IN (SELECT x FROM shared) AND hi NOT IN (SELECT x FROM shared)
                """
            ).fetchnumpy()
            lo, hi = got["lo"].astype(np.int64), got["hi"].astype(np.int64)
            del got
        nodes, roots, edge_roots = _components(lo, hi)
        self._upload("lab", {"x": nodes, "r": roots})
        limit_by_code = self._limit_by_code()
        limits = [(k, _bigint(lim)) for k, lim in zip(kinds, limit_by_code, strict=True) if lim is not None]
        if len(lo) and limits:
            # components over a limit, replayed pair by pair in the canonical order
            broken = db.execute(
                """
                SELECT DISTINCT r FROM lab JOIN kx USING (x)
                JOIN (SELECT unnest($1::VARCHAR[]) AS kind, unnest($2::BIGINT[]) AS lim) USING (kind)
                GROUP BY r, kind, lim HAVING count(*) > lim
                """,
                [[k for k, _ in limits], [lim for _, lim in limits]],
            ).fetchall()
            if broken:
                roots_cut = [r for (r,) in broken]
                ((size,),) = db.execute("SELECT count(*) FROM kx").fetchall()
                forest = np.arange(size, dtype=np.int64)
                forest[nodes] = roots
                parent = forest.tolist()
                del forest
                find = finder(parent)
                self._upload("broken", {"r": np.array(roots_cut, dtype=np.int64)})
                codes = self._kind_code
                kind_of = {
                    x: codes[kind]
                    for x, kind in db.execute(
                        "SELECT x, kind FROM lab JOIN kx USING (x) WHERE r IN (SELECT r FROM broken)"
                    ).fetchall()
                }
                cut = np.isin(edge_roots, roots_cut)
                candidates = ((lo[cut] << _SHIFT) | hi[cut]).tolist()
                region = sorted(
                    self._replay(set(roots_cut), candidates, parent, find, kind_of, limit_by_code)
                )
                db.execute("DELETE FROM lab WHERE r IN (SELECT r FROM broken)")
                self._upload(
                    "relab",
                    {
                        "x": np.array(region, dtype=np.int64),
                        "r": np.array([find(x) for x in region], dtype=np.int64),
                    },
                )
                db.execute("INSERT INTO lab SELECT x, r FROM relab")
                for name in ("broken", "relab"):
                    db.execute(f"DROP TABLE {name}")
        del lo, hi, nodes, roots, edge_roots
        # the canonical (oldest) identifier of every customer; a singleton is its own
        db.execute(
            """
            CREATE TABLE cx AS
            WITH canon AS (
                SELECT r, arg_min(x, (f.at_us, k.key)) AS c FROM lab
                JOIN first f USING (x) JOIN kx k USING (x) GROUP BY r
            )
            SELECT k.x, coalesce(canon.c, k.x) AS c FROM kx k
            LEFT JOIN lab USING (x) LEFT JOIN canon USING (r)
            WHERE k.x NOT IN (SELECT x FROM shared)
            """
        )
        db.execute("DROP TABLE lab")

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
            timed AS (
                SELECT s.pk, s.n, r.at_us, r.ts, r.rid,
                    CASE WHEN json_type(r.channel) = 'VARCHAR' THEN r.channel ->> '$' END AS channel
                FROM seen s JOIN recs r USING (n)
            )
            SELECT pk, at_us, ts, channel, rid, ka.key, kb.key FROM timed
            JOIN kx ka ON ka.x = pk >> {_SHIFT} JOIN kx kb ON kb.x = pk & {_LOW}
            WHERE at_us = (SELECT min(t.at_us) FROM timed t WHERE t.pk = timed.pk)
            """,
            [pks],
        ).fetchall()
        best: dict[int, tuple[int, str]] = {}
        for pk, at_us, ts, channel, rid, a, b in rows:
            lid = link_id(a, b, aware_utc(datetime.fromisoformat(ts)), channel, rid)
            old = best.get(pk)
            if old is None or lid < old[1]:
                best[pk] = (at_us, lid)
        return [(at_us, lid, pk) for pk, (at_us, lid) in best.items()]

    def _label(self) -> None:
        """Tables ``named`` (each customer's id) and ``rc`` of :data:`_LABELS`: each record's
        customer (of its first identifier that is in a customer), by its canonical identifier."""
        if self._labelled:
            return
        db = self._db
        self._evaluate_sql()
        # The customer id: the birth id of its canonical identifier (Core.birth_id) in SQL.
        prefix = _sql_text(ID_PREFIX.decode("ascii"))
        db.execute(
            f"""
            CREATE TABLE named AS SELECT c, 'cus_' || left(sha256(
                {prefix} || k.key || chr(31) || f.at_us::VARCHAR
            ), 26) AS name
            FROM (SELECT DISTINCT c FROM cx) JOIN kx k ON k.x = c JOIN first f ON f.x = c
            """
        )
        db.execute("CREATE TABLE rc AS SELECT n, arg_min(c, pos) AS c FROM ids JOIN cx USING (x) GROUP BY n")
        self._labelled = True

    def evaluate(self) -> bool:
        """Resolve the records :meth:`load` read; False (see :attr:`declined`) when DuckDB fails
        (out of memory or disk for its temporary files, say) and the batch path must read the
        file instead."""
        import duckdb

        try:
            self._label()
        except duckdb.Error as exc:
            return self._decline(f"DuckDB failed: {_said(exc)}")
        return True

    def label_list(self) -> list[str]:
        self._label()
        return [name or "" for (_, name) in self._db.execute(_LABELS).fetchall()]

    def labels(self) -> Iterator[tuple[str, str]]:
        self._label()
        return ((rid, name or "") for rid, name in self._db.execute(_LABELS).fetchall())

    def customer_count(self) -> int:
        """How many customers the records name."""
        self._label()
        got = self._db.execute("SELECT count(DISTINCT c) FROM rc").fetchone()
        assert got is not None
        return int(got[0])

    def shared_count(self) -> int:
        """How many identifiers are blocklisted or quarantined."""
        self._label()
        got = self._db.execute("SELECT count(*) FROM shared").fetchone()
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
            import duckdb

            # every record id is written as it is: DuckDB writes the file
            # (COMPRESSION: a name ending in .gz or .zst is still a plain CSV, as on the batch path)
            try:
                db.execute(
                    f"COPY ({_LABELS}) TO {_sql_text(str(Path(out).absolute()))} "
                    "(FORMAT csv, HEADER true, QUOTE '\"', COMPRESSION 'none')"
                )
            except duckdb.IOException as exc:  # the path: a folder that is not there, say
                raise ConfigurationError(f"cannot write {out!r}: {_said(exc)}") from exc
            except duckdb.Error as exc:  # out of memory or disk while writing
                raise StorageError(f"DuckDB failed writing {out!r}: {_said(exc)}") from exc
            return
        if not isinstance(out, str):
            write_csv_rows(out, self.labels())
            return
        with open(out, "w", encoding="utf-8", newline="") as sink:
            write_csv_rows(sink, self.labels())


def _components(lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    """The connected components of the graph whose edges join ``lo[i]`` and ``hi[i]`` (NumPy int
    arrays): every node of an edge, the smallest node of its component, and the component of
    each edge (by that smallest node).

    Min-label propagation with pointer jumping, each round a few passes over the edges in
    NumPy: every edge lowers both its ends' labels to the smaller one, then every label is
    replaced by its label's label until none changes. At the fixed point both ends of every
    edge carry one label, the smallest node of their component.
    """
    import numpy as np

    # (the inverse's path of np.unique sorts; without it NumPy 2 hashes, several times slower here)
    nodes, inverse = np.unique(np.concatenate((lo, hi)), return_inverse=True)
    a, b = inverse[: len(lo)], inverse[len(lo) :]
    label = np.arange(len(nodes))
    while True:
        lowest = np.minimum(label[a], label[b])
        hooked = label.copy()
        np.minimum.at(hooked, a, lowest)
        np.minimum.at(hooked, b, lowest)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, label):
            return nodes, nodes[label], nodes[label[a]]
        label = hooked


def _single_threaded() -> bool:
    """True when this process runs one thread (threads of native libraries such as DuckDB count)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: nothing to tell it by
        return False


def _text(kind: str, raw: str, wa: bool) -> tuple[str, str]:
    """(kind, text to normalize) of a raw value: a WhatsApp wa_id gets its ``+``."""
    return kind, ("+" + raw if wa and kind == "phone" and raw.isdigit() else raw)


_WORKER: str | None = None


def _worker_init(region: str | None) -> None:
    global _WORKER
    _WORKER = region


def _normalize_many(texts: list[tuple[str, str]]) -> list[str | None]:
    """In the helper process: the key of each value, None when unreadable."""
    out = []
    for kind, text in texts:
        got = normalized_key(kind, text, _WORKER)
        out.append(got[0] if got else None)
    return out
