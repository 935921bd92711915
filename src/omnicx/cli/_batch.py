"""The batch path of ``omnicx resolve``: the canonical evaluation computed once, at the end.

:class:`~omnicx.cli._resolve.Resolver` feeds every record to the incremental
resolution core, which keeps the engine's bookkeeping up to date after each
record (link records with stable ids, pair verdicts, replays). A batch run only
needs the final partition, so :class:`BatchResolver` reads the records into flat
int arrays and evaluates the batch definition of
:mod:`omnicx.identity._core` once:

1. identifiers are ints; a raw value is normalized once (a per-kind cache maps
   each raw spelling to its int); the policy's blocklist is checked once per
   identifier;
2. each identifier keeps its first instant; each pair of identifiers seen
   together keeps its earliest link ``(at, link id)``; the SHA-256 link ids are
   computed only to break ties of equal times;
3. quarantine is a count of distinct non-blocked partners per kind over all pairs;
4. candidate pairs (both ends neither blocked nor quarantined) are united
   without constraints; a component that breaks no limit is exactly what the
   ordered evaluation gives (constraints are downward closed, so every merge on
   the way was acceptable); only components that break a limit or a unique kind
   are re-evaluated pair by pair in the canonical order;
5. a customer's id is the birth id of its oldest identifier.

The result is the same CSV as the incremental path (tests prove it on random
record sets); only the time and memory differ.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import IO, Any

from omnicx.errors import NormalizationError, ValidationError
from omnicx.identity import MergePolicy
from omnicx.identity._core import ASSURANCE_NAMES, birth_id, id_prefix
from omnicx.identity._core import link_id as core_link_id
from omnicx.identity._engine import DEFAULT_SALT
from omnicx.models._base import _aware_utc as aware_utc
from omnicx.normalize import normalize_platform_id
from omnicx.normalize._email import _normalize as _email_lru
from omnicx.normalize._phone import _cached as _phone_lru
from omnicx.normalize._platform import _PATTERNS, _SCOPE

__all__ = [
    "DEFAULT_SCOPE",
    "FOLDABLE_PHONE",
    "HANDLE_KINDS",
    "BatchResolver",
    "link_id",
    "normalized_key",
    "ID_PREFIX",
    "finder",
    "fold_phone",
    "unite",
    "write_csv_rows",
]

_orjson_loads: Callable[[str | bytes], Any] | None
try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is the optional ``fast`` extra
    _orjson_loads = None

HANDLE_KINDS = {
    "messenger": "messenger_psid",
    "instagram": "instagram_igsid",
    "chat": "chat_visitor",
    "webchat": "chat_visitor",
    "telegram": "telegram_user_id",
    "whatsapp": "whatsapp_bsuid",
}
"""Handle platform → identifier kind (other platforms are used as the kind itself)."""
DEFAULT_SCOPE = "default"
"""The scope given to a page-scoped handle written without ``@scope``."""

_email_uncached = _email_lru.__wrapped__
_phone_uncached = _phone_lru.__wrapped__
FOLDABLE_PHONE = r" *\+?[0-9]+(?:[ .-]+[0-9]+)* *"
"""The phone spellings that normalize as they do without their spaces, dots and dashes
(``+1 415-523 8886``, ``415.523.8886``), so that they may share one cache entry: ASCII digits
after an optional "+", in groups separated by spaces, dots and dashes. Anything else is read
as written: ``+1 415 523 8886 ; ext=12`` is no phone number where ``+14155238886;ext=12`` is
one, and an extension's dashes are digits' separators (a property test holds the rule)."""
_FOLDABLE_PHONE = re.compile(FOLDABLE_PHONE)
_PHONE_NOISE = str.maketrans("", "", " -.")


def fold_phone(text: str) -> str:
    """The cache entry a phone spelling shares with the spellings that normalize alike: without
    its spaces, dots and dashes when it is one of :data:`FOLDABLE_PHONE`, else itself."""
    if not _FOLDABLE_PHONE.fullmatch(text):
        return text
    compact = text.translate(_PHONE_NOISE)
    # two digits alone are a number to phonenumbers only unseparated ("01", not "0 1")
    return compact if len(compact) - (compact[0] == "+") > 2 else text


ID_PREFIX = id_prefix(DEFAULT_SALT)
"""The customer ids' digest prefix of ``omnicx resolve``, whose engine has the default salt."""
_SHIFT = 32
_LOW = (1 << _SHIFT) - 1
_RANK = 1
"""The assurance rank of a link observed in a record (``asserted``), as the incremental path uses."""


