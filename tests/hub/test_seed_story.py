"""The seed story: chat → email → WhatsApp → phone call is one customer, one conversation, one context."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnicx import Identifier
from omnicx.channels import OutboundMessage
from omnicx.errors import ValidationError
from omnicx.events import ChannelSwitched, CustomersMerged, InteractionIngested
from omnicx.hub import Hub, ReplyResult
from omnicx.models import Conversation
from tests.hub import _payloads as p

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


SEED = [
    (
        "webchat",
        p.webchat(
            at(0),
            "sess-1",
            "v-ana",
            "Hi, my order 1234 never arrived. You can reach me at +44 7911 123456.",
            email=" Ana.Silva@Gmail.COM ",
            phone="+44 7911 123456",
            name="Ana Silva",
            event_id="evt-1",
        ),
    ),
    (
        "email",
        p.email(
            at(45),
            "Ana Silva <ana.silva@gmail.com>",
            "Order 1234",
            "Here is the receipt you asked for.",
            message_id="a1@mail.gmail.com",
        ),
    ),
    (
        "whatsapp",
        p.whatsapp(at(60 * 3), "447911123456", "Ana S.", "Any news on my order?", wamid="wamid.ANA1"),
    ),
    ("twilio_voice", p.twilio_call(at(60 * 5), "+447911123456", "CA" + "a" * 32)),
]


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with Hub.open(
        f"sqlite:///{tmp_path / 'seed.db'}", channels=p.adapters(), clock=lambda: at(60 * 6)
    ) as opened:
        yield opened


def test_four_channels_one_customer_one_conversation(hub: Hub) -> None:
    seen: list[object] = []
    hub.subscribe(ChannelSwitched, seen.append)
    hub.subscribe(InteractionIngested, seen.append)
    results = [hub.ingest(channel, request) for channel, request in SEED]
    assert [r.status for r in results] == ["accepted"] * 4
    customers = {cid for r in results for cid in r.customer_ids}
    assert len(customers) == 1, results
    (customer_id,) = customers
    assert hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com")) == customer_id
    assert hub.customer_of(Identifier(kind="phone", value="+447911123456")) == customer_id
    assert hub.customer_of(Identifier(kind="chat_visitor", value="v-ana", scope="shop-site")) == customer_id

    conversations = hub.conversations(customer_id)
    assert len(conversations) == 1
    assert conversations[0].channels == ("webchat", "email", "whatsapp", "voice")
    switches = [(e.from_channel, e.to_channel) for e in seen if isinstance(e, ChannelSwitched)]
    assert switches == [("webchat", "email"), ("email", "whatsapp"), ("whatsapp", "voice")]
    assert sum(isinstance(e, InteractionIngested) for e in seen) == 4

    context = hub.context(customer_id)
    assert context.counts["interactions"] == 4
    assert [b.conversation.id for b in context.open_conversations] == [conversations[0].id]
    assert {c.channel for c in context.last_contact} == {"webchat", "email", "whatsapp", "voice"}
    assert context.preferred_channel == "voice"  # the most recent inbound contact
    assert "webchat → email → whatsapp → voice" in context.brief
    assert "order 1234 never arrived" in context.brief  # what the customer first said, no need to repeat it
    assert context.brief.startswith("Ana S. — customer since 2026-11-02; 4 contacts in 1 conversation;")
    markdown = context.to_markdown()
    assert "| phone:+447911123456 | verified |" in markdown

    page = hub.timeline(customer_id)
    kinds = [(e.type, e.interaction.channel if e.interaction else None) for e in page.entries]
    assert [k for k in kinds if k[0] == "interaction"] == [
        ("interaction", "voice"),
        ("interaction", "whatsapp"),
        ("interaction", "email"),
        ("interaction", "webchat"),
    ]


def test_a_redelivered_request_is_a_duplicate_and_changes_nothing(hub: Hub) -> None:
    for channel, request in SEED:
        hub.ingest(channel, request)
    merged: list[object] = []
    hub.subscribe(CustomersMerged, merged.append)
    again = hub.ingest(*SEED[2])
    assert again.status == "duplicate"
    assert again.duplicates == ("wamid.ANA1",)
    assert merged == []


def test_reply_goes_to_the_latest_inbound_endpoint_and_channel(hub: Hub) -> None:
    for channel, request in SEED[:3]:
        hub.ingest(channel, request)
    customer_id = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
    assert customer_id is not None
    (conversation,) = hub.conversations(customer_id)
    reply = hub.reply(conversation.id, "It ships today.", agent="agent-7")
    assert (reply.channel, reply.endpoint) == ("whatsapp", "phone:+447911123456")
    assert reply.request.url.endswith("/106540352242922/messages")
    assert (
        b'"to":"447911123456"' in reply.request.body.replace(b" ", b"")
        or b"+447911123456" in reply.request.body
    )
    stored = hub.timeline(customer_id, limit=1).entries[0].interaction
    assert stored is not None
    assert stored.id == reply.interaction_id
    assert stored.direction.value == "outbound"


def test_a_call_counts_once_in_the_context_at_its_latest_state(hub: Hub) -> None:
    for channel, request in SEED[:3]:
        hub.ingest(channel, request)
    call_sid = "CA" + "c" * 32
    hub.ingest(
        "twilio_voice", p.twilio_call(at(60 * 5), "+447911123456", call_sid, status="ringing", duration=0)
    )
    hub.ingest(
        "twilio_voice",
        p.twilio_call(at(60 * 5 + 4), "+447911123456", call_sid, status="completed", duration=240),
    )
    customer_id = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
    assert customer_id is not None
    context = hub.context(customer_id)
    # chat, email, WhatsApp and one call: the ringing update is folded into the completed one
    assert context.counts["interactions"] == 4
    assert context.counts["channel:voice"] == 1
    latest = context.open_conversations[0].latest[-1]
    assert latest.type == "call"
    assert latest.status.value == "completed"  # type: ignore[union-attr]
    assert "[call completed, 4 min]" in context.brief


def test_a_reply_after_the_call_goes_to_the_callers_number_on_whatsapp(hub: Hub) -> None:
    """A written reply cannot go down a phone line: the caller's own number wrote on WhatsApp."""
    for channel, request in SEED:
        hub.ingest(channel, request)
    customer_id = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
    assert customer_id is not None
    (conversation,) = hub.conversations(customer_id)
    reply = hub.reply(conversation.id, "As promised on the phone: it ships today.", agent="agent-7")
    assert (reply.channel, reply.endpoint, reply.delivery) == ("whatsapp", "phone:+447911123456", "request")
    assert reply.request is not None
    assert reply.request.url.endswith("/106540352242922/messages")


