"""IdentityEngine.observe_many: one call for many observations, the state of one observe() each."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.errors import ValidationError
from omnicx.identity import IdentityEngine, MergePolicy, Observation, ObservedBatch
from omnicx.models import Assurance, Identifier, ObservedIdentifier

from .strategies import POLICY, POOL, T0, full_state, ops_lists, run

Item = Identifier | ObservedIdentifier


def _item(ident: Identifier, assurance: Assurance | None) -> Item:
    return ident if assurance is None else ObservedIdentifier(identifier=ident, assurance=assurance)


_one = st.builds(_item, st.sampled_from(POOL), st.sampled_from([None, None, *Assurance]))
_batch = st.lists(
    st.tuples(
        st.lists(_one, min_size=1, max_size=4),  # repeats allowed, as observe() allows them
        st.integers(0, 40),
        st.sampled_from(["sms", "email", None]),
    ),
    min_size=1,
    max_size=25,
)


def _observations(batch: list[tuple[list[Item], int, str | None]]) -> list[Observation]:
    return [
        Observation(items, T0 + timedelta(minutes=minute), channel, f"b{n}")
        for n, (items, minute, channel) in enumerate(batch)
    ]


def _key(item: Item) -> str:
    return (item.identifier if isinstance(item, ObservedIdentifier) else item).key


@settings(max_examples=200, deadline=None)
@given(prefix=ops_lists, batch=_batch)
def test_observe_many_equals_one_observe_per_observation(prefix, batch) -> None:
    one_by_one, _ = run(prefix)
    bulk = copy.deepcopy(one_by_one)
    known_keys = set(one_by_one._core.index)
    ids_before = one_by_one.partition()
    births = {  # the identifier each customer id was born with
        cid: k
        for cid, keys in ids_before.items()
        for k in keys
        if bulk._core.birth_id(bulk._core.index[k]) == cid
    }
    observations = _observations(batch)

    changes = [
        one_by_one.observe(o.identifiers, at=o.at, channel=o.channel, dedupe_key=o.dedupe_key)
        for o in observations
    ]
    got = bulk.observe_many(observations)

    assert isinstance(got, ObservedBatch)
    assert full_state(bulk) == full_state(one_by_one)
    assert [e.model_dump() for e in got.entries] == [e.model_dump() for c in changes for e in c.entries]

    after = one_by_one.partition()
    expected_ids = []
    for o, change in zip(observations, changes, strict=True):
        dropped = {i.key for c in change.conflicts if c.reason == "erased" for i in c.identifiers}
        cid = None
        for item in o.identifiers:
            ident = item.identifier if isinstance(item, ObservedIdentifier) else item
            if ident.key not in dropped and (found := one_by_one.customer_of(ident)) is not None:
                cid = found
                break
        expected_ids.append(cid)
    assert list(got.customer_ids) == expected_ids

    assert set(got.created) == {
        cid for cid in expected_ids if cid is not None and not (set(after[cid]) & known_keys)
    }
    assert set(got.merged) == {  # every id the batch retired whose identifier is still a customer's
        cid
        for cid in ids_before
        if cid not in after and one_by_one.customer_of(Identifier.parse(births[cid]))
    }
    assert set(got.split) <= set(after)

    final = {(c.reason, frozenset(i.key for i in c.identifiers)) for c in one_by_one.conflicts()}
    batch_link_ids = {e.id for c in changes for e in c.entries if e.type == "link"}
    pair_conflicts = [c for c in got.conflicts if len(c.identifiers) == 2]
    assert (
        {(c.reason, frozenset(i.key for i in c.identifiers)) for c in pair_conflicts}
        == {
            (c.reason, frozenset(i.key for i in c.identifiers))
            for c in one_by_one.conflicts()
            if set(c.link_ids) & batch_link_ids
        }
        <= final
    )
    for c in pair_conflicts:  # the batch's own links of that pair, each once
        assert set(c.link_ids) <= batch_link_ids
        assert len(c.link_ids) == len(set(c.link_ids))
    erased = {i.key for c in changes for d in c.conflicts if d.reason == "erased" for i in d.identifiers}
    for c in got.conflicts:
        if len(c.identifiers) == 1:
            assert c.reason in ("quarantined", "erased")
            if c.reason == "quarantined":
                assert one_by_one.is_quarantined(c.identifiers[0])
            else:  # a forgotten identifier the batch dropped, as observe() did
                assert c.identifiers[0].key in erased


def test_a_bad_observation_leaves_the_engine_untouched_and_is_named() -> None:
    engine = IdentityEngine(POLICY)
    engine.observe([POOL[0]], at=T0, channel="sms", dedupe_key="first")
    before = full_state(engine)
    good = Observation([POOL[1], POOL[5]], T0 + timedelta(minutes=1), "sms", "a")
    cases: list[tuple[object, str]] = [
        (Observation([POOL[2]], datetime(2024, 3, 1, 12, 0), "sms", "b"), "aware datetime"),  # naive
        (Observation(["email:x@example.org"], T0, "sms", "b"), "Identifier or ObservedIdentifier"),  # type: ignore[list-item]
        (Observation("email:x@example.org", T0), "must be a list"),  # type: ignore[arg-type]
        (Observation([POOL[2]], T0, 42, "b"), "channel must be a string"),  # type: ignore[arg-type]
        (Observation([POOL[2]], T0, "sms", "\ud800"), "lone surrogate"),
        (Observation([POOL[2]], T0, "sms", "x" * 1025), "longer than 1024"),
        ((POOL[2],), "an Observation(identifiers, at, channel, dedupe_key) is needed"),
        (3, "an Observation(identifiers, at, channel, dedupe_key) is needed"),
    ]
    for bad, message in cases:
        with pytest.raises(ValidationError, match="observation 2") as caught:
            engine.observe_many([good, good, bad])  # type: ignore[list-item]
        assert message in str(caught.value)
        assert caught.value.context["index"] == 2
        assert full_state(engine) == before
        assert POOL[1].key not in engine._core.index


def test_plain_tuples_and_any_time_zone_are_accepted() -> None:
    engine = IdentityEngine(POLICY)
    madrid = timezone(timedelta(hours=1))
    got = engine.observe_many(
        [
            ((POOL[0], POOL[5]), T0.astimezone(madrid), "sms", "a"),
            ([POOL[5], POOL[1]], T0 + timedelta(minutes=5)),
        ]
    )
    twin = IdentityEngine(POLICY)
    entries = [
        *twin.observe([POOL[0], POOL[5]], at=T0, channel="sms", dedupe_key="a").entries,
        *twin.observe([POOL[5], POOL[1]], at=T0 + timedelta(minutes=5)).entries,
    ]
    assert full_state(engine) == full_state(twin)
    assert got.customer_ids[0] == got.customer_ids[1] == twin.customer_of(POOL[0])
    assert got.created == (got.customer_ids[0],)
    assert [e.id for e in got.entries] == [e.id for e in entries]
    assert full_state(IdentityEngine.rebuild(got.entries, POLICY)) == full_state(twin)


def test_merges_of_customers_known_before_the_batch_are_reported() -> None:
    engine = IdentityEngine(POLICY)
    a = engine.observe([POOL[0]], at=T0).customer_id
    b = engine.observe([POOL[1]], at=T0 + timedelta(minutes=1)).customer_id
    got = engine.observe_many(
        [
            Observation([POOL[1], POOL[5]], T0 + timedelta(minutes=2)),
            Observation([POOL[0], POOL[5]], T0 + timedelta(minutes=3)),
        ]
    )
    assert got.merged == (b,)  # a is older: it survives
    assert got.customer_ids == (a, a)
    assert got.created == ()
    assert engine.resolve(b) == a


def test_a_quarantine_in_the_batch_reports_the_parts_it_left() -> None:
    # four customers, each an email with the same switchboard phone (threshold: more than 3 emails)
    policy = MergePolicy(use_default_blocklist=False, quarantine={"email": 3, "*": 4}, limits={})
    engine = IdentityEngine(policy)
    phone = Identifier(kind="phone", value="+14155550100")
    emails = [Identifier(kind="email", value=f"p{i}@shop.example.org") for i in range(5)]
    engine.observe([emails[0], phone], at=T0)
    engine.observe([emails[1], phone], at=T0 + timedelta(minutes=1))
    whole = engine.customer_of(emails[0])
    assert engine.customer_of(emails[1]) == whole
    got = engine.observe_many(
        [Observation([emails[i], phone], T0 + timedelta(minutes=1 + i)) for i in (2, 3)]
    )
    assert engine.is_quarantined(phone)
    assert {(c.reason, frozenset(c.identifiers)) for c in got.conflicts} == {
        ("quarantined", frozenset([phone])),  # the identifier demoted
        *(("quarantined", frozenset([emails[i], phone])) for i in (2, 3)),  # the batch's links it refuses
    }
    parts = {engine.customer_of(e) for e in emails[:4]}
    assert len(parts) == 4
    assert engine.customer_of(emails[0]) == whole  # the oldest part keeps the id: nothing retired
    assert got.merged == ()
    assert set(got.split) == {whole, engine.customer_of(emails[1])}  # the parts outside the batch
    assert set(got.customer_ids) == {engine.customer_of(emails[2]), engine.customer_of(emails[3])}


def test_forgotten_identifiers_are_dropped_and_reported() -> None:
    engine = IdentityEngine(POLICY)
    cid = engine.observe([POOL[0], POOL[5]], at=T0).customer_id
    assert cid is not None
    engine.forget(cid, at=T0 + timedelta(hours=1))
    got = engine.observe_many([Observation([POOL[0], POOL[6]], T0 + timedelta(minutes=30))])  # a replay
    assert [c.reason for c in got.conflicts] == ["erased"]
    assert got.conflicts[0].identifiers == (POOL[0],)
    assert POOL[0].key not in engine._core.index
    assert [e.type for e in got.entries] == ["sighting"]
    assert got.customer_ids == (engine.customer_of(POOL[6]),)


def test_observe_reports_the_id_a_customer_had_before_the_call() -> None:
    """A sighting of an earlier instant arriving late gives the customer a new birth id: the
    old one retires, and still resolves to the customer."""
    engine = IdentityEngine(POLICY)
    old = engine.observe([POOL[0]], at=T0, channel="sms", dedupe_key="late").customer_id
    assert old is not None
    change = engine.observe([POOL[0]], at=T0 - timedelta(minutes=1), channel="sms", dedupe_key="early")
    assert change.customer_id != old
    assert change.merged == (old,)  # the id that existed, not one computed after the change
    assert old not in engine.partition()
    assert engine.resolve(old) == change.customer_id


def test_same_instant_sightings_never_change_a_customer_id() -> None:
    """WhatsApp times are whole seconds: two messages of one second, in either order, name the
    customer alike from the first on (the birth id is the first instant, not the first evidence)."""
    ids = set()
    for order in (("m1", "m2", "m3"), ("m3", "m1", "m2"), ("m2", "m3", "m1")):
        engine = IdentityEngine(POLICY)
        changes = [engine.observe([POOL[0]], at=T0, channel="whatsapp", dedupe_key=k) for k in order]
        assert all(c.merged == () for c in changes)
        ids.update(c.customer_id for c in changes)
    assert len(ids) == 1


def test_observe_does_not_call_a_surviving_part_merged() -> None:
    policy = MergePolicy(use_default_blocklist=False, quarantine={"email": 3, "*": 4}, limits={})
    engine = IdentityEngine(policy)
    phone = Identifier(kind="phone", value="+14155550100")
    emails = [Identifier(kind="email", value=f"p{i}@shop.example.org") for i in range(4)]
    for i in range(3):
        engine.observe([emails[i], phone], at=T0 + timedelta(minutes=i))
    whole = engine.customer_of(emails[0])
    change = engine.observe([phone, emails[3]], at=T0 + timedelta(minutes=3))  # the phone turns hot
    assert engine.is_quarantined(phone)
    assert engine.customer_of(emails[0]) == whole  # the oldest part keeps its id: nothing retired
    assert change.merged == ()
    assert whole in change.split
