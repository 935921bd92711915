"""The resolution core: identifiers as ints, union-find, canonical evaluation.

Plain Python structures only (no pydantic): this is the hot path.

**Semantics** (the batch definition the incremental code must reproduce).
Identifiers are nodes; every pair of identifiers with at least one link is a
*pair*. A pair is a *candidate* when it has an active link of sufficient
assurance (not ``suggested``) and neither end is blocklisted or quarantined.
Quarantine ("hot") is a count over the whole ledger: an identifier whose
candidate-grade neighbours include more distinct identifiers of some kind than
the policy's threshold for that kind. Candidate pairs are evaluated in the
canonical order of their earliest qualifying link ``(at, link id)``: a pair whose
ends are already one customer is admitted; otherwise it merges the two
customers unless the merged customer would break a limit, a unique kind or a
never-link rule, in which case it is refused. Customers are the resulting
components; a customer's id is the birth id of its oldest identifier (earliest
first sighting, ties by the identifier's key).

**Incremental equals batch.** Merge constraints are downward closed (a subset of
an acceptable customer is acceptable), so: a link inside one customer changes
nothing; a link whose merged customer is acceptable merges whatever its time; a
refused link changes nothing when it is newer than every union that built the two
customers (``cmax``). Every other change (an older link that would now be refused,
a quarantine, a revocation, a never-link inside a customer, an erasure) replays the
canonical evaluation of the affected *candidate closure* (the identifiers reachable
through candidate pairs), which is exactly what a batch rebuild computes there,
because evaluation never looks outside a candidate closure.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs

from omnicx.errors import ValidationError
from omnicx.identity._ledger import entry_id, evidence_text
from omnicx.identity._policy import CompiledPolicy

__all__ = [
    "Core",
    "Ev",
    "LinkRec",
    "NeverRec",
    "Pair",
    "birth_id",
    "evidence_string",
    "id_prefix",
    "salt_bytes",
    "tombstone",
]

Ev = tuple[str | None, str | None, str | None, str | None]
"""Evidence as (channel, dedupe_key, actor, reason)."""
OrderKey = tuple[datetime, "LinkRec"]
"""A pair's place in the canonical order: the time and the link (which orders by its id)."""

# identifier flags
MEMBER, BLOCKED, HOT, ERASED = 0, 1, 2, 3

ASSURANCE_NAMES = ("inferred", "asserted", "verified")
"""Assurance by rank (see :attr:`omnicx.models.Assurance.rank`)."""

# pair statuses
ADMITTED = "admitted"
SUGGESTION = "suggestion"
BLOCKED_S = "blocked"
QUARANTINED = "quarantined"
LIMIT = "limit"
UNIQUE = "unique"
NEVER = "never_link"
INACTIVE = "inactive"
REFUSED = frozenset({BLOCKED_S, QUARANTINED, LIMIT, UNIQUE, NEVER})
CONSTRAINT = frozenset({LIMIT, UNIQUE, NEVER})


def evidence_string(ev: Ev) -> str:
    """The evidence part of a stable entry id (as :mod:`omnicx.identity._ledger` builds it)."""
    a, b, c, d = ev
    joined = f"{a or ''}|{b or ''}|{c or ''}|{d or ''}"
    if joined.count("|") == 3 and "\\" not in joined:  # nothing to escape: most evidence
        return joined
    return evidence_text(ev)


@attrs.define(slots=True, eq=False)
class LinkRec:
    """One ledger link, by identifier ints (``ka`` and ``kb``: the keys of ``a`` and ``b``).

    A link the core derives itself (an observation) is created without its id
    (``id=None``): the id is its SHA-256 over the link's facts (:func:`link_id`), and
    most links are never asked for it, so :attr:`id` computes it on first use. Links
    order by id (the tie-break of the canonical order), computed as needed.
    """

    _id: str | None
    a: int
    b: int
    at: datetime
    kind: str
    rank: int
    assurance: str
    ev: Ev
    ka: str
    kb: str
    active: bool = True
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoked_ev: Ev | None = None

    @property
    def id(self) -> str:
        """The link's entry id (given, or computed from its facts once)."""
        lid = self._id
        if lid is None:
            lid = self._id = link_id(self.ka, self.kb, self.kind, self.assurance, self.at, self.ev)
        return lid

    @property
    def natural(self) -> bool:
        """True when the id is the one its facts give (not an id a ledger entry brought)."""
        return self._id is None or self._id == link_id(
            self.ka, self.kb, self.kind, self.assurance, self.at, self.ev
        )

    def facts(self) -> Facts:
        """What the id of a link the core derives is a function of, as a dict key (see :data:`Facts`)."""
        a, b = (self.a, self.b) if self.a < self.b else (self.b, self.a)
        return a, b, stamp_of(self.kind, self.at, self.ev), self.rank

    def __lt__(self, other: LinkRec) -> bool:
        return self.id < other.id

    def __gt__(self, other: LinkRec) -> bool:
        return self.id > other.id

    def __le__(self, other: LinkRec) -> bool:
        return self is other or self.id < other.id

    def __ge__(self, other: LinkRec) -> bool:
        return self is other or self.id > other.id


