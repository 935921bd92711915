"""A realistic ingestion loop over a store, shared by the multi-process tests.

One event = one transaction: lock the identifiers, rebuild the identity engine
from the ledger component they belong to, observe, persist the new ledger
entries and the customers of the component, append the interaction. Runs in
child processes (spawned), so it takes only picklable arguments.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from omnicx.errors import StorageUnavailable
from omnicx.hub._identity_sync import policy_fingerprint, save_component
from omnicx.identity import IdentityEngine
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    Direction,
    Identifier,
    Message,
    ObservedIdentifier,
    TextPart,
    interaction_id,
)
from omnicx.store import Store, open_store
from omnicx.store._sql import entry_refs

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
PEOPLE = 24

Event = tuple[str, int, tuple[str, ...]]
"""(dedupe key, minute offset, identifier keys observed together; the first is the endpoint)."""


def person(n: int) -> tuple[str, str, str]:
    """The email, phone and web chat visitor id of person ``n``."""
    return (
        f"email:client{n}@laposte.net",
        f"phone:+3367{n + 13:02d}{(n * 7919 + 4821) % 10000:04d}9",
        f"chat_visitor:v-{n}-a9f",
    )


def events() -> list[Event]:
    """Each person shows up in 5 events: alone on each channel, then two that tie their ids together.

    So person ``n`` must end as one customer with exactly its three identifiers.
    """
    out: list[Event] = []
    for n in range(PEOPLE):
        email, phone, chat = person(n)
        base = n * 10
        out += [
            (f"p{n}-mail", base + 1, (email,)),
            (f"p{n}-sms", base + 2, (phone,)),
            (f"p{n}-chat", base + 3, (chat,)),
            (f"p{n}-form", base + 4, (chat, email)),
            (f"p{n}-wa", base + 5, (phone, email)),
        ]
    return out


def _message(key: str, minute: int, endpoint: Identifier) -> Message:
    at = T0 + timedelta(minutes=minute)
    return Message(
        id=interaction_id("webform", key),
        channel="webform",
        adapter="webform",
        dedupe_key=key,
        occurred_at=at,
        received_at=at,
        direction=Direction.INBOUND,
        author=Author(role=AuthorRole.CUSTOMER),
        endpoint=endpoint,
        parts=(TextPart(text=f"event {key}"),),
    )


def ingest(store: Store, event: Event) -> None:
    """Ingest one event in one transaction (retried when the store asks for it)."""
    key, minute, keys = event
    idents = [Identifier.parse(k) for k in keys]
    for attempt in range(50):
        try:
            with store.transaction() as tx:
                tx.lock_identifiers(idents)
                component = tx.ledger_component(idents)
                engine = IdentityEngine.rebuild(component)
                change = engine.observe(
                    [ObservedIdentifier(identifier=i, assurance=Assurance.VERIFIED) for i in idents],
                    at=T0 + timedelta(minutes=minute),
                    channel="webform",
                    dedupe_key=key,
                )
                tx.append_ledger(change.entries)
                seen = {k for e in component for k in entry_refs(e) if not k.startswith("#")} | set(keys)
                save_component(tx, engine, seen, policy_fingerprint(engine.policy))
                tx.append_interaction(_message(key, minute, idents[0]))
            return
        except StorageUnavailable:
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError(f"event {key} kept failing with StorageUnavailable")


def worker(url: str, batch: list[Event]) -> int:
    """Open the store at ``url`` in this process and ingest ``batch`` in order; return the count."""
    store = open_store(url)
    try:
        for event in batch:
            ingest(store, event)
    finally:
        store.close()
    return len(batch)


def state(store: Store) -> dict[str, object]:
    """Everything the multi-process test compares: customers, ledger and interaction rows."""
    with store.snapshot() as view:
        customers = {cid: view.get_customer(cid) for cid in view.customer_ids()}
        idents = [Identifier.parse(k) for n in range(PEOPLE) for k in person(n)]
        rows = view.timeline(idents, limit=1000)
        return {
            "customers": customers,
            "ledger": view.ledger(),
            "interactions": sorted(s.interaction.id for s in rows.items),
        }
