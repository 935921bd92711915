"""The agent context's Markdown: what a customer wrote shows as text, never as markup."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from omnicx import Identifier
from omnicx.hub import Hub
from omnicx.hub._context import _fenced, _md
from tests.hub import _payloads as p

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
