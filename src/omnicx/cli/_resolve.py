"""Resolve a JSON Lines file of interaction records into customers (one CSV row per record).

Each input line is ``{"record_id": "...", "ts": "ISO-8601", "channel": "...",
"identifiers": [{"type": "email" | "phone" | "handle" | <kind>, "value": "raw value"}]}``.
Identifiers of one record are observed together. A handle is ``<platform>:<id>``
(``messenger:1234``, ``chat:abc``) or ``<platform>@<scope>:<id>``. Output: CSV with
header ``record_id,customer_id``; ``customer_id`` is empty when none of the record's
identifiers can name a customer (all junk, quarantined or unreadable).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import os
import re
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import attrs

from omnicx.cli import _duckdb
from omnicx.cli._batch import BatchResolver, _handle, _orjson_loads, fold_phone, write_csv_rows
from omnicx.errors import ConfigurationError, NormalizationError, ValidationError
from omnicx.identity import Blocklist, MergePolicy
from omnicx.identity._core import MEMBER, Core
from omnicx.identity._engine import DEFAULT_SALT
from omnicx.models._base import _aware_utc as aware_utc
from omnicx.normalize import normalize_email, normalize_phone, normalize_platform_id

__all__ = ["HELP", "Outcome", "RecordSink", "Resolver", "configure", "json_loads", "resolve_file", "run"]

HELP = "resolve JSONL interaction records into customers (CSV out)"

_ONES = [[1] * n for n in range(64)]


class RecordSink(Protocol):
    """What :func:`resolve_stream` feeds: :class:`Resolver` or :class:`~omnicx.cli._batch.BatchResolver`."""

    bad_lines: int

    def add(self, record: Any, line_no: int) -> None: ...


def json_loads() -> Callable[[str | bytes], Any]:
    """The JSON decoder for input lines: orjson when installed (``omnicx[fast]``), else ``json.loads``.

    orjson is stricter than the standard library (it refuses ``NaN``, lone surrogate
    escapes, a byte-order mark, UTF-16 input): a line it refuses is decoded again by
    ``json.loads``, so both give the same records and the same errors. The one
    difference left: an integer beyond 64 bits comes back as a float, and resolve
    reads no numbers (an identifier value that is a number is unreadable either way).
    """
    if _orjson_loads is None:  # pragma: no cover - orjson is the optional ``fast`` extra
        return json.loads
    fast = _orjson_loads
    slow = json.loads

    def loads(line: str | bytes) -> Any:
        try:
            return fast(line)
        except ValueError:
            return slow(line)

    return loads


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the ``resolve`` arguments."""
    parser.add_argument("input", help="JSON Lines file of records ('-' reads standard input)")
    parser.add_argument(
        "--output", "-o", required=True, help="CSV file to write ('-' writes standard output)"
    )
    parser.add_argument("--policy", help="merge policy file (.json or .toml); the defaults otherwise")
    parser.add_argument(
        "--blocklist",
        help="file of junk identifier values, one raw value per line, added to the policy's blocklist",
    )
    parser.add_argument(
        "--region",
        default="US",
        help=(
            "region for national phone numbers such as (415) 555-0123, in the input and in a policy "
            "that sets no phone_region (default US; 'none' refuses them)"
        ),
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "python"),
        default="auto",
        help="auto: DuckDB reads the file when omnicx[fast] is installed and the file allows it (same CSV); "
        "python: always read it line by line",
    )
    parser.add_argument("--progress-every", type=int, default=100_000, help="report progress every N records")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress or summary on standard error")