def test_a_reply_after_a_call_from_a_number_that_never_wrote_stays_on_the_call(hub: Hub) -> None:
    """Never another identifier: the customer's email wrote, but the call came from a number that did
    not, so the reply is recorded for the host (who calls back) instead of going to the email."""
    hub.ingest(*SEED[1])  # the email
    mail = Identifier(kind="email", value="ana.silva@gmail.com")
    customer_id = hub.customer_of(mail)
    assert customer_id is not None
    hub.ingest("twilio_voice", p.twilio_call(at(60), "+447911123456", "CA" + "d" * 32))
    phone = Identifier(kind="phone", value="+447911123456")
    hub.link(mail, phone, actor="agent-7", reason="she gave the number on the call", at=at(61))
    customer_id = hub.customer_of(phone)
    assert customer_id is not None
    (conversation,) = [c for c in hub.conversations(customer_id) if "voice" in c.channels]
    reply = hub.reply(conversation.id, "Call me back?", agent="agent-7")
    assert (reply.channel, reply.endpoint, reply.delivery) == ("voice", "phone:+447911123456", "host")


def test_a_free_form_whatsapp_reply_past_24_hours_is_refused_and_a_template_goes(tmp_path: Path) -> None:
    """WhatsApp delivers a free-form message only within 24 hours of the customer's last one; the
    hub refuses the reply Meta would bounce, and a template goes at any time."""
    now = [at(60 * 3 + 60 * 23)]  # 23 hours after Ana's WhatsApp message
    with Hub.open(f"sqlite:///{tmp_path / 'w.db'}", channels=p.adapters(), clock=lambda: now[0]) as hub:
        hub.ingest(*SEED[2])
        customer_id = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
        assert customer_id is not None
        (conversation,) = hub.conversations(customer_id)
        assert hub.reply(conversation.id, "Still within the window.").channel == "whatsapp"
        now[0] = at(60 * 3 + 60 * 25)
        with pytest.raises(ValidationError, match="24 hours"):
            hub.reply(conversation.id, "Too late for free-form text.")
        template = OutboundMessage(
            template_name="order_update", template_language="en_US", template_parameters=("1234",)
        )
        late = hub.reply(conversation.id, template)
        assert late.request is not None
        assert b'"template"' in late.request.body
        # a newer message from the same number in another conversation opens the window again
        hub.ingest(
            "whatsapp",
            p.whatsapp(at(60 * 3 + 60 * 24.5), "447911123456", "Ana S.", "Hello?", wamid="wamid.ANA9"),
        )
        assert hub.reply(conversation.id, "Now it goes.").channel == "whatsapp"


