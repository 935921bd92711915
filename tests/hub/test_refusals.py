"""What the hub refuses, with an error from omnicx's tree, and that a refused action leaves no trace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnicx import Identifier
from omnicx.errors import (
    ConfigurationError,
    Conflict,
    IdentityError,
    MergeBlocked,
    OmnicxError,
    ValidationError,
)
from omnicx.events import CustomersMerged, IdentityConflict
from omnicx.hub import Hub
from omnicx.store import AuditAction
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONE = Identifier(kind="phone", value="+447911123456")
EMAIL = Identifier(kind="email", value="ana.silva@gmail.com")
BO = Identifier(kind="phone", value="+16463972214")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """Ana on WhatsApp and by email (one customer through the chat), Bo on WhatsApp."""
    with Hub.open(f"sqlite:///{tmp_path / 'hub.db'}", channels=p.adapters()) as hub:
        hub.ingest("whatsapp", p.whatsapp(T0, "447911123456", "Ana", "hi", wamid="wamid.A1"))
        chat = p.webchat(
            T0 + timedelta(minutes=1), "s1", "v1", "me", email=EMAIL.value, phone=PHONE.value, event_id="e1"
        )
        hub.ingest("webchat", chat)
        mail = p.email(
            T0 + timedelta(days=3), "ana.silva@gmail.com", "Order", "again", message_id="a1@gmail.com"
        )
        hub.ingest("email", mail)
        hub.ingest("whatsapp", p.whatsapp(T0, "16463972214", "Bo", "yo", wamid="wamid.B1"))
        yield hub


def ana(hub: Hub) -> str:
    customer_id = hub.customer_of(PHONE)
    assert customer_id is not None
    return customer_id


CASES: dict[str, Callable[[Hub], object]] = {
    "ingest of bytes": lambda hub: hub.ingest("email", b"From: a@b.org\r\n\r\nhi"),  # type: ignore[arg-type]
    "replay of an unknown status": lambda hub: hub.replay(status="lost"),
    "reply of None": lambda hub: hub.reply(hub.conversations(ana(hub))[0].id, None),  # type: ignore[arg-type]
    "timeline channels as a string": lambda hub: hub.timeline(ana(hub), channels="email"),
    "timeline kinds as a string": lambda hub: hub.timeline(ana(hub), kinds="message"),
    "timeline kinds with a typo": lambda hub: hub.timeline(ana(hub), kinds=["mesage"]),
    "conversation records of a string": lambda hub: hub.conversation_records(ana(hub)),
    "subscribe to a non-event": lambda hub: hub.subscribe(int, print),  # type: ignore[arg-type,type-var]
    "subscribe a non-callable": lambda hub: hub.subscribe(CustomersMerged, None),  # type: ignore[arg-type]
    "split into one part": lambda hub: hub.split(
        ana(hub), [[ci.identifier for ci in hub.customer(ana(hub)).identifiers]], actor="a", reason="r"
    ),
    "split with no groups": lambda hub: hub.split(ana(hub), [], actor="a", reason="r"),
    "split with an identifier twice": lambda hub: hub.split(
        ana(hub), [[PHONE], [PHONE]], actor="a", reason="r"
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_misuse_gets_a_validation_error(hub: Hub, case: str) -> None:
    with pytest.raises(ValidationError) as raised:
        CASES[case](hub)
    assert isinstance(raised.value, OmnicxError)


def conversation_actions(hub: Hub, customer_id: str) -> list[object]:
    with hub.store.snapshot(hub.tenant) as view:
        return [r for r in view.audit_log(customer_id, limit=1000) if r.action is AuditAction.CONVERSATION]


def test_a_conversation_action_that_would_do_nothing_is_refused_and_not_recorded(hub: Hub) -> None:
    mine = ana(hub)
    conversations = hub.conversations(mine)
    assert len(conversations) == 2  # the chat, and the email three days later
    first, later = sorted(conversations, key=lambda c: c.opened_at)
    (bos,) = hub.conversations(hub.customer_of(BO))  # type: ignore[arg-type]
    members = [
        e.interaction.id
        for e in hub.timeline(mine, limit=100, identity_events=False).entries
        if e.interaction is not None and e.conversation_id == first.id
    ]
    refused = {
        "into itself": lambda: hub.merge_conversations(first.id, first.id, actor="agent-1"),
        "another customer's": lambda: hub.merge_conversations(first.id, bos.id, actor="agent-1"),
        "an unknown interaction": lambda: hub.split_conversation(first.id, "ix_nope", actor="agent-1"),
        "another conversation's interaction": lambda: hub.split_conversation(
            later.id, members[0], actor="agent-1"
        ),
    }
    for name, act in refused.items():
        with pytest.raises(ValidationError):
            act()
        assert conversation_actions(hub, mine) == [], name
    merged = hub.merge_conversations(first.id, later.id, actor="agent-1")  # a real one still works
    assert merged.id == first.id
    assert len(conversation_actions(hub, mine)) == 1
    assert [c.id for c in hub.conversations(mine)] == [first.id]


@pytest.mark.parametrize(
    "setup",
    [
        {"policy": {"limits": {}}},
        {"continuity": {"idle_minutes": 5}},
        {"salt": 5},
        {"salt": b""},
    ],
)
def test_a_hub_set_up_wrongly_is_a_configuration_error(setup: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Hub.open("memory://", channels=p.adapters(), **setup)  # type: ignore[arg-type]


def test_two_adapters_of_one_name_are_refused() -> None:
    """A second WhatsApp number needs its own tenant or hub: one adapter silently replaced the other."""
    adapters = p.adapters()
    with pytest.raises(ConfigurationError, match="whatsapp"):
        Hub.open("memory://", channels=[*adapters, adapters[2]])  # type: ignore[list-item]


def test_a_reply_retried_with_its_key_is_the_same_reply_and_other_content_under_it_is_refused() -> None:
    hub = Hub.open("memory://", channels=p.adapters(), clock=lambda: T0 + timedelta(hours=1))
    hub.ingest("whatsapp", p.whatsapp(T0, "16463972214", "Bo", "yo", wamid="wamid.B1"))
    (conversation,) = hub.conversations(hub.customer_of(BO))  # type: ignore[arg-type]
    first = hub.reply(conversation.id, "Ships today.", agent="agent-1", dedupe_key="reply-1")
    again = hub.reply(conversation.id, "Ships today.", agent="agent-1", dedupe_key="reply-1")
    assert again.interaction_id == first.interaction_id
    assert again.request == first.request  # the host may send it again: the same message
    with pytest.raises(Conflict):
        hub.reply(conversation.id, "Ships tomorrow.", agent="agent-1", dedupe_key="reply-1")
    with pytest.raises(Conflict):
        hub.reply(conversation.id, "Ships today.", agent="agent-2", dedupe_key="reply-1")
    outbound = [
        e.interaction
        for e in hub.timeline(hub.customer_of(BO), limit=100).entries  # type: ignore[arg-type]
        if e.interaction is not None and e.interaction.direction.value == "outbound"
    ]
    assert [m.text for m in outbound] == ["Ships today."]  # type: ignore[union-attr]


def test_a_refused_link_raises_is_kept_and_a_revoked_rule_lets_the_parts_be_linked_again(hub: Hub) -> None:
    """An agent splits Ana's phone off, then finds it was hers: the never-link rule the split left
    refuses the link (MergeBlocked, an IdentityConflict event, a refused link in the history);
    revoking the rule through the hub lets the link merge them again."""
    mine = ana(hub)
    parts = hub.split(mine, [[PHONE]], actor="agent-1", reason="not hers")
    phone_part = hub.customer_of(PHONE)
    mail_part = hub.customer_of(EMAIL)
    assert phone_part in parts
    assert mail_part in parts
    assert phone_part != mail_part
    conflicts: list[IdentityConflict] = []
    hub.subscribe(IdentityConflict, conflicts.append)
    with pytest.raises(MergeBlocked, match="never_link"):
        hub.link(EMAIL, PHONE, actor="agent-1", reason="it was hers")
    assert [(c.a, c.b) for c in conflicts] == [(EMAIL, PHONE)]
    assert hub.customer_of(PHONE) != hub.customer_of(EMAIL)
    history = hub.history(mail_part)  # type: ignore[arg-type]
    assert any(e.type == "refused" and e.reason.startswith("never_link") for e in history)  # type: ignore[union-attr]
    (rule,) = [e.link_id for e in history if e.type == "never_link"]
    assert rule is not None
    merged: list[CustomersMerged] = []
    hub.subscribe(CustomersMerged, merged.append)
    hub.revoke(mail_part, rule, actor="agent-1", reason="the split was wrong")  # type: ignore[arg-type]
    # the refused link was kept: with the rule gone it merges on its own
    assert hub.customer_of(PHONE) == hub.customer_of(EMAIL)
    assert merged
    assert hub.link(EMAIL, PHONE, actor="agent-1", reason="it was hers") == hub.customer_of(PHONE)
    with pytest.raises(IdentityError):
        hub.revoke(ana(hub), "lnk_nope", actor="agent-1", reason="typo")
