"""Invariants for every ledger: order independence, incremental == batch, split/re-link, erasure."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.errors import UnknownIdentifier
from omnicx.identity import Change, IdentityEngine, MergePolicy, Revocation, Sighting
from omnicx.models import Identifier

from .strategies import POLICY, POOL, T0, full_state, long_ops_lists, ops_lists, run, shuffled_around_erasures

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_gives_the_same_customers_and_ids(ops, seed) -> None:
    _, entries = run(ops)
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    assert full_state(IdentityEngine.rebuild(shuffled, POLICY)) == full_state(
        IdentityEngine.rebuild(entries, POLICY)
    )


@SETTINGS
@given(ops=ops_lists)
def test_the_incremental_engine_equals_a_batch_rebuild(ops) -> None:
    engine, entries = run(ops)
    assert full_state(engine) == full_state(IdentityEngine.rebuild(entries, POLICY))


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_applying_entries_one_by_one_in_any_order_equals_a_batch_rebuild(ops, seed) -> None:
    _, entries = run(ops)
    shuffled = shuffled_around_erasures(entries, random.Random(seed))
    engine = IdentityEngine(POLICY)
    for entry in shuffled:
        engine.apply([entry])
    assert full_state(engine) == full_state(IdentityEngine.rebuild(entries, POLICY))


@settings(max_examples=60, deadline=None)
@given(ops=long_ops_lists, seed=st.integers(0, 2**32 - 1))
def test_long_ledgers_agree_incrementally_in_order_and_shuffled(ops, seed) -> None:
    engine, entries = run(ops)
    batch = full_state(IdentityEngine.rebuild(entries, POLICY))
    assert full_state(engine) == batch
    shuffled = shuffled_around_erasures(entries, random.Random(seed))
    replica = IdentityEngine(POLICY)
    for entry in shuffled:
        replica.apply([entry])
    assert full_state(replica) == batch


PERMISSIVE = MergePolicy(use_default_blocklist=False, quarantine_enabled=False, limits={}, unique_kinds=())


@SETTINGS
@given(ops=ops_lists, data=st.data())
def test_split_then_relink_restores_the_original(ops, data) -> None:
    plain = [op for op in ops if op.verb in ("observe", "link")]
    engine, _ = run(plain, PERMISSIVE)
    before = engine.partition()
    big = [cid for cid, keys in before.items() if len(keys) >= 2]
    if not big:
        return
    cid = data.draw(st.sampled_from(sorted(big)))
    idents = engine.identifiers_of(cid)
    cut = data.draw(st.integers(1, len(idents) - 1))
    later = T0 + timedelta(days=1)
    change = engine.split(
        cid, [idents[:cut]], actor="agent", reason="wrong merge", at=later, keep_apart=False
    )
    assert cid in change.split  # the part holding the oldest identifier keeps the id
    assert all(engine.resolve(part) == part for part in change.split)
    assert len(change.split) >= 2
    revoked = [e for e in change.entries if isinstance(e, Revocation)]
    assert revoked
    assert all(isinstance(e, Revocation) for e in change.entries)
    for n, rev in enumerate(revoked):
        a, b = _ends(engine, rev.link_id)
        engine.link(a, b, actor="agent", reason="undo", at=later + timedelta(minutes=n + 1))
    assert engine.partition() == before


def _ends(engine: IdentityEngine, link_id: str) -> tuple[Identifier, Identifier]:
    core = engine._core
    i = core.link_index(link_id)
    assert i is not None
    rec = core.links[i]
    assert rec is not None
    return Identifier.parse(core.keys[rec.a] or ""), Identifier.parse(core.keys[rec.b] or "")


def _strings(obj: object, seen: set[int] | None = None) -> list[str]:
    """Every string reachable from ``obj`` (containers, attrs records, slots)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            out += _strings(k, seen) + _strings(v, seen)
        return out
    if isinstance(obj, list | tuple | set | frozenset):
        return [s for item in obj for s in _strings(item, seen)]
    slots = getattr(type(obj), "__slots__", ())
    if slots and not isinstance(obj, type):
        return [s for name in slots if hasattr(obj, name) for s in _strings(getattr(obj, name), seen)]
    return []