def test_a_messenger_reply_past_24_hours_needs_the_human_agent_tag_and_goes_for_7_days(
    tmp_path: Path,
) -> None:
    """Messenger delivers an untagged message within 24 hours of the customer's last one; a
    person's reply tagged ``HUMAN_AGENT`` until 7 days after it; an account update any time."""
    sent = at(60)
    now = [sent + timedelta(hours=23)]
    adapters = [*p.adapters(), p.messenger_adapter()]
    with Hub.open(f"sqlite:///{tmp_path / 'm.db'}", channels=adapters, clock=lambda: now[0]) as hub:
        hub.ingest("messenger", p.messenger(sent, "1254459154682919", "Where is my order?", mid="m_ANA1"))
        psid = Identifier(kind="messenger_psid", value="1254459154682919", scope=p.PAGE_ID)
        customer_id = hub.customer_of(psid)
        assert customer_id is not None
        (conversation,) = hub.conversations(customer_id)
        body = hub.reply(conversation.id, "Looking into it.").request
        assert body is not None
        assert json.loads(body.body)["messaging_type"] == "RESPONSE"
        now[0] = sent + timedelta(hours=25)
        with pytest.raises(ValidationError, match="HUMAN_AGENT"):
            hub.reply(conversation.id, "Found it.")
        tagged = hub.reply(conversation.id, OutboundMessage(text="Found it.", tag="HUMAN_AGENT")).request
        assert tagged is not None
        assert json.loads(tagged.body)["tag"] == "HUMAN_AGENT"
        now[0] = sent + timedelta(days=7, minutes=1)
        with pytest.raises(ValidationError, match="7 days"):
            hub.reply(conversation.id, OutboundMessage(text="Any news?", tag="HUMAN_AGENT"))
        update = OutboundMessage(text="Your account email changed.", tag="ACCOUNT_UPDATE")
        assert hub.reply(conversation.id, update).channel == "messenger"
        # the refused replies were not recorded: the two sent and the update are
        outbound = [
            i
            for i in hub.timeline(customer_id).entries
            if i.interaction and i.interaction.direction == "outbound"
        ]
        assert len(outbound) == 3


def test_a_tag_on_a_channel_without_tags_is_refused_not_dropped(tmp_path: Path) -> None:
    with Hub.open(
        f"sqlite:///{tmp_path / 't.db'}", channels=p.adapters(), clock=lambda: at(60 * 3 + 60)
    ) as hub:
        hub.ingest(*SEED[2])
        customer_id = hub.customer_of(Identifier(kind="phone", value="+447911123456"))
        assert customer_id is not None
        (conversation,) = hub.conversations(customer_id)
        with pytest.raises(ValidationError, match="tag"):
            hub.reply(conversation.id, OutboundMessage(text="Hi", tag="HUMAN_AGENT"))


def answered_by_email(hub: Hub) -> tuple[str, Conversation, ReplyResult]:
    """Ana's email at minute 0, and the agent's reply to it."""
    question = p.email(
        at(0), "Ana <ana.silva@gmail.com>", "Refund", "Where is it?", message_id="q1@gmail.com"
    )
    hub.ingest("email", question)
    customer_id = hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com"))
    assert customer_id is not None
    (conversation,) = hub.conversations(customer_id)
    return customer_id, conversation, hub.reply(conversation.id, "Refunded today.", agent="agent-7")


def test_an_out_of_office_answer_to_the_resolution_keeps_the_conversation_resolved(tmp_path: Path) -> None:
    """The agent answers and resolves; the customer's mailbox answers by itself (RFC 3834's
    ``Auto-Submitted: auto-replied``): recorded in the conversation, which stays resolved."""
    now = [at(5)]  # the agent answers at 5 minutes
    with Hub.open(f"sqlite:///{tmp_path / 'o.db'}", channels=p.adapters(), clock=lambda: now[0]) as hub:
        customer_id, conversation, reply = answered_by_email(hub)
        assert reply.request is not None
        (ours,) = re.findall(rb"Message-ID: <([^>]+)>", reply.request.body)
        hub.resolve(conversation.id, actor="agent-7", at=at(10))
        now[0] = at(30)
        auto = p.email(
            at(20),
            "Ana <ana.silva@gmail.com>",
            "Automatic reply: Re: Refund",
            "I am away until Monday.",
            message_id="ooo1@gmail.com",
            in_reply_to=ours.decode(),
            extra_headers=("Auto-Submitted: auto-replied",),
        )
        hub.ingest("email", auto)
        (after,) = hub.conversations(customer_id)
        assert after.status == "resolved"
        texts = [e.interaction.text for e in hub.timeline(customer_id).entries if e.interaction]
        assert any("away until Monday" in (t or "") for t in texts)


def test_a_customers_answer_to_our_email_reopens_its_conversation_days_later(tmp_path: Path) -> None:
    """Our reply carries the Message-ID the email adapter gave it: the customer's answer, which
    names it in In-Reply-To, continues that conversation (reopening it), however late."""
    now = [at(5)]
    with Hub.open(f"sqlite:///{tmp_path / 'r.db'}", channels=p.adapters(), clock=lambda: now[0]) as hub:
        customer_id, conversation, reply = answered_by_email(hub)
        assert reply.request is not None
        assert reply.request.message_id is not None
        assert f"Message-ID: <{reply.request.message_id}>".encode() in reply.request.body
        hub.resolve(conversation.id, actor="agent-7", at=at(10))
        now[0] = at(60 * 24 * 9)
        answer = p.email(
            at(60 * 24 * 8),  # eight days later, past every idle window
            "Ana <ana.silva@gmail.com>",
            "money still missing",
            "It has not arrived.",
            message_id="q2@gmail.com",
            in_reply_to=reply.request.message_id,
        )
        result = hub.ingest("email", answer)
        assert result.accepted[0].conversation_id == conversation.id
        (after,) = hub.conversations(customer_id)
        assert after.status == "open"
