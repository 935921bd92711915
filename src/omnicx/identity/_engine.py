"""The identity engine: the public face of the resolution core.

**Persistence seam.** The engine holds no storage of its own. Every operation
(:meth:`~IdentityEngine.observe`, :meth:`~IdentityEngine.link`,
:meth:`~IdentityEngine.revoke`, :meth:`~IdentityEngine.never_link`,
:meth:`~IdentityEngine.split`, :meth:`~IdentityEngine.forget`) returns a
:class:`~omnicx.identity.Change` whose ``entries`` are the new ledger entries
to persist, in order. A store rebuilds an engine with
:meth:`IdentityEngine.rebuild` from the entries it kept, and feeds entries
written by another process with :meth:`IdentityEngine.apply`. Whatever order the
entries arrive in, the customers and their ids are the same (a pure function of
the ledger and the policy).

**Tenancy.** One engine serves one tenant: identifiers are keyed without the
tenant, so a multi-tenant host keeps one engine (and one ledger) per tenant.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from omnicx.errors import IdentityError, UnknownIdentifier, ValidationError
from omnicx.identity import _core as core
from omnicx.identity import _explain
from omnicx.identity._core import Core, Ev, LinkRec, NeverRec, Pair, evidence_string, link_id, salt_bytes
from omnicx.identity._ledger import (
    Erasure,
    Evidence,
    LedgerEntry,
    Link,
    LinkKind,
    NeverLink,
    Revocation,
    Sighting,
    sighting_id,
)
from omnicx.identity._policy import MergePolicy
from omnicx.identity._results import (
    Change,
    Conflict,
    ConflictReason,
    Explanation,
    Forgotten,
    HistoryEvent,
    ObservedBatch,
    attach_entries,
)
from omnicx.identity._settled import SettledFacts
from omnicx.models import Assurance, Customer, CustomerIdentifier, Identifier, ObservedIdentifier
from omnicx.models._base import _aware_utc as aware_utc
from omnicx.models._base import member

__all__ = ["DEFAULT_SALT", "IdentityEngine", "Observation", "observation_entries"]

DEFAULT_SALT = b"omnicx-tombstones-v1"
"""The tombstone salt used when none is given. Set your own secret salt in production."""

_RANKS = {Assurance.INFERRED: 0, Assurance.ASSERTED: 1, Assurance.VERIFIED: 2}
_BY_RANK = {0: Assurance.INFERRED, 1: Assurance.ASSERTED, 2: Assurance.VERIFIED}


class Observation(NamedTuple):
    """One payload's identifiers seen together, for :meth:`IdentityEngine.observe_many`.

    The fields are :meth:`IdentityEngine.observe`'s arguments: ``at`` is the payload's
    time (aware), ``channel`` and ``dedupe_key`` its evidence.
    """

    identifiers: Sequence[Identifier | ObservedIdentifier]
    at: datetime
    channel: str | None = None
    dedupe_key: str | None = None


_Prepared = tuple[list[Identifier], list[int], datetime, Ev]
"""An observation checked for :meth:`IdentityEngine.observe_many`: identifiers, ranks, time, evidence
(their keys are computed again when applied: held for a million observations, they would double
the memory)."""


def _ev(evidence: Evidence) -> Ev:
    return (evidence.channel, evidence.dedupe_key, evidence.actor, evidence.reason)


def _evidence(ev: Ev) -> Evidence:
    return Evidence(channel=ev[0], dedupe_key=ev[1], actor=ev[2], reason=ev[3])


def _when(at: datetime | None) -> datetime:
    if type(at) is datetime and at.tzinfo is UTC:
        return at
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationError(
            f"at={at!r} must be an aware datetime; use omnicx.normalize_timestamp() to make one",
            value=repr(at),
        )
    try:
        return aware_utc(at)
    except ValueError as exc:  # 0001-01-01T00:00:00+01:00, say: before the first UTC instant
        raise ValidationError(f"at={at!r}: {exc}", value=repr(at)) from None


def _items(value: object, what: str) -> list[Any]:
    """``value`` (an iterable) as a list; :class:`~omnicx.errors.ValidationError` for anything
    else (None, a number), or a string where items are wanted."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(
            f"{what} must be a list (any iterable), got {type(value).__name__}", value=repr(value)[:80]
        )
    return list(value)


def _keys_of(e: LedgerEntry) -> tuple[str, ...]:
    """The keys of the identifiers a ledger entry names (none for a revocation or erasure)."""
    if isinstance(e, Sighting):
        return (e.identifier.key,)
    if isinstance(e, Link | NeverLink):
        return (e.a.key, e.b.key)
    return ()


def _text(name: str, value: object) -> str | None:
    """Check an evidence string (channel, dedupe key, actor, reason) before it reaches the ledger."""
    if value is None or (type(value) is str and len(value) <= 1024 and value.isascii()):
        return value
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string, got {type(value).__name__}", value=repr(value)[:200])
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{name} {value[:60]!r} is not valid Unicode (a lone surrogate); decode the payload properly",
            value=repr(value)[:200],
        ) from exc
    if len(value) > 1024:
        raise ValidationError(f"{name} is longer than 1024 characters", value=value[:200])
    return value


def _sightings(idents: Sequence[Identifier], ranks: Sequence[int], at: datetime, ev: Ev) -> list[Sighting]:
    evidence = _evidence(ev)
    evs = evidence_string(ev)
    return [
        Sighting(
            id=sighting_id(ident.key, _BY_RANK[rank], at, evs),
            at=at,
            identifier=ident,
            assurance=_BY_RANK[rank],
            evidence=evidence,
        )
        for ident, rank in zip(idents, ranks, strict=True)
    ]


