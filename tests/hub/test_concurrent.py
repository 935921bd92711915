"""Several processes ingesting into one store leave the state a full recomputation gives.

Each process runs its own :class:`Hub` (as web workers do) on a shuffled share of the
deliveries, retries included. SQLite serializes writers with its database lock;
PostgreSQL with advisory locks on the identifiers and their customers. Either way the
derived state the hub keeps per customer must not drift from what the ledger, the
interactions and the agents' actions define.
"""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

import pytest

from omnicx.hub import Hub
from omnicx.models import InboundRequest
from omnicx.store import open_store
from tests.hub import _payloads as p
from tests.hub.test_incremental import PEOPLE, assert_stored_state_is_the_full_recomputation, request

pytestmark = pytest.mark.slow
WORKERS = 3


def deliveries(seed: int) -> list[tuple[str, InboundRequest]]:
    """Every person on every channel, in time order, then shuffled with a quarter delivered twice."""
    rng = random.Random(seed)
    kinds = ["whatsapp", "webchat", "email", "voice"]
    items = [request(n, n % len(PEOPLE), kinds[(n // len(PEOPLE)) % 4], n * 7) for n in range(48)]
    items += rng.sample(items, len(items) // 4)
    rng.shuffle(items)
    return items


def worker(url: str, share: list[tuple[str, InboundRequest]]) -> int:
    with Hub.open(url, channels=p.adapters()) as hub:
        return sum(hub.ingest(channel, req).status in ("accepted", "duplicate") for channel, req in share)


def run(url: str, seed: int) -> None:
    open_store(url).close()  # migrate once up front; the workers then race only on data
    work = deliveries(seed)
    shares = [work[n::WORKERS] for n in range(WORKERS)]
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        done = pool.starmap(worker, [(url, share) for share in shares])
    assert sum(done) == len(work)
    with Hub.open(url, channels=p.adapters()) as hub:
        assert_stored_state_is_the_full_recomputation(hub)
        with hub.store.snapshot() as view:
            assert len(view.customer_ids()) == len(PEOPLE)


@pytest.mark.parametrize("seed", [1, 2])
def test_processes_on_one_sqlite_file(tmp_path: Path, seed: int) -> None:
    run(f"sqlite:///{tmp_path / 'shared.db'}", seed)


def test_processes_on_postgresql(pg_url: str) -> None:
    run(pg_url, 3)