@SETTINGS
@given(ops=ops_lists, data=st.data())
def test_erasure_leaves_no_trace_of_the_forgotten_identifiers(ops, data) -> None:
    engine, entries = run(ops)
    customers = sorted(engine.customers())
    if not customers:
        return
    cid = data.draw(st.sampled_from(customers))
    forgotten = engine.identifiers_of(cid)
    result = engine.forget(cid, at=T0 + timedelta(days=1), actor="dpo", reason="GDPR art. 17")
    assert {i.key for i in result.identifiers} == {i.key for i in forgotten}
    state_strings = _strings(engine._core) + _strings(engine._birth) + _strings(engine._revocations)
    for ident in forgotten:
        assert not any(ident.key in s for s in state_strings), ident
        if ident.kind in ("email", "phone"):
            assert not any(ident.value in s for s in state_strings), ident
        with pytest.raises(UnknownIdentifier):
            engine.customer_of(ident)
    # the storage seam: delete what forget() lists, append the erasure, rebuild: same state
    removed = set(result.removed_entry_ids)
    gone = {i.key for i in forgotten}
    kept = [
        e
        for e in entries
        if e.id not in removed and not (isinstance(e, Sighting) and e.identifier.key in gone)
    ]
    assert full_state(IdentityEngine.rebuild([*kept, *result.entries], POLICY)) == full_state(engine)
    # nothing kept names a removed link or rule (a revocation's reason may name the person)
    assert not [e for e in kept if isinstance(e, Revocation) and e.link_id in removed]
    # a replayed old payload cannot bring them back
    replay = engine.observe(forgotten, at=T0, channel="sms", dedupe_key="replayed")
    assert replay.customer_id is None
    assert {c.reason for c in replay.conflicts} == {"erased"}


@SETTINGS
@given(ops=ops_lists, data=st.data())
def test_created_means_no_identifier_of_the_customer_was_known_before(ops, data) -> None:
    engine, _ = run(ops)
    group = data.draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique_by=lambda i: i.key))
    known = set(engine._core.index)
    change = engine.observe(group, at=T0 + timedelta(minutes=data.draw(st.integers(0, 40))), channel="sms")
    if change.customer_id is None:
        assert not change.created
        return
    members = {i.key for i in engine.identifiers_of(change.customer_id)}
    assert change.created == (not members & known)


def _births(engine: IdentityEngine) -> dict[str, str]:
    """Each current customer id → the key of the identifier it was born with."""
    c = engine._core
    return {
        cid: key
        for cid, keys in engine.partition().items()
        for key in keys
        if c.birth_id(c.index[key]) == cid
    }


def _retired_since(engine: IdentityEngine, births: dict[str, str]) -> set[str]:
    """The ids of ``births`` (id → the key it was born with) that are no customer's now while
    the identifier they were born with still is a customer's: the ids retired since."""
    now = engine.partition()
    return {
        cid
        for cid, key in births.items()
        if cid not in now and key in engine._core.index and engine.customer_of(Identifier.parse(key))
    }


@SETTINGS
@given(ops=ops_lists)
def test_every_operation_reports_in_merged_the_ids_it_retired(ops) -> None:
    # merged: the customer ids that existed before the operation and resolve to a survivor
    # after it, whatever retired them (a merge of the payload's own customers, or a replay
    # elsewhere that a quarantine or a revocation set off); an id whose identifier is no
    # customer's any more (quarantined, forgotten) is not merged
    held: dict[str, dict[str, str]] = {"births": {}}

    def after(engine: IdentityEngine, op: object, change: Change) -> None:
        assert set(change.merged) == _retired_since(engine, held["births"]), op
        now = engine.partition()
        assert all(engine.resolve(cid) in now for cid in change.merged)
        held["births"] = _births(engine)

    run(ops, after=after)


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_apply_reports_in_merged_the_ids_each_entry_retired(ops, seed) -> None:
    # a replica applying the ledger entry by entry, in any order the ledger allows: each
    # apply() names the ids it retired (a late sighting of an earlier instant, a merge, an
    # erasure that frees a shared identifier), and no id that was never a customer's
    _, entries = run(ops)
    replica = IdentityEngine(POLICY)
    births: dict[str, str] = {}
    for entry in shuffled_around_erasures(entries, random.Random(seed)):
        change = replica.apply([entry])
        assert set(change.merged) == _retired_since(replica, births), entry
        births = _births(replica)
