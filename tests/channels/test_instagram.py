"""Instagram adapter: IGSID scoping, unsends, echoes, receipts and Send API requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from omnicx.channels import OutboundMessage
from omnicx.channels.instagram import InstagramAdapter, InstagramConfig
from omnicx.errors import ConfigurationError, UnsupportedEvent, ValidationError
from omnicx.models import Deletion, Direction, Identifier, InboundRequest

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVED = datetime(2024, 1, 1, tzinfo=UTC)
IG_ID = "17841405309211844"
IGSID = "1914016008698472"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def parse(payload: dict[str, Any], **config: Any) -> list[Any]:
    adapter = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), **config))
    body = json.dumps(payload).encode()
    return adapter.parse(InboundRequest(url="https://example.com/ig", body=body, received_at=RECEIVED))


def test_unsent_messages_are_deletions_of_their_mid() -> None:
    (event,) = parse(load("instagram_deleted.json"))
    assert isinstance(event.interaction, Deletion)
    assert (
        event.interaction.target_message_id
        == load("instagram_text_docs.json")["entry"][0]["messaging"][0]["message"]["mid"]
    )
    assert event.interaction.dedupe_key.startswith("deleted:")


def test_the_same_igsid_under_two_accounts_is_two_identifiers() -> None:
    payload = load("instagram_text_docs.json")
    other = json.loads(json.dumps(payload["entry"][0]))
    other["id"] = other["messaging"][0]["recipient"]["id"] = "17841400000000001"
    other["messaging"][0]["message"]["mid"] = "aWdfZAG1faXRlbTox"
    payload["entry"].append(other)
    a, b = parse(payload)
    assert str(a.interaction.endpoint) == f"instagram_igsid@{IG_ID}:{IGSID}"
    assert str(b.interaction.endpoint) == f"instagram_igsid@17841400000000001:{IGSID}"


def test_echoes_are_outbound_to_the_igsid() -> None:
    (event,) = parse(load("instagram_echo.json"))
    assert event.interaction.direction is Direction.OUTBOUND
    assert str(event.interaction.endpoint) == f"instagram_igsid@{IG_ID}:{IGSID}"


def test_read_receipts_name_the_message_read() -> None:
    payload = load("instagram_text_docs.json")
    event = payload["entry"][0]["messaging"][0]
    del event["message"]
    event["read"] = {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE"}
    (parsed,) = parse(payload)
    assert parsed.interaction.target_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE"
    assert parsed.interaction.dedupe_key == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE:read"


def test_comment_notifications_are_unsupported() -> None:
    payload = {
        "object": "instagram",
        "entry": [{"id": IG_ID, "time": 1, "changes": [{"field": "comments", "value": {"id": "1"}}]}],
    }
    with pytest.raises(UnsupportedEvent, match="comments"):
        parse(payload)


# --- Send API ----------------------------------------------------------------------------------

ENDPOINT = Identifier(kind="instagram_igsid", value=IGSID, scope=IG_ID)


def test_instagram_login_request() -> None:
    adapter = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), access_token=SecretStr("IGAAT")))
    built = adapter.build_outbound(OutboundMessage(text="Hello from my app"), ENDPOINT)
    assert built.url == f"https://graph.instagram.com/v25.0/{IG_ID}/messages"
    assert built.headers == {"authorization": "Bearer IGAAT", "content-type": "application/json"}
    assert json.loads(built.body) == {"recipient": {"id": IGSID}, "message": {"text": "Hello from my app"}}


def test_facebook_login_request_goes_to_the_linked_page() -> None:
    adapter = InstagramAdapter(
        InstagramConfig(
            app_secret=SecretStr("s"),
            access_token=SecretStr("EAAPage"),
            login="facebook",
            page_id="682498302938465",
        )
    )
    built = adapter.build_tagged(OutboundMessage(text="We are on it."), ENDPOINT)
    assert built.url == "https://graph.facebook.com/v25.0/682498302938465/messages"
    assert json.loads(built.body) == {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "We are on it."},
    }


def test_facebook_login_needs_the_page_id() -> None:
    adapter = InstagramAdapter(
        InstagramConfig(app_secret=SecretStr("s"), access_token=SecretStr("t"), login="facebook")
    )
    with pytest.raises(ConfigurationError, match="page_id"):
        adapter.build_outbound(OutboundMessage(text="hi"), ENDPOINT)


def test_text_of_1000_characters_is_refused() -> None:
    adapter = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), access_token=SecretStr("t")))
    with pytest.raises(ValidationError, match="999"):
        adapter.build_outbound(OutboundMessage(text="x" * 1000), ENDPOINT)


def test_instagram_takes_the_human_agent_tag_only() -> None:
    adapter = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), access_token=SecretStr("IGAAT")))
    built = adapter.build_outbound(OutboundMessage(text="On it.", tag="HUMAN_AGENT"), ENDPOINT)
    assert json.loads(built.body)["tag"] == "HUMAN_AGENT"
    with pytest.raises(ValidationError, match="HUMAN_AGENT"):  # a Messenger tag Instagram does not take
        adapter.build_outbound(
            OutboundMessage(text="Your order shipped.", tag="POST_PURCHASE_UPDATE"), ENDPOINT
        )
    assert adapter.reply_refusal(OutboundMessage(text="x", tag="HUMAN_AGENT"), timedelta(days=6)) is None
    assert adapter.reply_refusal(OutboundMessage(text="x"), timedelta(days=2)) is not None


def test_instagram_sends_no_metadata() -> None:
    adapter = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), access_token=SecretStr("IGAAT")))
    built = adapter.build_outbound(OutboundMessage(text="hi", correlation_id="ix_abc"), ENDPOINT)
    assert json.loads(built.body)["message"] == {"text": "hi"}
