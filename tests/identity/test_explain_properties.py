"""Explanations are pure functions of the ledger too: why_linked and history agree between the
incremental engine, a rebuild and a replica fed in another order, and why_linked is a shortest
chain of admitted links."""

from __future__ import annotations

import random
from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.identity import IdentityEngine
from omnicx.identity import _core as core

from .strategies import POLICY, POOL, ops_lists, run, shuffled_around_erasures

SETTINGS = settings(max_examples=200, deadline=None)


def explained(engine: IdentityEngine) -> tuple[dict[tuple[str, str], object], dict[str, object]]:
    """Every known pair's why_linked and every customer's history."""
    known = [i for i in POOL if i.key in engine._core.index and engine._core.keys[engine._core.index[i.key]]]
    why = {(a.key, b.key): engine.why_linked(a, b) for a in known for b in known if a.key < b.key}
    return why, {cid: engine.history(cid) for cid in sorted(engine.customers())}


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_explanations_agree_incrementally_rebuilt_and_in_any_order(ops, seed) -> None:
    engine, entries = run(ops)
    rebuilt = IdentityEngine.rebuild(entries, POLICY)
    assert explained(engine) == explained(rebuilt)
    replica = IdentityEngine(POLICY)
    for entry in shuffled_around_erasures(entries, random.Random(seed)):
        replica.apply([entry])
    assert explained(replica) == explained(rebuilt)


def _distance(engine: IdentityEngine, x: int, y: int) -> int | None:
    """Hops from ``x`` to ``y`` over admitted pairs (None: no path)."""
    c = engine._core
    admitted: dict[int, set[int]] = {}
    for pair in c.pairs.values():
        if pair.status == core.ADMITTED:
            admitted.setdefault(pair.a, set()).add(pair.b)
            admitted.setdefault(pair.b, set()).add(pair.a)
    hops = {x: 0}
    queue = deque([x])
    while queue:
        u = queue.popleft()
        for v in admitted.get(u, ()):
            if v not in hops:
                hops[v] = hops[u] + 1
                queue.append(v)
    return hops.get(y)


@SETTINGS
@given(ops=ops_lists)
def test_why_linked_is_a_shortest_chain_of_admitted_active_links(ops) -> None:
    engine, entries = run(ops)
    c = engine._core
    links = {e.id: e for e in entries if e.type == "link"}
    revoked = {e.link_id for e in entries if e.type == "revocation"}  # type: ignore[union-attr]
    for a in POOL:
        for b in POOL:
            if a.key >= b.key or a.key not in c.index or b.key not in c.index:
                continue
            why = engine.why_linked(a, b)
            ca, cb = engine.customer_of(a), engine.customer_of(b)
            if why is None:
                assert ca is None or ca != cb
                continue
            assert ca == cb == why.customer_id
            assert why.steps[0].source == a
            assert why.steps[-1].target == b
            for step, following in zip(why.steps, why.steps[1:], strict=False):
                assert step.target == following.source
            for step in why.steps:
                link = links[step.link_id]
                assert {link.a.key, link.b.key} == {step.source.key, step.target.key}  # type: ignore[union-attr]
                assert step.link_id not in revoked
                x, y = c.index[step.source.key], c.index[step.target.key]
                assert c.pairs[(min(x, y), max(x, y))].status == core.ADMITTED
            assert len(why.steps) == _distance(engine, c.index[a.key], c.index[b.key])
