"""Subscriptions deliver events by class; a failing subscriber stops nobody."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnicx.events import (
    ConversationOpened,
    CustomersMerged,
    Event,
    EventBus,
    InteractionIngested,
    SubscriberWarning,
)
from omnicx.models._base import UnionAdapter

T0 = datetime(2026, 11, 24, tzinfo=UTC)
MERGED = CustomersMerged(at=T0, survivor_id="cus_a", merged_ids=("cus_b",), reason="same phone")
OPENED = ConversationOpened(at=T0, conversation_id="cv_1", customer_id="cus_a", channel="webchat")


def test_subscribers_get_only_their_events_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(CustomersMerged, lambda e: seen.append(f"merged:{e.survivor_id}"))
    bus.subscribe(ConversationOpened, lambda e: seen.append(f"opened:{e.conversation_id}"))
    bus.subscribe(CustomersMerged, lambda e: seen.append(f"again:{e.merged_ids[0]}"))
    bus.publish(MERGED)
    bus.publish(OPENED)
    assert seen == ["merged:cus_a", "again:cus_b", "opened:cv_1"]


def test_unsubscribe() -> None:
    bus = EventBus()
    seen: list[object] = []
    stop = bus.subscribe(CustomersMerged, seen.append)
    bus.publish(MERGED)
    stop()
    stop()  # twice is harmless
    bus.publish(MERGED)
    assert seen == [MERGED]


def test_a_failing_subscriber_warns_and_the_others_still_run() -> None:
    bus = EventBus()
    seen: list[object] = []

    def broken(event: CustomersMerged) -> None:
        raise RuntimeError("webhook down")

    bus.subscribe(CustomersMerged, broken)
    bus.subscribe(CustomersMerged, seen.append)
    with pytest.warns(SubscriberWarning, match="webhook down"):
        bus.publish(MERGED)
    assert seen == [MERGED]
    assert [(e, str(x)) for e, x in bus.failures] == [(MERGED, "webhook down")]


def test_events_round_trip_through_json_by_type() -> None:
    adapter: UnionAdapter[Event] = UnionAdapter(Event, "Event")
    ingested = InteractionIngested(
        at=T0, interaction_id="ix_1", customer_id="cus_a", channel="sms", kind="message"
    )
    for event in (MERGED, OPENED, ingested):
        assert adapter.validate_json(adapter.dump_json(event)) == event