class BatchResolver:
    """Reads records into int arrays; ``labels()`` evaluates them once.

    Same interface as :class:`~omnicx.cli._resolve.Resolver`: ``identifier(kind,
    raw, whatsapp)``, ``add(record, line_no)``, ``labels()``, ``shared_count()``
    and the ``bad_identifiers`` / ``bad_lines`` counters.
    """

    def __init__(self, policy: MergePolicy, region: str | None = "US") -> None:
        self.policy = policy.compile()
        self.region = region
        self.record_ids: list[str] = []
        self.channels: list[str | None] = [None]
        self._channel_code: dict[str | None, int] = {None: 0}
        self.record_channel = array("I")
        self.rec_first = array("q")
        """Each record's first identifier (-1: none readable)."""
        self.multi: dict[int, tuple[int, ...]] = {}
        """The identifiers of each record that has more than one."""
        self.bad_identifiers = 0
        self.bad_lines = 0
        # identifiers
        self.index: dict[str, int] = {}
        self.keys: list[str] = []
        self.kind_of = array("I")
        self.kinds: list[str] = []
        self._kind_code: dict[str, int] = {}
        self.blocked = bytearray()
        self.first_at: list[Any] = []
        """Each identifier's first sighting time (a datetime; None before it is sighted). The
        DuckDB engine keeps epoch microseconds instead: both order sightings by instant."""
        # pair (lo << 32 | hi) → (at, record number) of its earliest link
        self.pairs: dict[int, tuple[datetime, int]] = {}
        # raw value → identifier int (-1: unreadable), one cache per kind of input
        self._email: dict[str, int] = {}
        self._phone: dict[str, int] = {}
        self._wa_phone: dict[str, int] = {}
        self._handle: dict[str, int] = {}
        self._other: dict[tuple[str, str], int] = {}
        self._caches = {"email": self._email, "phone": self._phone, "handle": self._handle}
        self._wa_caches = {"email": self._email, "phone": self._wa_phone, "handle": self._handle}
        self._folded: dict[str, dict[str, int]] = {"email": {}, "phone": {}, "handle": {}}
        self._hot = bytearray()

    # ------------------------------------------------------------------ identifiers

    def _intern(self, key: str, kind: str, blocked: bool | None = None) -> int:
        """The int of ``key``, a new one the first time; ``blocked``: the policy's verdict when known."""
        x = self.index.get(key)
        if x is None:
            x = len(self.keys)
            self.index[key] = x
            self.keys.append(key)
            code = self._kind_code.get(kind)
            if code is None:
                code = self._kind_code[kind] = len(self.kinds)
                self.kinds.append(kind)
            self.kind_of.append(code)
            self.blocked.append(
                self._is_blocked(kind, key.split(":", 1)[1], key) if blocked is None else blocked
            )
            self.first_at.append(None)
        return x

    def _is_blocked(self, kind: str, value: str, key: str) -> bool:
        """``CompiledPolicy.blocked(...) is not None``, with the kind's rules gathered once."""
        return self.policy.is_blocked(kind, value, key)

    def identifier(self, kind: Any, raw: Any, whatsapp: bool) -> int:
        """The int of a raw identifier, or -1 when it cannot be normalized (not counted here)."""
        if type(raw) is not str or type(kind) is not str:
            return -1
        if kind == "email":
            cache = self._email
        elif kind == "phone":
            cache = self._wa_phone if whatsapp else self._phone
        elif kind == "handle":
            cache = self._handle
        else:
            x = self._other.get((kind, raw))
            if x is None:
                got = normalized_key(kind, raw, self.region)
                x = -1 if got is None else self._intern(*got)
                self._other[(kind, raw)] = x
            return x
        x = cache.get(raw)
        if x is not None:
            return x
        # Spellings that normalize alike share a second-level entry, folded as
        # Resolver.identifier folds them: emails by their lower-cased ASCII text,
        # phones by fold_phone (a wa_id gets its "+" first).
        text = raw
        if kind == "email":
            folded = raw.strip().lower() if raw.isascii() else raw
        elif kind == "phone":
            if whatsapp and raw.isdigit():
                text = "+" + raw
            folded = fold_phone(text)
        else:
            folded = raw
        fcache = self._folded[kind]
        x = fcache.get(folded)
        if x is None:
            # The normalizers' own LRU caches are skipped: these two levels already
            # hold every value, and an LRU over a million distinct values only churns.
            got = normalized_key(kind, text, self.region)
            x = -1 if got is None else self._intern(*got)
            fcache[folded] = x
        cache[raw] = x
        return x

    # ------------------------------------------------------------------ records

    def add(self, record: Any, line_no: int) -> None:
        """Read one record (a decoded JSON object). Raises ValidationError when malformed."""
        try:
            rid = record["record_id"]
            ts = record["ts"]
            items = record["identifiers"]
            channel = record.get("channel")
            # in UTC, as IdentityEngine.observe records it: the offset a time is written
            # with changes no link id (and so no tie between links of one instant)
            at = aware_utc(datetime.fromisoformat(ts))
        except (TypeError, KeyError, ValueError, AttributeError):
            at = None
        if at is None or not isinstance(rid, str) or not isinstance(items, list):
            raise _malformed(record, line_no)
        if not isinstance(channel, str):
            channel = None
        code = self._channel_code.get(channel)
        if code is None:
            code = self._channel_code[channel] = len(self.channels)
            self.channels.append(channel)
        n = len(self.record_ids)
        self.record_ids.append(rid)
        self.record_channel.append(code)
        whatsapp = channel == "whatsapp"
        caches = self._wa_caches if whatsapp else self._caches
        ids: list[int] = []
        for item in items:
            try:
                kind = item["type"]
                raw = item["value"]
                cache = caches.get(kind)
                x = cache.get(raw) if cache is not None else None
                if x is None:
                    x = self.identifier(kind, raw, whatsapp)
            except (TypeError, KeyError):
                x = -1
            if x < 0:
                self.bad_identifiers += 1
            elif x not in ids:
                ids.append(x)
        if not ids:
            self.rec_first.append(-1)
            return
        first_at = self.first_at
        self.rec_first.append(ids[0])
        for x in ids:
            f = first_at[x]
            if f is None or at < f:
                first_at[x] = at
        if len(ids) > 1:
            self.multi[n] = tuple(ids)
            pairs = self.pairs
            for i in range(len(ids) - 1):
                a = ids[i]
                for b in ids[i + 1 :]:
                    pk = (a << _SHIFT | b) if a < b else (b << _SHIFT | a)
                    old = pairs.get(pk)
                    if (
                        old is None
                        or at < old[0]
                        or (
                            at == old[0]
                            and old[1] != n
                            and self._link_key(pk, n, at) < self._link_key(pk, old[1], old[0])
                        )
                    ):
                        pairs[pk] = (at, n)

    def feed(
        self,
        lines: Iterable[str | bytes],
        loads: Callable[[str | bytes], Any] | None,
        progress: Callable[[int, float], None] | None,
        every: int,
        start: float,
    ) -> int:
        """Decode and read every line; what ``_resolve._feed`` does with :meth:`add`, inlined.

        ``loads`` decodes a line; None: orjson when installed, with ``json.loads`` for
        what it refuses (see ``_resolve.json_loads``), else ``json.loads``.

        Blank lines are ignored; a line that is not JSON or not a record is counted in
        ``bad_lines`` (the first ten are reported on standard error). Returns the
        number of records read.
        """
        read = 0
        record_ids = self.record_ids
        add_rid = record_ids.append
        add_channel = self.record_channel.append
        add_first = self.rec_first.append
        channel_code = self._channel_code
        first_at = self.first_at
        pairs, multi = self.pairs, self.multi
        plain, wa = self._caches, self._wa_caches
        identifier = self.identifier
        parse_time = datetime.fromisoformat
        fast = slow = loads if loads is not None else json.loads
        if loads is None and _orjson_loads is not None:
            fast = _orjson_loads  # stricter than json.loads: what it refuses, json.loads decodes again
        bad = 0
        try:
            for line_no, line in enumerate(lines, 1):
                try:
                    record = fast(line)
                except (ValueError, RecursionError):
                    try:
                        record = slow(line)
                    except (
                        ValueError,
                        UnicodeDecodeError,
                        RecursionError,
                    ) as exc:  # json errors, deep nesting
                        if line.strip():  # blank lines are no records, and no errors
                            self._bad_line(line_no, exc)
                        continue
                try:
                    rid = record["record_id"]
                    items = record["identifiers"]
                    channel = record.get("channel")
                    at = parse_time(record["ts"])
                    if at.tzinfo is not UTC:  # in UTC, as add() reads it
                        at = aware_utc(at)
                except (TypeError, KeyError, ValueError, AttributeError):
                    at = None
                if at is None or not isinstance(rid, str) or not isinstance(items, list):
                    self._bad_line(line_no, _malformed(record, line_no))
                    continue
                if not isinstance(channel, str):
                    channel = None
                code = channel_code.get(channel)
                if code is None:
                    code = channel_code[channel] = len(self.channels)
                    self.channels.append(channel)
                n = len(record_ids)
                add_rid(rid)
                add_channel(code)
                whatsapp = channel == "whatsapp"
                caches = wa if whatsapp else plain
                read += 1
                if progress is not None and read % every == 0:
                    progress(read, time.perf_counter() - start)
                if len(items) == 1:  # most records: one identifier, nothing to link
                    try:
                        item = items[0]
                        kind = item["type"]
                        raw = item["value"]
                        cache = caches.get(kind)
                        x = cache.get(raw) if cache is not None else None
                        if x is None:
                            x = identifier(kind, raw, whatsapp)
                    except (TypeError, KeyError):
                        x = -1
                    if x < 0:
                        bad += 1
                        add_first(-1)
                        continue
                    add_first(x)
                    f = first_at[x]
                    if f is None or at < f:
                        first_at[x] = at
                    continue
                ids: list[int] = []
                for item in items:
                    try:
                        kind = item["type"]
                        raw = item["value"]
                        cache = caches.get(kind)
                        x = cache.get(raw) if cache is not None else None
                        if x is None:
                            x = identifier(kind, raw, whatsapp)
                    except (TypeError, KeyError):
                        x = -1
                    if x < 0:
                        bad += 1
                    elif x not in ids:
                        ids.append(x)
                if not ids:
                    add_first(-1)
                    continue
                add_first(ids[0])
                for x in ids:
                    f = first_at[x]
                    if f is None or at < f:
                        first_at[x] = at
                if len(ids) > 1:
                    multi[n] = tuple(ids)
                    for i in range(len(ids) - 1):
                        a = ids[i]
                        for b in ids[i + 1 :]:
                            pk = (a << _SHIFT | b) if a < b else (b << _SHIFT | a)
                            old = pairs.get(pk)
                            if (
                                old is None
                                or at < old[0]
                                or (
                                    at == old[0]
                                    and old[1] != n
                                    and self._link_key(pk, n, at) < self._link_key(pk, old[1], old[0])
                                )
                            ):
                                pairs[pk] = (at, n)
        finally:
            self.bad_identifiers += bad
        return read

    def _bad_line(self, line_no: int, exc: Exception) -> None:
        self.bad_lines += 1
        if self.bad_lines <= 10:
            print(f"omnicx resolve: skipped line {line_no}: {str(exc)[:200]}", file=sys.stderr)

    def _link_key(self, pk: int, n: int, at: datetime) -> str:
        """The id of the link of pair ``pk`` made by record ``n``."""
        return link_id(
            self.keys[pk >> _SHIFT],
            self.keys[pk & _LOW],
            at,
            self.channels[self.record_channel[n]],
            self.record_ids[n],
        )

    # ------------------------------------------------------------------ evaluation

    def _evaluate(self) -> list[int]:
        """Every identifier's customer: its canonical (oldest) identifier, or -1 when not a member."""
        size = len(self.keys)
        policy = self.policy
        blocked = self.blocked
        kind_of, kinds = self.kind_of, self.kinds
        qualifying = policy.min_assurance_rank <= _RANK
        pairs = self._pair_keys() if qualifying else ()
        # quarantine: distinct non-blocked partners per kind
        hot = bytearray(size)
        limit_of = [policy.threshold(k) for k in kinds]
        if any(t is not None for t in limit_of):
            nk = len(kinds)
            counts: dict[int, int] = {}
            get = counts.get
            for pk in pairs:
                a, b = pk >> _SHIFT, pk & _LOW
                if blocked[a] or blocked[b]:
                    continue
                ka, kb = kind_of[a], kind_of[b]
                if limit_of[kb] is not None:
                    c = a * nk + kb
                    counts[c] = get(c, 0) + 1
                if limit_of[ka] is not None:
                    c = b * nk + ka
                    counts[c] = get(c, 0) + 1
            for c, v in counts.items():
                x, kc = divmod(c, nk)
                t = limit_of[kc]
                if t is not None and v > t:
                    hot[x] = 1
        self._hot = hot
        candidates = [
            pk
            for pk in pairs
            if not (blocked[pk >> _SHIFT] or blocked[pk & _LOW] or hot[pk >> _SHIFT] or hot[pk & _LOW])
        ]
        nodes, roots = self._components(size, candidates)
        # the canonical (oldest) identifier of every customer
        first_at, keys = self.first_at, self.keys
        canon: dict[int, int] = {}
        for x, r in zip(nodes, roots, strict=True):
            old = canon.get(r)
            if old is None:
                canon[r] = x
            else:
                fx, fc = first_at[x], first_at[old]  # every identifier in a pair was sighted
                if fx < fc or (fx == fc and keys[x] < keys[old]):
                    canon[r] = x
        out = list(range(size))  # a singleton is its own canonical identifier
        for x, r in zip(nodes, roots, strict=True):
            out[x] = canon[r]
        for flags in (blocked, hot):
            x = flags.find(1)
            while x >= 0:
                out[x] = -1
                x = flags.find(1, x + 1)
        return out

    def _components(self, size: int, candidates: list[int]) -> tuple[list[int], list[int]]:
        """Unite the candidate pairs (``lo << 32 | hi``) of ``size`` identifiers: every identifier
        of a pair, and the root of its customer.

        The pairs are united without constraints (:func:`unite`); a component that breaks no
        limit is exactly what the ordered evaluation gives (constraints are downward closed, so
        every merge on the way was acceptable); only components that break a limit or a unique
        kind are re-evaluated pair by pair in the canonical order (:meth:`_replay`). An
        identifier in no candidate pair is a customer of its own: within every limit.
        """
        parent, find, nodes = unite(size, candidates)
        limit_by_code = self._limit_by_code()
        if candidates and any(v is not None for v in limit_by_code):
            kind_of = self.kind_of
            per: dict[tuple[int, int], int] = {}
            broken: set[int] = set()
            for x in nodes:
                lim = limit_by_code[kind_of[x]]
                if lim is None:
                    continue
                root = find(x)
                rk = (root, kind_of[x])
                v = per.get(rk, 0) + 1
                per[rk] = v
                if v > lim:
                    broken.add(root)
            if broken:
                self._replay(broken, candidates, parent, find, kind_of, limit_by_code)
        return nodes, [find(x) for x in nodes]

    def _limit_by_code(self) -> list[int | None]:
        """The policy's limit of each identifier kind, by kind code (None: no limit)."""
        limits = self.policy.limits
        return [limits.get(k) for k in self.kinds]

    def _replay(
        self,
        broken: set[int],
        candidates: list[int],
        parent: list[int],
        find: Callable[[int], int],
        kind_of: Sequence[int] | Mapping[int, int],
        limit_by_code: list[int | None],
    ) -> set[int]:
        """Re-evaluate the components rooted in ``broken`` pair by pair, earliest link first.

        ``kind_of`` gives the kind code of (at least) every identifier of those components.
        Returns the identifiers re-evaluated.
        """
        chosen: list[int] = []
        region: set[int] = set()
        for pk in candidates:
            a = pk >> _SHIFT
            if find(a) in broken:
                chosen.append(pk)
                region.add(a)
                region.add(pk & _LOW)
        for x in region:
            parent[x] = x
        todo = self._link_order(chosen)
        todo.sort()
        members: dict[int, list[int]] = {x: [x] for x in region}
        for _, _, pk in todo:
            a, b = pk >> _SHIFT, pk & _LOW
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            ma, mb = members[ra], members[rb]
            counts: dict[int, int] = {}
            ok = True
            for x in ma + mb:
                code = kind_of[x]
                lim = limit_by_code[code]
                if lim is not None:
                    v = counts.get(code, 0) + 1
                    counts[code] = v
                    if v > lim:
                        ok = False
                        break
            if not ok:
                continue
            if len(ma) < len(mb):
                ra, rb, ma, mb = rb, ra, mb, ma
            parent[rb] = ra
            ma.extend(mb)
            del members[rb]
        return region

    def _pair_keys(self) -> Iterable[int]:
        """Every pair of identifiers seen together (``lo << 32 | hi``), each once; iterable twice."""
        return self.pairs.keys()

    def _link_order(self, pks: list[int]) -> list[tuple[Any, str, int]]:
        """``(time, link id, pair)`` of each pair's earliest link: a replay's canonical order."""
        out = []
        for pk in pks:
            at, n = self.pairs[pk]
            out.append((at, self._link_key(pk, n, at), pk))
        return out

    def label_list(self) -> list[str]:
        """Every record's customer id, in input order ("" when it has no customer)."""
        customer = self._evaluate()
        customer.append(-1)  # answers the index -1 of a record without identifiers
        firsts = [customer[x] for x in self.rec_first]
        for n, ids in self.multi.items():
            if firsts[n] < 0:  # the first identifier is junk: the next member names the customer
                firsts[n] = next((customer[x] for x in ids if customer[x] >= 0), -1)
        # A customer's id is the birth id of its canonical identifier (Core.birth_id).
        keys, first_at = self.keys, self.first_at
        names = {-1: ""}
        for c in set(firsts):
            if c >= 0:
                names[c] = birth_id(ID_PREFIX, keys[c], first_at[c])
        return [names[c] for c in firsts]

    def labels(self) -> Iterator[tuple[str, str]]:
        """``(record_id, customer_id)`` per record, in input order ("" when it has no customer)."""
        return zip(self.record_ids, self.label_list(), strict=True)

    def shared_count(self) -> int:
        """How many identifiers are blocklisted or quarantined (after ``labels()``)."""
        return sum(1 for b, h in zip(self.blocked, self._hot, strict=False) if b or h)


