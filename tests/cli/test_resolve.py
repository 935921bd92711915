"""``omnicx resolve``: JSONL in, CSV out, progress on stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnicx.cli import main

RECORDS = [
    # ana: email in two spellings, her phone in national, E.164 and WhatsApp forms
    {
        "record_id": "r1",
        "ts": "2024-01-01T09:00:00Z",
        "channel": "email",
        "identifiers": [{"type": "email", "value": " Ana.Ortiz@Gmail.com"}],
    },
    {
        "record_id": "r2",
        "ts": "2024-01-02T09:00:00Z",
        "channel": "sms",
        "identifiers": [
            {"type": "phone", "value": "(415) 523-8886"},
            {"type": "email", "value": "ana.ortiz@gmail.com"},
        ],
    },
    {
        "record_id": "r3",
        "ts": "2024-01-03T09:00:00Z",
        "channel": "whatsapp",
        "identifiers": [{"type": "phone", "value": "14155238886"}],
    },
    # bo: messenger, then chat with his email
    {
        "record_id": "r4",
        "ts": "2024-01-04T09:00:00Z",
        "channel": "messenger",
        "identifiers": [
            {"type": "handle", "value": "messenger:6569341800484935"},
            {"type": "email", "value": "BO@shop.io"},
        ],
    },
    {
        "record_id": "r5",
        "ts": "2024-01-05T09:00:00Z",
        "channel": "chat",
        "identifiers": [
            {"type": "handle", "value": "chat:v_93b105f00daa"},
            {"type": "email", "value": "bo@shop.io"},
        ],
    },
    # junk only: no customer
    {
        "record_id": "r6",
        "ts": "2024-01-06T09:00:00Z",
        "channel": "chat",
        "identifiers": [{"type": "handle", "value": "chat:undefined"}],
    },
    # an agent typed the shop's order mailbox on both: it must not join ana and bo
    {
        "record_id": "r7",
        "ts": "2024-01-07T09:00:00Z",
        "channel": "voice",
        "identifiers": [
            {"type": "phone", "value": "+1 415 523 8886"},
            {"type": "email", "value": "orders@shop.io"},
        ],
    },
    {
        "record_id": "r8",
        "ts": "2024-01-08T09:00:00Z",
        "channel": "email",
        "identifiers": [
            {"type": "email", "value": "orders@shop.io"},
            {"type": "handle", "value": "messenger:6569341800484935"},
        ],
    },
    # an unreadable phone is dropped; the record keeps its other identifier
    {
        "record_id": "r9",
        "ts": "2024-01-09T09:00:00Z",
        "channel": "sms",
        "identifiers": [{"type": "phone", "value": "call me"}, {"type": "email", "value": "bo@shop.io"}],
    },
]
# three more callers with the order mailbox typed in: four distinct phones on one address
# is more than one person has (default threshold 3), so the mailbox is quarantined
CALLERS = [
    {
        "record_id": f"r{10 + n}",
        "ts": f"2024-01-1{n}T09:00:00Z",
        "channel": "voice",
        "identifiers": [
            {"type": "phone", "value": f"+1 212 629 017{n}"},
            {"type": "email", "value": "orders@shop.io"},
        ],
    }
    for n in range(3)
]


def write(tmp_path: Path, records: list[object], extra_lines: tuple[str, ...] = ()) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in records) + "".join(line + "\n" for line in extra_lines)
    )
    return path


def read(path: Path) -> dict[str, str]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["record_id", "customer_id"]
    return dict(rows[1:])  # type: ignore[arg-type]


def test_resolve_groups_messy_records_into_customers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    assert main(["resolve", str(write(tmp_path, RECORDS + CALLERS)), "--output", str(out)]) == 0
    got = read(out)
    assert list(got) == [f"r{n}" for n in range(1, 13)]
    ana, bo = got["r1"], got["r4"]
    assert ana
    assert bo
    assert ana != bo
    assert [got[r] for r in ("r2", "r3", "r7")] == [ana, ana, ana]
    assert [got[r] for r in ("r5", "r8", "r9")] == [bo, bo, bo]
    assert got["r6"] == ""
    assert len({got["r10"], got["r11"], got["r12"], ana, bo}) == 5
    err = capsys.readouterr().err
    assert "12 records → 5 customers" in err
    assert "2 shared identifiers" in err  # chat:undefined (blocklisted), the mailbox (quarantined)
    assert "1 unreadable identifiers dropped" in err


def test_a_blocklist_file_and_a_policy_file_apply(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    (tmp_path / "block.txt").write_text("# shop mailboxes\norders@shop.io\n")
    (tmp_path / "policy.toml").write_text("version = 1\nuse_default_blocklist = false\n")
    args = ["resolve", str(write(tmp_path, RECORDS)), "-o", str(out), "--quiet"]
    assert (
        main([*args, "--blocklist", str(tmp_path / "block.txt"), "--policy", str(tmp_path / "policy.toml")])
        == 0
    )
    got = read(out)
    assert got["r6"] != ""  # "chat:undefined" is no longer junk without the default blocklist
    assert got["r7"] == got["r1"]
    assert got["r8"] == got["r4"]  # the mailbox joins nobody


def test_without_quarantine_the_mailbox_merges_two_people(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    (tmp_path / "policy.json").write_text('{"version": 1, "quarantine_enabled": false}')
    assert (
        main(
            [
                "resolve",
                str(write(tmp_path, RECORDS + CALLERS)),
                "-o",
                str(out),
                "-q",
                "--policy",
                str(tmp_path / "policy.json"),
            ]
        )
        == 0
    )
    got = read(out)
    # the mailbox bridges ana and bo
    assert got["r1"] == got["r4"]


def test_bad_lines_are_skipped_and_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    source = write(
        tmp_path, RECORDS[:2], ("{not json", '{"record_id": "x", "ts": "yesterday", "identifiers": []}')
    )
    assert main(["resolve", str(source), "-o", str(out)]) == 0
    assert list(read(out)) == ["r1", "r2"]
    err = capsys.readouterr().err
    assert "skipped line 3" in err
    assert "skipped line 4" in err
    assert "2 bad lines skipped" in err


def test_a_line_that_is_not_utf8_is_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "latin1.jsonl", tmp_path / "out.csv"
    good = json.dumps(RECORDS[0]).encode()
    bad = '{"record_id": "x", "ts": "2024-01-01T00:00:00Z", "identifiers": [{"type": "email", "value": "zoë@shop.io"}]}'
    source.write_bytes(good + b"\n" + bad.encode("latin-1") + b"\n")
    assert main(["resolve", str(source), "-o", str(out)]) == 0
    assert list(read(out)) == ["r1"]
    assert "skipped line 2" in capsys.readouterr().err


def test_progress_is_reported_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    source = str(write(tmp_path, RECORDS))
    assert main(["resolve", source, "-o", str(out), "--progress-every", "4", "--engine", "python"]) == 0
    err = capsys.readouterr().err
    assert "omnicx resolve: 4 records" in err
    assert "omnicx resolve: 8 records" in err
    assert "records/s" in err
    # DuckDB reads the file at once: one progress line when it is read, and the summary names it
    assert main(["resolve", source, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"omnicx resolve: {len(RECORDS)} records, " in err
    assert "records/s, duckdb)" in err


def test_missing_input_and_bad_region_fail_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resolve", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert (
        main(["resolve", str(write(tmp_path, RECORDS)), "-o", str(tmp_path / "o.csv"), "--region", "XX"]) == 1
    )
    assert "--region" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["resolve", "in.jsonl"])
    assert exc.value.code == 2
    assert "--output" in capsys.readouterr().err


def test_the_command_runs_as_a_module_with_stdin_and_stdout(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "omnicx.cli", "resolve", "-", "--output", "-", "--quiet"],
        input="".join(json.dumps(r) + "\n" for r in RECORDS[:3]),
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert lines[0] == "record_id,customer_id"
    assert len({line.split(",")[1] for line in lines[1:]}) == 1


ENGINES = ("auto", "python")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_name_with_pattern_characters_names_that_file_alone(tmp_path: Path, engine: str) -> None:
    # DuckDB's reader expands *, ? and [...] in a path: export[1].jsonl would read export1.jsonl
    (tmp_path / "export[1].jsonl").write_text(json.dumps(RECORDS[0]) + "\n")
    (tmp_path / "export1.jsonl").write_text(json.dumps({**RECORDS[1], "record_id": "wrong-file"}) + "\n")
    (tmp_path / "export*.jsonl").write_text(json.dumps(RECORDS[3]) + "\n")
    for name, want in (("export[1].jsonl", "r1"), ("export*.jsonl", "r4")):
        out = tmp_path / "out.csv"
        args = ["resolve", str(tmp_path / name), "-o", str(out), "--quiet", "--engine", engine]
        assert main(args) == 0
        assert list(read(out)) == [want]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_output_naming_the_input_is_refused_and_the_input_kept(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path, RECORDS)
    before = source.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(source)
    for output in (source, tmp_path / "link.jsonl", tmp_path / "." / "in.jsonl"):
        assert main(["resolve", str(source), "-o", str(output), "--quiet", "--engine", engine]) == 1
        assert "is the input file" in capsys.readouterr().err
        assert source.read_bytes() == before


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.zst", ".csv.bz2"])
def test_the_output_is_plain_csv_whatever_its_name_ends_with(
    tmp_path: Path, engine: str, suffix: str
) -> None:
    out = tmp_path / f"out{suffix}"
    assert (
        main(["resolve", str(write(tmp_path, RECORDS)), "-o", str(out), "--quiet", "--engine", engine]) == 0
    )
    assert out.read_bytes().startswith(b"record_id,customer_id\n")
    assert list(read(out)) == [r["record_id"] for r in RECORDS]


def test_a_line_nested_too_deeply_to_decode_is_a_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # json.loads raises RecursionError on it (orjson refuses it first when installed)
    deep = json.dumps({**RECORDS[1], "junk": 0}).replace("0}", "[" * 5000 + "]" * 5000 + "}")
    source = write(tmp_path, RECORDS[:1], (deep,))
    out = tmp_path / "out.csv"
    assert main(["resolve", str(source), "-o", str(out), "--engine", "python"]) == 0
    assert list(read(out)) == ["r1"]
    err = capsys.readouterr().err
    assert "skipped line 2" in err
    assert "1 bad lines skipped" in err
    # the record-by-record resolver (the engine's incremental core) skips it too
    from omnicx.cli._resolve import Resolver, resolve_stream
    from omnicx.identity import MergePolicy

    slow = Resolver(MergePolicy())
    assert resolve_stream([json.dumps(RECORDS[0]), deep], slow, loads=json.loads) == 1
    assert slow.bad_lines == 1


def test_a_record_id_with_a_lone_surrogate_is_written_escaped_to_stdout_as_to_a_file(tmp_path: Path) -> None:
    # "\ud800" is an escape json.loads takes: the id cannot be UTF-8, so it is written as \ud800
    line = json.dumps({**RECORDS[0], "record_id": "r\ud800"})
    source = write(tmp_path, [], (line, json.dumps(RECORDS[1])))
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        "PYTHONIOENCODING": "ascii",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "omnicx.cli", "resolve", str(source), "--output", "-", "--quiet"],
        capture_output=True,
        env=env,
        check=True,
    )
    assert main(["resolve", str(source), "-o", str(tmp_path / "out.csv"), "--quiet"]) == 0
    assert proc.stdout == (tmp_path / "out.csv").read_bytes()
    assert proc.stdout.splitlines()[1].startswith(b"r\\ud800,cus_")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_policy_count_beyond_64_bits_is_no_limit(tmp_path: Path, engine: str) -> None:
    (tmp_path / "policy.json").write_text(
        json.dumps({"version": 1, "quarantine": {"email": 10**30}, "limits": {"phone": 10**30}})
    )
    out = tmp_path / "out.csv"
    args = ["resolve", str(write(tmp_path, RECORDS + CALLERS)), "-o", str(out), "--quiet", "--engine", engine]
    assert main([*args, "--policy", str(tmp_path / "policy.json")]) == 0
    got = read(out)
    # the order mailbox is no longer quarantined: it joins ana and bo
    assert got["r1"] == got["r4"] == got["r8"] != ""


@pytest.mark.parametrize(
    "line",
    [
        "orders@shop.io",
        "\ufefforders@shop.io",  # a byte-order mark, as Notepad writes one
        "mailto:Orders@Shop.io",
        "orders@shop.io  # the shop's mailbox",
        "ORDERS@shop.io\t# the shop's mailbox",
    ],
)
def test_a_blocklist_line_blocks_what_it_names_however_it_is_written(tmp_path: Path, line: str) -> None:
    (tmp_path / "block.txt").write_text(line + "\n# shop mailboxes\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["resolve", str(write(tmp_path, RECORDS)), "-o", str(out), "--quiet"]
    assert main([*args, "--blocklist", str(tmp_path / "block.txt")]) == 0
    got = read(out)
    assert got["r7"] == got["r1"]
    assert got["r8"] == got["r4"] != got["r1"]  # the mailbox joins nobody


def test_a_blocklist_phone_may_be_a_tel_uri(tmp_path: Path) -> None:
    # ana's phone, blocked: r3 (her phone alone on WhatsApp) has no customer any more
    for line in (
        "tel:+1-415-523-8886",
        "+1 (415) 523-8886 # ana's line",
        "whatsapp:+14155238886",
        "wa:14155238886",
    ):
        (tmp_path / "block.txt").write_text(line + "\n", encoding="utf-8")
        out = tmp_path / "out.csv"
        args = ["resolve", str(write(tmp_path, RECORDS)), "-o", str(out), "--quiet"]
        assert main([*args, "--blocklist", str(tmp_path / "block.txt")]) == 0
        assert read(out)["r3"] == ""


@pytest.mark.parametrize("line", ["not a value at all", "+1 415", "ana@", "bad-handle:"])
def test_a_blocklist_line_that_names_no_identifier_is_an_error(
    tmp_path: Path, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "block.txt").write_text("orders@shop.io\n\n" + line + "\n", encoding="utf-8")
    args = ["resolve", str(write(tmp_path, RECORDS)), "-o", str(tmp_path / "out.csv"), "--quiet"]
    assert main([*args, "--blocklist", str(tmp_path / "block.txt")]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err
    assert repr(line) in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_policy_without_a_phone_region_reads_its_national_phones_in_the_region_option(
    tmp_path: Path, engine: str
) -> None:
    # A London shop: two customers ring from the switchboard's line, which the policy names as
    # its staff write it. Under --region GB it is the host's number and joins nobody.
    london = [
        {
            "record_id": f"g{n}",
            "ts": f"2024-02-0{n}T09:00:00Z",
            "channel": "voice",
            "identifiers": [
                {"type": "phone", "value": "020 7946 0000"},
                {"type": "email", "value": f"caller{n}@mail.co.uk"},
            ],
        }
        for n in (1, 2)
    ]
    source, out = str(write(tmp_path, london)), tmp_path / "out.csv"
    policy = tmp_path / "policy.toml"
    policy.write_text('version = 1\nhost_identifiers = ["phone:020 7946 0000"]\n')
    args = ["resolve", source, "-o", str(out), "--quiet", "--engine", engine, "--policy", str(policy)]
    assert main([*args, "--region", "GB"]) == 0
    got = read(out)
    assert got["g1"] != ""
    assert got["g2"] != ""
    assert got["g1"] != got["g2"]
    # the policy's own region wins over --region: a US reading of the number is no number
    policy.write_text('version = 1\nphone_region = "US"\nhost_identifiers = ["phone:020 7946 0000"]\n')
    assert main([*args, "--region", "GB"]) != 0


@pytest.mark.parametrize("engine", ENGINES)
def test_an_error_before_the_csv_leaves_an_existing_output_as_it_was(
    tmp_path: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the policy blocklists a national number the default region cannot read: an error
    out = tmp_path / "out.csv"
    out.write_text("last week's results\n")
    policy = tmp_path / "policy.json"
    policy.write_text('{"version": 1, "blocklist": {"exact": {"phone": ["020 7946 0123"]}}}')
    args = ["resolve", str(write(tmp_path, RECORDS)), "-o", str(out), "--quiet", "--engine", engine]
    assert main([*args, "--policy", str(policy)]) == 1
    assert "would block nothing" in capsys.readouterr().err
    assert out.read_text() == "last week's results\n"
    # and a path that cannot be written fails before any input is read
    missing = tmp_path / "no-such-folder" / "out.csv"
    assert main([*args[:3], str(missing), *args[4:]]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_an_unwritable_output_fails_before_standard_input_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Unread(io.BytesIO):
        def read(self, *_: object) -> bytes:
            raise AssertionError("the input was read")

        readline = read  # type: ignore[assignment]

        def __iter__(self) -> Iterator[bytes]:
            raise AssertionError("the input was read")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Unread()))
    assert main(["resolve", "-", "-o", str(tmp_path / "nope" / "out.csv"), "--quiet"]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_a_reader_that_stops_early_ends_the_command_quietly(tmp_path: Path) -> None:
    # `omnicx resolve … -o - | head -1`: standard output closes under the command
    records = [{**RECORDS[0], "record_id": f"r{n}"} for n in range(20_000)]
    source = write(tmp_path, records)
    command = [sys.executable, "-m", "omnicx.cli", "resolve", str(source), "-o", "-", "--quiet"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"record_id,customer_id\n"
        proc.stdout.close()
        err = proc.stderr.read() if proc.stderr is not None else b""
    assert proc.returncode == 1
    assert b"Traceback" not in err
