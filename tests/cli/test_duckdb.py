"""The DuckDB engine of ``omnicx resolve`` writes exactly the batch path's CSV, or declines the file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx.cli._duckdb import _TS, DuckDBResolver, _scan, _single_threaded
from omnicx.cli._resolve import Outcome, resolve_file
from omnicx.identity import MergePolicy

from .test_batch import CUSTOM_POLICIES, EMAILS, HANDLES, OTHER, PHONES, POLICIES, _record

pytest.importorskip("duckdb")

# Values only DuckDB's side of the engine groups differently: non-ASCII text (folded in
# Python), Arabic-Indic digits a WhatsApp wa_id may carry (str.isdigit is True for them).
MORE = [
    ("email", "Zoë@Example.org"),
    ("email", "zoë@example.org"),
    ("phone", "+44 ٧٩١١ ١٢٣٤٥٦"),
    ("phone", "٤٤٧٩١١١٢٣٤٥٦"),
    ("phone", "+44 7911 123456"),
]
TIMES = [
    "2024-01-01T09:00:00Z",
    "2024-01-01T09:00:00+00:00",
    "2024-01-01T11:00:00+02:00",
    "2024-01-01T09:00:00.5Z",
    "2024-01-01T09:00:00.500000-00:00",
    "2024-01-02T10:00:00Z",
    "2024-01-03T10:00:00Z",
]


def _clean_item() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.sampled_from(EMAILS).map(lambda v: {"type": "email", "value": v}),
        st.sampled_from(PHONES).map(lambda v: {"type": "phone", "value": v}),
        st.sampled_from(HANDLES).map(lambda v: {"type": "handle", "value": v}),
        st.sampled_from(OTHER + MORE).map(lambda kv: {"type": kv[0], "value": kv[1]}),
        st.sampled_from([{"type": "email"}, {"value": "x"}, {"type": "phone", "value": "12", "note": 1}]),
    )


def _clean_record() -> st.SearchStrategy[dict[str, Any]]:
    """Records the engine takes: string record ids, times and values (and anything in channel)."""
    return st.fixed_dictionaries(
        {
            # few distinct ids and times: equal times (ties broken by entry ids) and repeats are common;
            # record ids that the CSV must quote
            "record_id": st.sampled_from([f"r{i}" for i in range(8)] + ["a,b", 'q"q', "", "é", "#7", "a\rb"]),
            "ts": st.sampled_from(TIMES),
            "channel": st.sampled_from(["email", "whatsapp", "sms", None, 7]),
            "identifiers": st.lists(_clean_item(), max_size=4),
        }
    )


def _write(folder: Path, records: list[Any], dumps: Any) -> Path:
    path = folder / "in.jsonl"
    path.write_text("".join(dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _both(path: Path, policy: MergePolicy) -> tuple[tuple[Outcome, str], tuple[Outcome, str]]:
    runs = []
    for engine in ("auto", "python"):
        out = path.parent / f"{engine}.csv"
        done = resolve_file(str(path), str(out), policy, engine=engine, worker=False)
        runs.append((done, out.read_text(encoding="utf-8")))
    return runs[0], runs[1]


def _counts(done: Outcome) -> tuple[int, int, int, int, int]:
    return done.records, done.customers, done.shared, done.unreadable, done.bad_lines


DUMPS = [
    json.dumps,
    lambda r: json.dumps(r, separators=(",", ":"), ensure_ascii=False),
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_clean_record(), min_size=1, max_size=25),
    policy=st.sampled_from(POLICIES + CUSTOM_POLICIES),
    dumps=st.sampled_from(DUMPS),
)
def test_the_duckdb_engine_writes_the_batch_paths_csv(
    records: list[Any], policy: MergePolicy, dumps: Any
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (fast, fast_csv), (slow, slow_csv) = _both(_write(Path(tmp), records, dumps), policy)
    assert fast.engine == "duckdb"  # these files are the engine's to read
    assert slow.engine == "python"
    assert fast_csv == slow_csv
    assert _counts(fast) == _counts(slow)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record(), min_size=1, max_size=25), policy=st.sampled_from(POLICIES))
def test_any_file_gives_the_batch_paths_csv_whichever_engine_reads_it(
    records: list[Any], policy: MergePolicy
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (fast, fast_csv), (slow, slow_csv) = _both(_write(Path(tmp), records, json.dumps), policy)
    assert fast_csv == slow_csv
    assert _counts(fast) == _counts(slow)


GOOD = '{"record_id": "r1", "ts": "2024-01-01T09:00:00Z", "identifiers": [{"type": "email", "value": "a@shop.io"}]}'


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (GOOD.replace('"}]', '"},]'), "a trailing comma DuckDB takes and json.loads refuses"),
        *(
            (
                GOOD.replace("}]", "}], " + spelled.join(['"score":', ""])),
                f"the literal {spelled} json.loads refuses",
            )
            for spelled in ("nan", " -nan", "INF", "-Inf", "infinity", "\t Nan")
        ),
        (GOOD.replace('"}]', '", "score": [1, nan]}]'), "a nan in an array"),
        ("nan", "a line that is a bare nan"),
        (GOOD + "\x0b", "a vertical tab DuckDB takes as space"),
        (GOOD.replace('"type": "email"', '"type": "email", "type": "phone"'), "a duplicate key"),
        (
            GOOD.replace('"record_id": "r1"', '"record_id": "r1", "record_id": "r2"'),
            "a duplicate top-level key",
        ),
        (GOOD.replace('"value"', '"\\u0076alue"'), "an escaped ASCII letter in a key"),
        (GOOD.replace('"r1"', '"\\ud800"'), "a lone surrogate escape"),
        (GOOD.replace("T09", " 09"), "a time in another ISO 8601 style"),
        (GOOD.replace("2024-01-01", "2024-02-30"), "a day that does not exist"),
        (GOOD.replace("Z", ""), "a time without a zone"),
        (GOOD.replace("2024", "0999"), "a year before 1000"),
        ("not json", "a line that is no JSON"),
        (GOOD + GOOD, "two records on one line"),
        ('{"record_id": "r2", "ts": "2024-01-01T09:00:00Z"}', "a record without identifiers"),
    ],
)
def test_a_file_duckdb_would_read_otherwise_is_declined(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(GOOD + "\n" + line + "\n", encoding="utf-8")
    with DuckDBResolver(MergePolicy()) as engine:
        assert not engine.load(path), why
        assert engine.declined
    (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy())
    assert fast.engine == "python"
    assert fast_csv == slow_csv
    assert _counts(fast) == _counts(slow)


@pytest.mark.parametrize(
    "item",
    [
        '{"type": "email", "value": 5}',
        '{"type": "email", "value": {"a": "x@shop.io"}}',
        '{"type": ["email"], "value": "x@shop.io"}',
        '{"type": "email", "value": null}',
        '{"type": "email", "value": true}',
        "null",
    ],
)
def test_an_identifier_that_is_no_pair_of_strings_is_unreadable_as_on_the_batch_path(
    tmp_path: Path, item: str
) -> None:
    # DuckDB reads these values as JSON and checks their type: a number is not the text "5"
    path = tmp_path / "in.jsonl"
    odd = GOOD.replace('{"type": "email", "value": "a@shop.io"}', item + ', {"type": "phone", "value": "5"}')
    path.write_text(GOOD + "\n" + odd.replace("r1", "r2") + "\n", encoding="utf-8")
    (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy())
    assert fast.engine == "duckdb"
    assert _counts(fast) == _counts(slow)
    assert fast.unreadable == 2
    assert fast_csv == slow_csv


def test_the_scan_refuses_what_duckdb_reads_leniently_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(GOOD + "\n", encoding="utf-8")
    assert _scan(path)
    # a key spaced from its colon, or a key's word as a value, reads alike: types are checked in SQL
    for line in (GOOD.replace('"ts": ', '"ts" : '), GOOD.replace("a@shop.io", "type")):
        path.write_text(line + "\n", encoding="utf-8")
        assert _scan(path)
        (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy())
        assert fast.engine == "duckdb"
        assert fast_csv == slow_csv
        assert _counts(fast) == _counts(slow)
    # a non-ASCII escape is fine; an escape of an ASCII character could spell a key
    path.write_text(GOOD.replace("a@shop.io", "\\u00e9@shop.io") + "\n", encoding="utf-8")
    assert _scan(path)
    path.write_text(GOOD.replace("a@shop.io", "\\u0061@shop.io") + "\n", encoding="utf-8")
    assert not _scan(path)
    # DuckDB takes trailing commas, vertical tabs and form feeds; json.loads does not
    for line in (GOOD.replace('"}]', '"},]'), GOOD + "\x0b", GOOD.replace(", ", ",\x0c")):
        path.write_text(line + "\n", encoding="utf-8")
        assert not _scan(path)
    # ... and nan or inf in any case; the same letters inside a string are text
    for word in ("Nancy", " nan", "info", "-inf", "NaN", "x:nan", "Evans, Nancy", 'q\\": inf'):
        path.write_text(GOOD.replace("a@shop.io", word + "@shop.io") + "\n", encoding="utf-8")
        assert _scan(path), word
    for line in (GOOD.replace("}]", '}], "n":nan'), GOOD.replace("}]", '}], "n": [+inf, 1]'), "-INFINITY"):
        path.write_text(GOOD + "\n" + line + "\n", encoding="utf-8")
        assert not _scan(path), line


def test_blank_lines_and_a_last_line_without_newline_are_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text("\n  \n" + GOOD + "\n\t\n" + GOOD.replace("r1", "r2"), encoding="utf-8")
    (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy())
    assert fast.engine == "duckdb"
    assert fast.records == slow.records == 2
    assert fast_csv == slow_csv


def test_the_command_with_its_helper_process_writes_the_batch_paths_csv(tmp_path: Path) -> None:
    # the command forks one helper process (before DuckDB starts its threads): run it as a user does
    records = [
        {
            "record_id": f"r{i}",
            "ts": f"2024-01-{1 + i % 28:02d}T09:{i % 60:02d}:00Z",
            "channel": "whatsapp" if i % 3 == 0 else "email",
            "identifiers": [
                {"type": "email", "value": f"{'P' if i % 2 else 'p'}{i % 40}@shop.io"},
                {"type": "phone", "value": f"+1 206 555 {i % 50:04d}" if i % 3 else f"1206555{i % 50:04d}"},
            ][: 1 + i % 2],
        }
        for i in range(400)
    ]
    source = _write(tmp_path, records, json.dumps)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    # the helper is forked for big files only: this run lowers the size, and reports whether it was
    helped = (
        "import sys\n"
        "from omnicx.cli import _duckdb, main\n"
        "_duckdb.HELPER_BYTES = 0\n"
        "init, used = _duckdb.DuckDBResolver.__init__, []\n"
        "def spy(self, *a, **k):\n"
        "    init(self, *a, **k)\n"
        "    used.append(self._pool is not None)\n"
        "_duckdb.DuckDBResolver.__init__ = spy\n"
        "code = main(sys.argv[1:])\n"
        "print('helper', used)\n"
        "sys.exit(code)\n"
    )
    outputs = {}
    for engine, command in (
        ("helper", [sys.executable, "-c", helped]),
        ("auto", [sys.executable, "-m", "omnicx.cli"]),
        ("python", [sys.executable, "-m", "omnicx.cli"]),
    ):
        out = tmp_path / f"{engine}.csv"
        proc = subprocess.run(
            [
                *command,
                "resolve",
                str(source),
                "-o",
                str(out),
                "--engine",
                "python" if engine == "python" else "auto",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert ("duckdb)" in proc.stderr) == (engine != "python")
        outputs[engine] = out.read_text()
        if engine == "helper":
            assert "helper [True]" in proc.stdout
    assert outputs["helper"] == outputs["auto"] == outputs["python"]
    assert len(outputs["auto"].splitlines()) == 401
    # the CSV on standard output, from a file DuckDB reads
    proc = subprocess.run(
        [sys.executable, "-m", "omnicx.cli", "resolve", str(source), "-o", "-"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "duckdb)" in proc.stderr
    assert proc.stdout == outputs["python"]


@pytest.mark.parametrize("variant", range(6))
def test_a_component_over_a_limit_replays_its_links_in_the_batch_paths_order(
    tmp_path: Path, variant: int
) -> None:
    # One customer holds at most one phone: an email meets two phones at the same instant,
    # each pair in two records. Which phone stays is decided by the link ids of the earliest
    # records, as in the batch path; each phone then writes alone, so the refused one names
    # a customer of its own.
    def rec(rid: str, ts: str, *items: tuple[str, str]) -> dict[str, Any]:
        return {
            "record_id": f"{rid}-{variant}",
            "ts": ts,
            "channel": "sms",
            "identifiers": [{"type": kind, "value": value} for kind, value in items],
        }

    email, us, uk = ("email", "ana@shop.io"), ("phone", "+14155238886"), ("phone", "+447911123456")
    at, later = "2024-01-01T09:00:00Z", "2024-01-02T09:00:00Z"
    records = [rec(r, at, email, p) for r, p in (("a", us), ("b", uk), ("c", us), ("d", uk))]
    records += [rec("e", later, us), rec("f", later, uk)]
    path = _write(tmp_path, records, json.dumps)
    (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy(limits={"phone": 1}))
    assert fast.engine == "duckdb"
    assert fast_csv == slow_csv
    assert slow.customers == 2


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(2999, 12, 31, 23, 59, 59)),
    digits=st.integers(min_value=0, max_value=6),
    offset=st.one_of(
        st.just("Z"),
        st.tuples(st.sampled_from("+-"), st.integers(0, 23), st.integers(0, 59)).map(
            lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}"
        ),
    ),
)
def test_the_sql_customer_id_is_the_engines_for_any_time_and_offset(
    moment: datetime, digits: int, offset: str
) -> None:
    """DuckDB computes customer ids in SQL from its own reading of the time: they must be the
    ids the engine gives the same identifier first seen at that instant."""
    from omnicx.identity import IdentityEngine
    from omnicx.models import Identifier

    text = moment.replace(microsecond=0).isoformat()
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    text += offset
    assert re.fullmatch(_TS, text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        record = {"record_id": "r1", "ts": text, "identifiers": [{"type": "email", "value": "Ana@Shop.io"}]}
        path.write_text(json.dumps(record) + "\n", encoding="utf-8")
        with DuckDBResolver(MergePolicy()) as engine:
            assert engine.load(path)
            got = engine.label_list()
    expected = IdentityEngine().observe(
        [Identifier.parse("email:ana@shop.io")],
        at=datetime.fromisoformat(text),
        channel="sms",
        dedupe_key="x",
    )
    assert got == [expected.customer_id]


def test_the_helper_process_is_forked_only_from_a_single_threaded_process(tmp_path: Path) -> None:
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not _single_threaded()
        with DuckDBResolver(MergePolicy(), worker=True) as engine:  # reads without the helper
            path = tmp_path / "in.jsonl"
            path.write_text(GOOD + "\n", encoding="utf-8")
            assert engine.load(path)
            assert engine.customer_count() == 1
    finally:
        release.set()
        other.join()


@pytest.mark.parametrize(("prefix", "newline"), [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n")])
def test_windows_line_ends_and_a_byte_order_mark_read_alike(
    tmp_path: Path, prefix: bytes, newline: bytes
) -> None:
    path = tmp_path / "in.jsonl"
    lines = [GOOD, GOOD.replace("r1", "r2").replace("a@shop.io", "A@Shop.io ")]
    path.write_bytes(prefix + newline.join(line.encode() for line in lines) + newline)
    (fast, fast_csv), (slow, slow_csv) = _both(path, MergePolicy())
    assert fast.engine == "duckdb"
    assert _counts(fast) == _counts(slow)
    assert fast_csv == slow_csv


@pytest.mark.parametrize("rid", ["#1", "a#", "a\rb", "", "a,b", 'q"q', "x\ny"])
def test_a_record_id_csv_writers_quote_differently_is_written_as_the_batch_path_writes_it(
    tmp_path: Path, rid: str
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(GOOD + "\n" + GOOD.replace('"r1"', json.dumps(rid)) + "\n", encoding="utf-8")
    (fast, fast_csv), (_, slow_csv) = _both(path, MergePolicy())
    assert fast.engine == "duckdb"
    assert fast_csv == slow_csv


TEXT = st.text(alphabet='nNaAiIfF :,[]{}"\\-+ \t', max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.one_of(TEXT, st.lists(TEXT, max_size=3), st.integers(), st.none()), max_size=5),
    literal=st.sampled_from(["nan", "-nan", "Inf", "-INFINITY", "NaN", "Infinity"]),
    where=st.integers(0, 5),
)
def test_the_literal_check_finds_a_bare_nan_or_inf_and_no_text(
    values: list[Any], literal: str, where: int
) -> None:
    from omnicx.cli._duckdb import _literals

    record = {f"k{n}": v for n, v in enumerate(values)}
    assert not _literals(json.dumps(record).encode() + b"\n")  # strings, however they read
    items = list(record.items())
    items.insert(where % (len(items) + 1), ("x", None))
    spelled = json.dumps(dict(items)).replace('"x": null', f'"x": {literal}')
    assert _literals(b"{}\n" + spelled.encode() + b"\n")


def test_trunk_prefixes_of_every_country_code_read_as_the_batch_path_reads_them(tmp_path: Path) -> None:
    # One phone per country code written with a trunk 0 after the code (+44 0…), beside the
    # same digits without it. SQL answers the trunk forms in one query whose size grows with
    # the codes the file holds: it once grew to gigabytes of memory and minutes at 50 codes
    # (this file holds all of them, about 215) where the batch path takes a second.
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    records = [
        {
            "record_id": f"r{n}-{k}",
            "ts": "2024-01-01T09:00:00Z",
            "channel": "sms",
            "identifiers": [
                {"type": "phone", "value": f"+{cc} {national}"},
                {"type": "phone", "value": f"+{cc} {national[1:]}"},
                {"type": "email", "value": f"p{n}.{k}@mail.example.net"},
            ],
        }
        for n, cc in enumerate(sorted(COUNTRY_CODE_TO_REGION_CODE))
        for k, national in enumerate(("0123456789", "012345678", "01234567", "07911123456"))
    ]
    (fast, fast_csv), (slow, slow_csv) = _both(_write(tmp_path, records, json.dumps), MergePolicy())
    assert fast.engine == "duckdb"
    assert fast_csv == slow_csv
    assert _counts(fast) == _counts(slow)
