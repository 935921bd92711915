"""Hypothesis strategies: random ledgers built by driving a real engine."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from omnicx.identity import Change, Conflict, Forgotten, IdentityEngine, LedgerEntry, LinkKind, MergePolicy
from omnicx.models import Assurance, Customer, Identifier

T0 = datetime(2024, 3, 1, tzinfo=UTC)
_BY_RANK = {a.rank: a for a in Assurance}

POOL = (
    [Identifier(kind="email", value=f"user{i}@mail.example.org") for i in range(5)]
    + [Identifier(kind="phone", value=f"+1415200{i:04d}") for i in range(4)]
    + [Identifier(kind="external_id", value=f"acct-{i}") for i in range(3)]
    + [Identifier(kind="messenger_psid", value="2468013579", scope=f"page{i}") for i in range(2)]
)
# Small thresholds so that quarantine, limits, unique kinds and never-links all happen.
POLICY = MergePolicy(
    use_default_blocklist=False,
    blocklist={"exact": {"email": ["user4@mail.example.org"]}},
    quarantine={"email": 3, "*": 4},
    limits={"phone": 2},
)


@dataclass(frozen=True)
class Op:
    """One engine call: observe / link / suggest / revoke (of the n-th link so far) / never /
    split / forget, at ``minute`` after :data:`T0`, written with a UTC offset of ``offset``
    minutes (the same instant written otherwise is another link id, not another time), at
    the assurance of rank ``rank``; or ``again``: the n-th observe, link or never-link call
    so far made once more with the same facts, its identifiers reversed, at the assurance
    of rank ``rank`` (a webhook delivered twice, an agent's click sent twice)."""

    verb: str
    idents: tuple[Identifier, ...]
    minute: int
    target: int = 0
    offset: int = 0
    rank: int = 1


def _op() -> st.SearchStrategy[Op]:
    group = st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique_by=lambda i: i.key).map(tuple)
    two = st.lists(st.sampled_from(POOL), min_size=2, max_size=2, unique_by=lambda i: i.key).map(tuple)

    def op(
        verb: st.SearchStrategy[str], idents: st.SearchStrategy[tuple[Identifier, ...]]
    ) -> st.SearchStrategy[Op]:
        return st.builds(
            Op,
            verb=verb,
            idents=idents,
            minute=st.integers(0, 30),
            target=st.integers(0, 40),
            offset=st.sampled_from([0, 0, 120, -300]),
            rank=st.sampled_from([1, 1, 2, 0]),
        )

    return st.one_of(
        op(st.just("observe"), group),
        op(st.just("observe"), group),
        op(st.just("observe"), group),
        op(st.sampled_from(["link", "suggest", "never"]), two),
        op(st.sampled_from(["link", "never"]), two),
        op(st.just("revoke"), st.just(())),
        op(st.sampled_from(["split", "forget"]), group),
        op(st.just("again"), st.just(())),
    )


ops_lists = st.lists(_op(), min_size=1, max_size=30)
long_ops_lists = st.lists(_op(), min_size=60, max_size=160)


