"""The agent context's Markdown: what a customer wrote shows as text, never as markup."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from omnicx import Identifier
from omnicx.channels import OutboundMessage
from omnicx.errors import ValidationError
from omnicx.hub import Hub
from omnicx.hub._context import _fenced, _md
from tests.hub import _payloads as p
from tests.hub.test_incremental import T0 as T_PLAN
from tests.hub.test_incremental import customer_ids, drive_with_operations, ops_plans

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# what an agent's page renders: CommonMark with GitHub's tables and strikethrough
RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
NAME = "```\n<img src=x onerror=alert(1)> Ana"
TEXT = "![px](https://evil.example/p.png) <script>alert(1)</script> *loud* [pay](javascript:x) a|b"
SUBJECT = "Refund `now` | <b>urgent</b> &amp; #1"


def text_of(rendered: str) -> str:
    """The text a browser shows for rendered HTML (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]*>", "", rendered))


def test_a_hostile_name_message_and_subject_render_as_text() -> None:
    with Hub.open("memory://", channels=p.adapters()) as hub:
        mail = p.email(T0, "ana.silva@gmail.com", SUBJECT, TEXT, message_id="a1@gmail.com")
        hub.ingest("email", mail)
        # a chat that ties the phone to the email, then WhatsApp, whose profile name the brief starts with
        chat = p.webchat(
            T0 + timedelta(minutes=5),
            "s1",
            "v1",
            TEXT,
            email="ana.silva@gmail.com",
            phone="+447911123456",
            event_id="e1",
        )
        hub.ingest("webchat", chat)
        hub.ingest(
            "whatsapp", p.whatsapp(T0 + timedelta(minutes=9), "447911123456", NAME, TEXT, wamid="wamid.A1")
        )
        customer_id = hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com"))
        assert customer_id is not None
        markdown = hub.context(customer_id).to_markdown()
    rendered = RENDER.render(markdown)
    for tag in ("<img", "<script", "<a ", "<b>", "<em>", "<s>", "<td>b</td>"):
        assert tag not in rendered, tag
    shown = text_of(rendered)
    assert TEXT in shown  # every character of the message, as the customer typed it
    assert SUBJECT in shown
    # the brief stays one code block, whatever backticks the name holds
    assert rendered.count("<pre><code>") == 1
    assert "<img src=x onerror=alert(1)> Ana — customer since" in shown


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_any_text_renders_as_itself(text: str) -> None:
    """Escaped inline text renders to exactly its characters (line breaks as spaces), after
    text of ours as in every render: in a paragraph, a list item, a heading and a table cell."""
    for template in ("x {}", "- x {}", "## x {}", "| a |\n|---|\n| x {} |"):
        rendered = RENDER.render(template.format(_md(text)))
        assert "<a " not in rendered
        assert "<img" not in rendered
        shown = " ".join(text_of(rendered).split())
        expected = text.replace("\x00", "\ufffd")  # as CommonMark requires
        assert " ".join(expected.split()) in shown, (template, text)


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("`a \n~"), max_size=40))
def test_a_fenced_brief_stays_one_code_block(text: str) -> None:
    rendered = RENDER.render("\n".join(["## x", "", *_fenced(text), "", "after"]))
    assert rendered.count("<pre>") == 1
    assert rendered.endswith("<p>after</p>\n")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=ops_plans)
def test_the_context_agrees_with_the_timeline(plan: list[tuple[str, int, int, int, bool]]) -> None:
    """Whatever was delivered and done: the context's last contact per channel, preferred channel,
    open conversations and counts are those the customer's timeline and conversations give."""
    with Hub.open("memory://", channels=p.adapters(), clock=lambda: T_PLAN + timedelta(days=90)) as hub:
        drive_with_operations(hub, plan)
        for cid in customer_ids(hub):
            context = hub.context(cid)
            items = [
                e.interaction
                for e in reversed(hub.timeline(cid, limit=1000, identity_events=False).entries)
                if e.interaction is not None and e.interaction.type != "status"
            ]
            latest: dict[str, datetime] = {}
            for item in items:
                latest[item.channel] = max(latest.get(item.channel, item.occurred_at), item.occurred_at)
            assert {c.channel: c.at for c in context.last_contact} == latest
            assert [c.at for c in context.last_contact] == sorted(latest.values(), reverse=True)
            inbound = [i for i in items if i.direction.value == "inbound" and i.type != "rating"]
            if inbound:
                newest = max(i.occurred_at for i in inbound)
                assert context.preferred_channel in {i.channel for i in inbound if i.occurred_at == newest}
            else:
                assert context.preferred_channel is None
            conversations = hub.conversations(cid)
            assert context.counts["conversations"] == len(conversations)
            still_open = {c.id for c in conversations if c.status.value != "resolved"}
            assert {b.conversation.id for b in context.open_conversations} == still_open
            assert {ci.identifier for ci in context.identifiers} == {
                ci.identifier for ci in hub.customer(cid).identifiers
            }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=ops_plans)
def test_a_reply_goes_to_the_endpoint_of_the_latest_inbound_contact_of_its_conversation(
    plan: list[tuple[str, int, int, int, bool]],
) -> None:
    """Never another identifier: the reply's endpoint is that of the conversation's latest inbound
    message or call (a call's caller, on a channel that can send when the number wrote)."""
    with Hub.open("memory://", channels=p.adapters(), clock=lambda: T_PLAN + timedelta(days=90)) as hub:
        drive_with_operations(hub, plan)
        for cid in customer_ids(hub):
            for conversation in hub.conversations(cid):
                inbound = [
                    e.interaction
                    for e in hub.timeline(cid, limit=1000, conversation=conversation.id).entries
                    if e.interaction is not None
                    and e.interaction.direction.value == "inbound"
                    and e.interaction.type in ("message", "call")
                ]
                if not inbound:
                    continue
                try:
                    reply = hub.reply(conversation.id, "We are on it.", agent="agent-1")
                except ValidationError:  # past WhatsApp's 24 hours of the customer's last message there
                    now = T_PLAN + timedelta(days=90)
                    last = max(
                        e.interaction.occurred_at
                        for e in hub.timeline(cid, limit=1000, channels=["whatsapp"]).entries
                        if e.interaction is not None
                        and e.interaction.direction.value == "inbound"
                        and e.interaction.endpoint == inbound[0].endpoint
                    )
                    assert now - last > timedelta(hours=24)
                    template = OutboundMessage(template_name="order_update", template_language="en_US")
                    reply = hub.reply(conversation.id, template, agent="agent-1")
                    assert reply.channel == "whatsapp"
                assert reply.endpoint == inbound[0].endpoint.key  # newest first
                if inbound[0].type == "message":
                    assert reply.channel == inbound[0].channel


def test_a_web_chat_visitors_typed_name_starts_the_brief() -> None:
    """The name typed in the pre-chat form names the customer to the agent, as a WhatsApp
    profile name does (the host's own display name, when set, comes first)."""
    with Hub.open("memory://", channels=p.adapters()) as hub:
        chat = p.webchat(
            T0, "s1", "v1", "My parcel?", email="ana.silva@gmail.com", name="Ana Silva", event_id="e1"
        )
        hub.ingest("webchat", chat)
        customer_id = hub.customer_of(Identifier(kind="email", value="ana.silva@gmail.com"))
        assert customer_id is not None
        assert hub.context(customer_id).brief.startswith("Ana Silva — customer since")
        hub.update_customer(customer_id, display_name="Ana S. (VIP)", actor="agent-7")
        assert hub.context(customer_id).brief.startswith("Ana S. (VIP) — customer since")
