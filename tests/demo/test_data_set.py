"""The shipped demo data set: every payload is real-format, verifies and parses, and tells the stories the demo needs."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from omnicx._demo import DeliverStep, LinkStep, SplitStep, demo_channels, demo_steps
from omnicx.errors import PayloadError, SignatureError
from omnicx.models import Identifier
from tests.demo._graph import customers, parsed

STEPS = demo_steps()
DELIVERIES = [s for s in STEPS if isinstance(s, DeliverStep)]
ALL_CHANNELS = {"email", "messenger", "telegram", "twilio", "twilio_voice", "webchat", "webform", "whatsapp"}


@pytest.mark.parametrize("step", [s for s in DELIVERIES if s.expect == "ok"], ids=lambda s: s.id)
def test_every_ok_step_verifies_and_parses(step: DeliverStep) -> None:
    adapter = demo_channels()[step.channel]
    adapter.verify(step.request)
    events = adapter.parse(step.request)
    assert events, f"{step.id} ({step.file}) parsed to no event"
    for event in events:
        assert event.identifiers, f"{step.id}: an event without identifiers"


def test_exactly_one_forged_signature_and_one_malformed_payload() -> None:
    expectations = Counter(s.expect for s in DELIVERIES)
    assert expectations["signature_error"] == 1
    assert expectations["payload_error"] == 1
    channels = demo_channels()
    (forged,) = [s for s in DELIVERIES if s.expect == "signature_error"]
    with pytest.raises(SignatureError):
        channels[forged.channel].verify(forged.request)
    # Only the signature is wrong: the body itself is a well-formed inbound SMS.
    assert forged.channel == "twilio"
    assert channels["twilio"].parse(forged.request)[0].interaction.type == "message"
    (malformed,) = [s for s in DELIVERIES if s.expect == "payload_error"]
    channels[malformed.channel].verify(malformed.request)  # authentic, just unusable
    with pytest.raises(PayloadError, match="no valid email or phone"):
        channels[malformed.channel].parse(malformed.request)


def test_eight_channels_are_used() -> None:
    assert {s.channel for s, _ in parsed()} == ALL_CHANNELS
    assert set(demo_channels()) == ALL_CHANNELS


def test_twenty_four_distinct_customers() -> None:
    _comps, seen = customers()
    # 24 people in the generator's list (two of them both named Daniel Kim), each their own component.
    assert len(seen) == 24
    assert len({s.persona for s, _ in parsed()}) == 24


def test_cross_channel_journeys() -> None:
    _, seen = customers()
    journeys = sorted(sorted(channels) for channels in seen.values() if len(channels) > 1)
    assert journeys == [
        ["email", "twilio", "webform"],  # Priya: form -> email -> SMS
        ["email", "twilio_voice", "webchat", "whatsapp"],  # Lucía: the seed story
        ["email", "webform", "whatsapp"],  # Amara: WhatsApp -> form -> email
        ["telegram", "twilio_voice"],  # Kenji: Telegram, shares his number, calls
        ["twilio", "twilio_voice", "webchat"],  # Oliver: SMS -> call -> chat
    ]


def test_duplicate_deliveries_repeat_the_payload_byte_for_byte() -> None:
    by_id = {s.id: s for s in DELIVERIES}
    duplicates = [s for s in DELIVERIES if s.duplicate_of is not None]
    assert {by_id[d.duplicate_of].channel for d in duplicates if d.duplicate_of} == {
        "twilio",
        "whatsapp",
        "messenger",
    }
    channels = demo_channels()
    for dup in duplicates:
        assert dup.duplicate_of is not None
        original = by_id[dup.duplicate_of]
        assert dup.request.body == original.request.body
        assert dup.request.url == original.request.url
        assert dup.request.received_at > original.request.received_at
        keys = [e.interaction.dedupe_key for e in channels[dup.channel].parse(dup.request)]
        assert keys == [e.interaction.dedupe_key for e in channels[original.channel].parse(original.request)]


def test_seed_story_in_order() -> None:
    seed = [(s, events) for s, events in parsed() if s.story == "seed"]
    firsts: dict[str, int] = {}
    for n, (step, _) in enumerate(seed):
        firsts.setdefault(step.channel, n)
    assert sorted(firsts, key=firsts.__getitem__) == ["webchat", "email", "whatsapp", "twilio_voice"]
    _chat_step, chat_events = seed[0]
    typed = {o.identifier.kind: o.identifier for o in chat_events[0].identifiers}
    assert str(typed["email"]) == "email:lucia.fernandez@correo-ejemplo.es"
    assert typed["phone"].kind == "phone"
    assert typed["phone"].value.startswith("+34")
    first_of = {step.channel: events for step, events in reversed(seed)}
    assert first_of["email"][0].identifiers[0].identifier == typed["email"]
    assert first_of["whatsapp"][0].identifiers[0].identifier == typed["phone"]
    assert first_of["twilio_voice"][0].identifiers[0].identifier == typed["phone"]
    times = [step.request.received_at for step, _ in seed]
    assert times == sorted(times)


def test_agent_replies_statuses_and_csat() -> None:
    outbound_messages = {
        step.channel
        for step, events in parsed()
        for e in events
        if e.interaction.type == "message" and e.interaction.direction == "outbound"
    }
    assert outbound_messages == {"webchat", "email", "messenger"}
    statuses = {step.channel for step, events in parsed() for e in events if e.interaction.type == "status"}
    assert statuses == {"whatsapp", "twilio", "messenger"}
    ratings = [e.interaction for _, events in parsed() for e in events if e.interaction.type == "rating"]
    assert [(r.scale, r.score) for r in ratings] == [("csat", 5)]  # type: ignore[union-attr]


def test_the_wrong_merge_joins_two_people_and_the_split_separates_them() -> None:
    comps, _ = customers()
    (link,) = [s for s in STEPS if isinstance(s, LinkStep)]
    (split,) = [s for s in STEPS if isinstance(s, SplitStep)]
    assert comps.find(str(link.a)) != comps.find(str(link.b)), "the link must join two different people"
    assert split.at > link.at
    assert split.of in (link.a, link.b)
    assert {frozenset(g) for g in split.groups} == {frozenset({link.a}), frozenset({link.b})}
    index = {s.id: n for n, s in enumerate(STEPS)}
    # Both people were seen before the link and write again while merged, so the mixed timeline shows.
    seen_ids = {
        step.id: {str(o.identifier) for e in events for o in e.identifiers} for step, events in parsed()
    }
    for ident in (link.a, link.b):
        steps = [sid for sid, ids in seen_ids.items() if str(ident) in ids]
        assert any(index[sid] < index[link.id] for sid in steps)
        assert any(index[link.id] < index[sid] < index[split.id] for sid in steps)
    assert link.a.kind == "messenger_psid"
    assert link.b == Identifier(kind="email", value="dkim.toronto@example.ca")


def test_steps_are_ordered_and_span_two_weeks() -> None:
    assert [s.id for s in STEPS] == [f"s{n:03d}" for n in range(1, len(STEPS) + 1)]
    times = [s.request.received_at if isinstance(s, DeliverStep) else s.at for s in STEPS]
    assert times == sorted(times)
    assert timedelta(days=12) <= times[-1] - times[0] <= timedelta(days=15)