def observation_entries(
    observed: Sequence[ObservedIdentifier], *, at: datetime, channel: str | None, dedupe_key: str | None
) -> tuple[LedgerEntry, ...]:
    """The ledger entries :meth:`IdentityEngine.observe` records for ``observed``, without an engine.

    They depend on the observation alone: a sighting per identifier and an observed
    link per pair of distinct identifiers, carrying the weaker assurance of the two.
    A host uses it with :class:`~omnicx.identity.SettledFacts` when the observation
    changes nothing. An identifier an erasure forgot must not be among ``observed``.
    A payload delivered again (same time and dedupe key) gets its links again here, under
    the ids they were recorded with, where ``observe()`` records none the second time: a
    store that keeps entries by id keeps them once either way.
    Raises :class:`~omnicx.errors.ValidationError` for anything but ObservedIdentifier objects.
    """
    moment = _when(at)
    ev: Ev = (_text("channel", channel), _text("dedupe_key", dedupe_key), None, None)
    items = _items(observed, "observed")
    for item in items:
        if not isinstance(item, ObservedIdentifier):
            raise ValidationError(
                f"observation_entries() takes ObservedIdentifier objects (an identifier with its "
                f"assurance), got {type(item).__name__}",
                value=repr(item)[:200],
            )
    idents = [o.identifier for o in items]
    ranks = [o.assurance.rank for o in items]
    out: list[LedgerEntry] = list(_sightings(idents, ranks, moment, ev))
    firsts: dict[str, tuple[Identifier, int]] = {}
    for ident, rank in zip(idents, ranks, strict=True):
        firsts.setdefault(ident.key, (ident, rank))
    distinct = list(firsts.values())
    evidence = _evidence(ev)
    for i, (a, ra) in enumerate(distinct):
        for b, rb in distinct[i + 1 :]:
            rank = min(ra, rb)
            out.append(
                Link(
                    id=link_id(a.key, b.key, "observed", _BY_RANK[rank], moment, ev),
                    at=moment,
                    a=a,
                    b=b,
                    kind=LinkKind.OBSERVED,
                    assurance=_BY_RANK[rank],
                    evidence=evidence,
                )
            )
    return tuple(out)


def _retired(c: Core, before: dict[int, str] | dict[int, str | None]) -> tuple[str, ...]:
    """The ids in ``before`` (canonical identifier → its customer id then) retired since.

    A customer id retires when its identifier stops being canonical (a merge into an
    older customer) or gets a new birth id (a sighting of an earlier instant arrived late;
    the old id stays in :attr:`Core.reborn`); an identifier quarantined since retires
    nothing here.
    """
    return tuple(
        sorted(
            cid
            for x, cid in before.items()
            if cid is not None
            and c.flag[x] == core.MEMBER
            and (c.canon_of(c.find(x)) != x or c.birth_id(x) != cid)
        )
    )


def _mark_revoked(rec: LinkRec | NeverRec, rev: Revocation) -> None:
    """Mark a link or never-link rule revoked by ``rev``; of several revocations, the earliest
    (by time, then id) is the one it records, whatever order they came in."""
    if rec.active or rec.revoked_at is None or (rev.at, rev.id) < (rec.revoked_at, rec.revoked_by or ""):
        rec.active, rec.revoked_by, rec.revoked_at, rec.revoked_ev = False, rev.id, rev.at, _ev(rev.evidence)


