"""Type-checked only (``mypy --strict``, run by ``make types``): the identity engine's types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import assert_type

from omnicx import Identifier
from omnicx.cli import main
from omnicx.identity import (
    Change,
    Conflict,
    Explanation,
    Forgotten,
    HistoryEvent,
    IdentityEngine,
    LedgerEntry,
    MergePolicy,
    SettledFacts,
    observation_entries,
)
from omnicx.models import Assurance, Customer, ObservedIdentifier


def engine_calls() -> None:
    engine = IdentityEngine(MergePolicy.from_toml("version = 1"), salt="tenant-secret")
    ana = Identifier(kind="email", value="ana@shop.io")
    phone = Identifier(kind="phone", value="+14155238886")
    change = engine.observe([ana, phone], at=datetime(2024, 1, 1, tzinfo=UTC), channel="sms", dedupe_key="s1")
    assert_type(change, Change)
    assert_type(change.customer_id, str | None)
    assert_type(change.merged, tuple[str, ...])
    assert_type(change.conflicts, tuple[Conflict, ...])
    assert_type(change.entries, tuple[LedgerEntry, ...])
    assert_type(engine.customer_of(ana), str | None)
    assert_type(engine.identifiers_of("cus_1"), tuple[Identifier, ...])
    assert_type(engine.customer("cus_1"), Customer)
    assert_type(engine.why_linked(ana, phone), Explanation | None)
    assert_type(engine.history("cus_1"), tuple[HistoryEvent, ...])
    assert_type(engine.forget("cus_1"), Forgotten)
    assert_type(IdentityEngine.rebuild(change.entries), IdentityEngine)
    facts = engine.settled_facts("cus_1")
    assert_type(facts, SettledFacts)
    assert_type(facts.settles([ana.key], datetime(2024, 1, 2, tzinfo=UTC)), bool)
    assert_type(SettledFacts.from_json(facts.to_json()), SettledFacts)
    seen = [ObservedIdentifier(identifier=ana, assurance=Assurance.VERIFIED)]
    assert_type(
        observation_entries(seen, at=datetime(2024, 1, 2, tzinfo=UTC), channel="sms", dedupe_key="s2"),
        tuple[LedgerEntry, ...],
    )
    assert_type(main(["resolve", "in.jsonl", "-o", "out.csv"]), int)