def finder(parent: list[int]) -> Callable[[int], int]:
    """The ``find`` of a union-find forest given as its parent list (with path halving)."""

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    return find


def unite(size: int, pairs: Iterable[int]) -> tuple[list[int], Callable[[int], int], list[int]]:
    """Union-find over ``size`` identifiers joined by ``pairs`` (``lo << 32 | hi``).

    Returns the parent list, its ``find`` (with path halving) and every identifier of a
    pair, each once, in the order the pairs name them.
    """
    parent = list(range(size))
    find = finder(parent)
    linked: list[int] = []  # the identifiers of the pairs (repeats allowed)
    for pk in pairs:
        a, b = pk >> _SHIFT, pk & _LOW
        linked.append(a)
        linked.append(b)
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return parent, find, list(dict.fromkeys(linked))


def normalized_key(kind: str, text: str, region: str | None) -> tuple[str, str] | None:
    """``(key, kind)`` of one raw value, or None when it cannot be normalized.

    ``kind`` is the input's ``type``: ``email``, ``phone`` (``text`` with a WhatsApp
    wa_id's ``+`` already added), ``handle`` or an identifier kind. The normalizers'
    LRU caches are skipped: the callers keep every answer themselves.
    """
    try:
        if kind == "email":
            return "email:" + _email_uncached(text, True, False, False), "email"
        if kind == "phone":
            return "phone:" + _phone_uncached(text, region), "phone"
        if kind == "handle":
            return _handle_fast(text)
        ident = normalize_platform_id(kind, text)
        return ident.key, ident.kind
    except (NormalizationError, ValidationError):
        return None