class Resolver:
    """Streams records into a resolution core; the engine without the ledger objects.

    ``add(record)`` observes one parsed record; ``labels()`` yields
    ``(record_id, customer_id or "")`` in input order once everything is in.
    """

    def __init__(self, policy: MergePolicy, region: str | None = "US") -> None:
        self.core = Core(policy.compile(), DEFAULT_SALT)
        self.region = region
        self.record_ids: list[str] = []
        self.offsets = array("q", [0])
        self.flat = array("q")
        self.bad_identifiers = 0
        self.bad_lines = 0
        self.cache_size = 1 << 18
        self._cache: dict[tuple[str, str], tuple[str, str] | None] = {}

    def identifier(self, kind: str, raw: str, whatsapp: bool) -> tuple[str, str] | None:
        """(key, kind) of a raw identifier, or None when it cannot be normalized (counted)."""
        # Spellings that normalize alike share a cache entry: emails by their lower-cased
        # ASCII text, phones by fold_phone (without separators that normalization ignores).
        if type(raw) is not str or type(kind) is not str:
            return None
        # A WhatsApp wa_id is digits without "+": the "+" is decided on the raw text,
        # before folding (folding first would let "206 923 2474" borrow the answer of
        # "2069232474", an international number, whichever came first).
        if kind == "email":
            folded = raw.strip().lower() if raw.isascii() else raw
        elif kind == "phone":
            if whatsapp and raw.isdigit():
                raw = "+" + raw
            folded = fold_phone(raw)
        else:
            folded = raw
        cache_key = (kind, folded)
        hit = self._cache.get(cache_key, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        out: tuple[str, str] | None
        try:
            if kind == "email":
                out = "email:" + normalize_email(raw), "email"
            elif kind == "phone":
                out = "phone:" + normalize_phone(raw, region=self.region), "phone"
            elif kind == "handle":
                out = _handle(raw)
            else:
                ident = normalize_platform_id(kind, raw)
                out = ident.key, ident.kind
        except (NormalizationError, ValidationError):
            out = None
        if len(self._cache) >= self.cache_size:
            self._cache.clear()  # bounded memory; repeated values refill it at once
        self._cache[cache_key] = out
        return out

    def add(self, record: Any, line_no: int) -> None:
        """Observe one record (a decoded JSON object). Raises ValidationError when malformed."""
        try:
            rid = record["record_id"]
            ts = record["ts"]
            items = record["identifiers"]
            channel = record.get("channel")
            at = aware_utc(datetime.fromisoformat(ts))  # in UTC, as IdentityEngine.observe records it
        except (TypeError, KeyError, ValueError, AttributeError):
            at = None
        if at is None or not isinstance(rid, str) or not isinstance(items, list):
            raise ValidationError(
                f"line {line_no}: needs record_id (string), ts (ISO-8601 with a zone) and identifiers (list)",
                value=repr(record)[:200],
            )
        whatsapp = channel == "whatsapp"
        keys: list[str] = []
        kinds: list[str] = []
        identifier = self.identifier
        for item in items:
            try:
                got = identifier(item["type"], item["value"], whatsapp)
            except (TypeError, KeyError):
                got = None
            if got is None:
                self.bad_identifiers += 1
            elif got[0] not in keys:
                keys.append(got[0])
                kinds.append(got[1])
        self.record_ids.append(rid)
        if keys:
            core = self.core
            ev = (channel if isinstance(channel, str) else None, rid, None, None)
            ids, _, touched, hot = core.observe(keys, kinds, _ONES[len(keys)], at, ev)
            if touched or hot:
                core.settle(touched, hot)
            self.flat.extend(ids)
        self.offsets.append(len(self.flat))

    def shared_count(self) -> int:
        """How many identifiers are blocklisted or quarantined."""
        core = self.core
        return sum(1 for x, key in enumerate(core.keys) if key is not None and core.flag[x] != MEMBER)

    def labels(self) -> Iterator[tuple[str, str]]:
        """``(record_id, customer_id)`` per record, in input order ("" when it has no customer)."""
        core = self.core
        flag, find = core.flag, core.find
        names: dict[int, str] = {}
        flat, offsets = self.flat, self.offsets
        for n, rid in enumerate(self.record_ids):
            label = ""
            for i in range(offsets[n], offsets[n + 1]):
                x = flat[i]
                if flag[x] == MEMBER:
                    root = find(x)
                    label = names.get(root) or names.setdefault(root, core.birth_id(core.canon_of(root)))
                    break
            yield rid, label


_COMMENT = re.compile(r"(?:^|\s)#.*")
"""A ``#`` comment: a whole line, or after a space (an email may hold ``#``, not a space)."""
_URI_KIND = {"mailto": "email", "tel": "phone", "sms": "phone", "callto": "phone"}
"""URI schemes a blocklist line may be written with, and the kind each names."""


def _kind_of_line(text: str) -> str:
    """The kind a blocklist line names: a URI's (``whatsapp:`` and ``wa:`` before a number
    too), else an email (an ``@``, no ``:``), a handle (``platform:id``) or a phone."""
    scheme, _, rest = text.partition(":")
    uri = _URI_KIND.get(scheme.lower()) if rest else None
    if uri is not None:
        return uri
    if scheme.lower() in ("whatsapp", "wa") and rest.strip()[:1] in ("+", *"0123456789"):
        return "phone"  # whatsapp:+14155238886, as normalize_phone reads it (not a BSUID handle)
    if "@" in text and ":" not in text:
        return "email"
    if ":" in text and not text[:1].isdigit() and not text.startswith("+"):
        return "handle"
    return "phone"


def load_blocklist(path: str, resolver: Resolver) -> Blocklist:
    """Read a blocklist file: one raw value per line (an email, a phone or a handle, each as a
    record's identifier may spell it, ``mailto:`` and ``tel:`` URIs included); ``#`` starts a
    comment, on its own line or after a space; a byte-order mark is ignored.

    A handle is blocked on every page or account: the scope of ``messenger@page:123`` is not
    part of the match (blocklists compare an identifier's value, see
    :class:`~omnicx.identity.Blocklist`).

    Raises ConfigurationError when the file cannot be read, naming the first line that is no
    email, phone number or handle (a value that blocks nothing is a mistake to report, not
    to skip).
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the blocklist {path!r}: {exc}") from exc
    exact: dict[str, list[str]] = {}
    for line_no, line in enumerate(lines, 1):
        text = _COMMENT.sub("", line).strip()
        if not text:
            continue
        kind = _kind_of_line(text)
        got = resolver.identifier(kind, text, False)
        if got is None:
            raise ConfigurationError(
                f"blocklist {path!r}, line {line_no}: {text!r} is no {kind} omnicx can read"
                + (" (phone numbers are read with --region)" if kind == "phone" else "")
            )
        key, real_kind = got
        exact.setdefault(real_kind, []).append(key.split(":", 1)[1])
    return Blocklist(exact={k: tuple(v) for k, v in exact.items()})


def _open_in(path: str) -> IO[bytes]:
    """The input as bytes: each line is decoded by ``json.loads``, so a line that is not
    UTF-8 is skipped and reported like any other bad line."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path!r}: {exc}") from exc


