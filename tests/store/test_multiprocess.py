"""Four processes ingesting overlapping identities end in the state of one process ingesting in sequence."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from omnicx.models import Customer, Identifier
from omnicx.store import open_store
from tests.store import _workload

pytestmark = pytest.mark.slow


def _batches(seed: int) -> list[list[_workload.Event]]:
    """The events dealt to 4 processes: shuffled, and a quarter of them delivered twice (webhook retries)."""
    rng = random.Random(seed)
    events = _workload.events()
    deliveries = events + rng.sample(events, len(events) // 4)
    rng.shuffle(deliveries)
    return [deliveries[n::4] for n in range(4)]


def _run_parallel(url: str, seed: int) -> None:
    open_store(url).close()  # migrate once up front; the workers then race only on data
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        counts = pool.starmap(_workload.worker, [(url, batch) for batch in _batches(seed)])
    assert sum(counts) == sum(len(b) for b in _batches(seed))


def _run_sequential(url: str) -> None:
    store = open_store(url)
    try:
        for event in _workload.events():
            _workload.ingest(store, event)
    finally:
        store.close()


def _check(parallel_url: str, sequential_url: str) -> None:
    parallel, sequential = open_store(parallel_url), open_store(sequential_url)
    try:
        got, want = _workload.state(parallel), _workload.state(sequential)
    finally:
        parallel.close()
        sequential.close()
    customers = got["customers"]
    assert isinstance(customers, dict)
    # Hand-worked: one customer per person, holding exactly that person's three identifiers.
    assert len(customers) == _workload.PEOPLE
    groups = sorted(sorted(i.identifier.key for i in c.identifiers) for c in customers.values())
    assert groups == sorted(sorted(_workload.person(n)) for n in range(_workload.PEOPLE))
    # No duplicate and no lost interaction row: one per distinct event.
    assert len(got["interactions"]) == len(_workload.events())  # type: ignore[arg-type]
    # And exactly the sequential state: same ids, identifiers, first/last seen, ledger.
    assert got["ledger"] == want["ledger"]
    assert got["interactions"] == want["interactions"]
    wanted = want["customers"]
    assert isinstance(wanted, dict)
    assert sorted(customers) == sorted(wanted)
    for cid, customer in customers.items():
        assert isinstance(customer, Customer)
        assert customer.model_copy(update={"aliases": ()}) == wanted[cid].model_copy(update={"aliases": ()})
        # Out-of-order arrival may hand out ids that later retire: they stay as extra aliases.
        assert set(wanted[cid].aliases) <= set(customer.aliases)


def test_four_processes_on_one_sqlite_file_match_sequential(tmp_path: Path) -> None:
    parallel, sequential = f"sqlite:///{tmp_path / 'parallel.db'}", f"sqlite:///{tmp_path / 'sequential.db'}"
    _run_parallel(parallel, seed=7)
    _run_sequential(sequential)
    _check(parallel, sequential)


@pytest.mark.postgres
def test_four_processes_on_postgres_match_sequential(pg_server: object, tmp_path: Path) -> None:
    import psycopg

    from omnicx.testing._postgres_server import PostgresServer

    assert isinstance(pg_server, PostgresServer)
    urls = []
    for schema in ("mp_parallel", "mp_sequential"):
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
        urls.append(f"{pg_server.url}?options=-csearch_path%3D{schema}")
    _run_parallel(urls[0], seed=11)
    _run_sequential(urls[1])
    _check(urls[0], urls[1])


def test_identifier_keys_parse() -> None:
    # The workload writes identifiers by key; a typo there would silently test nothing.
    for n in range(3):
        for key in _workload.person(n):
            assert Identifier.parse(key).key == key
