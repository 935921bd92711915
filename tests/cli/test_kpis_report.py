"""``omnicx kpis`` and ``omnicx report`` read a real SQLite store filled through the hub."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from omnicx import Identifier
from omnicx.cli import main
from tests.hub.test_hub import ALL, at, open_hub


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'kpis.db'}"
    with open_hub(url) as hub:
        for channel, request in ALL:
            hub.ingest(channel, request)
        cid = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
        assert cid is not None
        conversation = hub.conversations(cid)[-1]  # the first one opened: chat at minute 0
        hub.reply(conversation.id, "It ships today.", agent="agent-7")
        hub.resolve(conversation.id, actor="agent-7", at=at(60 * 49))
    return url


def test_kpis_csv_has_the_hand_worked_first_response(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--store", store, "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    frt = next(r for r in rows if r["kpi"] == "first_response_time")
    # Ana's chat opened at minute 0; the agent's reply is recorded at the hub clock,
    # minute 60 * 48: 48 h = 172800 s, the only human reply in the data.
    assert (frt["count"], float(frt["mean"])) == ("1", 172800.0)
    assert frt["attribution"] == "conversation_start"


def test_kpis_table(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kpis", "--store", store, "--group-by", "channel"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["kpi", "period", "group"]
    assert "channel_switch_rate" in out


def test_report_writes_one_self_contained_page(store: str, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    assert main(["report", "--store", store, "--html", str(target)]) == 0
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    assert "<svg" in page
    assert "<script" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


@pytest.mark.parametrize("command", [["kpis"], ["report", "--html", "{tmp}/report.html"]])
def test_a_report_on_a_store_that_is_not_there_says_so_and_creates_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    args = [part.format(tmp=tmp_path) for part in command]
    assert main([*args, "--store", f"sqlite:///{missing}"]) == 1
    assert "there is no SQLite store" in capsys.readouterr().err
    assert not missing.exists()
    assert not (tmp_path / "report.html").exists()


def test_a_store_in_a_folder_that_is_not_there_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "nowhere" / "demo.db")]) == 1
    err = capsys.readouterr().err
    assert "cannot open the SQLite database" in err
    assert "Traceback" not in err
