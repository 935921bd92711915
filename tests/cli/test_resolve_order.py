"""End to end: realistic messy records resolve to the same customers and ids in any order."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
from pathlib import Path

from omnicx.cli import main

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "identity.py"


def _generate(n: int) -> list[dict[str, object]]:
    spec = importlib.util.spec_from_file_location("identity_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    records, _, _ = module.generate(n, seed=4242)
    return records  # type: ignore[no-any-return]


def _resolve(tmp_path: Path, name: str, records: list[dict[str, object]]) -> dict[str, str]:
    source, out = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.csv"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["resolve", str(source), "--output", str(out), "--quiet"]) == 0
    with out.open(newline="") as f:
        return {row["record_id"]: row["customer_id"] for row in csv.DictReader(f)}


def test_shuffled_records_give_the_same_customers_and_ids(tmp_path: Path) -> None:
    records = _generate(8_000)
    shuffled = list(records)
    random.Random(11).shuffle(shuffled)
    in_order = _resolve(tmp_path, "in_order", records)
    assert _resolve(tmp_path, "shuffled", shuffled) == in_order
    assert len(set(in_order.values())) > 1_000  # many customers, not one blob


def test_the_command_gives_what_the_incremental_engine_gives(tmp_path: Path) -> None:
    # `omnicx resolve` evaluates the batch definition once (BatchResolver); the engine's
    # incremental core (Resolver) keeps it up to date record by record: same CSV.
    from omnicx.cli._resolve import Resolver, resolve_stream
    from omnicx.identity import MergePolicy

    records = _generate(8_000)
    records[10]["ts"] = records[11]["ts"]  # equal times, broken by entry ids
    got = _resolve(tmp_path, "batch", records)
    slow = Resolver(MergePolicy())
    resolve_stream([json.dumps(r) for r in records], slow)
    assert got == dict(slow.labels())
