"""Every KPI on the hand-written desk of tests/metrics/desk.py, expected values worked by hand.

Times in comments are minutes after T0 (Monday 2026-11-02 09:00 UTC); d = day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from omnicx.metrics import (
    KPIS,
    ConversationRecord,
    KpiOptions,
    KpiReport,
    SlaTargets,
    channel_mix,
    compute_kpis,
    kpi_samples,
    returning_customers,
)
from tests.metrics.desk import AS_OF, by_first, desk_records

SLA = SlaTargets(
    first_response=timedelta(minutes=20), next_response=timedelta(minutes=15), resolution=timedelta(hours=1)
)


@pytest.fixture(scope="module")
def records() -> list[ConversationRecord]:
    return desk_records()


@pytest.fixture(scope="module")
def report(records: list[ConversationRecord]) -> KpiReport:
    return compute_kpis(records, KpiOptions(as_of=AS_OF, sla=SLA))


def stats(report: KpiReport, kpi: str, **group: object) -> tuple[int, float, float, float, float]:
    row = report.get(kpi, **group)
    assert row is not None, kpi
    return row.count, row.total, row.mean, row.median, row.p90


def test_the_desk_threads_into_seven_conversations(records: list[ConversationRecord]) -> None:
    convs = by_first(records)
    assert sorted(convs) == list("ABCDEFG")
    assert convs["B"].conversation.channels == ("email", "sms")
    assert convs["A"].agent == "alice"  # from the assign action


def test_first_response_time(report: KpiReport) -> None:
    # A seg 1: customer 0, bots 1 and 3 (handoff at 3), alice 13      -> 13 - 3  = 10 min =  600 s
    # A seg 2: reopened by the customer at 60, automated 61 ignored, bob 75 -> 75 - 60 = 15 min = 900 s
    # B: email 1d+0, carol 1d+30                                       -> 30 min = 1800 s
    # C: 120 -> dave 125 = 300 s; D: 180 -> dave 200 = 1200 s; E: 3d+0 -> erin 3d+40 = 2400 s
    # F: only a bot answered; G: never answered -> no sample
    # sorted: 300 600 900 1200 1800 2400; sum 7200; mean 1200; median (900+1200)/2 = 1050
    # p90 nearest rank: ceil(0.9 * 6) = 6th -> 2400
    assert stats(report, "first_response_time") == (6, 7200, 1200, 1050, 2400)


def test_first_response_is_measured_after_the_reopen_not_from_creation(report: KpiReport) -> None:
    # Chatwoot PR #12058: after a reopen the first response was measured from the conversation's
    # creation. Here A's second segment gives 900 s (75 - 60), not 75 min = 4500 s.
    samples = [
        s for s in kpi_samples(desk_records(), KpiOptions(as_of=AS_OF)) if s.kpi == "first_response_time"
    ]
    a = by_first(desk_records())["A"].conversation.id
    assert sorted(s.value for s in samples if s.conversation_id == a) == [600, 900]
    assert [s.agent for s in samples if s.conversation_id == a] == ["alice", "bob"]


def test_next_response_time(report: KpiReport) -> None:
    # A: customer 20 and 22 wait from 20; template 27 ignored; alice 30 -> 10 min = 600 s;
    #    alice 31 answers nobody; the reaction at 32 is not contact
    # B: customer sms 1d+60, carol 1d+80 -> 20 min = 1200 s
    # sum 1800, mean 900, median (600+1200)/2 = 900, p90 rank ceil(1.8) = 2 -> 1200
    assert stats(report, "next_response_time") == (2, 1800, 900, 900, 1200)


def test_resolution_times(report: KpiReport) -> None:
    # first resolve - opened: A 40 min=2400, B 2h=7200, C 10 min=600, D 30 min=1800, E 1h=3600,
    # F 6 min=360; G never resolved. sorted 360 600 1800 2400 3600 7200, sum 15960, mean 2660,
    # median (1800+2400)/2 = 2100, p90 6th = 7200
    assert stats(report, "time_to_first_resolution") == (6, 15960, 2660, 2100, 7200)
    # final resolve: A's last resolve is at 80 -> 4800; the others as above
    # sorted 360 600 1800 3600 4800 7200, sum 18360, mean 3060, median (1800+3600)/2 = 2700
    assert stats(report, "time_to_final_resolution") == (6, 18360, 3060, 2700, 7200)


def test_reopen_count(report: KpiReport) -> None:
    # A reopened once; 7 conversations -> total 1, mean 1/7, median 0, p90 rank ceil(6.3)=7 -> 1
    assert stats(report, "reopen_count") == (7, 1, pytest.approx(1 / 7), 0, 1)


def test_first_contact_resolution(report: KpiReport) -> None:
    # eligible: resolved, >= 1 human reply, resolved + 7 d <= as_of (T0 + 11 d): A B C D E
    # A: 4 human replies and a reopen -> 0      B: 2 human replies -> 0
    # C: 1 reply, ben never came back -> 1      D: 1 reply, but cat came back (E at 3d) within
    #                                              resolved(210) + 7 d -> 0
    # E: 1 reply, resolved 3d+60, window to 10d+60 <= 11d, no later contact -> 1
    # F: no human reply -> not eligible; G: not resolved
    # 2 / 5 = 0.4
    row = report.get("first_contact_resolution")
    assert row is not None
    assert (row.count, row.total, row.mean) == (5, 2, 0.4)


def test_fcr_leaves_out_conversations_whose_window_is_still_open(records: list[ConversationRecord]) -> None:
    # as_of = 3d+60 + 6 d: E's window (to 3d+60 + 7 d) is open -> E left out; the others closed
    # (D's window ends 210 min + 7 d < as_of). A0 B0 C1 D0 -> 1 / 4
    as_of = AS_OF - timedelta(days=11) + timedelta(days=9, minutes=60)
    row = compute_kpis(records, KpiOptions(as_of=as_of, kpis=("first_contact_resolution",))).rows[0]
    assert (row.count, row.total) == (4, 1)
    # a 1-day window: D is no longer spoiled by E (3 d later) -> C1 D1 E1 A0 B0 = 3 / 5
    one_day = compute_kpis(records, KpiOptions(as_of=AS_OF, fcr_window=timedelta(days=1)))
    fcr = one_day.get("first_contact_resolution")
    assert fcr is not None
    assert (fcr.count, fcr.total) == (5, 3)


def test_csat(report: KpiReport) -> None:
    # A answered 2 at 82, then 4 at 85: the latest (4) counts. D answered 3.
    # top-2-box: A 1, D 0 -> 1/2;  mean (4 + 3) / 2 = 3.5
    assert stats(report, "csat_top2_box")[:3] == (2, 1, 0.5)
    assert stats(report, "csat_mean") == (2, 7, 3.5, 3.5, 4)
    # response rate over surveyed conversations: A surveyed+rated 1, C surveyed not rated 0,
    # D rated (an answer proves a survey) 1 -> 2/3
    assert stats(report, "csat_response_rate")[:3] == (3, 2, pytest.approx(2 / 3))


def test_nps_and_ces(report: KpiReport) -> None:
    # NPS answers: B 9 promoter, C 3 detractor, E 7 passive, F 10 promoter
    # 100 * (2 - 1) / 4 = 25; samples +100 -100 0 +100
    count, total, mean, _, _ = stats(report, "nps")
    assert (count, total, mean) == (4, 100, 25)
    # CES: B 6, C 4 -> mean 5
    assert stats(report, "ces_mean")[:3] == (2, 10, 5)


def test_bot_containment_and_handoff(report: KpiReport) -> None:
    # bot-served: A (bots at 1 and 3, then alice) and F (bot at 305, resolved, no human)
    # containment: A 0, F 1 -> 1/2;  handoff: A 1, F 0 -> 1/2
    assert stats(report, "bot_containment_rate")[:3] == (2, 1, 0.5)
    assert stats(report, "bot_handoff_rate")[:3] == (2, 1, 0.5)


def test_sla_attainment(report: KpiReport) -> None:
    # first response <= 20 min = 1200 s: 600 y, 900 y, 1800 n, 300 y, 1200 y (equal is met), 2400 n,
    # plus G: the call at 240 still unanswered at as_of -> breached 0  => 4 / 7
    assert stats(report, "sla_first_response")[:2] == (7, 4)
    # next response <= 15 min: 600 y, 1200 n => 1 / 2
    assert stats(report, "sla_next_response")[:2] == (2, 1)
    # resolution <= 1 h by the first resolve: A 2400 y, B 7200 n, C y, D y, E 3600 y (equal), F y,
    # G never resolved and older than 1 h at as_of -> 0  => 5 / 7
    assert stats(report, "sla_resolution")[:2] == (7, 5)


def test_channel_switch_and_repeat_contact(report: KpiReport) -> None:
    # only B spans two channels (email then sms): 1 / 7
    assert stats(report, "channel_switch_rate")[:2] == (7, 1)
    # repeat within 7 d of the first contact: A (B a day later) 1, D (E 3 d later) 1, others 0;
    # every window (start + 7 d <= T0 + 3d + 7d < as_of) has closed -> 2 / 7
    assert stats(report, "repeat_contact_rate")[:2] == (7, 2)


def test_channel_mix(records: list[ConversationRecord]) -> None:
    # contacts: whatsapp a1 a2 a3 a4 = 4 (the reaction is not contact); email b1; sms b2 d1 e1 = 3;
    # webchat c1 f1 = 2; voice: one call with two records = 1. Total 11.
    mix = {r.channel: (r.contacts, r.share) for r in channel_mix(records).rows}
    assert mix == {
        "email": (1, 1 / 11),
        "sms": (3, 3 / 11),
        "voice": (1, 1 / 11),
        "webchat": (2, 2 / 11),
        "whatsapp": (4, 4 / 11),
    }


def test_returning_customers_per_day(records: list[ConversationRecord]) -> None:
    # 2026-11-02: ana, ben, cat, dan, eve start -> 5 customers, all new
    # 2026-11-03: ana (B) -> returning;  2026-11-05: cat (E) -> returning
    rows = returning_customers(records, KpiOptions(period="day")).rows
    assert [(r.period, r.customers, r.new_customers, r.returning_customers) for r in rows] == [
        ("2026-11-02", 5, 5, 0),
        ("2026-11-03", 1, 0, 1),
        ("2026-11-05", 1, 0, 1),
    ]
    # per month (the default) nobody came before November
    monthly = returning_customers(records).rows
    assert [(r.period, r.customers, r.returning_customers) for r in monthly] == [("2026-11", 5, 0)]


def test_grouping_by_agent_attributes_replies_to_who_wrote_them(records: list[ConversationRecord]) -> None:
    report = compute_kpis(records, KpiOptions(as_of=AS_OF, group_by=("agent",)))
    frt = {r.agent: (r.count, r.mean, r.p90) for r in report.for_kpi("first_response_time")}
    # alice 600; bob 900 (A is assigned to alice, but bob wrote the reply); carol 1800;
    # dave 300 and 1200 -> mean 750, p90 rank ceil(1.8) = 2 -> 1200; erin 2400
    assert frt == {
        "alice": (1, 600, 600),
        "bob": (1, 900, 900),
        "carol": (1, 1800, 1800),
        "dave": (2, 750, 1200),
        "erin": (1, 2400, 2400),
    }
    # conversation-level KPIs go to the conversation's agent: A -> alice, the rest unassigned
    reopen = {r.agent: (r.count, r.total) for r in report.for_kpi("reopen_count")}
    assert reopen == {"alice": (1, 1), None: (6, 0)}


def test_grouping_by_channel_and_team(records: list[ConversationRecord]) -> None:
    report = compute_kpis(records, KpiOptions(as_of=AS_OF, group_by=("team", "channel")))
    frt = {(r.team, r.channel): (r.count, r.mean) for r in report.for_kpi("first_response_time")}
    # billing = ana + eve: whatsapp 600 and 900 -> 750; email 1800. support: webchat 300, sms 1200, 2400
    assert frt == {
        ("billing", "email"): (1, 1800),
        ("billing", "whatsapp"): (2, 750),
        ("support", "sms"): (2, 1800),
        ("support", "webchat"): (1, 300),
    }


def test_every_kpi_has_a_hand_worked_value_above(report: KpiReport) -> None:
    assert {r.kpi for r in report.rows} == {d.name for d in KPIS}
