"""Hub.timeline: pages of interactions and identity events, each entry exactly once."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx import Identifier
from omnicx.errors import MergeBlocked, ValidationError
from omnicx.hub import Hub, TimelineEntry
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONE = Identifier(kind="phone", value="+447911123456")
EMAIL = Identifier(kind="email", value="ana.silva@gmail.com")


def at(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def pages(hub: Hub, customer_id: str, limit: int, **filters: object) -> list[TimelineEntry]:
    """Every entry, page after page."""
    got: list[TimelineEntry] = []
    cursor = None
    while True:
        page = hub.timeline(customer_id, limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        got.extend(page.entries)
        cursor = page.next_cursor
        if cursor is None:
            return got


def run(hub: Hub, plan: list[tuple[str, int]]) -> None:
    """Messages, a web chat that names both identifiers, manual links and splits, in plan order."""
    for n, (op, minute) in enumerate(plan):
        when = at(minute)
        if op == "whatsapp":
            hub.ingest("whatsapp", p.whatsapp(when, "447911123456", "Ana", f"m{n}", wamid=f"wamid.A{n}"))
        elif op == "email":
            hub.ingest(
                "email",
                p.email(when, "Ana <ana.silva@gmail.com>", "Order", f"m{n}", message_id=f"a{n}@gmail.com"),
            )
        elif op == "chat":
            hub.ingest(
                "webchat",
                p.webchat(
                    when, f"s{n}", "v-ana", f"m{n}", email=EMAIL.value, phone=PHONE.value, event_id=f"e{n}"
                ),
            )
        else:
            a, b = hub.customer_of(PHONE), hub.customer_of(EMAIL)
            if a is None or b is None:
                continue
            if op == "link" and a != b:
                with contextlib.suppress(MergeBlocked):  # the never-link rule a split left
                    hub.link(PHONE, EMAIL, actor="agent:7", reason="same person", at=when)
            elif op == "split" and a == b:
                hub.split(a, [[PHONE], [EMAIL]], actor="agent:7", reason="not the same person", at=when)


def newest_first(entries: list[TimelineEntry]) -> bool:
    """Newer entries first; at one instant interactions, then identity events."""
    keys = [(e.at, 1 if e.type == "interaction" else 0) for e in entries]
    return keys == sorted(keys, reverse=True)


PLANS = st.lists(
    st.tuples(st.sampled_from(["whatsapp", "email", "chat", "link", "split"]), st.integers(0, 6)),
    min_size=1,
    max_size=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PLANS)
def test_paging_gives_every_entry_once_whatever_the_page_size(plan: list[tuple[str, int]]) -> None:
    with Hub.open("memory://", channels=p.adapters()) as hub:
        run(hub, plan)
        customers = {c for c in (hub.customer_of(PHONE), hub.customer_of(EMAIL)) if c is not None}
        for customer_id in customers:
            whole = list(hub.timeline(customer_id, limit=1000).entries)
            assert newest_first(whole)
            events = [e.identity for e in whole if e.identity is not None]
            assert sorted(events, key=repr) == sorted(hub.history(customer_id), key=repr)
            for limit in range(1, len(whole) + 2):
                assert pages(hub, customer_id, limit) == whole, limit
            interactions = [e for e in whole if e.type == "interaction"]
            assert pages(hub, customer_id, 1, identity_events=False) == interactions


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_an_agents_link_between_two_pages_is_on_the_later_one(backend: str, tmp_path: Path) -> None:
    """The case that lost the event: a manual link at 9:20, pages ending at 9:30 and starting at 9:10."""
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path / 'hub.db'}"
    with Hub.open(url, channels=p.adapters()) as hub:
        run(hub, [("whatsapp", 0), ("email", 10), ("link", 20), ("whatsapp", 30), ("whatsapp", 40)])
        customer_id = hub.customer_of(PHONE)
        assert customer_id is not None
        first = hub.timeline(customer_id, limit=2)
        assert [e.at for e in first.entries] == [at(40), at(30)]
        second = hub.timeline(customer_id, limit=2, cursor=first.next_cursor)
        assert [(e.type, e.at) for e in second.entries] == [
            ("identity", at(20)),
            ("interaction", at(10)),
            ("interaction", at(0)),
        ]
        assert second.next_cursor is None


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_merge_at_the_instant_of_a_page_boundary_is_listed_once(backend: str, tmp_path: Path) -> None:
    """The chat that merges phone and email is an interaction and an identity event of one instant."""
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path / 'hub.db'}"
    with Hub.open(url, channels=p.adapters()) as hub:
        run(hub, [("whatsapp", 0), ("email", 1), ("chat", 5), ("whatsapp", 5)])
        customer_id = hub.customer_of(PHONE)
        assert customer_id is not None
        whole = list(hub.timeline(customer_id, limit=100).entries)
        assert [e.type for e in whole].count("identity") >= 1
        for limit in (1, 2):
            assert pages(hub, customer_id, limit) == whole


def test_a_cursor_of_another_query_is_refused() -> None:
    """The store's own timeline cursor lacks the boundary the hub's carries."""
    with Hub.open("memory://", channels=p.adapters()) as hub:
        run(hub, [("whatsapp", 0), ("whatsapp", 1)])
        customer_id = hub.customer_of(PHONE)
        assert customer_id is not None
        with hub.store.snapshot(hub.tenant) as view:
            store_cursor = view.timeline([PHONE], limit=1).next_cursor
        assert store_cursor is not None
        assert hub.timeline(customer_id, limit=1).next_cursor != store_cursor
        for bad in (store_cursor, "not-a-cursor"):
            with pytest.raises(ValidationError):
                hub.timeline(customer_id, cursor=bad)
