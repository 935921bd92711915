"""Invariants of the KPI layer, for generated help desks.

* Replaying the same payloads in any order (with redeliveries) gives the same KPIs:
  records are rebuilt with thread_conversations from the shuffled input.
* Merging two customers never changes per-conversation KPIs: when the identity
  engine merges two customers, their conversations are the same conversations
  under one customer id; every KPI that reads one conversation gives the same
  samples (only cross-conversation KPIs - FCR, repeat contact - may change).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx import models as m
from omnicx.conversations import ConversationAction, conversation_id, thread_conversations
from omnicx.metrics import (
    KPIS,
    BusinessCalendar,
    ConversationRecord,
    KpiOptions,
    SlaTargets,
    channel_mix,
    compute_kpis,
    kpi_samples,
    records_from_threading,
)
from tests.metrics.desk import AS_OF, CUSTOMERS, DAY, at, call, customer, desk_records, rating, reply

OPTIONS = KpiOptions(
    as_of=AS_OF,
    sla=SlaTargets(
        first_response=timedelta(minutes=30), next_response=timedelta(hours=1), resolution=timedelta(hours=8)
    ),
    calendar=BusinessCalendar(
        timezone="Europe/Berlin", hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("08:00-18:00",))
    ),
    group_by=("channel", "agent"),
    period="day",
)

KINDS = ("customer", "agent", "agent2", "bot", "template", "automated", "csat", "nps", "call")


def _make(name: str, i: int, minute: int, kind: str, channel: str) -> m.Interaction:
    key = f"{name}-{i}"
    if kind == "customer":
        return customer(key, minute, channel)
    if kind in ("agent", "agent2"):
        return reply(key, minute, author="alice" if kind == "agent" else "bob", channel=channel)
    if kind == "bot":
        return reply(key, minute, "bot", "helpbot", channel=channel)
    if kind == "template":
        return reply(key, minute, author="alice", channel=channel, metadata={"template": True})
    if kind == "automated":
        return reply(key, minute, author="alice", channel=channel, automated=True)
    if kind == "csat":
        return rating(key, minute, "csat", 1 + i % 5, channel)
    if kind == "nps":
        return rating(key, minute, "nps", i % 11, channel)
    return call(key, minute, "completed", f"CA-{name}-{i % 3}")


@st.composite
def desks(draw: Any, customers: int = 3) -> dict[str, tuple[list[m.Interaction], list[ConversationAction]]]:
    out = {}
    for n in range(customers):
        name = f"cus{n}"
        steps = draw(
            st.lists(
                st.tuples(
                    st.integers(0, 4 * DAY),
                    st.sampled_from(KINDS),
                    st.sampled_from(("whatsapp", "sms", "email", "webchat")),
                ),
                min_size=1,
                max_size=12,
            )
        )
        items = [_make(name, i, minute, kind, channel) for i, (minute, kind, channel) in enumerate(steps)]
        resolves = draw(
            st.lists(st.tuples(st.integers(0, len(items) - 1), st.integers(0, 5 * DAY)), max_size=4)
        )
        actions = [
            ConversationAction(type="resolve", conversation_id=conversation_id(items[k].id), at=at(minute))
            for k, minute in resolves
        ]
        out[name] = (items, actions)
    return out


def build(
    desk: dict[str, tuple[list[m.Interaction], list[ConversationAction]]], rng: random.Random | None = None
) -> list[ConversationRecord]:
    records: list[ConversationRecord] = []
    for name, (items, actions) in desk.items():
        given_items = list(items)
        if rng is not None:
            given_items += rng.sample(items, k=min(2, len(items)))  # redeliveries
            rng.shuffle(given_items)
            actions = rng.sample(actions, k=len(actions))
        threading = thread_conversations(name, given_items, actions)
        records += records_from_threading(threading, given_items)
    if rng is not None:
        rng.shuffle(records)
    return records


def sample_key(records: list[ConversationRecord]) -> list[tuple[Any, ...]]:
    return sorted(
        (s.kpi, s.conversation_id, s.value, s.channel, s.agent or "", s.event_at)
        for s in kpi_samples(records, OPTIONS)
    )


@settings(max_examples=60, deadline=None)
@given(desks(), st.randoms(use_true_random=False))
def test_kpis_do_not_depend_on_arrival_order(
    desk: dict[str, tuple[list[m.Interaction], list[ConversationAction]]], rng: random.Random
) -> None:
    ordered = build(desk)
    shuffled = build(desk, rng)
    assert compute_kpis(shuffled, OPTIONS) == compute_kpis(ordered, OPTIONS)
    assert sample_key(shuffled) == sample_key(ordered)
    assert channel_mix(shuffled, OPTIONS) == channel_mix(ordered, OPTIONS)


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_hand_worked_desk_in_any_order(rng: random.Random) -> None:
    order = {}
    for name, (items, _) in CUSTOMERS.items():
        shuffled = [*items, *rng.sample(items, k=min(3, len(items)))]
        rng.shuffle(shuffled)
        order[name] = shuffled
    assert compute_kpis(desk_records(order), OPTIONS) == compute_kpis(desk_records(), OPTIONS)


PER_CONVERSATION = {d.name for d in KPIS if not d.cross_conversation}


@settings(max_examples=60, deadline=None)
@given(desks(), st.data())
def test_merging_two_customers_never_changes_per_conversation_kpis(
    desk: dict[str, tuple[list[m.Interaction], list[ConversationAction]]], data: st.DataObject
) -> None:
    records = build(desk)
    names = sorted(desk)
    survivor, merged = data.draw(st.permutations(names))[:2]
    after = [
        r.model_copy(update={"customer_id": survivor}) if r.customer_id == merged else r for r in records
    ]

    def per_conversation(rs: list[ConversationRecord]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                s.kpi,
                s.conversation_id,
                s.value,
                s.channel,
                s.agent or "",
                s.team or "",
                s.started_at,
                s.event_at,
            )
            for s in kpi_samples(rs, OPTIONS)
            if s.kpi in PER_CONVERSATION
        )

    assert per_conversation(after) == per_conversation(records)
    # and the customers not involved keep every KPI, cross-conversation ones included
    untouched = [r for r in records if r.customer_id not in (survivor, merged)]
    untouched_after = [r for r in after if r.customer_id not in (survivor, merged)]
    assert sample_key(untouched) == sample_key(untouched_after)


def test_merging_can_change_repeat_contact_and_that_is_the_point() -> None:
    # ben (C at 120) and cat (D at 180) merged: C is followed by D within 7 days -> a repeat
    records = desk_records()
    before = compute_kpis(records, KpiOptions(as_of=AS_OF, kpis=("repeat_contact_rate",))).rows[0]
    merged = [r.model_copy(update={"customer_id": "ben"}) if r.customer_id == "cat" else r for r in records]
    after = compute_kpis(merged, KpiOptions(as_of=AS_OF, kpis=("repeat_contact_rate",))).rows[0]
    assert (before.total, after.total) == (2, 3)
