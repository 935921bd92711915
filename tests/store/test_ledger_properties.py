"""The store is a faithful home for the identity ledger: what goes in rebuilds the same engine.

Random ledgers come from driving a real engine (tests/identity/strategies.py) under a
policy small enough that quarantine, limits, unique kinds and never-links all happen.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx.identity import IdentityEngine
from omnicx.store import MemoryStore, SQLiteStore, Store
from tests.identity.strategies import POLICY, POOL, Op, ops_lists, run, state
from tests.store._workload import policy_fingerprint, save_component


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "ledger.db")
    yield made
    made.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
@given(ops=ops_lists, seed=st.integers(0, 2**32 - 1), cuts=st.integers(1, 4))
def test_ledger_round_trips_in_any_order_and_rebuilds_the_same_customers(
    store: Store, ops: list[Op], seed: int, cuts: int
) -> None:
    engine, entries = run(ops)
    shuffled = entries + entries[: len(entries) // 2]  # redeliveries too
    random.Random(seed).shuffle(shuffled)
    tenant = f"l-{uuid.uuid4().hex[:10]}"
    size = max(1, len(shuffled) // cuts)
    for start in range(0, len(shuffled), size):
        with store.transaction(tenant) as tx:
            tx.append_ledger(shuffled[start : start + size])
    with store.snapshot(tenant) as view:
        stored = view.ledger()
        components = {i.key: view.ledger_component([i]) for i in POOL}
    unique = {e.id: e for e in entries}
    assert stored == sorted(unique.values(), key=lambda e: (e.at, e.id))
    assert state(IdentityEngine.rebuild(stored, POLICY)) == state(engine)
    # The component of an identifier is enough to decide its customer: what the
    # multi-process ingestion relies on.
    for ident in POOL:
        local = IdentityEngine.rebuild(components[ident.key], POLICY)
        try:
            want = engine.customer_of(ident)
        except LookupError:
            assert components[ident.key] == []
            continue
        assert local.customer_of(ident) == want
        if want is not None:
            assert set(local.partition()[want]) == set(engine.partition()[want])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
@given(ops=ops_lists, pick=st.integers(0, 100))
def test_forgetting_leaves_the_store_as_the_engine_leaves_itself(
    store: Store, ops: list[Op], pick: int
) -> None:
    engine, entries = run(ops)
    customers = sorted(engine.customers())
    if not customers:
        return
    victim = customers[pick % len(customers)]
    tenant = f"f-{uuid.uuid4().hex[:10]}"
    with store.transaction(tenant) as tx:
        tx.append_ledger(entries)
        for cid in customers:
            tx.save_customer(engine.customer(cid))
    forgotten = engine.forget(victim, actor="dpo")
    (erasure,) = forgotten.entries
    with store.transaction(tenant) as tx:
        report = tx.forget_customer(victim, erasure)  # type: ignore[arg-type]
        # Erasure can re-shape what is left (an identifier held back by the forgotten one
        # may now join another customer): the caller writes the engine's customers again.
        gone = {i.key for i in forgotten.identifiers}
        save_component(tx, engine, {i.key for i in POOL} - gone, policy_fingerprint(engine.policy))
    assert report.identifiers == len(forgotten.identifiers)
    with store.snapshot(tenant) as view:
        assert view.ledger(forgotten.identifiers) == []
        assert all(view.customer_of(i) is None for i in forgotten.identifiers)
        left = view.ledger()
        assert erasure in left
        assert view.customer_ids() == sorted(engine.customers())
    # Rebuilding from what the store kept gives the engine's own state after forget().
    assert state(IdentityEngine.rebuild(left, POLICY)) == state(engine)
