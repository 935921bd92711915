"""WhatsApp Cloud API adapter: behaviour beyond the golden cases (BSUIDs, batches, outbound, refusals)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from omnicx.channels import OutboundMessage
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig
from omnicx.errors import ConfigurationError, PayloadError, UnsupportedEvent, ValidationError
from omnicx.models import Assurance, Identifier, InboundRequest, Message, ReactionPart
from omnicx.models._interactions import StatusUpdate

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVED = datetime(2024, 1, 1, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def parse(payload: dict[str, Any] | bytes, **config: Any) -> list[Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr("s"), **config))
    return adapter.parse(InboundRequest(url="https://example.com/wa", body=body, received_at=RECEIVED))


# --- identities ------------------------------------------------------------------------------


def test_wa_id_is_a_verified_e164_phone_and_the_bsuid_is_scoped_by_the_waba() -> None:
    (event,) = parse(load("whatsapp_image.json"))
    observed = [(str(o.identifier), o.assurance, o.display_name) for o in event.identifiers]
    assert observed == [
        ("phone:+972987654321", Assurance.VERIFIED, "Test Name"),
        ("whatsapp_bsuid@1234567890987654321:US.13491208655302741918", Assurance.VERIFIED, "Test Name"),
        ("whatsapp_bsuid:US.ENT.11815799212886844830", Assurance.VERIFIED, "Test Name"),
    ]
    assert str(event.interaction.endpoint) == "phone:+972987654321"
    assert event.interaction.author.name == "Test Name"


def test_business_id_in_the_config_scopes_bsuids_instead_of_the_waba() -> None:
    (event,) = parse(load("whatsapp_image.json"), business_id="506914307656634")
    assert str(event.identifiers[1].identifier) == "whatsapp_bsuid@506914307656634:US.13491208655302741918"


def test_a_sender_without_any_phone_gets_the_bsuid_as_endpoint() -> None:
    (event,) = parse(load("whatsapp_bsuid_contact_request.json"))
    message = event.interaction
    assert str(message.endpoint) == "whatsapp_bsuid@102290129340398:US.13491208655302741918"
    assert message.author.id == "US.13491208655302741918"
    assert message.author.name == "Sheena Nelson"
    # the phone the user shared answering the contact request is theirs, but only asserted
    assert [(str(o.identifier), o.assurance) for o in event.identifiers] == [
        ("whatsapp_bsuid@102290129340398:US.13491208655302741918", Assurance.VERIFIED),
        ("phone:+16505551234", Assurance.ASSERTED),
    ]
    assert message.metadata["origin"] == "contact_request"


def test_from_user_id_on_the_message_is_read_when_contacts_are_missing() -> None:
    """Meta's BSUID fields on the message itself: ``from_user_id`` (phone ``from`` omitted)."""
    payload = load("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    msg = value["messages"][0]
    del msg["from"]
    msg["from_user_id"] = "US.13491208655302741918"
    (event,) = parse(payload)
    assert str(event.interaction.endpoint) == "whatsapp_bsuid@102290129340398:US.13491208655302741918"
    assert [str(o.identifier) for o in event.identifiers] == [
        "whatsapp_bsuid@102290129340398:US.13491208655302741918"
    ]


def test_shared_contact_cards_of_other_people_are_not_the_senders_identifiers() -> None:
    (event,) = parse(load("whatsapp_contacts.json"))
    assert [str(o.identifier) for o in event.identifiers] == ["phone:+972987654321"]
    assert [p.phones for p in event.interaction.parts] == [
        ("+1 555-555-5555",),
        ("+1 666-666-6666",),
        ("+1 777-777-7777",),
    ]


def test_a_wa_id_that_is_no_phone_number_is_dropped_and_noted() -> None:
    payload = load("whatsapp_image.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = "123"
    value["messages"][0]["from"] = "123"
    (event,) = parse(payload)
    assert str(event.interaction.endpoint) == "whatsapp_bsuid@1234567890987654321:US.13491208655302741918"
    assert "phone" in event.interaction.metadata["identifier_problems"][0]


def test_a_message_naming_nobody_is_refused() -> None:
    payload = load("whatsapp_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    del value["messages"][0]["from"]
    with pytest.raises(PayloadError, match="no usable WhatsApp user"):
        parse(payload)


# --- batches and statuses --------------------------------------------------------------------


def test_batched_entries_changes_messages_and_statuses_give_every_event_in_order() -> None:
    """entry[] x changes[] x messages[]/statuses[]: real payloads put side by side."""
    text, image, sent, read = (
        load(n)
        for n in (
            "whatsapp_text.json",
            "whatsapp_image.json",
            "whatsapp_status_sent.json",
            "whatsapp_status_read.json",
        )
    )
    two_changes = image["entry"][0]
    two_changes["changes"].append(sent["entry"][0]["changes"][0])
    read_value = read["entry"][0]["changes"][0]["value"]
    read_value["statuses"].append({**read_value["statuses"][0], "id": "wamid.other", "status": "delivered"})
    batch = {
        "object": "whatsapp_business_account",
        "entry": [text["entry"][0], two_changes, read["entry"][0]],
    }
    events = parse(batch)
    assert [(e.interaction.type, e.interaction.dedupe_key) for e in events] == [
        ("message", "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="),
        ("message", "wamid.xyzxyz"),
        ("status", "wamid.xyzxyz:sent"),
        ("status", "wamid.xyzxyz:read"),
        ("status", "wamid.other:delivered"),
    ]


def test_statuses_carry_their_rank_and_the_failure_reason() -> None:
    (failed,) = parse(load("whatsapp_status_failed.json"))
    update = failed.interaction
    assert isinstance(update, StatusUpdate)
    assert update.status.rank > parse(load("whatsapp_status_read.json"))[0].interaction.status.rank
    assert update.error is not None
    assert (update.error.code, update.error.title, update.error.detail) == (
        "130472",
        "User's number is part of an experiment",
        "Failed to send message because this user's phone number is part of an experiment",
    )


def test_unknown_status_values_are_skipped_not_fatal() -> None:
    payload = load("whatsapp_status_sent.json")
    statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
    statuses.insert(0, {**statuses[0], "status": "warning"})
    assert [e.interaction.dedupe_key for e in parse(payload)] == ["wamid.xyzxyz:sent"]


def test_a_redelivery_gives_the_same_keys_and_ids() -> None:
    first = parse(load("whatsapp_status_delivered.json"))
    again = parse(load("whatsapp_status_delivered.json"))
    assert [e.interaction.id for e in first] == [e.interaction.id for e in again]


def test_reaction_removal_has_no_emoji() -> None:
    (event,) = parse(load("whatsapp_reaction_removed.json"))
    (part,) = event.interaction.parts
    assert part == ReactionPart(action="remove", emoji=None, target_message_id="wamid.yzxyzx=")


# --- refusals ----------------------------------------------------------------------------------


def test_notifications_omnicx_does_not_record_are_unsupported() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102290129340398", "changes": [{"field": "message_template_status_update", "value": {}}]}
        ],
    }
    with pytest.raises(UnsupportedEvent, match="message_template_status_update"):
        parse(payload)


def test_a_page_webhook_is_not_whatsapp() -> None:
    with pytest.raises(UnsupportedEvent, match="'page'"):
        parse(load("messenger_text_botbuilder.json"))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON object"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (
            b'{"object": "whatsapp_business_account", "entry": [{"id": 5, "changes": [{"field": "messages", "value": []}]}]}',
            "value",
        ),
    ],
)
def test_malformed_payloads_are_payload_errors(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        parse(body)


def test_text_too_long_for_the_models_is_a_payload_error() -> None:
    payload = load("whatsapp_text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "x" * 1_000_001
    with pytest.raises(PayloadError):
        parse(payload, max_body_bytes=2_000_000)


def test_bodies_over_the_limit_are_refused_before_parsing() -> None:
    with pytest.raises(PayloadError, match="more than the 100 allowed"):
        parse(load("whatsapp_text.json"), max_body_bytes=100)


# --- outbound ----------------------------------------------------------------------------------

SEND = {"access_token": SecretStr("EAAJB-token"), "phone_number_id": "106540352242922"}
PHONE = Identifier(kind="phone", value="+16505551234")
BSUID = Identifier(kind="whatsapp_bsuid", value="US.13491208655302741918", scope="102290129340398")


def build(message: OutboundMessage, endpoint: Identifier, **config: Any) -> Any:
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr("s"), **{**SEND, **config}))
    return adapter.build_outbound(message, endpoint)