def link_id(a: str, b: str, at: datetime, channel: str | None, record_id: str) -> str:
    """The id of the link between the keys ``a`` and ``b`` observed in a record at ``at``: the
    engine's (:func:`omnicx.identity._core.link_id`) for an observation with that evidence."""
    return core_link_id(a, b, "observed", ASSURANCE_NAMES[_RANK], at, (channel, record_id, None, None))


def write_csv_rows(sink: IO[str], rows: Iterable[tuple[str, str]]) -> None:
    """Write the ``record_id,customer_id`` header and ``rows`` as ``omnicx resolve``'s CSV."""
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(("record_id", "customer_id"))
    writer.writerows(rows)


def _handle(raw: str) -> tuple[str, str]:
    head, sep, value = raw.strip().partition(":")
    if not sep or not head or not value:
        raise ValidationError(f"handle {raw[:80]!r}: write it as platform:id, e.g. messenger:1234", value=raw)
    platform, at, scope = head.partition("@")
    kind = HANDLE_KINDS.get(platform.lower(), platform.lower())
    if kind in ("messenger_psid", "instagram_igsid") and not at:
        scope = DEFAULT_SCOPE
    ident = normalize_platform_id(kind, value, scope if (at or scope) else None)
    return ident.key, ident.kind


_SCOPED = frozenset({"messenger_psid", "instagram_igsid"})


def _handle_fast(raw: str) -> tuple[str, str]:
    """``_handle`` without building a pydantic Identifier, for the platforms whose
    value pattern (``omnicx.normalize._platform``) already guarantees a valid one;
    anything unusual goes through ``_handle``. Returns (key, kind)."""
    head, sep, value = raw.strip().partition(":")
    platform, at, scope = head.partition("@")
    lowered = platform.lower()
    kind = HANDLE_KINDS.get(lowered, lowered)
    rule = _PATTERNS.get(kind)
    if sep and head and value and rule is not None:
        value = value.strip()
        if not at and kind in _SCOPED:
            scope = DEFAULT_SCOPE
        if rule[0].match(value) and len(value) <= 512:
            if not scope and not at and kind not in _SCOPED:
                return f"{kind}:{value}", kind
            scope = scope.strip()
            if scope and _SCOPE.match(scope):
                return f"{kind}@{scope}:{value}", kind
    return _handle(raw)


def _malformed(record: Any, line_no: int) -> ValidationError:
    return ValidationError(
        f"line {line_no}: needs record_id (string), ts (ISO-8601 with a zone) and identifiers (list)",
        value=repr(record)[:200],
    )
