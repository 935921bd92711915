"""The channel's copy of a reply the hub recorded (a Messenger echo, the email in the Sent
folder) is that reply, not a second message; an agent's message typed elsewhere is new."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from omnicx import Identifier
from omnicx.channels import default_registry
from omnicx.channels._meta import SIGNATURE_HEADER as META_HEADER
from omnicx.channels._signatures import hmac_hex
from omnicx.hub import Hub
from omnicx.models import DeliveryStatus, InboundRequest
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PSID = "1254459154682919"


def page_event(at: datetime, event: dict[str, object]) -> InboundRequest:
    """A signed ``page`` webhook holding one event (the documented envelope)."""
    ms = int(at.timestamp() * 1000)
    body = json.dumps(
        {"object": "page", "entry": [{"id": p.PAGE_ID, "time": ms, "messaging": [event]}]}
    ).encode()
    headers = {"Content-Type": "application/json", META_HEADER: "sha256=" + hmac_hex(p.META_SECRET, body)}
    return InboundRequest(
        url="https://shop.example/hooks/messenger", headers=headers, body=body, received_at=at
    )


def echo(at: datetime, mid: str, text: str, metadata: str | None = None) -> InboundRequest:
    """tests/fixtures/messenger_echo_text_docs.json's shape: the page's own message, echoed."""
    message: dict[str, object] = {"is_echo": True, "app_id": 1517776481860111, "mid": mid, "text": text}
    if metadata is not None:
        message["metadata"] = metadata
    ms = int(at.timestamp() * 1000)
    return page_event(
        at, {"sender": {"id": p.PAGE_ID}, "recipient": {"id": PSID}, "timestamp": ms, "message": message}
    )


def delivered(at: datetime, mid: str) -> InboundRequest:
    ms = int(at.timestamp() * 1000)
    event = {
        "sender": {"id": PSID},
        "recipient": {"id": p.PAGE_ID},
        "timestamp": ms,
        "delivery": {"mids": [mid], "watermark": ms},
    }
    return page_event(at, event)


def outbound_texts(hub: Hub, customer_id: str) -> list[str | None]:
    return [
        e.interaction.text  # type: ignore[union-attr]
        for e in hub.timeline(customer_id).entries
        if e.interaction is not None
        and e.interaction.type == "message"
        and e.interaction.direction == "outbound"
    ]


def opened(hub: Hub) -> tuple[str, str]:
    hub.ingest("messenger", p.messenger(T0, PSID, "Where is my order?", mid="m_ANA1"))
    customer_id = hub.customer_of(Identifier(kind="messenger_psid", value=PSID, scope=p.PAGE_ID))
    assert customer_id is not None
    (conversation,) = hub.conversations(customer_id)
    return customer_id, conversation.id


def sent_as_m_our1(hub: Hub) -> str:
    """The agent's reply to Ana's message, which the host sent and Messenger called ``m_OUR1``."""
    customer_id, conversation_id = opened(hub)
    reply = hub.reply(conversation_id, "Looking into it.", agent="agent-7")
    hub.record_sent(reply.interaction_id, "m_OUR1")
    return customer_id


def test_an_echo_carrying_the_replys_id_is_the_reply_even_before_record_sent() -> None:
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=[*p.adapters(), p.messenger_adapter()], clock=lambda: now[0]) as hub:
        customer_id, conversation_id = opened(hub)
        reply = hub.reply(conversation_id, "Looking into it.", agent="agent-7")
        assert reply.request is not None
        assert json.loads(reply.request.body)["message"]["metadata"] == reply.interaction_id
        # Meta's echo can beat the Send API's answer to the host: nothing is recorded as sent yet
        result = hub.ingest("messenger", echo(now[0], "m_OUR1", "Looking into it.", reply.interaction_id))
        assert result.status == "duplicate"
        assert outbound_texts(hub, customer_id) == ["Looking into it."]
        assert hub.delivery_status(reply.interaction_id) is DeliveryStatus.SENT  # the echo named its mid
        hub.ingest("messenger", delivered(now[0] + timedelta(seconds=3), "m_OUR1"))
        assert hub.delivery_status(reply.interaction_id) is DeliveryStatus.DELIVERED


def test_an_echo_of_a_sent_reply_is_known_by_its_platform_id() -> None:
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=[*p.adapters(), p.messenger_adapter()], clock=lambda: now[0]) as hub:
        customer_id = sent_as_m_our1(hub)
        assert hub.ingest("messenger", echo(now[0], "m_OUR1", "Looking into it.")).status == "duplicate"
        assert outbound_texts(hub, customer_id) == ["Looking into it."]


def test_an_agents_message_typed_in_the_page_inbox_is_a_message_of_its_own() -> None:
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=[*p.adapters(), p.messenger_adapter()], clock=lambda: now[0]) as hub:
        customer_id = sent_as_m_our1(hub)
        # another echo: an id the hub never gave out, a mid it never saw
        assert (
            hub.ingest("messenger", echo(now[0], "m_INBOX7", "Found it!", "ix_not_ours")).status == "accepted"
        )
        assert sorted(t or "" for t in outbound_texts(hub, customer_id)) == ["Found it!", "Looking into it."]


def test_the_sent_copy_of_an_email_reply_is_that_reply() -> None:
    """A mailbox poller that also reads the Sent folder (or a Bcc to the support address) brings
    back the reply the hub built: the same Message-ID, so the same message."""
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=p.adapters(), clock=lambda: now[0]) as hub:
        hub.ingest(
            "email",
            p.email(T0, "Ana <ana.silva@gmail.com>", "Refund", "Where is it?", message_id="q1@gmail.com"),
        )
        customer_id = hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com"))
        assert customer_id is not None
        (conversation,) = hub.conversations(customer_id)
        reply = hub.reply(conversation.id, "Refunded today.", agent="agent-7")
        assert reply.request is not None
        copy = InboundRequest(
            url="imap://support@shopdemo.io/Sent", body=reply.request.body, received_at=now[0]
        )
        assert hub.ingest("email", copy).status == "duplicate"
        assert outbound_texts(hub, customer_id) == ["Refunded today."]


IG_ID, IGSID = "17841405309211844", "1914016008698472"


def instagram(at: datetime, message: dict[str, object], *, echo: bool) -> InboundRequest:
    """tests/fixtures/instagram_echo.json's shape (``echo``) or the customer's message."""
    ms = int(at.timestamp() * 1000)
    sender, recipient = (IG_ID, IGSID) if echo else (IGSID, IG_ID)
    event = {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": ms, "message": message}
    body = json.dumps(
        {"object": "instagram", "entry": [{"id": IG_ID, "time": ms, "messaging": [event]}]}
    ).encode()
    headers = {"Content-Type": "application/json", META_HEADER: "sha256=" + hmac_hex(p.META_SECRET, body)}
    return InboundRequest(
        url="https://shop.example/hooks/instagram", headers=headers, body=body, received_at=at
    )


def test_an_instagram_echo_that_beats_record_sent_is_known_by_its_text() -> None:
    """Instagram carries no metadata back: an echo that comes before the host reports the mid is
    the newest unsent reply of its text, each echo its own reply; a later one is new."""
    adapters = [
        *p.adapters(),
        default_registry().create("instagram", {"app_secret": p.META_SECRET, "access_token": "IGAAT"}),
    ]
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=adapters, clock=lambda: now[0]) as hub:
        hub.ingest("instagram", instagram(T0, {"mid": "aWdf_Q1", "text": "Is it in stock?"}, echo=False))
        customer_id = hub.customer_of(Identifier(kind="instagram_igsid", value=IGSID, scope=IG_ID))
        assert customer_id is not None
        (conversation,) = hub.conversations(customer_id)
        first = hub.reply(conversation.id, "Yes!", agent="agent-7")
        now[0] += timedelta(seconds=30)
        second = hub.reply(conversation.id, "Yes!", agent="agent-7")  # the same words twice
        for n in (1, 2):
            copy = instagram(
                now[0] + timedelta(seconds=n),
                {"mid": f"aWdf_E{n}", "text": "Yes!", "is_echo": True},
                echo=True,
            )
            assert hub.ingest("instagram", copy).status == "duplicate"
        assert outbound_texts(hub, customer_id) == ["Yes!", "Yes!"]
        assert hub.delivery_status(first.interaction_id) is DeliveryStatus.SENT
        assert hub.delivery_status(second.interaction_id) is DeliveryStatus.SENT
        # the same words from the app, much later: an agent's own message
        late = instagram(
            now[0] + timedelta(minutes=30), {"mid": "aWdf_E3", "text": "Yes!", "is_echo": True}, echo=True
        )
        assert hub.ingest("instagram", late).status == "accepted"
        assert outbound_texts(hub, customer_id) == ["Yes!", "Yes!", "Yes!"]


def test_an_echo_with_a_known_platform_id_is_that_reply_not_a_newer_one_of_the_same_words() -> None:
    now = [T0 + timedelta(minutes=5)]
    with Hub.open("memory://", channels=[*p.adapters(), p.messenger_adapter()], clock=lambda: now[0]) as hub:
        customer_id, conversation_id = opened(hub)
        first = hub.reply(conversation_id, "Yes!", agent="agent-7")
        now[0] += timedelta(seconds=1)
        hub.record_sent(first.interaction_id, "m_A")
        now[0] += timedelta(seconds=1)
        second = hub.reply(conversation_id, "Yes!", agent="agent-7")  # not reported sent yet
        # the echo of the first, without the metadata that would name it
        assert hub.ingest("messenger", echo(now[0], "m_A", "Yes!")).status == "duplicate"
        hub.ingest("messenger", delivered(now[0] + timedelta(seconds=2), "m_A"))
        assert hub.delivery_status(first.interaction_id) is DeliveryStatus.DELIVERED
        assert hub.delivery_status(second.interaction_id) is None  # m_A is not the second's
        assert outbound_texts(hub, customer_id) == ["Yes!", "Yes!"]
