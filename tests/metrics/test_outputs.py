"""Rows render as CSV, a terminal table, pandas, and one self-contained HTML page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from omnicx.conversations import thread_conversations
from omnicx.errors import ConfigurationError, ValidationError
from omnicx.metrics import (
    CHANNEL_MIX,
    KPIS,
    RETURNING_CUSTOMERS,
    ConversationRecord,
    KpiOptions,
    KpiReport,
    channel_mix,
    compute_kpis,
    records_from_threading,
    render_report,
)
from tests.metrics.desk import AS_OF, by_first, customer, desk_records, reply

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report() -> KpiReport:
    return compute_kpis(desk_records(), KpiOptions(as_of=AS_OF))


def test_csv_has_a_header_and_one_line_per_row(report: KpiReport) -> None:
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert len(rows) == len(report.rows)
    frt = next(r for r in rows if r["kpi"] == "first_response_time")
    assert (frt["version"], frt["unit"], frt["clock"], frt["attribution"]) == (
        "1",
        "seconds",
        "wall",
        "conversation_start",
    )
    assert (frt["count"], frt["mean"], frt["p90"], frt["channel"]) == ("6", "1200.0", "2400.0", "")
    grouped = compute_kpis(desk_records(), KpiOptions(as_of=AS_OF, group_by=("team", "channel")))
    first = next(csv.DictReader(io.StringIO(grouped.to_csv())))
    assert first["group_by"] == "team|channel"


def test_table_for_the_terminal(report: KpiReport) -> None:
    text = report.format_table()
    lines = text.splitlines()
    assert lines[0].split() == ["kpi", "period", "group", "n", "mean", "median", "p90"]
    # FRT: mean 1200 s = 20m00s, median 1050 s = 17m30s, p90 2400 s = 40m00s
    assert lines[2].split() == ["first_response_time", "all", "all", "6", "20m00s", "17m30s", "40m00s"]
    assert any(line.split()[:5] == ["first_contact_resolution", "all", "all", "5", "40.0%"] for line in lines)


def test_to_pandas(report: KpiReport) -> None:
    pandas = pytest.importorskip("pandas")
    frame = report.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert len(frame) == len(report.rows)
    assert frame.loc[frame.kpi == "first_response_time", "median"].item() == 1050
    mix = channel_mix(desk_records()).to_pandas()
    assert mix.set_index("channel").loc["whatsapp", "contacts"] == 4


def test_to_pandas_without_pandas_says_how_to_get_it(
    report: KpiReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pandas(name: str, *args: object, **kwargs: object) -> object:
        if name == "pandas":
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ConfigurationError, match="pip install pandas"):
        report.to_pandas()


def test_html_report_is_self_contained_and_escapes_text() -> None:
    hostile = [
        customer("x1", 0, "webchat", parts=[{"type": "text", "text": "<script>alert(1)</script>"}]),
        reply("x2", 5, author="<b>eve</b>", channel="webchat"),
    ]
    records = records_from_threading(thread_conversations("<img src=x>", hostile), hostile) + desk_records()
    kpis = compute_kpis(records, KpiOptions(as_of=AS_OF, group_by=("agent",)))
    trends = compute_kpis(records, KpiOptions(as_of=AS_OF, period="day"))
    journey = [r for r in desk_records() if r.customer_id == "ana"]
    html = render_report(
        kpis, trends=trends, channel_mix=channel_mix(records), journey=journey, title="Desk <Q4>"
    )
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>eve" not in html
    assert "&lt;b&gt;eve&lt;/b&gt;" in html
    assert "Desk &lt;Q4&gt;" in html
    # nothing is loaded from anywhere: no src/href attributes, no url(), no @import
    assert not re.search(r"\b(src|href)\s*=", html)
    assert "url(" not in html
    assert "@import" not in html
    assert html.count("<svg") >= 3  # trends, channel mix, journey
    # the journey has one lane per channel ana used, and her reopen as a dashed line
    journey_svg = html[html.index('aria-label="customer journey"') :]
    assert ">whatsapp</text>" in journey_svg
    assert ">email</text>" in journey_svg
    assert ">sms</text>" in journey_svg
    assert "reopened at" in journey_svg


def test_html_report_without_optional_parts(report: KpiReport) -> None:
    html = render_report(report)
    assert "No trend data." in html
    assert "No journey selected." in html
    assert "No customer contacts." in html


def test_bad_input_raises_omnicx_errors() -> None:
    with pytest.raises(ValidationError, match="ConversationRecord"):
        compute_kpis([{"conversation": "nope"}])  # type: ignore[list-item]
    records = desk_records()
    with pytest.raises(ValidationError, match="appears in two records"):
        compute_kpis([records[0], records[0]])
    with pytest.raises(ConfigurationError, match="unknown KPI"):
        compute_kpis(records, KpiOptions(kpis=("frt",)))
    with pytest.raises(ValidationError, match="time zone"):
        KpiOptions(timezone="Nowhere/City")
    with pytest.raises(ValidationError, match="twice"):
        KpiOptions(group_by=("agent", "agent"))
    a, b = by_first(records)["A"], by_first(records)["B"]
    with pytest.raises(ValidationError, match="give each record only its own events"):
        ConversationRecord(conversation=a.conversation, events=b.events)
    with pytest.raises(ValidationError, match="frozen"):
        a.team = "x"  # type: ignore[misc]


def test_empty_input_gives_an_empty_report() -> None:
    empty = compute_kpis([])
    assert (empty.rows, empty.conversations, empty.as_of) == ((), 0, None)
    assert empty.to_csv() == ""
    assert "kpi" in empty.format_table()


def test_report_lookup_is_unambiguous() -> None:
    grouped = compute_kpis(desk_records(), KpiOptions(as_of=AS_OF, group_by=("channel",)))
    with pytest.raises(ConfigurationError, match="name more fields"):
        grouped.get("first_response_time")
    row = grouped.get("first_response_time", channel="sms")
    assert row is not None
    assert row.count == 2
    assert grouped.get("first_response_time", channel="fax") is None


def test_every_definition_is_documented_with_its_version() -> None:
    page = (ROOT / "docs" / "reference" / "kpis.md").read_text(encoding="utf-8")
    for definition in (*KPIS, CHANNEL_MIX, RETURNING_CUSTOMERS):
        assert f"`{definition.name}` v{definition.version}" in page, definition.name
        assert definition.formula.splitlines()[0] in page, definition.name
    names = [d.name for d in KPIS]
    assert len(set(names)) == len(names)
    assert repr(KPIS[0]) == "<KPI first_response_time v1>"


def test_options_windows_are_validated() -> None:
    with pytest.raises(ValidationError):
        KpiOptions(fcr_window=timedelta(days=-1))