def _same_file(source: str, output: str) -> bool:
    """True when ``output`` names the file ``source`` names (a link to it included)."""
    if "-" in (source, output):
        return False
    try:
        return os.path.samefile(source, output)
    except OSError:  # either does not exist (yet)
        return False


def _open_out(path: str) -> IO[str]:
    try:
        return open(path, "w", encoding="utf-8", errors="backslashreplace", newline="")
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path!r}: {exc}") from exc


def _check_writable(path: str) -> None:
    """Raise ConfigurationError now when ``path`` cannot be written. An existing file keeps its
    content until the CSV is written (an error before that leaves it as it was); a file this
    check creates is removed again."""
    existed = os.path.lexists(path)
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path!r}: {exc}") from exc
    if not existed:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    """The CSV's text stream: the file ``path``, or standard output for ``-``.

    Either way UTF-8, and a record id with a lone surrogate (an escape ``json.loads`` takes)
    is written backslash-escaped, not refused by the stream halfway through the file.
    """
    if path != "-":
        with _open_out(path) as sink:
            yield sink
        return
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream put in place of standard output
        yield sys.stdout
        return
    sys.stdout.flush()
    sink = io.TextIOWrapper(buffer, encoding="utf-8", errors="backslashreplace", newline="")
    try:
        yield sink
    finally:
        sink.flush()
        sink.detach()  # standard output stays open


def resolve_stream(
    lines: Iterable[str | bytes],
    resolver: RecordSink,
    progress: Callable[[int, float], None] | None = None,
    every: int = 100_000,
    loads: Callable[[str | bytes], Any] | None = None,
) -> int:
    """Feed every line of ``lines`` to ``resolver``; returns the number of records read.

    ``loads`` decodes a line (default: :func:`json_loads`).
    """
    start = time.perf_counter()
    n = 0
    # The engine builds millions of small objects and no reference cycles: the cyclic
    # garbage collector would only rescan them (about a fifth of the run time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if isinstance(resolver, BatchResolver):
            n = resolver.feed(lines, loads, progress, every, start)
        else:
            n = _feed(lines, resolver, loads or json_loads(), progress, every, start)
    finally:
        if collecting:
            gc.enable()
    return n


def _feed(
    lines: Iterable[str | bytes],
    resolver: RecordSink,
    loads: Callable[[str | bytes], Any],
    progress: Callable[[int, float], None] | None,
    every: int,
    start: float,
) -> int:
    n = 0
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
            resolver.add(record, line_no)
        except (
            ValueError,
            UnicodeDecodeError,
            RecursionError,
        ) as exc:  # json errors, deep nesting, ValidationError
            resolver.bad_lines += 1
            if resolver.bad_lines <= 10:
                print(f"omnicx resolve: skipped line {line_no}: {str(exc)[:200]}", file=sys.stderr)
            continue
        n += 1
        if progress is not None and n % every == 0:
            progress(n, time.perf_counter() - start)
    return n


@attrs.frozen
class Outcome:
    """What one ``omnicx resolve`` run did."""

    records: int
    customers: int
    shared: int
    """Identifiers blocklisted or quarantined."""
    unreadable: int
    """Identifiers dropped because they could not be normalized."""
    bad_lines: int
    engine: str
    """``duckdb`` or ``python`` (the standard library's ``json`` and the batch path)."""


