"""Engine operations: observe, explain, history, unmerge, never-link, forget, the ledger seam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.errors import IdentityError, OmnicxError, UnknownIdentifier, ValidationError
from omnicx.identity import (
    Erasure,
    IdentityEngine,
    Link,
    MergePolicy,
    NeverLink,
    Observation,
    Revocation,
    SettledFacts,
    Sighting,
    ledger_entry_adapter,
    observation_entries,
)
from omnicx.identity._core import evidence_string
from omnicx.identity._ledger import evidence_text
from omnicx.models import Assurance, Identifier, ObservedIdentifier
from omnicx.store import SQLiteStore

T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
ANA = Identifier(kind="email", value="ana@shop.io")
ANA_PHONE = Identifier(kind="phone", value="+14155238886")
ANA_PSID = Identifier(kind="messenger_psid", value="6569341800484935", scope="104729384756")
BO = Identifier(kind="email", value="bo@shop.io")
BO_PHONE = Identifier(kind="phone", value="+447911123456")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def chain() -> tuple[IdentityEngine, list]:
    """ana's email → (sms) phone → (messenger) psid; bo separate, then wrongly joined by bo's phone."""
    engine = IdentityEngine()
    entries: list = []
    for ids, hours, channel, key in (
        ([ANA], 0, "email", "m1"),
        ([ANA_PHONE, ANA], 1, "sms", "s1"),
        ([ANA_PSID, ANA_PHONE], 2, "messenger", "p1"),
        ([BO], 3, "email", "m2"),
        ([BO_PHONE, BO], 4, "whatsapp", "w1"),
    ):
        entries.extend(engine.observe(ids, at=at(hours), channel=channel, dedupe_key=key).entries)
    return engine, entries


def test_observe_returns_the_customer_and_the_entries_to_persist() -> None:
    engine = IdentityEngine()
    change = engine.observe([ANA_PHONE, ANA], at=T0, channel="sms", dedupe_key="SM1")
    assert [e.type for e in change.entries] == ["sighting", "sighting", "link"]
    link = change.entries[2]
    assert isinstance(link, Link)
    assert {link.a, link.b} == {ANA, ANA_PHONE}
    assert link.evidence.channel == "sms"
    assert link.evidence.dedupe_key == "SM1"
    assert change.customer_id == engine.customer_of(ANA) == engine.customer_of(ANA_PHONE)
    assert change.created
    # the same payload again (a webhook retry) appends nothing new to the link set
    again = engine.observe([ANA_PHONE, ANA], at=T0, channel="sms", dedupe_key="SM1")
    assert [e.type for e in again.entries] == ["sighting", "sighting"]
    assert not again.created


def test_canonical_id_is_born_with_the_oldest_observation_and_retired_ids_resolve() -> None:
    engine, _ = chain()
    ana_id = engine.customer_of(ANA)
    bo_id = engine.customer_of(BO)
    assert ana_id is not None
    assert bo_id is not None
    merge = engine.observe([ANA_PHONE, BO_PHONE], at=at(5), channel="voice", dedupe_key="c1")
    assert merge.customer_id == ana_id  # ana's email is the oldest observation
    assert merge.merged == (bo_id,)
    assert engine.resolve(bo_id) == ana_id
    assert engine.customer(bo_id).id == ana_id
    assert engine.customer(ana_id).aliases == (bo_id,)


def test_why_linked_gives_the_shortest_evidence_path() -> None:
    engine, _ = chain()
    why = engine.why_linked(ANA, ANA_PSID)
    assert why is not None
    assert [(s.source, s.target) for s in why.steps] == [(ANA, ANA_PHONE), (ANA_PHONE, ANA_PSID)]
    assert [s.evidence.dedupe_key for s in why.steps] == ["s1", "p1"]
    assert why.customer_id == engine.customer_of(ANA)
    assert engine.why_linked(ANA, BO) is None


def test_revoking_a_link_splits_with_stable_ids() -> None:
    engine, _ = chain()
    ana_id = engine.customer_of(ANA)
    psid_birth = engine.observe([ANA_PSID], at=at(9), channel="messenger", dedupe_key="p2").customer_id
    assert psid_birth == ana_id
    why = engine.why_linked(ANA_PHONE, ANA_PSID)
    assert why is not None
    change = engine.revoke(why.steps[0].link_id, actor="agent:kim", reason="psid belongs to someone else")
    assert engine.customer_of(ANA) == ana_id  # the part with the oldest observation keeps the id
    psid_id = engine.customer_of(ANA_PSID)
    assert psid_id is not None
    assert psid_id != ana_id
    assert set(change.split) == {ana_id, psid_id}
    assert isinstance(change.entries[0], Revocation)
    events = [e.type for e in engine.history(ana_id or "")]
    assert events == ["merged", "revoked"]


def test_split_by_identifier_groups_and_history() -> None:
    engine, _ = chain()
    engine.observe([ANA_PHONE, BO_PHONE], at=at(5), channel="voice", dedupe_key="c1")
    ana_id = engine.customer_of(ANA) or ""
    bo_id = engine.customer_of(BO)  # == ana_id now
    change = engine.split(ana_id, [[BO, BO_PHONE]], actor="agent:kim", reason="two people", at=at(6))
    assert engine.customer_of(ANA) == ana_id
    assert engine.customer_of(BO) not in (None, ana_id)
    assert set(engine.identifiers_of(engine.customer_of(BO) or "")) == {BO, BO_PHONE}
    assert set(change.split) == {ana_id, engine.customer_of(BO)}
    assert bo_id == ana_id
    kinds = sorted(e.type for e in change.entries)
    assert kinds == ["never_link", "revocation"]
    # keep_apart: the same bridge observed again is refused, loudly
    again = engine.observe([ANA_PHONE, BO_PHONE], at=at(7), channel="voice", dedupe_key="c2")
    assert [c.reason for c in again.conflicts] == ["never_link"]
    history = engine.history(ana_id)
    assert [e.type for e in history] == ["merged", "merged", "revoked", "never_link", "refused"]


def test_never_link_splits_a_customer_now() -> None:
    engine, _ = chain()
    ana_id = engine.customer_of(ANA)
    change = engine.never_link(ANA, ANA_PHONE, actor="agent:kim", reason="shared phone", at=at(8))
    assert engine.customer_of(ANA) == ana_id
    assert engine.customer_of(ANA_PHONE) != ana_id
    assert engine.customer_of(ANA_PHONE) == engine.customer_of(ANA_PSID)
    assert isinstance(change.entries[0], NeverLink)


def test_forget_removes_identifiers_and_tombstones_stop_replays() -> None:
    engine, _ = chain()
    ana_id = engine.customer_of(ANA) or ""
    gone = engine.forget(ana_id, at=at(10), actor="dpo", reason="erasure request")
    assert set(gone.identifiers) == {ANA, ANA_PHONE, ANA_PSID}
    erasure = gone.entries[0]
    assert isinstance(erasure, Erasure)
    assert len(erasure.tombstones) == 3
    assert all(ANA.value not in t for t in erasure.tombstones)
    assert len(gone.removed_entry_ids) == 2  # the two links
    with pytest.raises(UnknownIdentifier):
        engine.customer_of(ANA)
    with pytest.raises(UnknownIdentifier):
        engine.resolve(ana_id)
    replayed = engine.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1")
    assert replayed.customer_id is None
    assert [c.reason for c in replayed.conflicts] == ["erased", "erased"]
    # after the erasure the person may come back: a new customer, linked to nothing forgotten
    back = engine.observe([ANA], at=at(11), channel="email", dedupe_key="m9")
    assert back.customer_id not in (None, ana_id)
    assert [e.type for e in back.entries] == ["sighting"]
    assert engine.customer_of(BO) is not None


def test_rebuild_from_serialized_entries_gives_the_same_state() -> None:
    engine, entries = chain()
    stored = [ledger_entry_adapter.dump_json(e) for e in entries]
    rebuilt = IdentityEngine.rebuild(ledger_entry_adapter.validate_json(b) for b in reversed(stored))
    assert rebuilt.partition() == engine.partition()
    assert all(isinstance(e, Sighting | Link) for e in entries)


def test_bad_input_raises_errors_that_say_what_to_do() -> None:
    engine, _ = chain()
    with pytest.raises(ValidationError, match="aware datetime"):
        engine.observe([ANA], at=datetime(2024, 1, 1), channel="email")
    # the first instant Python has, an hour east of UTC: before any UTC instant it has
    with pytest.raises(ValidationError, match="out of range in UTC"):
        engine.observe([ANA], at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), channel="email")
    with pytest.raises(ValidationError, match="normalize_identifier"):
        engine.observe(["ana@shop.io"], at=T0)  # type: ignore[list-item]
    with pytest.raises(UnknownIdentifier, match="no customer has id"):
        engine.identifiers_of("cus_nope")
    with pytest.raises(UnknownIdentifier, match="never been observed"):
        engine.customer_of(Identifier(kind="email", value="ghost@shop.io"))
    with pytest.raises(IdentityError, match="no link or never-link rule"):
        engine.revoke("lnk_nope", actor="a", reason="b")
    with pytest.raises(ValidationError, match="itself"):
        engine.link(ANA, ANA, actor="a", reason="b")
    with pytest.raises(ValidationError, match="not a ledger entry"):
        IdentityEngine.rebuild([{"type": "link"}])  # type: ignore[list-item]


def test_customer_model_lists_identifiers_with_assurance_and_times() -> None:
    engine, _ = chain()
    customer = engine.customer(engine.customer_of(ANA) or "")
    assert [ci.identifier for ci in customer.identifiers] == [ANA, ANA_PHONE, ANA_PSID]
    assert customer.identifiers[0].first_seen == T0
    assert customer.identifiers[0].last_seen == at(1)
    assert customer.identifiers[0].assurance is Assurance.ASSERTED
    assert customer.created_at == T0


def test_every_operations_entries_rebuild_the_same_state() -> None:
    engine, entries = chain()
    entries += engine.observe([ANA_PHONE, BO_PHONE], at=at(5), channel="voice", dedupe_key="c1").entries
    ana_id = engine.customer_of(ANA) or ""
    entries += engine.split(ana_id, [[BO, BO_PHONE]], actor="kim", reason="two people", at=at(6)).entries
    entries += engine.never_link(ANA, ANA_PSID, actor="kim", reason="not hers", at=at(7)).entries
    rule = next(e for e in entries if isinstance(e, NeverLink) and {e.a, e.b} == {ANA, ANA_PSID})
    entries += engine.revoke(rule.id, actor="kim", reason="it was hers after all", at=at(8)).entries
    assert engine.customer_of(ANA_PSID) == ana_id
    rebuilt = IdentityEngine.rebuild(reversed(entries))
    assert rebuilt.partition() == engine.partition()
    assert {c.reason for c in rebuilt.conflicts()} == {c.reason for c in engine.conflicts()}


def test_a_replica_applying_an_erasure_forgets_too() -> None:
    primary, entries = chain()
    replica = IdentityEngine.rebuild(entries)
    gone = primary.forget(primary.customer_of(ANA) or "", at=at(10))
    replica.apply(gone.entries)
    assert replica.partition() == primary.partition()
    with pytest.raises(UnknownIdentifier):
        replica.customer_of(ANA_PHONE)


def test_a_lone_surrogate_is_refused_with_an_omnicx_error() -> None:
    engine = IdentityEngine()
    with pytest.raises(ValidationError, match="not valid Unicode"):
        engine.observe([ANA], at=T0, channel="chat", dedupe_key="m\udfff")
    with pytest.raises(ValidationError):
        Identifier(kind="chat_visitor", value="v_\ud800")
    with pytest.raises(ValidationError, match="must be a string"):
        engine.observe([ANA], at=T0, channel=7)  # type: ignore[arg-type]


def test_two_never_link_rules_on_one_pair_revoking_one_keeps_the_other() -> None:
    engine, entries = chain()
    first = engine.never_link(ANA, ANA_PHONE, actor="kim", reason="shared phone", at=at(6))
    second = engine.never_link(ANA, ANA_PHONE, actor="lee", reason="confirmed by phone", at=at(5))
    rule = first.entries[0]
    revoked = engine.revoke(rule.id, actor="kim", reason="duplicate rule", at=at(7))
    entries += [*first.entries, *second.entries, *revoked.entries]
    assert engine.customer_of(ANA) != engine.customer_of(ANA_PHONE)  # the second rule still holds
    assert IdentityEngine.rebuild(entries).partition() == engine.partition()


# --- first and last seen ---------------------------------------------------------------


def _seen(engine: IdentityEngine, ident: Identifier) -> tuple[datetime, datetime]:
    cid = engine.customer_of(ident)
    assert cid is not None
    (item,) = [ci for ci in engine.customer(cid).identifiers if ci.identifier == ident]
    return item.first_seen, item.last_seen


def test_a_never_link_rule_is_not_a_sighting_and_a_manual_link_is_the_agents() -> None:
    engine = IdentityEngine()
    engine.observe([ANA, ANA_PHONE], at=at(0), channel="sms", dedupe_key="d1")
    engine.observe([BO], at=at(1), channel="email", dedupe_key="d2")
    engine.never_link(ANA, ANA_PHONE, actor="agent-1", reason="two people", at=at(5))
    assert _seen(engine, ANA) == (at(0), at(0))
    assert _seen(engine, ANA_PHONE) == (at(0), at(0))
    engine.link(ANA, BO, actor="agent-1", reason="same person", at=at(6))  # sightings by the agent
    assert _seen(engine, ANA) == (at(0), at(6))
    assert _seen(engine, BO) == (at(1), at(6))


def test_an_identifier_known_only_from_links_is_seen_at_its_earliest_and_a_sighting_replaces_that() -> None:
    # A ledger component can hold a link without the sighting of its far end: the link stands
    # in for the sighting, at its earliest, until a real one arrives.
    engine = IdentityEngine()
    entries = list(engine.observe([ANA], at=at(0), channel="email", dedupe_key="d1").entries)
    entries += engine.link(ANA, ANA_PSID, actor="agent-1", reason="told us on the phone", at=at(5)).entries
    entries += engine.link(ANA_PSID, ANA, actor="agent-2", reason="again", at=at(3)).entries
    links_only = [e for e in entries if not (isinstance(e, Sighting) and e.identifier == ANA_PSID)]
    for order in (links_only, list(reversed(links_only))):
        assert _seen(IdentityEngine.rebuild(order), ANA_PSID) == (at(3), at(3))
    later = IdentityEngine().observe([ANA_PSID], at=at(8), channel="messenger", dedupe_key="m1").entries
    for order in ([*links_only, *later], [*later, *links_only]):
        assert _seen(IdentityEngine.rebuild(order), ANA_PSID) == (at(8), at(8))  # whatever its time


def test_forgetting_a_customer_leaves_the_other_sides_first_and_last_seen_as_a_rebuild_has_them() -> None:
    # Ana and Bo were seen together once; an agent split them with a never-link rule an hour
    # later. Forgetting Bo removes that rule: Ana's last seen must not keep the rule's time.
    engine = IdentityEngine()
    entries = list(engine.observe([ANA, BO], at=at(0), channel="webform", dedupe_key="f1").entries)
    entries += engine.never_link(ANA, BO, actor="agent-1", reason="two people", at=at(1)).entries
    bo = engine.customer_of(BO)
    assert bo is not None
    assert bo != engine.customer_of(ANA)
    forgotten = engine.forget(bo, at=at(2), actor="dpo", reason="GDPR art. 17")
    removed = set(forgotten.removed_entry_ids)
    kept = [
        e for e in entries if e.id not in removed and not (isinstance(e, Sighting) and e.identifier == BO)
    ]
    rebuilt = IdentityEngine.rebuild([*kept, *forgotten.entries])
    ana = engine.customer_of(ANA)
    assert ana is not None
    assert engine.customer(ana) == rebuilt.customer(ana)
    assert _seen(engine, ANA) == (at(0), at(0))


# --- operations dated at or before an erasure --------------------------------------------


def test_link_and_never_link_of_a_forgotten_identifier_dated_before_the_erasure_make_nothing() -> None:
    # A rebuild drops entries of a forgotten identifier dated at or before the erasure; the
    # engine must not make them either, or it would disagree with every rebuild.
    engine = IdentityEngine()
    entries = list(engine.observe([ANA], at=at(0), channel="email", dedupe_key="d1").entries)
    entries += engine.observe([BO], at=at(0), channel="email", dedupe_key="d2").entries
    ana = engine.customer_of(ANA)
    assert ana is not None
    forgotten = engine.forget(ana, at=at(2), actor="dpo", reason="GDPR art. 17")
    entries = [e for e in entries if not (isinstance(e, Sighting) and e.identifier == ANA)]
    entries += forgotten.entries
    linked = engine.link(ANA, BO, actor="agent-1", reason="backdated", at=at(1))
    assert [c.reason for c in linked.conflicts] == ["erased"]
    assert [e.type for e in linked.entries] == ["sighting"]  # Bo's, by the agent: no link
    entries += linked.entries
    engine.observe([ANA], at=at(3), channel="email", dedupe_key="d3")  # after the erasure: new
    later = engine.never_link(ANA, BO, actor="agent-1", reason="backdated", at=at(1))
    assert [c.reason for c in later.conflicts] == ["erased"]
    assert later.entries == ()
    assert engine._core.never_ids == {}
    rebuilt = IdentityEngine.rebuild(entries)
    assert rebuilt.customer_of(BO) == engine.customer_of(BO)


# ---------------------------------------------------------------- link ids
# The core gives an observed link its id only when asked (the SHA-256 of its facts), and
# knows a repeated link by its facts. These pin that to "the same id is the same link".


def _link_ids(change_entries: tuple) -> list[str]:  # type: ignore[type-arg]
    return [e.id for e in change_entries if isinstance(e, Link)]


def test_a_rebuilt_engine_knows_a_repeated_observation_by_its_links_facts() -> None:
    engine, entries = chain()
    rebuilt = IdentityEngine.rebuild(entries)
    again = rebuilt.observe([ANA_PSID, ANA_PHONE], at=at(2), channel="messenger", dedupe_key="p1")
    assert _link_ids(again.entries) == []
    assert rebuilt.partition() == engine.partition()
    # the same payload under another delivery key is another link
    other = rebuilt.observe([ANA_PSID, ANA_PHONE], at=at(2), channel="messenger", dedupe_key="p2")
    assert len(_link_ids(other.entries)) == 1


def test_an_observed_links_id_is_the_one_its_entry_carries_and_applying_that_entry_adds_nothing() -> None:
    engine = IdentityEngine()
    first = engine.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1")
    (lid,) = _link_ids(first.entries)
    link = next(e for e in first.entries if isinstance(e, Link))
    # the id is the entry's own stable id: a Link built from the same facts without an id has it
    rebuilt = Link(
        at=link.at, a=link.b, b=link.a, kind=link.kind, assurance=link.assurance, evidence=link.evidence
    )
    assert rebuilt.id == lid
    assert engine.apply([link]).entries == ()
    assert engine.revoke(lid, actor="agent", reason="wrong", at=at(2)).split
    assert engine.customer_of(ANA) != engine.customer_of(ANA_PHONE)


def test_a_link_entry_with_an_id_of_its_own_does_not_stand_for_the_observed_link() -> None:
    engine = IdentityEngine()
    facts = {"at": at(1), "a": ANA, "b": ANA_PHONE, "kind": "observed", "assurance": "asserted"}
    own = Link(id="lnk_imported_1", evidence={"channel": "sms", "dedupe_key": "s1"}, **facts)
    engine.apply([own])
    change = engine.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1")
    (lid,) = _link_ids(change.entries)
    assert lid != own.id
    # revoking the imported link leaves the observed one: still one customer
    engine.revoke(own.id, actor="agent", reason="import was wrong", at=at(2))
    assert engine.customer_of(ANA) == engine.customer_of(ANA_PHONE)
    engine.revoke(lid, actor="agent", reason="so was the sms", at=at(3))
    assert engine.customer_of(ANA) != engine.customer_of(ANA_PHONE)


def test_a_link_entry_holding_the_id_of_other_facts_is_that_link() -> None:
    probe = IdentityEngine()
    (lid,) = _link_ids(probe.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1").entries)
    engine = IdentityEngine()
    # the id the sms observation gives, carried by a link of other facts (another delivery key)
    odd = Link(
        id=lid,
        at=at(1),
        a=ANA,
        b=ANA_PHONE,
        kind="observed",
        assurance="asserted",
        evidence={"channel": "sms", "dedupe_key": "other"},
    )
    engine.apply([odd])
    change = engine.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1")
    assert _link_ids(change.entries) == []  # one id, one link: as a ledger replay of both would have it


def test_links_of_one_instant_are_ordered_by_their_ids_in_any_arrival_order() -> None:
    # three identifiers in one payload: three links of one instant, which only their ids order;
    # a fourth payload at the same instant refuses one of them (a third phone breaks the limit)
    third = Identifier(kind="phone", value="+16502530000")
    payloads = [
        ([ANA, ANA_PHONE, BO_PHONE], "w1"),
        ([ANA, third], "w2"),
        ([BO_PHONE, third], "w3"),
    ]
    partitions = set()
    histories = set()
    conflicts = set()
    for order in ((0, 1, 2), (2, 1, 0), (1, 2, 0), (0, 2, 1)):
        engine = IdentityEngine()
        for n in order:
            ids, key = payloads[n]
            engine.observe(ids, at=at(1), channel="whatsapp", dedupe_key=key)
        partitions.add(tuple(sorted(tuple(sorted(keys)) for keys in engine.partition().values())))
        refused = {(c.reason, tuple(sorted(str(i) for i in c.identifiers))) for c in engine.conflicts()}
        assert refused
        assert {reason for reason, _ in refused} == {"limit"}
        conflicts.add(frozenset(refused))
        cid = engine.customer_of(ANA)
        assert cid is not None
        histories.add(tuple((e.type, e.link_id) for e in engine.history(cid)))
    assert len(partitions) == 1
    assert len(histories) == 1
    assert len(conflicts) == 1


@pytest.mark.parametrize("bulk", [False, True], ids=["observe", "observe_many"])
def test_a_revocation_applied_before_its_link_revokes_the_observation_that_brings_the_link(
    bulk: bool,
) -> None:
    # a replica applies a ledger out of order: the revocation first, then the webhook that
    # made the link is delivered again; the link must come revoked, as a rebuild has it
    origin = IdentityEngine()
    made = origin.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1")
    (lid,) = _link_ids(made.entries)
    undo = origin.revoke(lid, actor="agent", reason="wrong person", at=at(2))
    replica = IdentityEngine()
    replica.apply(undo.entries)
    if bulk:
        got = replica.observe_many([Observation([ANA, ANA_PHONE], at(1), "sms", "s1")]).entries
    else:
        got = replica.observe([ANA, ANA_PHONE], at=at(1), channel="sms", dedupe_key="s1").entries
    assert _link_ids(got) == [lid]
    assert replica.customer_of(ANA) != replica.customer_of(ANA_PHONE)
    assert replica.partition() == origin.partition()
    assert IdentityEngine.rebuild([*undo.entries, *got]).partition() == replica.partition()
    cid = replica.customer_of(ANA)
    assert cid is not None
    assert [(e.type, e.link_id) for e in replica.history(cid)] == [("revoked", lid)]


BAD_CALLS = [
    ("observe(None)", lambda e, cid: e.observe(None, at=T0)),
    ("observe(a string)", lambda e, cid: e.observe("email:ana@shop.io", at=T0)),
    ("observe(assurance=bogus)", lambda e, cid: e.observe([ANA], at=T0, assurance="bogus")),
    ("observe_many(None)", lambda e, cid: e.observe_many(None)),
    ("observe_many(assurance=5)", lambda e, cid: e.observe_many([], assurance=5)),
    ("revoke(a list)", lambda e, cid: e.revoke(["lnk_x"], actor="a", reason="r")),
    ("split(groups=None)", lambda e, cid: e.split(cid, None, actor="a", reason="r")),
    ("split(a group of None)", lambda e, cid: e.split(cid, [None], actor="a", reason="r")),
    ("apply(None)", lambda e, cid: e.apply(None)),
    ("rebuild(None)", lambda e, cid: IdentityEngine.rebuild(None)),
    ("MergePolicy.from_json(5)", lambda e, cid: MergePolicy.from_json(5)),
    ("MergePolicy.from_file(None)", lambda e, cid: MergePolicy.from_file(None)),
    ("SettledFacts.from_json(text)", lambda e, cid: SettledFacts.from_json("nope")),
    ("SettledFacts.from_json({})", lambda e, cid: SettledFacts.from_json("{}")),
    ("settles(naive time)", lambda e, cid: e.settled_facts(cid).settles([ANA.key], datetime(2024, 1, 1))),
    ("settles(None)", lambda e, cid: e.settled_facts(cid).settles(None, T0)),
    ("settles(unhashable keys)", lambda e, cid: e.settled_facts(cid).settles([["x"]], T0)),
    (
        "observation_entries(None)",
        lambda e, cid: observation_entries(None, at=T0, channel="sms", dedupe_key="k"),
    ),
    (
        "observation_entries(plain identifiers)",
        lambda e, cid: observation_entries([ANA], at=T0, channel="sms", dedupe_key="k"),
    ),
    ("settles(identifiers)", lambda e, cid: e.settled_facts(cid).settles([ANA], T0)),
    ("SettledFacts.from_json(deep)", lambda e, cid: SettledFacts.from_json("[" * 100_000)),
    ("MergePolicy.from_toml(None)", lambda e, cid: MergePolicy.from_toml(None)),
    (
        "an entry before the first UTC instant",
        lambda e, cid: ledger_entry_adapter.validate_json(
            '{"type": "sighting", "id": "", "at": "0001-01-01T00:30:00+01:00", "assurance": "asserted", '
            '"identifier": {"kind": "email", "value": "ana@shop.io"}}'
        ),
    ),
]


@pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[name for name, _ in BAD_CALLS])
def test_bad_input_to_any_public_call_raises_an_omnicx_error(call: Any) -> None:
    engine, _ = chain()
    cid = engine.customer_of(ANA)
    with pytest.raises(OmnicxError):
        call(engine, cid)


def test_observe_takes_an_assurance_by_its_value_as_link_does() -> None:
    by_value, by_member = IdentityEngine(), IdentityEngine()
    got = by_value.observe([ANA, ANA_PHONE], at=T0, assurance="verified")  # type: ignore[arg-type]
    want = by_member.observe([ANA, ANA_PHONE], at=T0, assurance=Assurance.VERIFIED)
    assert [e.model_dump() for e in got.entries] == [e.model_dump() for e in want.entries]
    batch = IdentityEngine().observe_many([Observation([ANA, ANA_PHONE], T0)], assurance="verified")  # type: ignore[arg-type]
    assert [e.model_dump() for e in batch.entries] == [e.model_dump() for e in want.entries]


def test_evidence_that_differs_only_in_where_a_bar_falls_gives_other_entry_ids() -> None:
    engine = IdentityEngine()
    first = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="msg|42")
    second = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms|msg", dedupe_key="42")
    assert not {e.id for e in first.entries} & {e.id for e in second.entries}
    assert [e.type for e in second.entries] == ["sighting", "sighting", "link"]  # no repeat of the first
    # a rebuild of the ledger computes the same ids from the entries' facts
    entries = [*first.entries, *second.entries]
    fresh = [type(e).model_validate({**e.model_dump(), "id": ""}) for e in entries]
    assert [e.id for e in fresh] == [e.id for e in entries]


FIELD = st.one_of(st.none(), st.text(alphabet="a|\\", max_size=4))


@settings(max_examples=500, deadline=None)
@given(x=st.tuples(FIELD, FIELD, FIELD, FIELD), y=st.tuples(FIELD, FIELD, FIELD, FIELD))
def test_the_evidence_text_of_an_entry_id_tells_every_evidence_apart(x: Any, y: Any) -> None:
    def same(e: Any) -> tuple[str, ...]:
        return tuple(v or "" for v in e)

    assert (evidence_text(x) == evidence_text(y)) == (same(x) == same(y))
    assert evidence_string(x) == evidence_text(x)  # the core's fast form agrees
    if not any("|" in v or "\\" in v for v in same(x)):  # plain evidence: ids as before the escaping
        assert evidence_text(x) == "|".join(same(x))


@pytest.mark.parametrize(
    "written",
    [T0.astimezone(timezone(timedelta(hours=2))), T0.isoformat(), T0.isoformat().replace("+00:00", "Z")],
)
def test_an_entry_built_without_an_id_gets_the_engines_id_whatever_its_time_says(written: Any) -> None:
    # the id hashes the time in UTC, as the engine writes its own entries
    engine = IdentityEngine()
    link = next(
        e
        for e in engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="k").entries
        if isinstance(e, Link)
    )
    again = Link.model_validate({**link.model_dump(), "id": "", "at": written})
    assert again.id == link.id


def test_split_takes_its_groups_from_any_iterable() -> None:
    engine, _ = chain()
    cid = engine.customer_of(ANA)
    assert cid is not None
    change = engine.split(cid, (group for group in [[ANA_PSID]]), actor="agent", reason="two people")
    assert engine.customer_of(ANA_PSID) != engine.customer_of(ANA)
    assert len(change.split) == 2


def test_a_payload_delivered_again_gets_no_entry_the_ledger_does_not_hold() -> None:
    # observe() records no link the second time; observation_entries() repeats it under its id
    engine = IdentityEngine()
    first = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="k")
    again = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="k")
    observed = [ObservedIdentifier(identifier=i, assurance=Assurance.ASSERTED) for i in (ANA, ANA_PHONE)]
    built = observation_entries(observed, at=T0, channel="sms", dedupe_key="k")
    assert {e.id for e in built} == {e.id for e in first.entries} >= {e.id for e in again.entries}


def test_a_payload_delivered_again_at_a_stronger_assurance_rebuilds_from_a_store_as_it_ran(
    tmp_path: Path,
) -> None:
    # The id of a sighting and of a link hashes its assurance: the verified delivery of a
    # payload first seen asserted brings entries of its own, which a store keeps beside
    # the first ones, so a rebuild from the store reads the verified phone and the link that
    # the policy admits only at verified, as the live engine does.
    policy = MergePolicy(min_assurance="verified")
    engine = IdentityEngine(policy)
    first = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="k")
    assert engine.customer_of(ANA) != engine.customer_of(ANA_PHONE)
    again = engine.observe(
        [ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="k", assurance=Assurance.VERIFIED
    )
    assert engine.customer_of(ANA) == engine.customer_of(ANA_PHONE)
    assert not {e.id for e in first.entries} & {e.id for e in again.entries}
    store = SQLiteStore(tmp_path / "ledger.db")
    try:
        for change in (first, again, first):  # the asserted delivery once more
            with store.transaction() as tx:
                tx.append_ledger(change.entries)
        with store.snapshot() as view:
            stored = view.ledger()
    finally:
        store.close()
    assert len(stored) == len(first.entries) + len(again.entries)
    rebuilt = IdentityEngine.rebuild(stored, policy)
    assert rebuilt.partition() == engine.partition()
    cid = engine.customer_of(ANA_PHONE)
    assert cid is not None
    assert rebuilt.customer(cid) == engine.customer(cid)
    assert {i.assurance for i in engine.customer(cid).identifiers} == {Assurance.VERIFIED}


# --- erasure: the seam's edge cases ----------------------------------------------------------


def test_the_erasure_is_dated_after_the_rules_and_revocations_it_erases() -> None:
    # A split at +5h (a revocation and a never-link rule) and a forget dated +1h: the erasure
    # takes the split's time, so the rule delivered again to a replica stays erased.
    engine = IdentityEngine()
    seen = engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="p1")
    split = engine.split(seen.customer_id or "", [[ANA_PHONE]], actor="agent", reason="two people", at=at(5))
    ledger = [*seen.entries, *split.entries]
    rule = next(e for e in split.entries if isinstance(e, NeverLink))
    gone = engine.forget(engine.customer_of(ANA_PHONE) or "", at=at(1), actor="dpo", reason="erase")
    (erasure,) = gone.entries
    assert erasure.at == at(5)
    assert rule.id in gone.removed_entry_ids
    replica = IdentityEngine()
    replica.apply([e for e in ledger if e.id not in gone.removed_entry_ids and _names(e) != {ANA_PHONE.key}])
    replica.apply([erasure])
    replica.apply([rule])  # delivered once more
    assert replica.partition() == engine.partition()
    with pytest.raises(UnknownIdentifier):
        replica.customer_of(ANA_PHONE)


def _names(entry: object) -> set[str]:
    if isinstance(entry, Sighting):
        return {entry.identifier.key}
    if isinstance(entry, Link | NeverLink):
        return {entry.a.key, entry.b.key}
    return set()


def test_entries_read_after_a_later_forget_are_still_the_operations_entries() -> None:
    # Change.entries is built on first read: after the identifiers were forgotten, too.
    engine = IdentityEngine()
    engine.observe([BO], at=T0)
    engine.observe([BO_PHONE], at=T0)
    changes = [
        engine.observe([ANA, ANA_PHONE], at=T0, channel="sms", dedupe_key="p1"),
        engine.observe_many([Observation([ANA, ANA_PSID], at(1), "messenger", "m1")]),
        engine.link(BO, BO_PHONE, actor="agent", reason="same person", at=at(2)),
    ]
    for ident in (ANA, BO):
        engine.forget(engine.customer_of(ident) or "", at=at(3))
    links = [e for change in changes for e in change.entries if isinstance(e, Link)]
    assert [{e.a.key, e.b.key} for e in links] == [
        {ANA.key, ANA_PHONE.key},
        {ANA.key, ANA_PSID.key},
        {BO.key, BO_PHONE.key},
    ]


def test_an_erasure_applied_again_leaves_the_customer_who_came_back() -> None:
    writer = IdentityEngine()
    first = writer.observe([ANA], at=T0, channel="sms", dedupe_key="p1")
    gone = writer.forget(first.customer_id or "", at=at(24))
    back = writer.observe([ANA], at=at(48), channel="sms", dedupe_key="p2")
    ledger = [*gone.entries, *back.entries]
    replica = IdentityEngine()
    replica.apply(ledger)
    replica.apply(gone.entries)  # at-least-once delivery
    writer.apply(gone.entries)  # a writer reading its own tail back
    want = IdentityEngine.rebuild(ledger).partition()
    assert list(want.values()) == [frozenset({ANA.key})]
    assert replica.partition() == want
    assert writer.partition() == want


def test_forget_reports_the_customers_it_split_elsewhere() -> None:
    # A phone seen with four emails is quarantined (threshold 3). Forgetting one of those
    # customers lifts the quarantine: the phone's older links win, and the phone limit then
    # cuts a third phone out of another customer, which forget() reports in split, as
    # revoke() of the same link does.
    policy = MergePolicy(use_default_blocklist=False, quarantine={"email": 3, "*": 4}, limits={"phone": 2})
    emails = [Identifier(kind="email", value=f"user{i}@mail.example.org") for i in range(4)]
    phones = [Identifier(kind="phone", value=f"+1415200{i:04d}") for i in range(3)]

    def story() -> tuple[IdentityEngine, list[str]]:
        engine = IdentityEngine(policy)
        ids = [
            next(
                e.id
                for e in engine.observe(
                    [phones[0], emails[i]], at=at(i), channel="sms", dedupe_key=f"h{i}"
                ).entries
                if isinstance(e, Link)
            )
            for i in range(4)
        ]
        engine.observe([emails[0], phones[1]], at=at(10), channel="sms", dedupe_key="a")
        engine.observe([emails[0], phones[2]], at=at(11), channel="sms", dedupe_key="b")
        return engine, ids

    engine, _ = story()
    forgotten = engine.forget(engine.customer_of(emails[3]) or "", at=at(20))
    cut = engine.customer_of(phones[2])
    assert cut is not None
    assert cut != engine.customer_of(emails[0])
    assert {cut, engine.customer_of(emails[0])} <= set(forgotten.split)
    other, link_ids = story()
    revoked = other.revoke(link_ids[3], actor="agent", reason="not hers", at=at(20))
    assert set(forgotten.split) <= set(revoked.split)
