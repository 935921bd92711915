"""PostgreSQL specifics: identity changes wait for each other per identifier and per customer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from omnicx.errors import Conflict
from omnicx.models import Identifier
from omnicx.store import PostgresStore, Store, open_store

pytestmark = pytest.mark.postgres

A, B, C, D = (Identifier(kind="email", value=f"{n}@shop.fr") for n in "abcd")


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url + "&pool_max=4")
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


def _contend(store: Store, first: list[Identifier], second: list[Identifier]) -> float:
    """Seconds the second session waited for its locks while the first held its own for 0.4 s."""
    locked = threading.Event()
    waited: list[float] = []

    def holder() -> None:
        with store.transaction() as tx:
            tx.lock_identifiers(first)
            locked.set()
            time.sleep(0.4)

    def contender() -> None:
        locked.wait()
        start = time.monotonic()
        with store.transaction() as tx:
            tx.lock_identifiers(second)
            waited.append(time.monotonic() - start)

    threads = [threading.Thread(target=holder), threading.Thread(target=contender)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return waited[0]


def test_same_identifier_waits(store: Store) -> None:
    assert _contend(store, [A], [A, D]) >= 0.3


def test_same_customer_through_another_identifier_waits(store: Store) -> None:
    with store.transaction() as tx:
        tx.assign_customer([A, B], "cus_1")
    assert _contend(store, [A], [B]) >= 0.3


def test_merged_customer_is_followed_through_its_alias(store: Store) -> None:
    with store.transaction() as tx:
        tx.assign_customer([A], "cus_1")
        tx.assign_customer([B], "cus_2")
        tx.add_alias("cus_2", "cus_1")
    assert _contend(store, [A], [B]) >= 0.3


def test_unrelated_customers_do_not_wait(store: Store) -> None:
    with store.transaction() as tx:
        tx.assign_customer([A], "cus_1")
        tx.assign_customer([C], "cus_3")
    assert _contend(store, [A], [C]) < 0.2


def test_derived_state_read_after_taking_locks_is_what_others_committed(store: Store) -> None:
    """A session answers repeated derived-state reads itself, but not across lock_identifiers:
    what another process committed before the locks were granted must be seen after them."""
    with store.transaction() as tx:
        tx.assign_customer([A], "cus_1")
        tx.put_customer_state("cus_1", {"i@": "old facts"})
    with store.transaction() as tx:
        assert tx.customer_state("cus_1", ["i@", "t@"]) == {"i@": "old facts"}
        other = threading.Thread(target=lambda: _write_state(store, {"i@": "new facts", "t@": "header"}))
        other.start()
        other.join()
        assert tx.customer_state("cus_1", ["i@"]) == {"i@": "old facts"}  # no new query: the same answer
        tx.lock_identifiers([A])
        assert tx.customer_state("cus_1", ["i@", "t@"]) == {"i@": "new facts", "t@": "header"}


def _write_state(store: Store, values: dict[str, str]) -> None:
    with store.transaction() as tx:
        tx.put_customer_state("cus_1", values)


@pytest.mark.parametrize("then_read", [True, False])
def test_a_pipelined_write_that_fails_is_raised_and_rolls_the_transaction_back(
    store: Store, then_read: bool
) -> None:
    """Writes whose answer nobody needs are sent with the next statement that needs one (or the
    commit): their error still comes out of the transaction, as omnicx's error, and undoes it."""
    duplicate = "INSERT INTO omnicx_schema_version (version, description, applied_us) VALUES (1, 'again', 0)"

    def work() -> None:
        with store.transaction() as tx:
            tx.put_customer_state("cus_1", {"k": "v"})
            tx._db.put(duplicate, ())  # type: ignore[attr-defined]  # no ON CONFLICT: a unique violation
            if then_read:
                tx.customer_state("cus_2", ["x"])

    with pytest.raises(Conflict, match="duplicate key"):
        work()
    with store.snapshot() as view:
        assert view.customer_state("cus_1", ["k"]) == {}