class IdentityEngine:
    """Decides which identifiers are one customer, explains why, and can undo it.

    ``policy`` is the :class:`~omnicx.identity.MergePolicy` (defaults apply when
    omitted). ``salt`` keys the tombstones :meth:`forget` leaves: keep it secret
    and stable (a new salt no longer recognises old tombstones).

    Identifiers must be normalized (build them with
    :func:`omnicx.normalize_identifier`). See the module docstring for the
    persistence seam and tenancy.
    """

    def __init__(self, policy: MergePolicy | None = None, *, salt: str | bytes = DEFAULT_SALT) -> None:
        self._policy = policy if policy is not None else MergePolicy()
        if policy is not None and not isinstance(policy, MergePolicy):
            raise ValidationError(
                f"policy must be a MergePolicy (MergePolicy.model_validate(...) reads a dict), got {type(policy).__name__}"
            )
        self._salt = salt_bytes(salt)
        self._core = Core(self._policy.compile(), self._salt)
        self._pending_revocations: dict[str, list[Revocation]] = {}
        """Revocations applied before their link or rule, by its id."""
        self._core.pending, self._core.claim = self._pending_revocations, self._claim
        self._revocations: dict[str, Revocation] = {}
        self._erasures: dict[str, Erasure] = {}
        self._birth: dict[str, int] = {}
        self._birth_size = 0

    @property
    def policy(self) -> MergePolicy:
        """The merge policy in force."""
        return self._policy

    # ================================================================== ledger seam

    @classmethod
    def rebuild(
        cls,
        entries: Iterable[LedgerEntry],
        policy: MergePolicy | None = None,
        *,
        salt: str | bytes = DEFAULT_SALT,
    ) -> IdentityEngine:
        """A new engine holding exactly the state the ledger ``entries`` describe.

        Entries may come in any order; they are evaluated in ``(at, id)`` order.
        Raises :class:`~omnicx.errors.ValidationError` when an item is not a ledger entry.
        """
        engine = cls(policy, salt=salt)
        items = _items(entries, "entries")
        engine._check(items)
        items.sort(key=lambda e: (e.at, e.id))
        for e in items:
            if isinstance(e, Erasure):
                engine._register_erasure(e)
        # millions of small objects and no reference cycles: pause the cyclic collector
        collecting = gc.isenabled()
        gc.disable()
        try:
            for e in items:
                if not isinstance(e, Erasure):
                    engine._apply_one(e)
        finally:
            if collecting:
                gc.enable()
        return engine

    def apply(self, entries: Iterable[LedgerEntry]) -> Change:
        """Apply ledger entries written elsewhere (another process, a replica), incrementally.

        Gives the same state as :meth:`rebuild` of the whole ledger, in any order,
        except around an :class:`~omnicx.identity.Erasure`: it must come after the
        entries it erases and before any later entry of the identifiers it names (a
        customer who came back after the erasure), as the ledger's append order has it.
        Returns a :class:`Change` without ``entries`` (they are persisted already).
        """
        items = _items(entries, "entries")
        self._check(items)
        seeds: set[int] = set()
        with self._watching() as before:
            for e in items:
                if isinstance(e, Erasure):
                    seeds |= self._erase(e)
                else:
                    self._core.remember_keys(_keys_of(e))
                    seeds |= self._apply_one(e)
        return Change(merged=_retired(self._core, before), split=self._ids_of(seeds))

    @staticmethod
    def _check(items: Sequence[object]) -> None:
        for e in items:
            if not isinstance(e, Sighting | Link | Revocation | NeverLink | Erasure):
                raise ValidationError(
                    f"{type(e).__name__} is not a ledger entry; read entries with "
                    "omnicx.identity.ledger_entry_adapter.validate_json()",
                    value=repr(e)[:200],
                )

    def _void(self, key: str, at: datetime) -> bool:
        until = self._core.erased_until(key)
        return until is not None and at <= until

    def _apply_one(self, e: LedgerEntry) -> set[int]:
        c = self._core
        if isinstance(e, Sighting):
            key = e.identifier.key
            if self._void(key, e.at):
                return set()
            c.sight(key, e.identifier.kind, e.at, e.assurance.rank)
            return set()
        if isinstance(e, Link):
            ka, kb = e.a.key, e.b.key
            if ka == kb or self._void(ka, e.at) or self._void(kb, e.at):
                return set()
            if c.link_index(e.id) is not None:
                return set()
            x = c.sight(ka, e.a.kind, e.at, 0, stand_in=True)
            y = c.sight(kb, e.b.kind, e.at, 0, stand_in=True)
            rec = LinkRec(
                e.id, x, y, e.at, str(e.kind), e.assurance.rank, str(e.assurance), _ev(e.evidence), ka, kb
            )
            got = c.add_link(rec)  # which hands it to _claim when revocations came before it
            if got is None:
                return set()
            pair, change = got
            hot = c.new_cooccurrence(pair) if change == 2 else []
            return c.settle([pair] if change else [], hot)
        if isinstance(e, Revocation):
            return self._revoke(e)
        if isinstance(e, NeverLink):
            ka, kb = e.a.key, e.b.key
            if self._void(ka, e.at) or self._void(kb, e.at) or e.id in c.never_ids:
                return set()
            x = c.sight(ka, e.a.kind, e.at, 0, stand_in=True)
            y = c.sight(kb, e.b.kind, e.at, 0, stand_in=True)
            rule = NeverRec(e.id, x, y, e.at, _ev(e.evidence))
            for rev in self._pending_revocations.pop(e.id, ()):
                self._revocations[rev.id] = rev
                _mark_revoked(rule, rev)
            c.never_ids[e.id] = rule
            if not rule.active:
                return set()
            c.add_never(rule)
            if c.find(x) == c.find(y):
                return c.replay({x, y})
            return set()
        raise IdentityError(f"cannot apply {type(e).__name__} here")  # erasures are handled by callers

    def _claim(self, rec: LinkRec) -> None:
        """A link (an entry or observed) some applied revocations named before it came: they
        revoke it now (the core calls this before the link counts)."""
        for rev in self._pending_revocations.pop(rec.id, ()):
            self._revocations[rev.id] = rev
            _mark_revoked(rec, rev)

    def _revoke(self, e: Revocation) -> set[int]:
        c = self._core
        if e.id in self._revocations:
            return set()
        i = c.link_index(e.link_id)
        if i is not None:
            rec = c.links[i]
            assert rec is not None
            self._revocations[e.id] = e
            was_active = rec.active
            _mark_revoked(rec, e)
            if not was_active:  # revoked already: only which revocation speaks for it may change
                return set()
            pair = c.pairs[(min(rec.a, rec.b), max(rec.a, rec.b))]
            before = pair.key
            c.recompute_pair_key(pair)
            if pair.key == before:
                if pair.key is None:
                    c.static_status(pair)
                return set()
            seeds = set(c.members_of(c.find(rec.a))) | set(c.members_of(c.find(rec.b)))
            if pair.key is None:
                seeds |= c.recheck_flags((rec.a, rec.b))
            return c.replay(seeds)
        rule = c.never_ids.get(e.link_id)
        if rule is not None:
            self._revocations[e.id] = e
            was_active = rule.active
            _mark_revoked(rule, e)
            if not was_active:  # revoked already: only which revocation speaks for it may change
                return set()
            c.drop_never(rule)
            return c.replay({rule.a, rule.b})
        pending = self._pending_revocations.setdefault(e.link_id, [])
        if all(rev.id != e.id for rev in pending):
            pending.append(e)
        return set()

    def _register_erasure(self, e: Erasure) -> None:
        self._erasures[e.id] = e
        for t in e.tombstones:
            prev = self._core.tombstones.get(t)
            if prev is None or e.at > prev:
                self._core.tombstones[t] = e.at

    def _erase(self, e: Erasure) -> set[int]:
        """Apply an erasure written elsewhere; returns the identifiers replayed. An erasure
        delivered again changes nothing (the customer who came back after it stays)."""
        if e.id in self._erasures:
            return set()
        self._register_erasure(e)
        c = self._core
        wanted = set(e.tombstones)
        doomed = [x for x, key in enumerate(c.keys) if key is not None and c.tombstone(key) in wanted]
        return self._remove(doomed)[1]

    def _remove(self, doomed: Sequence[int]) -> tuple[list[str], set[int]]:
        """Delete identifiers and everything that mentions them; replay what they touched.
        Returns the ids of the entries removed and the identifiers replayed."""
        c = self._core
        gone = set(doomed)
        removed: list[str] = []
        touched: set[int] = set()
        revocations: dict[str, list[str]] = {}  # link or rule id -> ids of the revocations naming it
        for rev in self._revocations.values():
            revocations.setdefault(rev.link_id, []).append(rev.id)

        def drop_revocations(target: str) -> None:
            for rev_id in revocations.pop(target, ()):
                removed.append(rev_id)
                del self._revocations[rev_id]

        for x in gone:
            touched.update(c.members_of(c.find(x)))
        for m in touched:  # before the union-find below forgets their customers
            c.remember(m)
        for x in gone:
            for y in c.nbrs.pop(x, []):
                pk = (min(x, y), max(x, y))
                pair = c.pairs.pop(pk, None)
                if pair is not None:
                    for i in pair.links:
                        if c.links[i] is not None:
                            rec = c.drop_link(i)
                            removed.append(rec.id)
                            drop_revocations(rec.id)
                if y not in gone:
                    lst = c.nbrs.get(y)
                    if lst is not None:
                        lst.remove(x)
                        if not lst:
                            del c.nbrs[y]
                    touched.add(y)
                    touched.update(c.members_of(c.find(y)))
        for rid, rule in list(c.never_ids.items()):
            if rule.a in gone or rule.b in gone:
                removed.append(rid)
                drop_revocations(rid)
                del c.never_ids[rid]
                c.drop_never(rule)
                touched.update((rule.a, rule.b))
        for x in gone:
            r = c.find(x)
            for m in c.members_of(r):
                c.parent[m] = m
            c.members.pop(r, None)
            c.canon.pop(r, None)
            c.cmax.pop(r, None)
        for x in gone:
            key = c.keys[x]
            if key is not None:
                del c.index[key]
            c.keys[x] = None
            c.born[x] = None
            c.flag[x] = core.ERASED
            c.flag_reason.pop(x, None)
        self._birth = {k: v for k, v in self._birth.items() if v not in gone}
        c.reborn = {k: v for k, v in c.reborn.items() if v not in gone}
        rest = touched - gone
        for m in rest:
            r = c.find(m)
            if r in gone:
                c.parent[m] = m
        c.recheck_flags(rest)
        return removed, c.replay(rest)

    @contextlib.contextmanager
    def _watching(self) -> Iterator[dict[int, str | None]]:
        """Record, while the block runs, the customer id every identifier known before it was
        canonical of when a replay first rebuilt it (``None``: not canonical): what
        :func:`_retired` compares with afterwards, so that an operation reports in ``merged``
        the ids its replays retired (a quarantine or revocation that lets a refused link merge
        two customers elsewhere). ``observe()`` sets the watch itself, without this manager's
        cost."""
        c = self._core
        held: dict[int, str | None] = {}
        c.watch, c.watch_below = held, len(c.keys)
        try:
            yield held
        finally:
            c.watch = None

    # ================================================================== operations

    def observe(
        self,
        identifiers: Iterable[Identifier | ObservedIdentifier],
        *,
        at: datetime,
        channel: str | None = None,
        dedupe_key: str | None = None,
        assurance: Assurance = Assurance.ASSERTED,
    ) -> Change:
        """Record identifiers seen together in one payload and link every pair of them.

        ``at`` is the payload's time (aware). An :class:`~omnicx.models.ObservedIdentifier`
        brings its own assurance; a plain :class:`~omnicx.models.Identifier` gets ``assurance``.
        Each link carries the weaker assurance of the two identifiers it joins.
        Returns the customer they ended in, the ids merged away, the conflicts, and
        the ledger entries to persist (one sighting per identifier, one observed
        link per pair). An identifier forgotten by :meth:`forget` at or after ``at``
        is dropped (a replay cannot bring it back) and reported as an ``erased`` conflict.
        Raises :class:`~omnicx.errors.ValidationError` for a naive ``at`` or a non-identifier.
        """
        moment = _when(at)
        erased: list[Identifier] = []
        rank = (assurance if type(assurance) is Assurance else member(Assurance, assurance, "assurance")).rank
        items = identifiers if type(identifiers) is list else _items(identifiers, "identifiers")
        idents, ranks = self._checked(items, rank, moment, erased, "observe()")
        ev: Ev = (_text("channel", channel), _text("dedupe_key", dedupe_key), None, None)
        return self._link_group(idents, ranks, moment, ev, "observed", erased)

    def _link_group(
        self,
        idents: list[Identifier],
        ranks: list[int],
        at: datetime,
        ev: Ev,
        link_kind: str,
        erased: Sequence[Identifier] = (),
    ) -> Change:
        c = self._core
        keys = [i.key for i in idents]
        known = len(c.keys)  # identifiers numbered from here on are new in this operation
        # the ids as they are now (a same-instant sighting can still change a birth id), and
        # those replays elsewhere retire; set by hand: _watching() costs a call here
        before: dict[int, str | None] = {}
        c.watch, c.watch_below = before, known
        try:
            c.remember_keys(keys)
            ids, links, touched, hot = c.observe(keys, [i.kind for i in idents], ranks, at, ev, link_kind)
            replayed = c.settle(touched, hot) if touched or hot else set()
        finally:
            c.watch = None
        members = [x for x in ids if c.flag[x] == core.MEMBER]
        customer = c.birth_id(c.canon_of(c.find(members[0]))) if members else None
        created = bool(members) and not any(m < known for m in c.members_of(c.find(members[0])))
        merged = _retired(c, before)
        conflicts = self._conflicts_of(links, hot, erased)
        split = self._ids_of(replayed - set(ids)) if replayed else ()
        frozen_idents, frozen_ranks, frozen_links = idents, ranks, links  # fresh lists, never reused

        def build() -> tuple[LedgerEntry, ...]:
            out: list[LedgerEntry] = list(_sightings(frozen_idents, frozen_ranks, at, ev))
            out.extend(self._link_entry(rec) for rec in frozen_links)
            return tuple(out)

        change = Change(
            customer_id=customer,
            created=created,
            merged=merged,
            split=split,
            conflicts=conflicts,
        )
        attach_entries(change, build)
        return change

    def observe_many(
        self,
        observations: Iterable[Observation | tuple[object, ...]],
        *,
        assurance: Assurance = Assurance.ASSERTED,
    ) -> ObservedBatch:
        """Observe many payloads in one call, as :meth:`observe` once per observation in turn.

        For imports and backfills: the engine ends in exactly the state the same
        :meth:`observe` calls leave, and the returned entries are theirs, concatenated;
        what it saves is a result object per observation. Each item is an
        :class:`Observation` (or a tuple of its fields). Every observation is checked
        before the first is applied, so a bad one (raising
        :class:`~omnicx.errors.ValidationError`, its position in the message) leaves the
        engine untouched. The result describes the state after the whole batch: see
        :class:`~omnicx.identity.ObservedBatch`.
        """
        collecting = gc.isenabled()
        gc.disable()  # many small objects, no reference cycles: the collector would only slow this
        try:
            rank = member(Assurance, assurance, "assurance").rank
            return self._observe_many(_items(observations, "observations"), rank)
        finally:
            if collecting:
                gc.enable()

    def _observe_many(
        self, observations: Iterable[Observation | tuple[object, ...]], rank: int
    ) -> ObservedBatch:
        prepared, erased = self._prepare_many(observations, rank)
        c = self._core
        known = len(c.keys)
        index, flag, find, canon_of = c.index, c.flag, c.find, c.canon_of
        observe, settle = c.observe, c.settle
        # each identifier known before the batch, at its first touch: the customer id it
        # is canonical of (None: not canonical, so any id it gets later is new)
        before: dict[int, str | None] = {}
        firsts: list[list[int]] = []
        link_counts: list[int] = []
        new_links: list[LinkRec] = []
        replayed: set[int] = set()
        hot_seen: list[int] = []
        c.watch, c.watch_below = before, known  # a replay records the ids it is about to change
        try:
            for idents, ranks, at, ev in prepared:
                keys = [i.key for i in idents]
                if known:
                    for k in keys:
                        x = index.get(k)
                        if x is not None and x < known and x not in before:
                            r = canon_of(find(x)) if flag[x] == core.MEMBER else x
                            if r < known and r not in before:  # a customer born in the batch has no old id
                                before[r] = c.birth_id(r) if flag[r] == core.MEMBER else None
                            before.setdefault(x, None)  # not canonical now: its id (if ever) is new
                ids, links, touched, hot = observe(keys, [i.kind for i in idents], ranks, at, ev)
                if touched or hot:
                    replayed |= settle(touched, hot)
                    hot_seen.extend(hot)
                firsts.append(ids)
                link_counts.append(len(links))
                if links:
                    new_links.extend(links)
        finally:
            c.watch = None
        customer_ids: list[str | None] = []
        roots: dict[int, str] = {}
        birth_id = c.birth_id
        for ids in firsts:
            cid = None
            for x in ids:
                if flag[x] == core.MEMBER:
                    r = find(x)
                    cid = roots.get(r)
                    if cid is None:
                        cid = roots[r] = birth_id(canon_of(r))
                    break
            customer_ids.append(cid)
        created = sorted(cid for r, cid in roots.items() if all(m >= known for m in c.members_of(r)))
        merged = _retired(c, before)
        split = self._ids_of(replayed - {x for ids in firsts for x in ids}) if replayed else ()
        conflicts = self._conflicts_of(new_links, hot_seen, erased)
        out = ObservedBatch.model_construct(
            customer_ids=tuple(customer_ids),
            created=tuple(created),
            merged=merged,
            split=split,
            conflicts=conflicts,
        )

        def build() -> tuple[LedgerEntry, ...]:
            entries: list[LedgerEntry] = []
            start = 0
            for (idents, ranks, at, ev), n in zip(prepared, link_counts, strict=True):
                entries.extend(_sightings(idents, ranks, at, ev))
                entries.extend(self._link_entry(rec) for rec in new_links[start : start + n])
                start += n
            return tuple(entries)

        return attach_entries(out, build)

    def _prepare_many(
        self, observations: Iterable[Observation | tuple[object, ...]], default_rank: int
    ) -> tuple[list[_Prepared], list[Identifier]]:
        """Check and convert every observation before any is applied."""
        prepared: list[_Prepared] = []
        erased: list[Identifier] = []
        for n, item in enumerate(observations):
            try:
                obs = item if type(item) is Observation else Observation(*item)  # type: ignore[arg-type]
            except TypeError as exc:
                raise ValidationError(
                    f"observation {n}: an Observation(identifiers, at, channel, dedupe_key) is needed, "
                    f"got {type(item).__name__}",
                    value=repr(item)[:200],
                    index=n,
                ) from exc
            at, channel, dedupe_key = obs.at, obs.channel, obs.dedupe_key
            try:
                moment = _when(at)
                channel = _text("channel", channel)
                dedupe_key = _text("dedupe_key", dedupe_key)
                if isinstance(obs.identifiers, str | bytes) or not hasattr(obs.identifiers, "__iter__"):
                    raise ValidationError(
                        f"identifiers must be a list of Identifier objects, got {type(obs.identifiers).__name__}",
                        value=repr(obs.identifiers)[:200],
                    )
                idents, ranks = self._checked(obs.identifiers, default_rank, moment, erased, "observe_many()")
            except ValidationError as exc:
                raise ValidationError(f"observation {n}: {exc.message}", index=n, **exc.context) from exc
            prepared.append((idents, ranks, moment, (channel, dedupe_key, None, None)))
        return prepared, erased

    def _checked(
        self,
        items: Iterable[Identifier | ObservedIdentifier],
        default_rank: int,
        moment: datetime,
        erased: list[Identifier],
        caller: str,
    ) -> tuple[list[Identifier], list[int]]:
        """The identifiers of one observation and their assurance ranks, checked; those
        forgotten at or after ``moment`` go to ``erased`` instead."""
        tombstones = bool(self._core.tombstones)
        idents: list[Identifier] = []
        ranks: list[int] = []
        for item in items:
            if type(item) is Identifier:
                ident, rank = item, default_rank
            elif isinstance(item, ObservedIdentifier):
                ident, rank = item.identifier, item.assurance.rank
            elif isinstance(item, Identifier):
                ident, rank = item, default_rank
            else:
                raise ValidationError(
                    f"{caller} takes Identifier or ObservedIdentifier objects, got {type(item).__name__}; "
                    "build them with omnicx.normalize_identifier()",
                    value=repr(item)[:200],
                )
            if tombstones and self._void(ident.key, moment):
                erased.append(ident)
                continue
            idents.append(ident)
            ranks.append(rank)
        return idents, ranks

    def _conflicts_of(
        self, links: Sequence[LinkRec], hot: Sequence[int], erased: Sequence[Identifier]
    ) -> tuple[Conflict, ...]:
        """The conflicts of an observation (or a batch of them), as they stand now: one per pair
        of ``links`` that is refused or a suggestion (with those of its links), the ``hot``
        identifiers still quarantined, and the ``erased`` identifiers dropped."""
        c = self._core
        by_pair: dict[tuple[int, int], list[LinkRec]] = {}
        for rec in links:
            pk = (rec.a, rec.b) if rec.a < rec.b else (rec.b, rec.a)
            got = by_pair.get(pk)
            if got is None:
                by_pair[pk] = [rec]
            else:
                got.append(rec)
        out = [
            conflict
            for pk, recs in by_pair.items()
            if (conflict := self._pair_conflict(c.pairs[pk], recs)) is not None
        ]
        out.extend(
            Conflict(reason="quarantined", detail=c.shared_reason(x), identifiers=(self._ident(x),))
            for x in dict.fromkeys(hot)
            if c.flag[x] == core.HOT
        )
        out.extend(
            Conflict(
                reason="erased",
                detail="this identifier was forgotten (erasure) at or after this observation's time; dropped",
                identifiers=(i,),
            )
            for i in erased
        )
        return tuple(out)

    def _pair_conflict(self, pair: Pair, links: Iterable[LinkRec]) -> Conflict | None:
        """The conflict of a refused or suggested pair, naming ``links`` (None for any other
        verdict: the links' ids are computed only for a conflict)."""
        if pair.status not in core.REFUSED and pair.status != core.SUGGESTION:
            return None
        status, detail = self._core.verdict(pair)
        reason: ConflictReason = status  # type: ignore[assignment]
        return Conflict(
            reason=reason,
            detail=detail,
            identifiers=(self._ident(pair.a), self._ident(pair.b)),
            link_ids=tuple(rec.id for rec in links),
        )

    @staticmethod
    def _link_entry(rec: LinkRec) -> Link:
        # from the link's own keys: entries are built when first read, perhaps after a
        # forget() took the identifiers out of the engine
        return Link(
            id=rec.id,
            at=rec.at,
            a=Identifier.parse(rec.ka),
            b=Identifier.parse(rec.kb),
            kind=LinkKind(rec.kind),
            assurance=Assurance(rec.assurance),
            evidence=_evidence(rec.ev),
        )

    def link(
        self,
        a: Identifier,
        b: Identifier,
        *,
        actor: str,
        reason: str,
        at: datetime | None = None,
        kind: LinkKind = LinkKind.MANUAL,
        assurance: Assurance = Assurance.VERIFIED,
    ) -> Change:
        """Link two identifiers by hand (``kind`` manual, imported or suggested), with who and why.

        The link obeys the policy like any other; a refusal comes back in ``conflicts``.
        Raises :class:`~omnicx.errors.ValidationError` when ``a`` and ``b`` are the same, or
        ``kind`` or ``assurance`` is not one of theirs (``kind`` observed included).
        """
        self._need(a)
        self._need(b)
        if a.key == b.key:
            raise ValidationError(f"cannot link {a} to itself", value=a.key)
        kind = member(LinkKind, kind, "kind")
        if kind is LinkKind.OBSERVED:
            raise ValidationError(
                "link() makes manual, imported or suggested links; observed ones come from observe()",
                value=str(kind),
            )
        assurance = member(Assurance, assurance, "assurance")
        moment = _when(at)
        ev: Ev = (None, None, _text("actor", actor), _text("reason", reason))
        # as in observe(): an identifier forgotten at or after ``at`` is dropped (a rebuild
        # of the ledger would drop the link too) and reported as an ``erased`` conflict
        erased: list[Identifier] = []
        idents, ranks = self._checked([a, b], assurance.rank, moment, erased, "link()")
        return self._link_group(idents, ranks, moment, ev, str(kind), erased)

    @staticmethod
    def _need(ident: object) -> None:
        if not isinstance(ident, Identifier):
            raise ValidationError(
                f"an Identifier is needed, got {type(ident).__name__}; build one with omnicx.normalize_identifier()",
                value=repr(ident)[:200],
            )

    def revoke(self, entry_id_: str, *, actor: str, reason: str, at: datetime | None = None) -> Change:
        """Revoke a link (an unmerge) or a never-link rule by its entry id. The entry stays in the ledger.

        Returns the customer ids the affected identifiers are in afterwards (``split``).
        Raises :class:`~omnicx.errors.IdentityError` when no link or rule has that id.
        """
        c = self._core
        if not isinstance(entry_id_, str):
            raise ValidationError(
                f"revoke() takes one entry id (a str), got {type(entry_id_).__name__}",
                value=repr(entry_id_)[:80],
            )
        if c.link_index(entry_id_) is None and entry_id_ not in c.never_ids:
            raise IdentityError(
                f"no link or never-link rule has id {entry_id_!r}; see history() for link ids"
            )
        rec = Revocation(
            id="", link_id=entry_id_, at=_when(at), evidence=Evidence(actor=actor, reason=reason)
        )
        with self._watching() as before:
            replayed = self._revoke(rec)
        change = Change(merged=_retired(self._core, before), split=self._ids_of(replayed))
        attach_entries(change, lambda: (rec,))
        return change

    def never_link(
        self, a: Identifier, b: Identifier, *, actor: str, reason: str, at: datetime | None = None
    ) -> Change:
        """Add a rule that ``a`` and ``b`` never end in one customer (splits them now if they are).

        Returns the customer ids of the identifiers the rule touched (``split``). A rule
        dated at or before an erasure of either identifier would be dropped by any
        rebuild: it is not made, and an ``erased`` conflict says so.
        Raises :class:`~omnicx.errors.UnknownIdentifier` when either was never observed.
        """
        self._index_of(a)
        self._index_of(b)
        if a.key == b.key:
            raise ValidationError(
                f"a never-link rule needs two different identifiers, got {a} twice", value=a.key
            )
        rule = NeverLink(id="", a=a, b=b, at=_when(at), evidence=Evidence(actor=actor, reason=reason))
        erased = [i for i in (a, b) if self._void(i.key, rule.at)]
        if erased:  # a rule dated at or before an erasure of either: any rebuild would drop it
            return Change(conflicts=self._conflicts_of((), (), erased))
        with self._watching() as before:
            self._apply_one(rule)
        c = self._core
        affected = {x for k in (a.key, b.key) if (x := c.index.get(k)) is not None}
        change = Change(merged=_retired(c, before), split=self._ids_of(c.closure(affected)))
        attach_entries(change, lambda: (rule,))
        return change

    def split(
        self,
        customer_id: str,
        groups: Sequence[Sequence[Identifier]],
        *,
        actor: str,
        reason: str,
        at: datetime | None = None,
        keep_apart: bool = True,
    ) -> Change:
        """Split a customer into the given identifier groups (an unmerge).

        Identifiers of the customer listed in no group form one more group. Every
        active link between two groups is revoked; with ``keep_apart`` a never-link
        rule between the oldest identifiers of each two groups stops later payloads
        from joining them again (revoke those rules to allow it). The parts keep
        stable ids: each is the id born with its oldest identifier. A group whose
        identifiers were held together only through another group falls apart further.
        Raises :class:`~omnicx.errors.UnknownIdentifier` for an unknown customer and
        :class:`~omnicx.errors.ValidationError` for an identifier not in the customer or in two
        groups, and for groups that leave the customer in one part (nothing to split).
        """
        c = self._core
        root = self._root_of(customer_id)
        members = [m for m in c.members_of(root) if c.flag[m] == core.MEMBER]
        where: dict[int, int] = {}
        groups = _items(groups, "groups")  # (a generator is read once)
        for g, group in enumerate(groups):
            for ident in _items(group, f"group {g}"):
                self._need(ident)
                x = c.index.get(ident.key)
                if x is None or c.find(x) != root:
                    raise ValidationError(
                        f"{ident} is not an identifier of customer {customer_id}", value=ident.key
                    )
                if where.get(x, g) != g:
                    raise ValidationError(f"{ident} is in two groups of the split", value=ident.key)
                where[x] = g
        rest = len(groups)
        for m in members:
            where.setdefault(m, rest)
        if len(set(where.values())) < 2:
            raise ValidationError(
                f"a split of {customer_id} needs its identifiers in at least two parts: list some of them "
                "in groups and leave others out, or list two groups"
            )
        moment = _when(at)
        evidence = Evidence(actor=actor, reason=reason)
        entries: list[LedgerEntry] = []
        seen: set[tuple[int, int]] = set()
        for m in members:
            for y in c.nbrs.get(m, ()):
                pk = (min(m, y), max(m, y))
                if pk in seen or y not in where or where[y] == where[m]:
                    continue
                seen.add(pk)
                for i in c.pairs[pk].links:
                    rec = c.links[i]
                    if rec is not None and rec.active:
                        entries.append(Revocation(id="", link_id=rec.id, at=moment, evidence=evidence))
        if keep_apart:
            oldest: dict[int, int] = {}
            for m, g in where.items():
                if g not in oldest or c.older(m, oldest[g]):
                    oldest[g] = m
            anchors = sorted(oldest.values(), key=c.age)
            for i, p in enumerate(anchors):
                for q in anchors[i + 1 :]:
                    a, b = self._ident(p), self._ident(q)
                    if not (self._void(a.key, moment) or self._void(b.key, moment)):  # else void
                        entries.append(NeverLink(id="", a=a, b=b, at=moment, evidence=evidence))
        with self._watching() as before:
            for e in entries:
                if isinstance(e, Revocation):
                    self._revoke(e)
                else:
                    self._apply_one(e)
        parts = self._ids_of(members)
        frozen = tuple(entries)
        change = Change(merged=_retired(c, before), split=parts)
        attach_entries(change, lambda: frozen)
        return change

    def forget(
        self,
        customer_id: str,
        *,
        at: datetime | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Forgotten:
        """Erase a customer: its identifiers, their links and never-link rules leave the engine.

        The returned :class:`~omnicx.identity.Forgotten` lists what storage must
        delete, and its ``entries`` hold the :class:`~omnicx.identity.Erasure` to
        append: salted-hash tombstones of the identifiers. A later observation of
        a tombstoned identifier at or before the erasure time is dropped (a replayed
        payload cannot bring it back); one after it starts a new customer and is
        *not* linked to anything forgotten. Shared attributes (quarantined or
        blocklisted identifiers seen beside the customer) stay, minus the links.
        Raises :class:`~omnicx.errors.UnknownIdentifier` for an unknown customer.
        """
        c = self._core
        root = self._root_of(customer_id)
        doomed = [m for m in c.members_of(root) if c.flag[m] == core.MEMBER]
        # the erasure is dated at or after every entry it erases (sightings, links, never-link
        # rules and the revocations of either), so that any of them delivered again is void
        latest = max(c.last_at[m] for m in doomed)
        gone = set(doomed)
        erased_ids: set[str] = set()
        for m in doomed:
            for y in c.nbrs.get(m, ()):
                for i in c.pairs[(min(m, y), max(m, y))].links:
                    rec = c.links[i]
                    if rec is not None:
                        latest = max(latest, rec.at)
                        erased_ids.add(rec.id)
        for rule in c.never_ids.values():
            if rule.a in gone or rule.b in gone:
                latest = max(latest, rule.at)
                erased_ids.add(rule.id)
        for rev in self._revocations.values():
            if rev.link_id in erased_ids:
                latest = max(latest, rev.at)
        moment = max(_when(at), latest)
        idents = tuple(self._ident(m) for m in doomed)
        tombstones = tuple(sorted(c.tombstone(i.key) for i in idents))
        real_id = c.birth_id(c.canon_of(root))
        erasure = Erasure(
            id="",
            customer_id=real_id,
            tombstones=tombstones,
            at=moment,
            evidence=Evidence(actor=actor, reason=reason),
        )
        self._register_erasure(erasure)
        with self._watching() as before:  # a shared identifier freed may rejoin two customers
            removed, replayed = self._remove(doomed)
        out = Forgotten(
            customer_id=real_id,
            merged=_retired(c, before),
            split=self._ids_of(replayed),
            identifiers=idents,
            removed_entry_ids=tuple(sorted(set(removed))),
        )
        attach_entries(out, lambda: (erasure,))
        return out

    # ================================================================== reads

    def _ident(self, x: int) -> Identifier:
        key = self._core.keys[x]
        assert key is not None
        return Identifier.parse(key)

    def _ids_of(self, xs: Iterable[int]) -> tuple[str, ...]:
        c = self._core
        return tuple(sorted({c.birth_id(c.canon_of(c.find(x))) for x in xs if c.flag[x] == core.MEMBER}))

    def _index_of(self, identifier: Identifier) -> int:
        self._need(identifier)
        x = self._core.index.get(identifier.key)
        if x is None:
            raise UnknownIdentifier(
                f"{identifier} has never been observed (or was forgotten); observe() it first",
                identifier=identifier.key,
            )
        return x

    def _root_of(self, customer_id: str) -> int:
        c = self._core
        if not isinstance(customer_id, str):
            raise ValidationError(
                f"a customer id is a string, got {type(customer_id).__name__}", value=repr(customer_id)
            )
        if self._birth_size < len(c.keys) or customer_id not in self._birth:
            for x in range(self._birth_size, len(c.keys)):
                if c.keys[x] is not None:
                    self._birth[c.birth_id(x)] = x
            self._birth_size = len(c.keys)
        found = self._birth.get(customer_id)
        if found is None or c.flag[found] != core.MEMBER or c.keys[found] is None:
            # the first sighting may have changed since the map was built: recompute
            for y, key in enumerate(c.keys):
                if key is not None:
                    self._birth[c.birth_id(y)] = y
            found = self._birth.get(customer_id)
            if found is None or c.flag[found] != core.MEMBER or c.keys[found] is None:
                found = c.reborn.get(customer_id)
            if found is None or c.flag[found] != core.MEMBER or c.keys[found] is None:
                raise UnknownIdentifier(f"no customer has id {customer_id!r}", customer_id=customer_id)
        return c.find(found)

    def customer_of(self, identifier: Identifier) -> str | None:
        """The customer id of an identifier; ``None`` when it is a shared attribute
        (blocklisted or quarantined), which belongs to no single customer.

        Raises :class:`~omnicx.errors.UnknownIdentifier` when it was never observed.
        """
        c = self._core
        x = self._index_of(identifier)
        if c.flag[x] != core.MEMBER:
            return None
        return c.birth_id(c.canon_of(c.find(x)))

    def shared_reason(self, identifier: Identifier) -> str | None:
        """Why an identifier is a shared attribute (blocklisted or quarantined), or None if it is not.

        Raises :class:`~omnicx.errors.UnknownIdentifier` when it was never observed.
        """
        c = self._core
        x = self._index_of(identifier)
        return None if c.flag[x] == core.MEMBER else c.shared_reason(x)

    def is_quarantined(self, identifier: Identifier) -> bool:
        """True when ``identifier`` is quarantined: seen with more distinct identifiers of a kind
        than the policy's threshold, it is a shared attribute (a switchboard, an order mailbox),
        not a person's endpoint. A blocklisted identifier is not quarantined but blocked.

        Raises :class:`~omnicx.errors.UnknownIdentifier` when it was never observed.
        """
        return self._core.flag[self._index_of(identifier)] == core.HOT

    def resolve(self, customer_id: str) -> str:
        """The current id of a customer: a retired id (or the id born with any of its
        identifiers) resolves to the survivor. Raises :class:`~omnicx.errors.UnknownIdentifier`."""
        c = self._core
        return c.birth_id(c.canon_of(self._root_of(customer_id)))

    def identifiers_of(self, customer_id: str) -> tuple[Identifier, ...]:
        """The identifiers of a customer (retired ids accepted), oldest first.

        Raises :class:`~omnicx.errors.UnknownIdentifier` for an unknown customer id.
        """
        c = self._core
        members = [m for m in c.members_of(self._root_of(customer_id)) if c.flag[m] == core.MEMBER]
        members.sort(key=c.age)
        return tuple(self._ident(m) for m in members)

    def customer(self, customer_id: str) -> Customer:
        """The customer as a :class:`~omnicx.models.Customer` (identifiers with assurance and
        first/last seen; ``aliases`` = ids retired into it). Raises UnknownIdentifier."""
        c = self._core
        root = self._root_of(customer_id)
        members = [m for m in c.members_of(root) if c.flag[m] == core.MEMBER]
        members.sort(key=c.age)
        canon = c.canon_of(root)
        aliases = tuple(sorted({e.retired_id for e in self.history(customer_id) if e.retired_id}))
        return Customer(
            id=c.birth_id(canon),
            created_at=c.first_at[canon],
            identifiers=tuple(
                CustomerIdentifier(
                    identifier=self._ident(m),
                    assurance=_BY_RANK[c.rank[m]],
                    first_seen=c.first_at[m],
                    last_seen=c.last_at[m],
                )
                for m in members
            ),
            aliases=aliases,
        )

    def customers(self) -> Iterator[str]:
        """Every current customer id (in no particular order)."""
        c = self._core
        for x, key in enumerate(c.keys):
            if key is not None and c.flag[x] == core.MEMBER and c.find(x) == x:
                yield c.birth_id(c.canon_of(x))

    def settled_facts(self, customer_id: str) -> SettledFacts:
        """What decides, for this customer, that a later observation changes nothing.

        See :meth:`SettledFacts.settles`. Raises UnknownIdentifier for an unknown id.
        """
        c = self._core
        root = c.find(self._root_of(customer_id))
        members = [m for m in c.members_of(root) if c.flag[m] == core.MEMBER]
        inside = set(members)
        pairs: dict[tuple[str, str], datetime] = {}
        for x in members:
            for y in c.nbrs.get(x, ()):
                if y <= x or y not in inside:
                    continue
                pair = c.pairs[(x, y)]
                if pair.key is not None and pair.status == core.ADMITTED:
                    ka, kb = c.keys[x], c.keys[y]
                    assert ka is not None
                    assert kb is not None
                    pairs[(ka, kb) if ka < kb else (kb, ka)] = pair.key[0]
        keys = {m: c.keys[m] for m in members}
        return SettledFacts(
            customer_id=c.birth_id(c.canon_of(root)),
            members=frozenset(k for k in keys.values() if k is not None),
            sightings={k: c.first_at[m] for m, k in keys.items() if k is not None and c.sighted[m]},
            pairs=pairs,
        )

    def partition(self) -> dict[str, frozenset[str]]:
        """Every customer id → the keys (``str(identifier)``) of its identifiers."""
        c = self._core
        groups: dict[int, set[str]] = {}
        for x, key in enumerate(c.keys):
            if key is not None and c.flag[x] == core.MEMBER:
                groups.setdefault(c.find(x), set()).add(key)
        return {c.birth_id(c.canon_of(r)): frozenset(keys) for r, keys in groups.items()}

    def why_linked(self, a: Identifier, b: Identifier) -> Explanation | None:
        """The shortest chain of admitted links from ``a`` to ``b``; ``None`` when they are
        not one customer. Each step names the earliest admitted link between its two
        identifiers and that link's evidence. Raises UnknownIdentifier for an unknown identifier."""
        x, y = self._index_of(a), self._index_of(b)
        return _explain.why_linked(self._core, self._ident, a, b, x, y)

    def history(self, customer_id: str) -> tuple[HistoryEvent, ...]:
        """The customer's merges, refusals, revocations (of links and of never-link rules) and
        never-link rules, oldest first.

        Derived from the ledger under the current policy, so it explains the
        current state: ``merged`` events are the unions of the canonical
        evaluation (``retired_id`` is the younger side's id at that moment, when
        that side existed before the link; an identifier first seen in the
        linking payload retires nothing).
        Raises :class:`~omnicx.errors.UnknownIdentifier` for an unknown customer id.
        """
        return _explain.history(self._core, self._ident, self._root_of(customer_id))

    def conflicts(self) -> tuple[Conflict, ...]:
        """Every pair of identifiers whose links the policy refused or demoted to a suggestion."""
        c = self._core
        out = []
        for pair in c.pairs.values():
            if pair.status in core.REFUSED or pair.status == core.SUGGESTION:
                active = [r for i in pair.links if (r := c.links[i]) is not None and r.active]
                conflict = self._pair_conflict(pair, active)
                assert conflict is not None
                out.append(conflict)
        return tuple(out)