def resolve_file(
    source: str,
    output: str,
    policy: MergePolicy,
    region: str | None = "US",
    *,
    engine: str = "auto",
    progress: Callable[[int, float], None] | None = None,
    every: int = 100_000,
    worker: bool = True,
) -> Outcome:
    """Resolve the JSON Lines file ``source`` (``-``: standard input) into the CSV ``output``.

    ``engine="auto"`` reads a file with DuckDB when it is installed (``omnicx[fast]``)
    and the file is one DuckDB reads exactly as ``json.loads`` does (see
    :mod:`omnicx.cli._duckdb`); otherwise, and with ``engine="python"``, the batch path
    reads it line by line. Both write the same CSV (but for a line nested more deeply than
    ``json.loads`` decodes: a bad line here, a record for DuckDB). ``worker``: for a file of at least
    ``omnicx.cli._duckdb.HELPER_BYTES``, DuckDB's reading forks one helper process (see
    :class:`~omnicx.cli._duckdb.DuckDBResolver`).
    """
    start = time.perf_counter()
    if engine not in ("auto", "python"):
        raise ConfigurationError(f"--engine must be auto or python, got {engine!r}")
    if _same_file(source, output):
        raise ConfigurationError(
            f"--output {output!r} is the input file: the CSV would overwrite the records"
        )
    policy.compile()  # a policy that cannot be compiled fails here, before any output is touched
    if output != "-":
        _check_writable(output)  # fails now, not after the whole input was read
    if engine == "auto" and source != "-" and _duckdb.available() and Path(source).is_file():
        collecting = gc.isenabled()
        gc.disable()  # millions of small objects and no reference cycles, as in resolve_stream
        try:
            helper = worker and Path(source).stat().st_size >= _duckdb.HELPER_BYTES
            with _duckdb.DuckDBResolver(policy, region, worker=helper) as fast:
                if fast.load(source) and fast.evaluate():
                    if progress is not None:
                        progress(fast.records, time.perf_counter() - start)
                    if output == "-":
                        with _output(output) as sink:
                            fast.write_csv(sink)
                    else:
                        fast.write_csv(output)
                    return Outcome(
                        fast.records,
                        fast.customer_count(),
                        fast.shared_count(),
                        fast.bad_identifiers,
                        0,
                        "duckdb",
                    )
                if progress is not None:
                    print(f"omnicx resolve: reading line by line, as {fast.declined}", file=sys.stderr)
        finally:
            if collecting:
                gc.enable()
    resolver = BatchResolver(policy, region)
    stream = _open_in(source)
    try:
        n = resolve_stream(stream, resolver, progress, every)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    labels = resolver.label_list()
    customers = set(labels)
    customers.discard("")
    with _output(output) as sink:
        write_csv_rows(sink, zip(resolver.record_ids, labels, strict=True))
    return Outcome(
        n, len(customers), resolver.shared_count(), resolver.bad_identifiers, resolver.bad_lines, "python"
    )


def run(args: argparse.Namespace) -> int:
    """The ``resolve`` command. Returns 0, or 1 when the input had lines and none was a record."""
    policy = MergePolicy.from_file(args.policy) if args.policy else MergePolicy()
    region = None if str(args.region).lower() == "none" else args.region
    if region is not None:
        try:
            normalize_phone("+14155550100", region=region)
        except NormalizationError as exc:
            raise ConfigurationError(f"--region: {exc}") from exc
    if "phone_region" not in policy.model_fields_set:  # the policy's national phones: --region's
        policy = MergePolicy.model_validate({**policy.model_dump(), "phone_region": region})
    if args.blocklist:
        extra = load_blocklist(args.blocklist, Resolver(MergePolicy(), region))
        policy = policy.model_copy(update={"blocklist": policy.blocklist.merged(extra)})
    quiet = bool(args.quiet)

    def progress(n: int, elapsed: float) -> None:
        print(f"omnicx resolve: {n:,} records, {n / elapsed:,.0f} records/s", file=sys.stderr, flush=True)

    start = time.perf_counter()
    done = resolve_file(
        args.input,
        args.output,
        policy,
        region,
        engine=args.engine,
        progress=None if quiet else progress,
        every=max(1, args.progress_every),
    )
    if not quiet:
        elapsed = time.perf_counter() - start
        print(
            f"omnicx resolve: {done.records:,} records → {done.customers:,} customers in {elapsed:.1f} s "
            f"({done.records / elapsed if elapsed else 0:,.0f} records/s, {done.engine}); {done.shared:,} "
            f"shared identifiers (blocklisted or quarantined); {done.unreadable:,} unreadable identifiers "
            f"dropped; {done.bad_lines:,} bad lines skipped",
            file=sys.stderr,
        )
    return 0 if done.records or not done.bad_lines else 1