def test_text_message_request_is_the_documented_one() -> None:
    built = build(OutboundMessage(text="As requested, here's the link"), PHONE)
    assert built.method == "POST"
    assert built.url == "https://graph.facebook.com/v25.0/106540352242922/messages"
    assert built.headers == {"authorization": "Bearer EAAJB-token", "content-type": "application/json"}
    assert json.loads(built.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505551234",
        "type": "text",
        "text": {"preview_url": False, "body": "As requested, here's the link"},
    }


def test_a_bsuid_endpoint_is_sent_as_recipient_without_to() -> None:
    built = build(OutboundMessage(text="hello", reply_to="wamid.HBgLMTY1MDM4"), BSUID)
    assert json.loads(built.body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": "US.13491208655302741918",
        "context": {"message_id": "wamid.HBgLMTY1MDM4"},
        "type": "text",
        "text": {"preview_url": False, "body": "hello"},
    }


def test_template_message_request() -> None:
    message = OutboundMessage(
        template_name="order_update", template_language="en_US", template_parameters=("Ana", "#4521")
    )
    assert json.loads(build(message, PHONE).body) == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+16505551234",
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#4521"}],
                }
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    message = OutboundMessage(template_name="hello_world", template_language="en_US")
    assert json.loads(build(message, PHONE).body)["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }


def test_sender_overrides_the_phone_number_id_and_the_version_is_configurable() -> None:
    sender = Identifier(kind="whatsapp_phone_number_id", value="277321005464405")
    built = build(OutboundMessage(text="hi", sender=sender), PHONE, graph_api_version="v24.0")
    assert built.url == "https://graph.facebook.com/v24.0/277321005464405/messages"


def test_non_ascii_text_is_sent_as_utf8() -> None:
    built = build(OutboundMessage(text="¿Qué tal? 😮"), PHONE)
    assert "¿Qué tal? 😮".encode() in built.body


@pytest.mark.parametrize(
    ("message", "endpoint", "error"),
    [
        (OutboundMessage(text="hi"), Identifier(kind="email", value="ana@example.com"), ValidationError),
        (OutboundMessage(), PHONE, ValidationError),
        (OutboundMessage(text="x" * 4097), PHONE, ValidationError),
        (OutboundMessage(template_name="order_update"), PHONE, ValidationError),
        (OutboundMessage(text="see", media_url="https://example.com/a.jpg"), PHONE, ValidationError),
        (
            OutboundMessage(text="hi", sender=Identifier(kind="whatsapp_phone_number_id", value="12/../x")),
            PHONE,
            ValidationError,
        ),
    ],
    ids=["email-endpoint", "empty", "too-long", "template-without-language", "media", "bad-sender"],
)
def test_unsendable_messages_are_refused(
    message: OutboundMessage, endpoint: Identifier, error: type[Exception]
) -> None:
    with pytest.raises(error):
        build(message, endpoint)


def test_sending_needs_a_token_and_a_phone_number_id() -> None:
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr("s")))
    with pytest.raises(ConfigurationError, match="access_token"):
        adapter.build_outbound(OutboundMessage(text="hi"), PHONE)
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr("s"), access_token=SecretStr("t")))
    with pytest.raises(ConfigurationError, match="phone_number_id"):
        adapter.build_outbound(OutboundMessage(text="hi"), PHONE)


