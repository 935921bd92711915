"""Which period a number lands in is explicit, and both choices are right for what they say.

chatwoot#14307: a team report filtered by the event's date instead of the
conversation's date, so conversations opened on one day and answered the next
vanished from the day they were opened on. omnicx names the attribution in every
row and computes either on request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from omnicx.conversations import ConversationAction, conversation_id, thread_conversations
from omnicx.metrics import KpiOptions, compute_kpis, records_from_threading
from tests.metrics.desk import customer, reply

# T0 is Mon 2026-11-02 09:00 UTC: the customer writes Mon 23:50 UTC (890 min), the agent answers
# Tue 00:20 UTC (920 min): FRT 30 min = 1800 s; the conversation is resolved Wed 10:00 UTC (2940 min).
LATE = [customer("late", 890), reply("late-r", 920, author="alice")]
RESOLVE = [
    ConversationAction(
        type="resolve",
        conversation_id=conversation_id(LATE[0].id),
        at=LATE[0].occurred_at + timedelta(hours=34, minutes=10),
    )
]
# an early-morning conversation on Tuesday: 07:00 UTC (1320 min), answered 07:10 -> 600 s
EARLY = [customer("early", 1320), reply("early-r", 1330, author="alice")]


def records() -> list:  # type: ignore[type-arg]
    late = thread_conversations("c1", LATE, RESOLVE)
    early = thread_conversations("c2", EARLY)
    return records_from_threading(late, LATE) + records_from_threading(early, EARLY)


def frt_by_period(**options: object) -> dict[str | None, tuple[int, float]]:
    report = compute_kpis(records(), KpiOptions.model_validate({"kpis": ("first_response_time",), **options}))
    return {r.period: (r.count, r.mean) for r in report.rows}


def test_conversation_start_attribution_keeps_the_reply_on_the_day_the_customer_wrote() -> None:
    # Mon: the late conversation (1800); Tue: the early one (600)
    assert frt_by_period(period="day") == {"2026-11-02": (1, 1800), "2026-11-03": (1, 600)}
    row = compute_kpis(records(), KpiOptions(period="day")).rows[0]
    assert row.attribution == "conversation_start"


def test_event_time_attribution_puts_it_on_the_day_of_the_reply() -> None:
    # both replies happen on Tuesday: (1800 + 600) / 2 = 1200
    assert frt_by_period(period="day", attribution="event_time") == {"2026-11-03": (2, 1200)}


def test_resolution_is_attributed_to_the_resolve_day_on_event_time() -> None:
    report = compute_kpis(
        records(), KpiOptions(period="day", attribution="event_time", kpis=("time_to_first_resolution",))
    )
    # resolved Wed 2026-11-04 10:00: 34 h 10 min after Mon 23:50 = 123000 s
    assert [(r.period, r.mean) for r in report.rows] == [("2026-11-04", 123000)]


def test_periods_are_local_to_the_report_time_zone() -> None:
    # In Europe/Berlin (UTC+1 in November) Mon 23:50 UTC is Tue 00:50: both on Tuesday
    assert frt_by_period(period="day", timezone="Europe/Berlin") == {"2026-11-03": (2, 1200)}
    # In America/Los_Angeles (UTC-8) both are Monday: 15:50 and 23:00 local
    assert frt_by_period(period="day", timezone="America/Los_Angeles") == {"2026-11-02": (2, 1200)}


@pytest.mark.parametrize(
    ("period", "label", "start"),
    [("week", "2026-W45", "2026-11-02"), ("month", "2026-11", "2026-11-01")],
)
def test_week_and_month_labels(period: str, label: str, start: str) -> None:
    report = compute_kpis(
        records(), KpiOptions.model_validate({"period": period, "kpis": ("first_response_time",)})
    )
    assert [
        (r.period, r.period_start.isoformat() if r.period_start else None, r.count) for r in report.rows
    ] == [(label, start, 2)]