def link_id(ka: str, kb: str, kind: str, assurance: str, at: datetime, ev: Ev) -> str:
    """The entry id of a link between the identifiers keyed ``ka`` and ``kb`` (in either order)."""
    lo, hi = (ka, kb) if ka < kb else (kb, ka)
    return entry_id("lnk", lo, hi, kind, assurance, str(at), evidence_string(ev))


Stamp = tuple[str, datetime, timedelta | None, str]
"""The facts of a link that one observation shares: link kind, time, its UTC offset (which
``str(at)`` writes) and the evidence string."""


def stamp_of(kind: str, at: datetime, ev: Ev) -> Stamp:
    """The :data:`Stamp` of the links of kind ``kind`` observed at ``at`` with evidence ``ev``."""
    return kind, at, at.utcoffset(), evidence_string(ev)


Facts = tuple[int, int, Stamp, int]
"""A link's facts: its two identifier ints (smaller first), its :data:`Stamp` and its assurance
rank. Two links have the same id (:func:`link_id`) exactly when they have the same facts: the
id hashes the identifiers' keys, the kind, the assurance, ``str(at)`` (the instant and the
offset it is written with) and the evidence string."""


@attrs.define(slots=True, eq=False)
class Pair:
    """All links between two identifiers, and the pair's verdict."""

    a: int
    b: int
    links: list[int]
    key: OrderKey | None = None
    """Order key of the earliest active qualifying link (None: no such link)."""
    status: str = INACTIVE
    reason: str = ""


@attrs.define(slots=True, eq=False)
class NeverRec:
    """A never-link rule by identifier ints (``revoked_*``: the revocation that lifted it, as
    for a :class:`LinkRec`)."""

    id: str
    a: int
    b: int
    at: datetime
    ev: Ev
    active: bool = True
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoked_ev: Ev | None = None


def salt_bytes(salt: object) -> bytes:
    """A tombstone salt as bytes: non-empty text (UTF-8) or bytes. Raises
    :class:`~omnicx.errors.ValidationError` otherwise (``bytes(5)`` would be five zero bytes:
    a salt anyone can guess)."""
    if not isinstance(salt, str | bytes | bytearray) or not salt:
        raise ValidationError(f"salt must be a non-empty str or bytes, got {type(salt).__name__}")
    return salt.encode("utf-8", "surrogatepass") if isinstance(salt, str) else bytes(salt)