def test_a_token_with_a_line_break_cannot_reach_a_header() -> None:
    with pytest.raises(ConfigurationError):
        build(OutboundMessage(text="hi"), PHONE, access_token=SecretStr("abc\r\nX-Evil: 1"))


def test_message_is_a_message() -> None:
    (event,) = parse(load("whatsapp_text.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.text == "Does it come in another color?"


# --- batching properties -----------------------------------------------------------------------

_SINGLE = sorted(
    p.name for p in FIXTURES.glob("whatsapp_*.json") if p.name not in {"whatsapp_text_signed.raw.json"}
)


def _keys(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.interaction.type, e.interaction.dedupe_key) for e in events]


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.sampled_from(_SINGLE), min_size=1, max_size=6))
def test_a_batch_gives_exactly_the_events_of_its_entries_in_order(names: list[str]) -> None:
    """entry[] batching is a concatenation: one webhook with n entries = n webhooks of one."""
    entries = [entry for name in names for entry in load(name)["entry"]]
    batch = parse({"object": "whatsapp_business_account", "entry": entries})
    one_by_one = [event for name in names for event in parse(load(name))]
    assert [e.interaction for e in batch] == [e.interaction for e in one_by_one]
    assert [e.identifiers for e in batch] == [e.identifiers for e in one_by_one]


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.sampled_from(_SINGLE), min_size=2, max_size=5, unique=True), data=st.data())
def test_the_order_of_entries_changes_only_the_order_of_events(names: list[str], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(names))
    first = parse(
        {"object": "whatsapp_business_account", "entry": [e for n in names for e in load(n)["entry"]]}
    )
    second = parse(
        {"object": "whatsapp_business_account", "entry": [e for n in shuffled for e in load(n)["entry"]]}
    )
    assert sorted(_keys(first)) == sorted(_keys(second))
    # pywa's fixtures reuse wamid.xyzxyz for different messages, so compare whole events as multisets
    assert sorted(e.model_dump_json() for e in first) == sorted(e.model_dump_json() for e in second)


def test_a_completed_flow_keeps_its_body_as_the_description() -> None:
    (event,) = parse(load("whatsapp_flow_nfm_reply.json"))
    (part,) = event.interaction.parts
    assert (part.type, part.raw_type, part.description) == ("unsupported", "interactive.nfm_reply", "Sent")


def test_a_failed_status_without_contacts_names_the_recipient_by_bsuid() -> None:
    """Failed statuses omit ``contacts``; a message sent to a BSUID has ``recipient_user_id`` only."""
    payload = load("whatsapp_status_failed.json")
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    status = value["statuses"][0]
    del status["recipient_id"]
    status["recipient_user_id"] = "US.13491208655302741918"
    (event,) = parse(payload)
    assert str(event.interaction.endpoint) == "whatsapp_bsuid@5467539754836534:US.13491208655302741918"
    assert event.interaction.status.value == "failed"
