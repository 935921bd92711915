"""Invariants for every ledger: order independence, incremental == batch, split/re-link, erasure."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.identity import IdentityEngine

from .strategies import POLICY, run, state, ops_lists

SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_any_arrival_order_gives_the_same_customers_and_ids(ops, seed) -> None:
    _, entries = run(ops)
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    assert state(IdentityEngine.rebuild(shuffled, POLICY)) == state(IdentityEngine.rebuild(entries, POLICY))


@SETTINGS
@given(ops=ops_lists)
def test_the_incremental_engine_equals_a_batch_rebuild(ops) -> None:
    engine, entries = run(ops)
    assert state(engine) == state(IdentityEngine.rebuild(entries, POLICY))


@SETTINGS
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1))
def test_applying_entries_one_by_one_in_any_order_equals_a_batch_rebuild(ops, seed) -> None:
    _, entries = run(ops)
    shuffled = list(entries)
    random.Random(seed).shuffle(shuffled)
    engine = IdentityEngine(POLICY)
    for entry in shuffled:
        engine.apply([entry])
    assert state(engine) == state(IdentityEngine.rebuild(entries, POLICY))