def tombstone(key: str, salt: bytes) -> str:
    """The salted hash that stands for the identifier ``key`` after erasure."""
    return hmac.new(salt, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def id_prefix(salt: bytes) -> bytes:
    """What every customer id's digest starts with: the SHA-256 of the engine's salt, in hex, and
    a unit separator. A customer id thus tells nothing of its identifier to whoever does not
    know the salt (the first instant and a phone number are few enough to try them all)."""
    return (hashlib.sha256(b"omnicx customer id\x1f" + salt).hexdigest() + "\x1f").encode("ascii")


def birth_id(prefix: bytes, key: str, at: datetime) -> str:
    """The customer id born with the identifier ``key`` first seen at ``at`` (see
    :meth:`Core.birth_id`)."""
    us = (at - _EPOCH) // _MICROSECOND
    text = prefix + key.encode("utf-8", "surrogatepass") + b"\x1f" + str(us).encode("ascii")
    return "cus_" + hashlib.sha256(text).hexdigest()[:26]


def _pk(x: int, y: int) -> tuple[int, int]:
    return (x, y) if x < y else (y, x)


class Core:
    """Identifier graph, union-find and the canonical evaluation (see the module docstring)."""

    __slots__ = (
        "born",
        "canon",
        "claim",
        "cmax",
        "first_at",
        "flag",
        "flag_reason",
        "id_prefix",
        "ided",
        "index",
        "keys",
        "kinds",
        "last_at",
        "link_facts",
        "link_ids",
        "links",
        "members",
        "nbrs",
        "never",
        "never_ids",
        "odd_ids",
        "pairs",
        "parent",
        "pending",
        "policy",
        "rank",
        "reborn",
        "salt",
        "sighted",
        "tombstones",
        "watch",
        "watch_below",
    )

    def __init__(self, policy: CompiledPolicy, salt: bytes) -> None:
        self.policy = policy
        self.salt = salt
        self.index: dict[str, int] = {}
        self.keys: list[str | None] = []
        self.kinds: list[str] = []
        self.first_at: list[datetime] = []
        self.born: list[str | None] = []
        """Each identifier's birth id once computed (None: not yet, or its birth moved)."""
        self.id_prefix = id_prefix(salt)
        self.reborn: dict[str, int] = {}
        """Birth ids an earlier sighting replaced → their identifier: the ids a late sighting of
        an earlier instant retired, which still resolve to the identifier's customer."""
        self.last_at: list[datetime] = []
        self.rank: bytearray = bytearray()
        self.sighted: bytearray = bytearray()
        self.flag: bytearray = bytearray()
        self.flag_reason: dict[int, str] = {}
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.canon: dict[int, int] = {}
        self.cmax: dict[int, OrderKey] = {}
        self.nbrs: dict[int, list[int]] = {}
        self.pairs: dict[tuple[int, int], Pair] = {}
        self.links: list[LinkRec | None] = []
        self.link_ids: dict[str, int] = {}
        """Link id → index, for the links before :attr:`ided` and those added with their id
        (see :meth:`link_index`)."""
        self.ided = 0
        """Every link before this index is in :attr:`link_ids`."""
        self.link_facts: dict[Facts, int] = {}
        """The facts of every link whose id is the one its facts give → index: how an
        observation finds a link it repeats without computing ids."""
        self.odd_ids: set[str] = set()
        """Ids of links that ledger entries brought and that their facts do not give."""
        self.pending: Mapping[str, object] = {}
        """Ids of links a revocation names that came before them (the engine's); a link of
        such an id is handed to :attr:`claim` before it counts."""
        self.claim: Callable[[LinkRec], None] | None = None
        self.never: dict[int, dict[int, set[str]]] = {}
        """Active never-link rules: identifier → other identifier → rule ids (a pair may have several)."""
        self.never_ids: dict[str, NeverRec] = {}
        self.tombstones: dict[str, datetime] = {}
        self.watch: dict[int, str | None] | None = None
        """When set, :meth:`replay` records here, for each identifier below :attr:`watch_below`
        it is about to rebuild and not recorded yet, the customer id it is canonical of
        (``None`` when it is not canonical): ``observe_many``'s ids before the batch."""
        self.watch_below = 0

    # ------------------------------------------------------------------ identifiers

    def tombstone(self, key: str) -> str:
        """The salted hash that stands for ``key`` after erasure."""
        return tombstone(key, self.salt)

    def erased_until(self, key: str) -> datetime | None:
        """The erasure time of ``key`` when it was forgotten, else None."""
        if not self.tombstones:
            return None
        return self.tombstones.get(self.tombstone(key))

    def sight(self, key: str, kind: str, at: datetime, rank: int, stand_in: bool = False) -> int:
        """Record a sighting of ``key``; return its int (created on first sight).

        A ``stand_in`` sighting stands for an identifier known only from a link or
        rule: it fixes the identifier's birth only until a real sighting arrives,
        which then replaces it whatever its time. A stand-in says nothing about when
        the identifier was seen: an identifier that has real sightings takes first and
        last seen from them alone (so erasing a rule or link of someone else's cannot
        change them), one that has none from its earliest stand-in.

        The birth (and so the customer id, :meth:`birth_id`) is the earliest instant
        alone: sightings of the same instant give the same birth in any order.
        """
        x = self.index.get(key)
        if x is None:
            x = len(self.keys)
            self.index[key] = x
            self.keys.append(key)
            self.kinds.append(kind)
            self.first_at.append(at)
            self.born.append(None)
            self.last_at.append(at)
            self.rank.append(rank)
            self.sighted.append(0 if stand_in else 1)
            self.parent.append(x)
            value = key.split(":", 1)[1]
            if not self.policy.is_blocked(kind, value, key):
                self.flag.append(MEMBER)
            else:
                self.flag.append(BLOCKED)
                self.flag_reason[x] = self.policy.blocked(kind, value, key) or ""
            return x
        if stand_in:
            if not self.sighted[x] and at < self.first_at[x]:
                self._rebirth(x, at)
                self.last_at[x] = at
            return x
        if rank > self.rank[x]:
            self.rank[x] = rank
        if not self.sighted[x]:
            self.sighted[x] = 1
            self.last_at[x] = at
            if at != self.first_at[x]:
                self._rebirth(x, at)
            return x
        if at > self.last_at[x]:
            self.last_at[x] = at
        elif at < self.first_at[x]:
            self._rebirth(x, at)
        return x

    def _rebirth(self, x: int, at: datetime) -> None:
        """``x`` was first seen at ``at``, earlier than thought: its birth id and its
        customer's canonical identifier may change."""
        key = self.keys[x]
        if key is not None:
            self.reborn[birth_id(self.id_prefix, key, self.first_at[x])] = x
        self.first_at[x] = at
        self.born[x] = None
        if self.flag[x] != MEMBER:
            return
        r = self.find(x)
        if r in self.canon:
            best = r
            for m in self.members_of(r):
                if self.older(m, best):
                    best = m
            self.canon[r] = best

    def birth_id(self, x: int) -> str:
        """The customer id born with identifier ``x``: ``cus_`` and 26 hex digits of the SHA-256
        of the salt's id prefix, the identifier's key and its first instant (microseconds since
        the epoch, so the offset a time was written with does not matter). Computed once per
        birth, then cached."""
        cid = self.born[x]
        if cid is None:
            key = self.keys[x]
            assert key is not None
            cid = self.born[x] = birth_id(self.id_prefix, key, self.first_at[x])
        return cid

    def older(self, x: int, y: int) -> bool:
        """True when ``x`` was first seen before ``y`` (ties by the identifiers' keys)."""
        ax, ay = self.first_at[x], self.first_at[y]
        if ax != ay:
            return ax < ay
        return (self.keys[x] or "") < (self.keys[y] or "")

    def age(self, x: int) -> tuple[datetime, str]:
        """The sort key of :meth:`older`: first sighting time, then key."""
        return self.first_at[x], self.keys[x] or ""

    # ------------------------------------------------------------------ union-find

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def members_of(self, root: int) -> list[int]:
        m = self.members.get(root)
        return m if m is not None else [root]

    def canon_of(self, root: int) -> int:
        return self.canon.get(root, root)

    def _union(self, ra: int, rb: int, key: OrderKey) -> int:
        members, canon, cmax = self.members, self.canon, self.cmax
        ma, mb = self.members_of(ra), self.members_of(rb)
        if len(ma) < len(mb):
            ra, rb, ma, mb = rb, ra, mb, ma
        self.parent[rb] = ra
        if ra in members:
            ma.extend(mb)
        else:
            members[ra] = ma + mb
        members.pop(rb, None)
        ca, cb = self.canon_of(ra), canon.pop(rb, rb)
        canon[ra] = cb if self.older(cb, ca) else ca
        best = key
        for k in (cmax.get(ra), cmax.pop(rb, None)):
            if k is not None and k > best:
                best = k
        cmax[ra] = best
        return ra

    def add_never(self, rule: NeverRec) -> None:
        """Make a never-link rule count."""
        for x, y in ((rule.a, rule.b), (rule.b, rule.a)):
            self.never.setdefault(x, {}).setdefault(y, set()).add(rule.id)

    def drop_never(self, rule: NeverRec) -> None:
        """Stop a never-link rule counting (other rules on the same pair still do)."""
        for x, y in ((rule.a, rule.b), (rule.b, rule.a)):
            rules = self.never.get(x)
            if rules is None or y not in rules:
                continue
            rules[y].discard(rule.id)
            if not rules[y]:
                del rules[y]
            if not rules:
                del self.never[x]

    def _violation(self, ra: int, rb: int) -> tuple[str, str] | None:
        """Which rule merging two customers would break (never-link, then unique, then limit)."""
        members = self.members
        if not self.never and ra not in members and rb not in members:
            # two lone identifiers: only a limit of one on their common kind can refuse them
            kind = self.kinds[ra]
            if kind != self.kinds[rb] or self.policy.limits.get(kind, 2) > 1:
                return None
        ma, mb = self.members_of(ra), self.members_of(rb)
        if self.never:
            small, other = (ma, rb) if len(ma) <= len(mb) else (mb, ra)
            broken = [
                min(rules[y])
                for x in small
                if (rules := self.never.get(x))
                for y in rules
                if self.find(y) == other
            ]
            if broken:
                return NEVER, f"never-link rule {min(broken)}"
        limits = self.policy.limits
        if limits:
            kinds = self.kinds
            counts: dict[str, int] = {}
            over = False
            for group in (ma, mb):
                for x in group:
                    k = kinds[x]
                    limit = limits.get(k)
                    if limit is not None:
                        n = counts.get(k, 0) + 1
                        counts[k] = n
                        if n > limit:
                            over = True
            if over:
                bad = sorted(k for k, n in counts.items() if n > limits[k])
                unique = [k for k in bad if k in self.policy.unique]
                if unique:
                    return UNIQUE, f"one customer holds at most one {unique[0]}"
                return LIMIT, f"one customer holds at most {limits[bad[0]]} identifiers of kind {bad[0]}"
        return None

    # ------------------------------------------------------------------ links

    def link_index(self, lid: str) -> int | None:
        """The index of the link with id ``lid`` (None: no such link). The first call after
        new links computes their ids."""
        i = self.link_ids.get(lid)
        if i is None and self.ided < len(self.links):
            links, ids = self.links, self.link_ids
            for n in range(self.ided, len(links)):
                rec = links[n]
                if rec is not None:
                    ids[rec.id] = n
            self.ided = len(links)
            i = ids.get(lid)
        return i

    def drop_link(self, i: int) -> LinkRec:
        """Remove link ``i`` (an erasure); returns it."""
        rec = self.links[i]
        assert rec is not None
        lid = rec.id
        self.link_ids.pop(lid, None)
        self.odd_ids.discard(lid)
        facts = rec.facts()
        if self.link_facts.get(facts) == i:
            del self.link_facts[facts]
        self.links[i] = None
        return rec

    def add_link(self, rec: LinkRec) -> tuple[Pair, int] | None:
        """Append a link that comes with its id (a ledger entry) to the graph; None when a
        link with that id is known already.

        Returns its pair and what changed: 0 nothing for the verdict, 1 the pair's
        order key moved earlier, 2 the pair got its first qualifying link.
        """
        lid = rec.id
        if self.link_index(lid) is not None:
            return None
        i = len(self.links)
        self.links.append(rec)
        self.link_ids[lid] = i
        if self.ided == i:
            self.ided = i + 1
        if rec.natural:
            self.link_facts.setdefault(rec.facts(), i)
        else:
            self.odd_ids.add(lid)
        return self._attach(rec, i)

    def _attach(self, rec: LinkRec, i: int) -> tuple[Pair, int]:
        """Put link ``i`` into its pair (see :meth:`add_link`). A link that revocations named
        before it came (a ledger applied out of order) is first handed to :attr:`claim`."""
        if self.pending and self.claim is not None and rec.id in self.pending:
            self.claim(rec)
        pk = _pk(rec.a, rec.b)
        pair = self.pairs.get(pk)
        if pair is None:
            pair = Pair(pk[0], pk[1], [i])
            self.pairs[pk] = pair
            self.nbrs.setdefault(rec.a, []).append(rec.b)
            self.nbrs.setdefault(rec.b, []).append(rec.a)
        else:
            pair.links.append(i)
        if not self._qualifies(rec):
            if pair.key is None:
                self.static_status(pair)
            return pair, 0
        key = (rec.at, rec)
        if pair.key is None:
            pair.key = key
            return pair, 2
        if key < pair.key:
            pair.key = key
            return pair, 1
        return pair, 0

    def _qualifies(self, rec: LinkRec) -> bool:
        return rec.active and rec.kind != "suggested" and rec.rank >= self.policy.min_assurance_rank

    def _suggest_reason(self, rec: LinkRec) -> str:
        if rec.kind == "suggested":
            return "a suggested link never merges on its own"
        return f"assurance {rec.assurance} is below the policy's minimum for an automatic merge"

    def new_cooccurrence(self, pair: Pair) -> list[int]:
        """A pair just got its first qualifying link: check both ends for quarantine.

        Returns the identifiers that became hot.
        """
        hot: list[int] = []
        for x, y in ((pair.a, pair.b), (pair.b, pair.a)):
            if self.flag[x] == MEMBER and self._is_hot(x, self.kinds[y]):
                hot.append(x)
        return hot

    def _is_hot(self, x: int, kind: str) -> bool:
        limit = self.policy.threshold(kind)
        neighbours = self.nbrs.get(x, ())
        if limit is None or len(neighbours) <= limit:  # too few neighbours of any kind to count
            return False
        kinds, pairs, flag, n = self.kinds, self.pairs, self.flag, 0
        for z in neighbours:
            if kinds[z] == kind and flag[z] != BLOCKED and pairs[_pk(x, z)].key is not None:
                n += 1
                if n > limit:
                    self.flag_reason[x] = (
                        f"seen with more than {limit} distinct {kind} identifiers: "
                        "a shared attribute, not one person's endpoint"
                    )
                    return True
        return False

    def hot_reason_now(self, x: int) -> str | None:
        """Recount ``x``'s co-occurrences; the quarantine reason, or None if not hot."""
        kinds = {self.kinds[z] for z in self.nbrs.get(x, ())}
        for kind in sorted(kinds):
            if self._is_hot(x, kind):
                return self.flag_reason[x]
        return None

    def candidate(self, pair: Pair) -> bool:
        flag = self.flag
        return pair.key is not None and flag[pair.a] == MEMBER and flag[pair.b] == MEMBER

    def static_status(self, pair: Pair) -> None:
        """Set the verdict of a pair that is not a candidate."""
        flag = self.flag
        if pair.key is None:
            if not any(self._link(i).active for i in pair.links):
                pair.status, pair.reason = INACTIVE, "every link of this pair is revoked"
            else:
                first = min(
                    (self._link(i) for i in pair.links if self._link(i).active), key=lambda r: (r.at, r.id)
                )
                pair.status, pair.reason = SUGGESTION, self._suggest_reason(first)
            return
        for x in (pair.a, pair.b):
            if flag[x] == BLOCKED:
                pair.status, pair.reason = BLOCKED_S, f"{self.keys[x]} is junk: {self.flag_reason.get(x, '')}"
                return
        for x in (pair.a, pair.b):
            if flag[x] == HOT:
                pair.status = QUARANTINED
                pair.reason = f"{self.keys[x]} is quarantined: {self.flag_reason.get(x, '')}"
                return

    def verdict(self, pair: Pair) -> tuple[str, str]:
        """The pair's (status, reason), with a merge refusal explained against today's customers.

        Which rule a refused merge broke first depends on the evaluation order; that
        it is refused does not (a refused pair's ends stay in different customers,
        whose union breaks some rule). So the reason is computed from the final
        customers, which makes it a pure function of the ledger too.
        """
        if pair.status in CONSTRAINT:
            found = self._violation(self.find(pair.a), self.find(pair.b))
            if found is not None:
                return found
        if pair.status in (BLOCKED_S, QUARANTINED):
            # the end named is the first by key, and a quarantine's reason is counted over the
            # whole ledger now: not what the first arrivals showed (arrival order decides those)
            flag = self.flag
            ends = sorted((pair.a, pair.b), key=lambda x: self.keys[x] or "")
            for x in ends:
                if flag[x] == BLOCKED:
                    return BLOCKED_S, f"{self.keys[x]} is junk: {self.flag_reason.get(x, '')}"
            for x in ends:
                if flag[x] == HOT:
                    return QUARANTINED, f"{self.keys[x]} is quarantined: {self.shared_reason(x)}"
        return pair.status, pair.reason

    def shared_reason(self, x: int) -> str:
        """Why ``x`` is no customer's (blocklisted or quarantined), a pure function of the ledger:
        a quarantine names the first kind, by name, that ``x`` is seen with too many of."""
        if self.flag[x] == HOT:
            return self.hot_reason_now(x) or self.flag_reason.get(x, "")
        return self.flag_reason.get(x, "")

    def _link(self, i: int) -> LinkRec:
        rec = self.links[i]
        assert rec is not None
        return rec

    def evaluate(self, pair: Pair, in_order: bool = False) -> set[int] | None:
        """Evaluate one pair. Returns seeds to replay when incremental evaluation cannot decide."""
        if not self.candidate(pair):
            self.static_status(pair)
            return None
        ra, rb = self.find(pair.a), self.find(pair.b)
        if ra == rb:
            pair.status, pair.reason = ADMITTED, ""
            return None
        verdict = self._violation(ra, rb)
        if verdict is None:
            self._union(ra, rb, pair.key)  # type: ignore[arg-type]
            pair.status, pair.reason = ADMITTED, ""
            return None
        key = pair.key
        assert key is not None
        if in_order or all(self.cmax.get(r) is None or key > self.cmax[r] for r in (ra, rb)):
            pair.status, pair.reason = verdict
            return None
        return {pair.a, pair.b}

    # ------------------------------------------------------------------ replay

    def closure(self, seeds: Iterable[int]) -> set[int]:
        """Every member identifier reachable from ``seeds`` through candidate pairs,
        plus every member of a customer any of them is in now."""
        flag, pairs, nbrs = self.flag, self.pairs, self.nbrs
        seen: set[int] = set()
        stack = [s for s in seeds if flag[s] != ERASED]
        while stack:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            for m in self.members_of(self.find(x)):
                if m not in seen:
                    stack.append(m)
            if flag[x] != MEMBER:
                continue
            for y in nbrs.get(x, ()):
                if y not in seen and flag[y] == MEMBER and pairs[_pk(x, y)].key is not None:
                    stack.append(y)
        return seen

    def replay(self, seeds: Iterable[int]) -> set[int]:
        """Recompute the canonical evaluation of the closure of ``seeds``; returns the closure."""
        region = self.closure(seeds)
        if self.watch is not None:
            for x in region:
                self.remember(x)
        for x in region:
            self.parent[x] = x
            self.members.pop(x, None)
            self.canon.pop(x, None)
            self.cmax.pop(x, None)
        todo: list[tuple[OrderKey, Pair]] = []
        seen: set[tuple[int, int]] = set()
        for x in region:
            for y in self.nbrs.get(x, ()):
                pk = _pk(x, y)
                if pk in seen:
                    continue
                seen.add(pk)
                pair = self.pairs[pk]
                if self.candidate(pair):
                    todo.append((pair.key, pair))  # type: ignore[arg-type]
                else:
                    self.static_status(pair)
        todo.sort(key=lambda item: item[0])
        for _, pair in todo:
            self.evaluate(pair, in_order=True)
        return region

    def remember(self, x: int) -> None:
        """Record in :attr:`watch`, once, the customer id ``x`` is canonical of now (None: none)."""
        watch = self.watch
        if watch is not None and x < self.watch_below and x not in watch:
            canonical = self.flag[x] == MEMBER and self.canon_of(self.find(x)) == x
            watch[x] = self.birth_id(x) if canonical else None

    def remember_keys(self, keys: Iterable[str]) -> None:
        """:meth:`remember` the identifiers ``keys`` name and their customers' canonical
        identifiers, before an operation changes them (a sighting of an earlier instant moves a
        birth without any replay)."""
        for key in keys:
            x = self.index.get(key)
            if x is not None:
                self.remember(self.canon_of(self.find(x)) if self.flag[x] == MEMBER else x)
                self.remember(x)

    def set_flag(self, x: int, flag: int) -> None:
        """Change an identifier's flag and make it a singleton (callers replay its old customer)."""
        self.remember(x)  # before: a quarantine lifted gives an id that was no customer's
        self.flag[x] = flag
        if flag == MEMBER:
            self.flag_reason.pop(x, None)

    # ------------------------------------------------------------------ observe

    def observe(
        self,
        keys: Sequence[str],
        kinds: Sequence[str],
        ranks: Sequence[int],
        at: datetime,
        ev: Ev,
        link_kind: str = "observed",
    ) -> tuple[list[int], Sequence[LinkRec], Sequence[Pair], Sequence[int]]:
        """Sight identifiers seen together and link every pair of them.

        Each link carries the weaker assurance rank of its two identifiers.

        Returns (identifier ints in input order without repeats, new links,
        pairs whose verdict may change, identifiers that became hot).
        """
        if len(keys) == 1:  # most payloads carry one identifier: nothing to link
            key, at_first = keys[0], self.index.get(keys[0])
            if at_first is not None and self.sighted[at_first] and at > self.first_at[at_first]:
                if at > self.last_at[at_first]:
                    self.last_at[at_first] = at
                if ranks[0] > self.rank[at_first]:
                    self.rank[at_first] = ranks[0]
                return [at_first], (), (), ()
            return [self.sight(key, kinds[0], at, ranks[0])], (), (), ()
        ids: list[int] = []
        id_ranks: list[int] = []
        sight, index, first_at, last_at, sighted, ranks_ = (
            self.sight,
            self.index,
            self.first_at,
            self.last_at,
            self.sighted,
            self.rank,
        )
        for key, kind, rank in zip(keys, kinds, ranks, strict=True):
            x = index.get(key)
            if x is not None and sighted[x] and at > first_at[x]:
                # the common case: a known identifier seen again later
                if at > last_at[x]:
                    last_at[x] = at
                if rank > ranks_[x]:
                    ranks_[x] = rank
            else:
                x = sight(key, kind, at, rank)
            if x not in ids:
                ids.append(x)
                id_ranks.append(rank)
        new_links: list[LinkRec] = []
        touched: list[Pair] = []
        hot: list[int] = []
        if len(ids) > 1:
            # a link is known already when a link has its facts, or (rarely) when a ledger
            # entry brought the id its facts give under other facts
            stamp = stamp_of(link_kind, at, ev)
            facts, links, names, odd = self.link_facts, self.links, self.keys, self.odd_ids
            for i in range(len(ids)):
                for j in range(i + 1, len(ids)):
                    x, y = ids[i], ids[j]
                    pr = min(id_ranks[i], id_ranks[j])
                    fact = (x, y, stamp, pr) if x < y else (y, x, stamp, pr)
                    if fact in facts:
                        continue
                    kx, ky = names[x], names[y]
                    assert kx is not None
                    assert ky is not None
                    rec = LinkRec(None, x, y, at, link_kind, pr, ASSURANCE_NAMES[pr], ev, kx, ky)
                    if odd and self.link_index(rec.id) is not None:
                        continue
                    n = len(links)
                    links.append(rec)
                    facts[fact] = n
                    pair, change = self._attach(rec, n)
                    new_links.append(rec)
                    if change:
                        touched.append(pair)
                        if change == 2:
                            hot.extend(self.new_cooccurrence(pair))
        return ids, new_links, touched, hot

    def settle(self, touched: Iterable[Pair], hot: Iterable[int]) -> set[int]:
        """Apply quarantines, then evaluate touched pairs; replay where needed. Returns replayed identifiers."""
        seeds: set[int] = set()
        for x in hot:
            if self.flag[x] == MEMBER:
                seeds.update(self.members_of(self.find(x)))
                seeds.update(self.nbrs.get(x, ()))
                self.set_flag(x, HOT)
        if seeds:
            seeds.update(self.replay(seeds))
        for pair in touched:
            if pair.a in seeds and pair.b in seeds:
                continue
            more = self.evaluate(pair)
            if more:
                seeds.update(self.replay(more))
        return seeds

    def all_pairs_of(self, xs: Iterable[int]) -> list[Pair]:
        out: dict[tuple[int, int], Pair] = {}
        for x in xs:
            for y in self.nbrs.get(x, ()):
                pk = _pk(x, y)
                out[pk] = self.pairs[pk]
        return list(out.values())

    def recompute_pair_key(self, pair: Pair) -> None:
        best: OrderKey | None = None
        for i in pair.links:
            rec = self._link(i)
            if self._qualifies(rec):
                k = (rec.at, rec)
                if best is None or k < best:
                    best = k
        pair.key = best

    def recheck_flags(self, xs: Iterable[int]) -> set[int]:
        """Re-derive the quarantine of ``xs`` after co-occurrences went away. Returns changed ones."""
        changed: set[int] = set()
        for x in xs:
            f = self.flag[x]
            if f not in (MEMBER, HOT):
                continue
            reason = self.hot_reason_now(x)
            if reason is None and f == HOT:
                self.set_flag(x, MEMBER)
                changed.add(x)
            elif reason is not None and f == MEMBER:
                self.set_flag(x, HOT)
                changed.add(x)
        return changed
