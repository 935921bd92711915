"""An observation the settled facts call a no-op changes no customer, no id and no verdict."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnicx.identity import IdentityEngine, SettledFacts, observation_entries
from omnicx.models import Assurance, Identifier, ObservedIdentifier

from .strategies import POLICY, POOL, T0, ops_lists, run, state

SETTINGS = settings(max_examples=300, deadline=None)


def customer_at(engine: IdentityEngine, ident: Identifier) -> str | None:
    return engine.customer_of(ident) if engine._core.index.get(ident.key) is not None else None


@SETTINGS
@given(
    ops=ops_lists,
    picks=st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique_by=lambda i: i.key),
    minute=st.integers(0, 45),
    ranks=st.lists(st.sampled_from(list(Assurance)), min_size=3, max_size=3),
)
def test_a_settled_observation_changes_nothing_and_its_entries_are_the_engines(
    ops, picks, minute, ranks
) -> None:
    engine, entries = run(ops)
    # observation_entries() knows no erasure: a forgotten pick is the engine's to drop
    assume(all(engine._core.erased_until(i.key) is None for i in picks))
    at = T0 + timedelta(minutes=minute)
    observed = [ObservedIdentifier(identifier=i, assurance=r) for i, r in zip(picks, ranks, strict=False)]
    entries_alone = observation_entries(observed, at=at, channel="sms", dedupe_key="new")
    before = state(engine)
    owners = {customer_at(engine, i) for i in picks}
    change = engine.observe(observed, at=at, channel="sms", dedupe_key="new")
    assert change.entries == entries_alone  # the same ledger entries, whatever the engine knew
    if len(owners) != 1 or None in owners:
        return
    (owner,) = owners
    assert owner is not None
    facts = SettledFacts.from_json(IdentityEngine.rebuild(entries, POLICY).settled_facts(owner).to_json())
    if facts.settles([i.key for i in picks], at):
        assert state(engine) == before
        assert change.merged == ()
        assert change.split == ()
        assert change.customer_id == owner
        assert not change.created
        assert change.conflicts == ()
        assert state(IdentityEngine.rebuild([*entries, *entries_alone], POLICY)) == before


@SETTINGS
@given(ops=ops_lists)
def test_facts_name_exactly_the_customers_members_and_its_admitted_pairs(ops) -> None:
    engine, _ = run(ops)
    for cid, keys in engine.partition().items():
        facts = engine.settled_facts(cid)
        assert facts.customer_id == cid
        assert facts.members == keys
        assert set(facts.sightings) <= keys
        assert all(a < b and {a, b} <= keys for a, b in facts.pairs)
        assert SettledFacts.from_json(facts.to_json()) == facts


def test_a_new_pair_a_new_identifier_or_an_older_time_is_not_settled() -> None:
    email, phone, other = POOL[0], POOL[5], POOL[1]
    engine = IdentityEngine(POLICY)
    engine.observe([email, phone], at=T0, channel="sms", dedupe_key="d1")
    engine.observe([other], at=T0, channel="sms", dedupe_key="d2")
    cid = engine.customer_of(email)
    assert cid is not None
    facts = engine.settled_facts(cid)
    later = T0 + timedelta(minutes=1)
    assert facts.settles([email.key, phone.key], later)
    assert facts.settles([email.key], later)
    assert not facts.settles([email.key, phone.key], T0)  # not strictly after the pair's first link
    assert facts.settles([email.key], T0)  # a sighting of the first instant moves no birth
    assert not facts.settles([email.key], T0 - timedelta(microseconds=1))
    assert not facts.settles([email.key, other.key], later)  # another customer's identifier
    assert not facts.settles([], later)


def test_a_new_pair_inside_one_customer_is_not_settled_because_it_can_quarantine() -> None:
    policy = POLICY.model_copy(update={"quarantine": {"phone": 2}, "limits": {}})
    email, p1, p2, p3 = POOL[0], POOL[5], POOL[6], POOL[7]
    engine = IdentityEngine(policy)
    for n, group in enumerate([[email, p1], [email, p2], [p2, p3]]):
        engine.observe(group, at=T0 + timedelta(minutes=n), channel="sms", dedupe_key=f"d{n}")
    cid = engine.customer_of(email)
    assert cid is not None
    assert engine.customer_of(p3) == cid
    facts = engine.settled_facts(cid)
    later = T0 + timedelta(minutes=10)
    assert not facts.settles([email.key, p3.key], later)
    change = engine.observe([email, p3], at=later, channel="sms", dedupe_key="d9")
    assert any(c.reason == "quarantined" for c in change.conflicts)  # it did change something
    assert engine.customer_of(p3) != engine.customer_of(p1)
