"""Type-checked only (``mypy --strict``, run by ``make types``): pins the types users see.

Never executed by pytest; a wrong type here fails the type check.
"""

from __future__ import annotations

from datetime import datetime
from typing import assert_type

import omnicx
from omnicx import (
    Assurance,
    DeliveryStatus,
    Identifier,
    InboundRequest,
    Message,
    NormalizationError,
    normalize_email,
    normalize_identifier,
    normalize_phone,
    normalize_timestamp,
)
from omnicx.conversations import (
    ContinuityRules,
    Threading,
    ThreadSnapshot,
    ThreadStep,
    continue_thread,
    thread_conversations,
    thread_lookup_keys,
    thread_snapshot,
)
from omnicx.events import CustomersMerged, EventBus
from omnicx.models import interaction_adapter


def normalization() -> None:
    assert_type(normalize_phone("+14155550123"), str)
    assert_type(normalize_email("a@b.com"), str)
    assert_type(normalize_identifier("phone", "+14155550123"), Identifier)
    assert_type(normalize_timestamp(0), datetime)
    assert_type(Identifier.parse("email:a@b.com"), Identifier)
    assert_type(Identifier.parse("email:a@b.com").key, str)


def models(message: Message, request: InboundRequest) -> None:
    assert_type(message.text, str)
    assert_type(message.occurred_at, datetime)
    assert_type(request.header("x"), str | None)
    assert_type(request.query, dict[str, list[str]])
    assert_type(DeliveryStatus.SENT.advance(DeliveryStatus.READ), DeliveryStatus)
    assert_type(Assurance.VERIFIED.at_least(Assurance.ASSERTED), bool)
    assert_type(Message.model_validate_json("{}"), Message)
    assert_type(interaction_adapter.validate_json(b"{}"), omnicx.Interaction)


def errors(exc: NormalizationError) -> None:
    assert_type(exc.kind, str)
    assert_type(exc.retryable, bool)


def conversations(message: Message) -> None:
    assert_type(thread_conversations("c", [message]), Threading)
    threading, snapshot = thread_snapshot("c", [message])
    assert_type(threading, Threading)
    assert_type(snapshot, ThreadSnapshot)
    assert_type(thread_lookup_keys(message, ContinuityRules()), list[str])
    step = continue_thread("c", message, snapshot, threading.conversations)
    assert_type(step, ThreadStep | None)
    if step is not None:
        assert_type(step.conversation_id, str | None)
        assert_type(ThreadSnapshot.from_header_json(step.snapshot.header_json()), ThreadSnapshot)


def events() -> None:
    bus = EventBus()

    def handler(event: CustomersMerged) -> None:
        assert_type(event.survivor_id, str)

    unsubscribe = bus.subscribe(CustomersMerged, handler)
    assert_type(unsubscribe(), None)


def hub_operations(hub: omnicx.Hub, phone: Identifier, email: Identifier) -> None:
    assert_type(hub.link(phone, email, actor="agent", reason="same person"), str)
    assert_type(hub.revoke("cus_1", "nvr_1", actor="agent", reason="the split was wrong"), tuple[str, ...])
    assert_type(hub.update_customer("cus_1", traits={"plan": "gold"}), omnicx.models.Customer)
    page = hub.timeline("cus_1", limit=10)
    assert_type(page.next_cursor, str | None)
