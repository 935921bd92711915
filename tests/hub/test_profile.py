"""What the host knows of a customer (display name, traits) survives what identity does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnicx import Identifier
from omnicx.errors import NotFound, ValidationError
from omnicx.hub import Hub
from omnicx.store import AuditAction
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONE = Identifier(kind="phone", value="+447911123456")
EMAIL = Identifier(kind="email", value="ana.silva@gmail.com")
BO = Identifier(kind="phone", value="+16463972214")


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture(params=["memory", "sqlite"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'hub.db'}"
    with Hub.open(url, channels=p.adapters(), clock=lambda: at(60 * 24)) as opened:
        yield opened


def ana(hub: Hub) -> str:
    customer_id = hub.customer_of(PHONE)
    assert customer_id is not None
    return customer_id


def test_update_customer_merges_traits_and_sets_the_name(hub: Hub) -> None:
    hub.ingest("whatsapp", p.whatsapp(at(0), "447911123456", "Ana S.", "hi", wamid="wamid.A1"))
    cid = ana(hub)
    hub.update_customer(cid, display_name="Ana Silva", traits={"plan": "gold", "seats": 3}, actor="crm-sync")
    updated = hub.update_customer(cid, traits={"seats": None, "preferred_channel": "email"})
    assert updated.display_name == "Ana Silva"  # None leaves the name
    assert updated.traits == {"plan": "gold", "preferred_channel": "email"}
    assert hub.customer(cid) == updated
    context = hub.context(cid)
    assert context.preferred_channel == "email"  # set, not the latest inbound (WhatsApp)
    assert context.brief.startswith("Ana Silva — ")
    assert hub.update_customer(cid, display_name="").display_name is None
    with hub.store.snapshot() as view:
        records = [r for r in view.audit_log(cid) if r.action is AuditAction.PROFILE]
    assert [r.details for r in records] == [
        {"traits": ["plan", "seats"], "display_name": True},
        {"traits": ["preferred_channel", "seats"], "display_name": False},
        {"traits": [], "display_name": True},
    ]
    assert "gold" not in repr(records)  # keys, not values
    assert "Ana Silva" not in repr(records)


def test_a_new_identifier_and_a_merge_keep_the_hosts_traits(hub: Hub) -> None:
    hub.ingest("whatsapp", p.whatsapp(at(0), "447911123456", "Ana", "hi", wamid="wamid.A1"))
    hub.ingest(
        "email", p.email(at(1), "Ana <ana.silva@gmail.com>", "Order", "hello", message_id="a1@gmail.com")
    )
    by_phone = hub.customer_of(PHONE)
    by_mail = hub.customer_of(EMAIL)
    assert by_phone is not None
    assert by_mail is not None
    assert by_phone != by_mail
    hub.update_customer(by_phone, display_name="Ana Silva", traits={"plan": "gold", "crm_id": "C-1"})
    hub.update_customer(by_mail, traits={"plan": "free", "newsletter": True})
    # the chat names both: one customer, which keeps both customers' traits (the older one wins)
    chat = p.webchat(at(2), "s1", "v1", "me", email=EMAIL.value, phone=PHONE.value, event_id="e1")
    hub.ingest("webchat", chat)
    merged = hub.customer(ana(hub))
    assert merged.id == by_phone  # the phone was seen first
    assert merged.display_name == "Ana Silva"
    assert merged.traits == {"plan": "gold", "crm_id": "C-1", "newsletter": True}
    assert hub.customer(by_mail) == merged  # the retired id resolves to it


def test_each_part_of_a_split_keeps_the_traits_of_the_customer_it_was_cut_from(hub: Hub) -> None:
    chat = p.webchat(at(0), "s1", "v1", "me", email=EMAIL.value, phone=PHONE.value, event_id="e1")
    hub.ingest("webchat", chat)
    cid = ana(hub)
    hub.update_customer(cid, display_name="Ana Silva", traits={"plan": "gold"})
    parts = hub.split(cid, [[EMAIL]], actor="agent-7", reason="two people")
    assert len(parts) == 2
    for part in parts:
        assert hub.customer(part).traits == {"plan": "gold"}
        assert hub.customer(part).display_name == "Ana Silva"


@pytest.mark.parametrize(
    "change",
    [
        {"traits": ["plan"]},
        {"traits": {"plan": object()}},
        {"display_name": 5},
        {"display_name": "x" * 300},
    ],
)
def test_what_a_customer_cannot_hold_is_refused(hub: Hub, change: dict[str, object]) -> None:
    hub.ingest("whatsapp", p.whatsapp(at(0), "447911123456", "Ana", "hi", wamid="wamid.A1"))
    before = hub.customer(ana(hub))
    with pytest.raises(ValidationError):
        hub.update_customer(before.id, **change)  # type: ignore[arg-type]
    assert hub.customer(before.id) == before


def test_an_unknown_customer_is_not_found(hub: Hub) -> None:
    with pytest.raises(NotFound):
        hub.update_customer("cus_nope", traits={"plan": "gold"})


def test_conversation_records_count_a_customer_once_whichever_of_its_ids_are_given(hub: Hub) -> None:
    """KPIs over [old id, new id] of one merged customer used to count its conversations twice."""
    hub.ingest("whatsapp", p.whatsapp(at(0), "447911123456", "Ana", "hi", wamid="wamid.A1"))
    hub.ingest(
        "email", p.email(at(1), "Ana <ana.silva@gmail.com>", "Order", "hello", message_id="a1@gmail.com")
    )
    retired = hub.customer_of(EMAIL)
    chat = p.webchat(at(2), "s1", "v1", "me", email=EMAIL.value, phone=PHONE.value, event_id="e1")
    hub.ingest("webchat", chat)
    survivor = ana(hub)
    assert retired is not None
    assert retired != survivor
    once = hub.conversation_records([survivor])
    assert len(once) >= 1
    assert hub.conversation_records([retired, survivor]) == once
    assert hub.conversation_records([retired]) == once
