"""The counting rules one at a time: calls, business-hours SLA, merges and splits, edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from omnicx.conversations import ConversationAction, conversation_id, thread_conversations
from omnicx.metrics import (
    BusinessCalendar,
    ConversationRecord,
    KpiOptions,
    SlaTargets,
    compute_kpis,
    kpi_samples,
    records_from_threading,
)
from tests.metrics.desk import T0, at, call, customer, reply


def values(records: list[ConversationRecord], kpi: str, **options: Any) -> list[float]:
    return [s.value for s in kpi_samples(records, KpiOptions.model_validate(options)) if s.kpi == kpi]


def one(items: list[Any], actions: list[ConversationAction] | None = None) -> list[ConversationRecord]:
    return records_from_threading(thread_conversations("c", items, actions or []), items)


def test_a_connected_outbound_call_is_a_human_reply_and_a_missed_one_is_not() -> None:
    # customer 0; agent calls at 5 but nobody answers; agent calls again at 12 (ringing, then completed
    # at 13): the reply is at 12 (the call's first record) -> FRT 12 min = 720 s
    items = [
        customer("m", 0),
        call("o1", 5, "no_answer", "CA-out-1", direction="outbound", author="alice"),
        call("o2a", 12, "ringing", "CA-out-2", direction="outbound", author="alice"),
        call("o2b", 13, "completed", "CA-out-2", direction="outbound", author="alice"),
    ]
    assert values(one(items), "first_response_time") == [720]


def test_an_agent_first_outreach_is_not_a_response() -> None:
    # agent writes first at 0 (proactive), the customer answers at 30, the agent replies at 40 -> 600 s
    items = [reply("out", 0, author="alice"), customer("m", 30), reply("r", 40, author="alice")]
    assert values(one(items), "first_response_time") == [600]


def test_bot_only_answers_give_no_response_time_and_a_human_after_the_bot_is_a_handoff() -> None:
    bot_only = [customer("m", 0), reply("b", 1, "bot", "helpbot")]
    assert values(one(bot_only), "first_response_time") == []
    # bot at 1 and 4 while the customer waits from 0 and writes again at 3: handoff at 4, human at 10 -> 360 s
    handoff = [*bot_only, customer("m2", 3), reply("b2", 4, "bot", "helpbot"), reply("h", 10, author="alice")]
    assert values(one(handoff), "first_response_time") == [360]
    assert values(one(handoff), "bot_handoff_rate") == [1]


def test_first_response_and_sla_in_business_hours() -> None:
    # Fri 2026-11-06 16:50 London (= UTC in November) -> agent Mon 09:10: wall 64 h 20 min,
    # business (Mon-Fri 09:00-17:00) 10 min Friday + 10 min Monday = 1200 s
    friday = datetime(2026, 11, 6, 16, 50, tzinfo=UTC)
    minutes = (friday - T0).total_seconds() / 60
    items = [customer("m", minutes), reply("r", minutes + 64 * 60 + 20, author="alice")]
    office = BusinessCalendar(
        timezone="Europe/London", hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:00",))
    )
    records = one(items)
    assert values(records, "first_response_time") == [(64 * 60 + 20) * 60]
    assert values(records, "first_response_time", calendar=office) == [1200]
    sla = SlaTargets(first_response=timedelta(minutes=30))
    # 20 business minutes <= 30: met in business hours although the wall wait was 64 h
    assert values(records, "sla_first_response", calendar=office, sla=sla) == [1]
    assert values(records, "sla_first_response", sla=sla) == [0]
    row = compute_kpis(records, KpiOptions(calendar=office)).get("first_response_time")
    assert row is not None
    assert row.clock == "business"


def test_unanswered_waits_breach_only_once_past_target() -> None:
    items = [customer("m", 0)]
    sla = SlaTargets(first_response=timedelta(minutes=30))
    assert values(one(items), "sla_first_response", sla=sla, as_of=at(29)) == []
    assert values(one(items), "sla_first_response", sla=sla, as_of=at(31)) == [0]


def test_merged_conversations_keep_their_events_in_the_survivor() -> None:
    # a at 0, resolved at 5, reopened by the customer replying to "a-r" at 10; b opened separately at
    # 60 * 30 (idle window passed); b merged into a at 60 * 31
    a, ar = customer("a", 0), reply("a-r", 2, author="alice")
    b = customer("b", 60 * 30)
    ca, cb = conversation_id(a.id), conversation_id(b.id)
    actions = [
        ConversationAction(type="resolve", conversation_id=ca, at=at(5)),
        ConversationAction(type="resolve", conversation_id=cb, at=at(60 * 30 + 1)),
        ConversationAction(type="merge", conversation_id=ca, other_conversation_id=cb, at=at(60 * 31)),
    ]
    items = [a, ar, b]
    records = one(items, actions)
    assert [r.conversation.id for r in records] == [ca]
    # the survivor holds b's opened and resolved events too: two resolves -> first at 5 min
    assert [e.type.value for e in records[0].events].count("resolved") == 2
    assert values(records, "time_to_first_resolution") == [300]


def test_split_conversations_each_get_their_own_record() -> None:
    x, xr, y, yr = (
        customer("x", 0),
        reply("xr", 3, author="alice"),
        customer("y", 10),
        reply("yr", 18, author="bob"),
    )
    split = ConversationAction(
        type="split", conversation_id=conversation_id(x.id), interaction_id=y.id, at=at(20)
    )
    records = one([x, xr, y, yr], [split])
    assert [len(r.interactions) for r in records] == [2, 2]
    # x: 3 min; the split-off conversation: y at 10 -> bob at 18 = 8 min (its own first response)
    assert sorted(values(records, "first_response_time")) == [180, 480]


def test_a_bot_greeting_before_the_customer_writes_does_not_move_the_clock() -> None:
    # bot greets at 0 (nobody waits yet), customer 1, human 6 -> 300 s
    items = [reply("hello", 0, "bot", "helpbot"), customer("m", 1), reply("h", 6, author="alice")]
    assert values(one(items), "first_response_time") == [300]
