"""Messenger adapter: scoping, echoes, receipts, refusals and Send API requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from omnicx.channels import OutboundMessage
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig
from omnicx.errors import ConfigurationError, PayloadError, UnsupportedEvent, ValidationError
from omnicx.models import AuthorRole, Direction, Identifier, InboundRequest

from ._meta_envelopes import PAGE_ID, PSID, filled, page_envelope

RECEIVED = datetime(2024, 1, 1, tzinfo=UTC)


def parse(body: bytes | dict[str, Any], **config: Any) -> list[Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    adapter = MessengerAdapter(MessengerConfig(app_secret=SecretStr("s"), **config))
    return adapter.parse(InboundRequest(url="https://example.com/fb", body=raw, received_at=RECEIVED))


def test_the_same_psid_under_two_pages_is_two_identifiers() -> None:
    first = filled("messenger_text_event_docs.json")
    second = json.loads(json.dumps(first))
    second["recipient"]["id"] = "998877665544332"
    second["message"]["mid"] = "mid.other"
    batch = {
        "object": "page",
        "entry": [
            {"id": PAGE_ID, "time": 1458692752478, "messaging": [first]},
            {"id": "998877665544332", "time": 1458692752478, "messaging": [second]},
        ],
    }
    a, b = parse(batch)
    assert a.interaction.endpoint.value == b.interaction.endpoint.value == PSID
    assert str(a.interaction.endpoint) == f"messenger_psid@{PAGE_ID}:{PSID}"
    assert str(b.interaction.endpoint) == f"messenger_psid@998877665544332:{PSID}"
    assert a.interaction.endpoint != b.interaction.endpoint


def test_inbound_scope_is_the_recipient_and_falls_back_to_the_entry() -> None:
    event = filled("messenger_text_event_docs.json")
    del event["recipient"]
    (parsed,) = parse({"object": "page", "entry": [{"id": "111", "time": 1, "messaging": [event]}]})
    assert str(parsed.interaction.endpoint) == f"messenger_psid@111:{PSID}"


def test_echoes_are_our_own_outbound_messages_to_the_psid() -> None:
    (event,) = parse(page_envelope("messenger_echo_text_docs.json"))
    message = event.interaction
    assert event.raw_type == "message_echo"
    assert message.direction is Direction.OUTBOUND
    assert message.author.role is AuthorRole.AGENT
    assert message.author.id == "1517776481860111"
    assert str(message.endpoint) == f"messenger_psid@{PAGE_ID}:{PSID}"
    assert message.text == "hello, world!"


def test_echoes_from_a_bot_app_are_the_bots() -> None:
    (event,) = parse(
        page_envelope("messenger_echo_text_docs.json"), bot_app_ids=frozenset({"1517776481860111"})
    )
    assert event.interaction.author.role is AuthorRole.BOT


def test_read_watermarks_cover_every_earlier_message() -> None:
    (event,) = parse(page_envelope("messenger_read_event_docs.json"))
    update = event.interaction
    assert update.target_message_id == "watermark:1458668856253"
    assert update.metadata["watermark"] == "2016-03-22T17:47:36.253000+00:00"
    assert update.dedupe_key == f"read:{PAGE_ID}:{PSID}:1458668856253"


def test_delivery_without_mids_is_a_watermark_status() -> None:
    event = filled("messenger_delivery_event_docs.json")
    del event["delivery"]["mids"]
    (parsed,) = parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]})
    assert parsed.interaction.target_message_id == "watermark:1458668856253"
    assert parsed.interaction.status.value == "delivered"


def test_standby_events_are_recorded_and_marked() -> None:
    event = filled("messenger_text_event_docs.json")
    (parsed,) = parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "standby": [event]}]})
    assert parsed.interaction.metadata["standby"] is True


def test_events_omnicx_does_not_record_are_unsupported() -> None:
    optin = {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1, "optin": {"ref": "x"}}
    with pytest.raises(UnsupportedEvent, match="optin"):
        parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [optin]}]})


def test_instagram_webhooks_are_not_messenger() -> None:
    with pytest.raises(UnsupportedEvent, match="instagram"):
        parse((page_envelope("messenger_text_event_docs.json")).replace(b'"page"', b'"instagram"'))


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda e: e.update(sender={}), "neither an id nor a user_ref"),
        (lambda e: e["sender"].update(id="not-digits"), "messenger_psid"),
        (lambda e: e.update(timestamp="yesterday"), "timestamp"),
        (lambda e: e["message"].update(mid=None), "mid"),
        (lambda e: e["message"].update(text=["a"]), "text"),
    ],
    ids=["no-sender", "bad-psid", "bad-timestamp", "no-mid", "text-not-string"],
)
def test_malformed_events_are_payload_errors(mutate: Any, match: str) -> None:
    event = filled("messenger_text_event_docs.json")
    mutate(event)
    with pytest.raises(PayloadError, match=match):
        parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]})


# --- Send API ----------------------------------------------------------------------------------

ENDPOINT = Identifier(kind="messenger_psid", value=PSID, scope=PAGE_ID)


def adapter(**config: Any) -> MessengerAdapter:
    return MessengerAdapter(
        MessengerConfig(app_secret=SecretStr("s"), page_access_token=SecretStr("EAAPage"), **config)
    )


def test_send_api_request_for_a_reply() -> None:
    built = adapter().build_outbound(OutboundMessage(text="hello, world!"), ENDPOINT)
    assert built.method == "POST"
    assert built.url == f"https://graph.facebook.com/v25.0/{PAGE_ID}/messages"
    assert built.headers == {"authorization": "Bearer EAAPage", "content-type": "application/json"}
    assert json.loads(built.body) == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello, world!"},
    }


def test_tagged_send_for_replies_outside_the_window() -> None:
    built = adapter().build_tagged(OutboundMessage(text="Your case is solved."), ENDPOINT)
    assert json.loads(built.body) == {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Your case is solved."},
    }


def test_user_ref_endpoints_are_sent_as_user_ref() -> None:
    endpoint = Identifier(kind="messenger_user_ref", value="USER-REF-ID", scope=PAGE_ID)
    built = adapter().build_outbound(OutboundMessage(text="hi"), endpoint)
    assert json.loads(built.body)["recipient"] == {"user_ref": "USER-REF-ID"}


@pytest.mark.parametrize(
    ("message", "endpoint"),
    [
        (OutboundMessage(text="hi"), Identifier(kind="instagram_igsid", value=PSID, scope=PAGE_ID)),
        (OutboundMessage(text="hi"), Identifier(kind="messenger_psid", value=PSID, scope="PAGE-ID")),
        (OutboundMessage(), ENDPOINT),
        (OutboundMessage(text="x" * 2001), ENDPOINT),
        (OutboundMessage(text="see", media_url="https://example.com/a.jpg"), ENDPOINT),
    ],
    ids=["wrong-kind", "non-numeric-scope", "no-text", "too-long", "media"],
)
def test_unsendable_messages_are_refused(message: OutboundMessage, endpoint: Identifier) -> None:
    with pytest.raises(ValidationError):
        adapter().build_outbound(message, endpoint)


def test_unknown_tags_are_refused() -> None:
    with pytest.raises(ValidationError, match="tag"):
        adapter().build_tagged(OutboundMessage(text="hi"), ENDPOINT, tag="PROMOTION")


def test_sending_needs_a_page_access_token() -> None:
    with pytest.raises(ConfigurationError, match="page_access_token"):
        MessengerAdapter(MessengerConfig(app_secret=SecretStr("s"))).build_outbound(
            OutboundMessage(text="hi"), ENDPOINT
        )


def test_reactions_add_and_remove() -> None:
    from omnicx.models import ReactionPart

    (added,) = parse(page_envelope("messenger_reaction_docs.json"))
    assert added.interaction.parts == (
        ReactionPart(
            action="add", emoji="\u2764\ufe0f", target_message_id="m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"
        ),
    )
    event = filled("messenger_reaction_docs.json")
    event["reaction"]["action"] = "unreact"
    del event["reaction"]["emoji"]
    (removed,) = parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]})
    assert removed.interaction.parts[0].action == "remove"
    assert removed.interaction.parts[0].emoji is None
    assert removed.interaction.metadata["reaction"] == "love"
    assert removed.interaction.dedupe_key != added.interaction.dedupe_key


def test_unrecorded_events_are_skipped_before_their_sender_is_read() -> None:
    """An opt-in from the checkbox plugin has no usable sender; it is skipped, not a payload error."""
    optin = {"recipient": {"id": PAGE_ID}, "timestamp": 1, "optin": {"ref": "x", "user_ref": "USER-REF"}}
    text = filled("messenger_text_event_docs.json")
    (event,) = parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [optin, text]}]})
    assert event.interaction.text == "hello, world!"


def test_a_tag_on_the_message_makes_a_tagged_send() -> None:
    built = adapter().build_outbound(OutboundMessage(text="Back to you.", tag="HUMAN_AGENT"), ENDPOINT)
    assert json.loads(built.body)["messaging_type"] == "MESSAGE_TAG"
    assert json.loads(built.body)["tag"] == "HUMAN_AGENT"
    with pytest.raises(ValidationError, match="tag"):
        adapter().build_outbound(OutboundMessage(text="hi", tag="PROMOTION"), ENDPOINT)


@pytest.mark.parametrize(
    ("tag", "hours", "delivered"),
    [
        (None, 24, True),
        (None, 24.01, False),
        ("HUMAN_AGENT", 24.01, True),
        ("HUMAN_AGENT", 24 * 7, True),
        ("HUMAN_AGENT", 24 * 7 + 0.01, False),
        ("CUSTOMER_FEEDBACK", 24 * 7 + 0.01, False),
        ("ACCOUNT_UPDATE", 24 * 30, True),  # an update, not a reply: no window
    ],
)
def test_the_standard_window_and_the_tag_windows(tag: str | None, hours: float, delivered: bool) -> None:
    refusal = adapter().reply_refusal(OutboundMessage(text="hi", tag=tag), timedelta(hours=hours))
    assert (refusal is None) is delivered
    if tag is None and not delivered:
        assert refusal is not None
        assert "HUMAN_AGENT" in refusal  # says what goes instead


def test_the_correlation_id_goes_out_as_metadata_and_comes_back_on_the_echo() -> None:
    built = adapter().build_outbound(OutboundMessage(text="hi", correlation_id="ix_abc"), ENDPOINT)
    assert json.loads(built.body)["message"] == {"text": "hi", "metadata": "ix_abc"}
    event = filled("messenger_echo_text_docs.json")  # Meta's echo, metadata string included
    (parsed,) = parse({"object": "page", "entry": [{"id": PAGE_ID, "time": 1, "messaging": [event]}]})
    assert parsed.interaction.direction is Direction.OUTBOUND
    assert parsed.interaction.metadata["correlation_id"] == "DEVELOPER_DEFINED_METADATA_STRING"