def run(
    ops: list[Op],
    policy: MergePolicy = POLICY,
    each: Callable[[IdentityEngine], None] | None = None,
    after: Callable[[IdentityEngine, Op, Change | Forgotten], None] | None = None,
) -> tuple[IdentityEngine, list[LedgerEntry]]:
    """Drive an engine with ``ops`` (times out of order on purpose); return it and its ledger
    as a store keeps it: an entry whose id is there already is not added again.
    ``each`` is called with the engine after every operation, ``after`` also with the operation
    and its result (for every operation the engine was called for)."""
    engine = IdentityEngine(policy)
    entries: list[LedgerEntry] = []
    stored: set[str] = set()
    link_ids: list[str] = []
    sent: list[tuple[int, Op, datetime]] = []  # what "again" repeats
    for n, op in enumerate(ops):
        at = (T0 + timedelta(minutes=op.minute)).astimezone(timezone(timedelta(minutes=op.offset)))
        assurance = _BY_RANK[op.rank]
        idents = op.idents
        verb = op.verb
        if verb == "again":
            if not sent:
                continue
            n, first, at = sent[op.target % len(sent)]
            verb, idents = first.verb, first.idents[::-1]
        if verb == "observe":
            change = engine.observe(idents, at=at, channel="sms", dedupe_key=f"d{n}", assurance=assurance)
        elif verb in ("link", "suggest"):
            kind = LinkKind.MANUAL if verb == "link" else LinkKind.SUGGESTED
            change = engine.link(
                idents[0], idents[1], actor="agent", reason=f"r{n}", at=at, kind=kind, assurance=assurance
            )
        elif verb == "never":
            if engine._core.index.get(idents[0].key) is None or engine._core.index.get(idents[1].key) is None:
                continue
            change = engine.never_link(idents[0], idents[1], actor="agent", reason=f"n{n}", at=at)
        elif verb in ("split", "forget"):
            # the customer of the first identifier: split off the listed ones / forget it
            if (
                engine._core.index.get(op.idents[0].key) is None
                or (cid := engine.customer_of(op.idents[0])) is None
            ):
                continue
            mine = {i.key for i in engine.identifiers_of(cid)}
            if verb == "split":
                group = [i for i in op.idents if i.key in mine]
                if len(group) == len(mine):
                    continue
                change = engine.split(cid, [group], actor="agent", reason=f"s{n}", at=at)
            else:
                forgotten = engine.forget(cid, at=at, actor="dpo", reason=f"f{n}")
                # the storage seam: drop what forget() lists, then append its erasure
                removed = set(forgotten.removed_entry_ids)
                gone = {i.key for i in forgotten.identifiers}
                entries[:] = [
                    e
                    for e in entries
                    if e.id not in removed and not (e.type == "sighting" and e.identifier.key in gone)  # type: ignore[union-attr]
                ]
                stored = {e.id for e in entries}
                link_ids[:] = [i for i in link_ids if i not in removed]
                change = forgotten
        else:
            if not link_ids:
                continue
            change = engine.revoke(link_ids[op.target % len(link_ids)], actor="agent", reason=f"v{n}", at=at)
        if op.verb != "again" and verb in ("observe", "link", "suggest", "never"):
            sent.append((n, op, at))
        new = [e for e in change.entries if e.id not in stored]
        stored.update(e.id for e in new)
        entries.extend(new)
        link_ids.extend(e.id for e in new if e.type in ("link", "never_link"))
        if after is not None:
            after(engine, op, change)
        if each is not None:
            each(engine)
    return engine, entries


def shuffled_around_erasures(entries: list[LedgerEntry], rng: random.Random) -> list[LedgerEntry]:
    """``entries`` in a random order in which each erasure keeps its place: every entry before
    it stays before it, every entry after it after it. :meth:`IdentityEngine.apply` needs an
    erasure after what it erases, and a replica reading the ledger in append order gets the
    entries a later observation of a forgotten identifier wrote after the erasure too
    (:meth:`IdentityEngine.rebuild` takes any order)."""
    out: list[LedgerEntry] = []
    segment: list[LedgerEntry] = []
    for e in entries:
        if e.type == "erasure":
            rng.shuffle(segment)
            out += [*segment, e]
            segment = []
        else:
            segment.append(e)
    rng.shuffle(segment)
    return out + segment


def conflict_set(conflicts: tuple[Conflict, ...]) -> set[tuple[str, frozenset[str]]]:
    return {(c.reason, frozenset(i.key for i in c.identifiers)) for c in conflicts}


def state(engine: IdentityEngine) -> tuple[dict[str, frozenset[str]], set[tuple[str, frozenset[str]]]]:
    """What must agree between engines: the partition with its ids, and the verdicts."""
    return engine.partition(), conflict_set(engine.conflicts())


def full_state(
    engine: IdentityEngine,
) -> tuple[
    dict[str, frozenset[str]],
    set[tuple[str, frozenset[str]]],
    list[Customer],
    set[tuple[str, frozenset[str], str]],
]:
    """:func:`state`, each customer as :meth:`IdentityEngine.customer` describes it (its
    identifiers' assurance, first and last seen) and the text of every verdict: what a
    rebuild must reproduce."""
    partition, conflicts = state(engine)
    details = {(c.reason, frozenset(i.key for i in c.identifiers), c.detail) for c in engine.conflicts()}
    return partition, conflicts, [engine.customer(cid) for cid in sorted(partition)], details


__all__ = [
    "POLICY",
    "POOL",
    "T0",
    "Assurance",
    "Op",
    "conflict_set",
    "full_state",
    "long_ops_lists",
    "ops_lists",
    "run",
    "shuffled_around_erasures",
    "state",
]
