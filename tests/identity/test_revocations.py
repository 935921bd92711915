"""A link revoked more than once: which revocation the history names, and what forget() removes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from omnicx.identity import IdentityEngine, LedgerEntry, Revocation
from omnicx.models import Identifier

T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
ANA = Identifier(kind="email", value="ana@shop.io")
ANA_PHONE = Identifier(kind="phone", value="+14155238886")


def twice_revoked() -> tuple[list[LedgerEntry], list[Revocation]]:
    """A merge by one observation, revoked by two agents (the later one first)."""
    engine = IdentityEngine()
    entries: list[LedgerEntry] = list(
        engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="s1").entries
    )
    (link_id,) = [e.id for e in entries if e.type == "link"]
    late = engine.revoke(
        link_id, actor="agent:kim", reason="the phone is Bo Chen's", at=T0 + timedelta(hours=3)
    )
    early = engine.revoke(
        link_id, actor="agent:lee", reason="not Ana Silva's phone", at=T0 + timedelta(hours=1)
    )
    revocations = [e for e in (*late.entries, *early.entries) if isinstance(e, Revocation)]
    return entries + revocations, revocations


def revoked_event(engine: IdentityEngine) -> tuple[datetime, str | None]:
    cid = engine.customer_of(ANA)
    assert cid is not None
    (event,) = [e for e in engine.history(cid) if e.type == "revoked"]
    return event.at, event.evidence.reason


def test_the_earliest_revocation_speaks_for_the_link_in_any_order() -> None:
    entries, _ = twice_revoked()
    expected = (T0 + timedelta(hours=1), "not Ana Silva's phone")
    for order in itertools.permutations(entries):
        replica = IdentityEngine()
        for entry in order:  # one at a time: revocations before their link wait for it
            replica.apply([entry])
        assert revoked_event(replica) == expected
        assert revoked_event(IdentityEngine.rebuild(order)) == expected


def test_forget_lists_every_revocation_of_a_forgotten_link() -> None:
    entries, revocations = twice_revoked()
    for order in itertools.permutations(entries):
        engine = IdentityEngine()
        for entry in order:
            engine.apply([entry])
        cid = engine.customer_of(ANA)
        assert cid is not None
        forgotten = engine.forget(cid, at=T0 + timedelta(days=1), actor="dpo", reason="art. 17")
        assert {r.id for r in revocations} <= set(forgotten.removed_entry_ids)
        assert not engine._revocations  # type: ignore[attr-defined]
        kept = [e for e in entries if e.id not in forgotten.removed_entry_ids and e.type != "sighting"]
        assert not any("Ana Silva" in e.model_dump_json() or "Bo Chen" in e.model_dump_json() for e in kept)


def test_history_names_the_revocation_of_a_never_link_rule_in_any_order() -> None:
    # Ana's phone is ruled apart from her, the rule is revoked twice (the later one first):
    # the customer merged again tells, in its history, when the rule was lifted and by whom.
    engine = IdentityEngine()
    entries: list[LedgerEntry] = list(
        engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="s1").entries
    )
    rule = engine.never_link(
        ANA, ANA_PHONE, actor="agent:kim", reason="two people", at=T0 + timedelta(hours=1)
    )
    entries += rule.entries
    (rule_id,) = [e.id for e in rule.entries]
    assert engine.customer_of(ANA) != engine.customer_of(ANA_PHONE)
    for hours, actor, reason in ((4, "agent:lee", "one person after all"), (2, "agent:kim", "my mistake")):
        entries += engine.revoke(rule_id, actor=actor, reason=reason, at=T0 + timedelta(hours=hours)).entries
    expected = [
        ("merged", T0, None),
        ("revoked", T0 + timedelta(hours=2), "my mistake"),
    ]
    for order in itertools.permutations(entries):
        replica = IdentityEngine()
        for entry in order:  # one at a time: revocations before their rule wait for it
            replica.apply([entry])
        for got in (replica, IdentityEngine.rebuild(order)):
            cid = got.customer_of(ANA)
            assert cid is not None
            assert cid == got.customer_of(ANA_PHONE)
            history = got.history(cid)
            assert [(e.type, e.at, e.evidence.reason) for e in history] == expected
            assert history[1].link_id == rule_id
            assert history[1].reason == "never-link rule revoked"
