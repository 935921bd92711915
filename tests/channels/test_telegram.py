"""Telegram adapter: golden updates, the secret token, contacts, refusals, sendMessage.

Golden updates are in tests/fixtures/channels (see tests/fixtures/SOURCES.md); every
expected event below is written by hand from the update.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from omnicx.channels._base import AdapterConfig, OutboundMessage
from omnicx.channels.telegram import SECRET_HEADER, TelegramAdapter, TelegramConfig
from omnicx.errors import (
    ConfigurationError,
    OmnicxError,
    PayloadError,
    SignatureError,
    UnsupportedEvent,
    ValidationError,
)
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContactPart,
    Direction,
    Edit,
    Identifier,
    InboundEvent,
    InboundRequest,
    InteractiveReplyPart,
    LocationPart,
    MediaPart,
    Message,
    ObservedIdentifier,
    TextPart,
    ThreadHints,
    UnsupportedPart,
)
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures" / "channels"
RECEIVED = datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC)
SENT = datetime(2015, 9, 7, 17, 5, 32, tzinfo=UTC)  # "date": 1441645532
SECRET = "tg-secret_0123456789"
TOKEN = "123456789:AAEhBOweik6ad6PsWpXQd-8HGqxoSWmnGkE"
USER = Identifier(kind="telegram_user_id", value="1111111")
NAME = "Test Firstname Test Lastname"


def update_request(body: bytes | str, secret: str | None = SECRET) -> InboundRequest:
    raw = body.encode() if isinstance(body, str) else body
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return InboundRequest(url="https://example.com/telegram", headers=headers, body=raw, received_at=RECEIVED)


def fixture(name: str) -> InboundRequest:
    return update_request((FIXTURES / name).read_bytes())


def fixture_json(name: str) -> dict[str, object]:
    loaded = json.loads((FIXTURES / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture
def adapter() -> TelegramAdapter:
    return TelegramAdapter(TelegramConfig(secret_token=SECRET, bot_token=TOKEN))


SENDER = ObservedIdentifier(identifier=USER, assurance=Assurance.VERIFIED, display_name=NAME)
AUTHOR = Author(role=AuthorRole.CUSTOMER, id="1111111", name=NAME)


# --- verify ---------------------------------------------------------------------------


def test_matching_secret_verifies(adapter: TelegramAdapter) -> None:
    assert adapter.verify(fixture("telegram_text.json")) is None


@pytest.mark.parametrize(
    ("secret", "match"),
    [
        (None, "no X-Telegram-Bot-Api-Secret-Token"),
        ("", "does not match"),
        ("tg-secret_012345678", "does not match"),
        ("tg-secret_01234567890", "does not match"),
        ("TG-SECRET_0123456789", "does not match"),
    ],
)
def test_wrong_or_missing_secret_is_refused(adapter: TelegramAdapter, secret: str | None, match: str) -> None:
    with pytest.raises(SignatureError, match=match):
        adapter.verify(update_request((FIXTURES / "telegram_text.json").read_bytes(), secret))


@pytest.mark.parametrize("bad", ["", "has space", "x" * 257, "semi;colon", "ünïcode"])
def test_secret_token_must_have_setwebhook_shape(bad: str) -> None:
    with pytest.raises(PydanticValidationError, match="secret_token"):
        TelegramConfig(secret_token=bad)


# --- golden updates ---------------------------------------------------------------------


def test_text(adapter: TelegramAdapter) -> None:
    key = "update:10000:message:1111111:1365"
    assert adapter.parse(fixture("telegram_text.json")) == [
        InboundEvent(
            interaction=Message(
                channel="telegram",
                adapter="telegram",
                dedupe_key=key,
                occurred_at=SENT,
                received_at=RECEIVED,
                direction=Direction.INBOUND,
                author=AUTHOR,
                endpoint=USER,
                thread=ThreadHints(thread_id="1111111"),
                parts=(TextPart(text="/start"),),
                platform_message_id="1111111:1365",
                metadata={"username": "Testusername"},
            ),
            identifiers=(SENDER,),
            raw_type="message",
        )
    ]


def test_reply_points_at_the_parent_in_its_chat(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_reply.json"))
    # the docs' example puts the parent in chat 1111112; the id names that chat
    assert event.interaction.thread == ThreadHints(thread_id="1111111", reply_to="1111112:1334")


def test_forwarded_message_is_flagged_and_the_original_author_is_not_observed(
    adapter: TelegramAdapter,
) -> None:
    [event] = adapter.parse(fixture("telegram_forwarded.json"))
    assert event.interaction.metadata == {"username": "Testusername", "forwarded": True}
    assert event.identifiers == (SENDER,)  # forward_from (222222) is someone else


def test_edited_message(adapter: TelegramAdapter) -> None:
    key = "update:10000:edit:1111111:1365:1441646600"
    assert adapter.parse(fixture("telegram_edited_message.json")) == [
        InboundEvent(
            interaction=Edit(
                channel="telegram",
                adapter="telegram",
                dedupe_key=key,
                occurred_at=datetime(2015, 9, 7, 17, 23, 20, tzinfo=UTC),  # edit_date 1441646600
                received_at=RECEIVED,
                direction=Direction.INBOUND,
                author=AUTHOR,
                endpoint=USER,
                thread=ThreadHints(thread_id="1111111"),
                target_message_id="1111111:1365",
                parts=(TextPart(text="Edited text"),),
                metadata={"username": "Testusername"},
            ),
            identifiers=(SENDER,),
            raw_type="edited_message",
        )
    ]


def test_voice(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_voice.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (
        MediaPart(
            media_kind="voice",
            platform_media_id="AwADBAADbXXXXXXXXXXXGBdhD2l6_XX",
            mime_type="audio/ogg",
            size=23000,
        ),
    )


def test_document(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_document.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (
        MediaPart(
            media_kind="document",
            platform_media_id="AwADBAADbXXXXXXXXXXXGBdhD2l6_XX",
            mime_type="application/pdf",
            size=536392,
            filename="Testfile.pdf",
        ),
    )


def test_photo_keeps_the_largest_size_and_the_caption(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_photo_docs.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (
        MediaPart(
            media_kind="image",
            platform_media_id="AgACAgIAAxkBAAIBX2Large",
            size=51882,
            caption="The broken part",
        ),
    )
    assert event.interaction.text == "The broken part"


def test_callback_query_without_message(adapter: TelegramAdapter) -> None:
    key = "update:10000:callback:4382bfdwdsb323b2d9"
    assert adapter.parse(fixture("telegram_callback_query.json")) == [
        InboundEvent(
            interaction=Message(
                channel="telegram",
                adapter="telegram",
                dedupe_key=key,
                occurred_at=RECEIVED,  # a callback query carries no date
                received_at=RECEIVED,
                direction=Direction.INBOUND,
                author=AUTHOR,
                endpoint=USER,
                parts=(InteractiveReplyPart(reply_kind="callback", reply_id="Data from button callback"),),
                metadata={
                    "username": "Testusername",
                    "callback_query_id": "4382bfdwdsb323b2d9",
                    "inline_message_id": "1234csdbsk4839",
                },
            ),
            identifiers=(SENDER,),
            raw_type="callback_query",
        )
    ]


def test_callback_query_on_a_message(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_callback_query_message_docs.json"))
    assert event.interaction.thread == ThreadHints(thread_id="1111111", reply_to="1111111:1369")
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (InteractiveReplyPart(reply_kind="callback", reply_id="helpful:yes"),)


def test_own_contact_gives_an_asserted_phone(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_contact_own_docs.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (ContactPart(name=NAME, phones=("447911123456",)),)
    assert event.identifiers == (
        SENDER,
        ObservedIdentifier(
            identifier=Identifier(kind="phone", value="+447911123456"), assurance=Assurance.ASSERTED
        ),
    )


def test_someone_elses_contact_gives_no_identifier(adapter: TelegramAdapter) -> None:
    [event] = adapter.parse(fixture("telegram_contact_other_docs.json"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (ContactPart(name="Other Person", phones=("+14155550123",)),)
    assert event.identifiers == (SENDER,)


def test_own_contact_with_unusable_number_keeps_the_card_only(adapter: TelegramAdapter) -> None:
    update = fixture_json("telegram_contact_own_docs.json")
    update["message"]["contact"]["phone_number"] = "12"  # type: ignore[index]
    [event] = adapter.parse(update_request(json.dumps(update)))
    assert event.identifiers == (SENDER,)


def test_location_and_venue(adapter: TelegramAdapter) -> None:
    update = fixture_json("telegram_text.json")
    message = update["message"]
    assert isinstance(message, dict)
    del message["text"]
    message["location"] = {"latitude": 51.5007, "longitude": -0.1246}
    [event] = adapter.parse(update_request(json.dumps(update)))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (LocationPart(latitude=51.5007, longitude=-0.1246),)
    message["venue"] = {"location": message["location"], "title": "Big Ben", "address": "London SW1A 0AA"}
    [event] = adapter.parse(update_request(json.dumps(update)))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (
        LocationPart(latitude=51.5007, longitude=-0.1246, name="Big Ben", address="London SW1A 0AA"),
    )


def test_other_content_is_kept_as_unsupported_part(adapter: TelegramAdapter) -> None:
    update = fixture_json("telegram_text.json")
    message = update["message"]
    assert isinstance(message, dict)
    del message["text"]
    message["dice"] = {"emoji": "🎲", "value": 4}
    [event] = adapter.parse(update_request(json.dumps(update)))
    assert isinstance(event.interaction, Message)
    assert event.interaction.parts == (
        UnsupportedPart(raw_type="dice", description="a Telegram dice message"),
    )


@pytest.mark.parametrize(
    "name",
    [
        "telegram_text.json",
        "telegram_reply.json",
        "telegram_edited_message.json",
        "telegram_callback_query.json",
        "telegram_contact_own_docs.json",
        "telegram_photo_docs.json",
    ],
)
def test_redelivery_gives_the_same_keys(adapter: TelegramAdapter, name: str) -> None:
    first = adapter.parse(fixture(name))
    again = adapter.parse(fixture(name).model_copy(update={"received_at": RECEIVED + timedelta(minutes=5)}))
    assert [e.interaction.id for e in first] == [e.interaction.id for e in again]


# --- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        pytest.param(b"not json", PayloadError, "not JSON", id="not-json"),
        pytest.param(b"\xff\xfe{}", PayloadError, "not valid UTF-8", id="not-utf8"),
        pytest.param(b"[1, 2]", PayloadError, "must be a JSON object", id="array"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, PayloadError, "not JSON", id="deep-nesting"),
        pytest.param(b'{"update_id": "10000"}', PayloadError, "integer 'update_id'", id="string-update-id"),
        pytest.param(b'{"update_id": true, "message": {}}', PayloadError, "update_id", id="bool-update-id"),
        pytest.param(
            b'{"update_id": 1, "message": []}', PayloadError, "no object 'message'", id="message-array"
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1}}',
            UnsupportedEvent,
            "no 'from' user",
            id="no-from",
        ),
        pytest.param(
            b'{"update_id": 1, "channel_post": {}}', UnsupportedEvent, "channel_post", id="channel-post"
        ),
        pytest.param(b'{"update_id": 1}', UnsupportedEvent, "nothing", id="empty-update"),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": -4}}}',
            PayloadError,
            "telegram_user_id",
            id="negative-user",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1e400, "from": {"id": 4}}}',
            PayloadError,
            "date",
            id="huge-date",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, "photo": []}}',
            PayloadError,
            "PhotoSize",
            id="empty-photo",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, "voice": {"duration": 3}}}',
            PayloadError,
            "file_id",
            id="voice-no-file-id",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, "text": 7}}',
            PayloadError,
            "text is not a string",
            id="text-number",
        ),
        pytest.param(
            b'{"update_id": 1, "callback_query": {"from": {"id": 4}}}',
            PayloadError,
            "string 'id'",
            id="callback-no-id",
        ),
        pytest.param(
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, "location": {"latitude": 91, "longitude": 0}}}',
            PayloadError,
            "cannot store",
            id="latitude-out-of-range",
        ),
    ],
)
def test_refused(adapter: TelegramAdapter, body: bytes, error: type[OmnicxError], match: str) -> None:
    with pytest.raises(error, match=match):
        adapter.parse(update_request(body))


def test_body_size_limit() -> None:
    small = TelegramAdapter(TelegramConfig(secret_token=SECRET, max_body_bytes=64))
    with pytest.raises(PayloadError, match="more than the 64 allowed"):
        small.parse(fixture("telegram_text.json"))


# --- outbound ---------------------------------------------------------------------------

SEND_URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"


def test_send_message(adapter: TelegramAdapter) -> None:
    built = adapter.build_outbound(OutboundMessage(text="Thanks, Ana — on it!"), USER)
    assert built.method == "POST"
    assert built.url == SEND_URL
    assert built.headers == {"content-type": "application/json"}
    assert built.body == '{"chat_id":1111111,"text":"Thanks, Ana — on it!"}'.encode()


def test_send_message_as_a_reply(adapter: TelegramAdapter) -> None:
    built = adapter.build_outbound(OutboundMessage(text="Yes", reply_to="1111111:1365"), USER)
    assert built.body == b'{"chat_id":1111111,"text":"Yes","reply_parameters":{"message_id":1365}}'


def test_reply_to_a_message_in_another_chat(adapter: TelegramAdapter) -> None:
    built = adapter.build_outbound(OutboundMessage(text="Yes", reply_to="-1001234567890:42"), USER)
    assert built.body == (
        b'{"chat_id":1111111,"text":"Yes","reply_parameters":{"message_id":42,"chat_id":-1001234567890}}'
    )


def test_send_document_by_url(adapter: TelegramAdapter) -> None:
    built = adapter.build_outbound(
        OutboundMessage(text="Your invoice", media_url="https://example.com/invoice.pdf"), USER
    )
    assert built.url == f"https://api.telegram.org/bot{TOKEN}/sendDocument"
    assert built.body == (
        b'{"chat_id":1111111,"document":"https://example.com/invoice.pdf","caption":"Your invoice"}'
    )


@pytest.mark.parametrize(
    ("config", "message", "endpoint", "error"),
    [
        pytest.param(
            TelegramConfig(secret_token=SECRET),
            OutboundMessage(text="x"),
            USER,
            ConfigurationError,
            id="no-token",
        ),
        pytest.param(
            None,
            OutboundMessage(text="x"),
            Identifier(kind="phone", value="+14155550123"),
            ValidationError,
            id="phone-endpoint",
        ),
        pytest.param(None, OutboundMessage(), USER, ValidationError, id="no-text"),
        pytest.param(None, OutboundMessage(text="x" * 4097), USER, ValidationError, id="too-long"),
        pytest.param(
            None,
            OutboundMessage(text="x" * 1025, media_url="https://e.com/a.pdf"),
            USER,
            ValidationError,
            id="caption-too-long",
        ),
        pytest.param(None, OutboundMessage(template_name="hello"), USER, ValidationError, id="template"),
        pytest.param(
            None, OutboundMessage(text="x", reply_to="1365"), USER, ValidationError, id="reply-to-bare-id"
        ),
        pytest.param(
            None,
            OutboundMessage(text="x", reply_to="<a@b>\r\nBcc: x@y.z"),
            USER,
            ValidationError,
            id="reply-to-injection",
        ),
    ],
)
def test_outbound_refused(
    adapter: TelegramAdapter,
    config: TelegramConfig | None,
    message: OutboundMessage,
    endpoint: Identifier,
    error: type[OmnicxError],
) -> None:
    chosen = adapter if config is None else TelegramAdapter(config)
    with pytest.raises(error):
        chosen.build_outbound(message, endpoint)


def test_bot_token_must_have_botfather_shape() -> None:
    with pytest.raises(PydanticValidationError, match="bot_token"):
        TelegramConfig(secret_token=SECRET, bot_token="123/../evil")


# --- the conformance kit --------------------------------------------------------------

JSON = {"content-type": "application/json"}


class TestTelegramContract(ChannelAdapterContract):
    adapter_class = TelegramAdapter
    config = TelegramConfig(secret_token=SECRET, bot_token=TOKEN)
    wrong_config = TelegramConfig(secret_token="another-secret", bot_token=TOKEN)
    signature_headers = (SECRET_HEADER,)
    signs_body = False  # a shared secret in a header: no body integrity
    outbound_endpoint = USER
    golden_cases = (
        GoldenCase.from_file(
            "text",
            FIXTURES / "telegram_text.json",
            [
                {
                    "type": "message",
                    "channel": "telegram",
                    "dedupe_key": "update:10000:message:1111111:1365",
                    "occurred_at": "2015-09-07T17:05:32+00:00",
                    "direction": "inbound",
                    "author": "customer",
                    "author_id": "1111111",
                    "author_name": NAME,
                    "endpoint": "telegram_user_id:1111111",
                    "identifiers": ["telegram_user_id:1111111 (verified)"],
                    "thread_id": "1111111",
                    "reply_to": None,
                    "text": "/start",
                    "parts": ["text"],
                    "platform_message_id": "1111111:1365",
                }
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "forwarded",
            FIXTURES / "telegram_forwarded.json",
            [{"text": "/start", "metadata": {"username": "Testusername", "forwarded": True}}],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "reply",
            FIXTURES / "telegram_reply.json",
            [{"reply_to": "1111112:1334", "thread_id": "1111111"}],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "edited_message",
            FIXTURES / "telegram_edited_message.json",
            [
                {
                    "type": "edit",
                    "dedupe_key": "update:10000:edit:1111111:1365:1441646600",
                    "occurred_at": "2015-09-07T17:23:20+00:00",
                    "target_message_id": "1111111:1365",
                    "parts": ["text"],
                }
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "voice", FIXTURES / "telegram_voice.json", [{"parts": ["media:voice"]}], headers=JSON
        ),
        GoldenCase.from_file(
            "document", FIXTURES / "telegram_document.json", [{"parts": ["media:document"]}], headers=JSON
        ),
        GoldenCase.from_file(
            "callback_query",
            FIXTURES / "telegram_callback_query.json",
            [
                {
                    "dedupe_key": "update:10000:callback:4382bfdwdsb323b2d9",
                    "occurred_at": "2024-01-01T00:00:00+00:00",
                    "parts": ["interactive_reply"],
                    "raw_type": "callback_query",
                }
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "callback_query_on_message",
            FIXTURES / "telegram_callback_query_message_docs.json",
            [{"reply_to": "1111111:1369", "thread_id": "1111111"}],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "own_contact",
            FIXTURES / "telegram_contact_own_docs.json",
            [
                {
                    "parts": ["contact"],
                    "identifiers": ["telegram_user_id:1111111 (verified)", "phone:+447911123456 (asserted)"],
                }
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "other_contact",
            FIXTURES / "telegram_contact_other_docs.json",
            [{"parts": ["contact"], "identifiers": ["telegram_user_id:1111111 (verified)"]}],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "photo",
            FIXTURES / "telegram_photo_docs.json",
            [{"parts": ["media:image"], "text": "The broken part"}],
            headers=JSON,
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, TelegramConfig)
        headers = {**request.headers, SECRET_HEADER: config.secret_token.get_secret_value()}
        return request.model_copy(update={"headers": headers})


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            b'{"update_id": 1, "callback_query": {"id": "\xed\xa0\x80x", "from": {"id": 4}}}',
            "not valid UTF-8",
        ),
        (b'{"update_id": 1, "callback_query": {"id": "\\ud800x", "from": {"id": 4}}}', "unpaired surrogate"),
        (
            b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, '
            b'"text": "\\udfff"}}',
            "unpaired surrogate",
        ),
    ],
    ids=["encoded-surrogate", "escaped-lone-high-surrogate", "escaped-lone-low-surrogate"],
)
def test_lone_surrogates_are_refused(adapter: TelegramAdapter, body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        adapter.parse(update_request(body))


def test_escaped_surrogate_pair_is_an_emoji(adapter: TelegramAdapter) -> None:
    body = b'{"update_id": 1, "message": {"chat": {"id": 5}, "message_id": 2, "date": 1, "from": {"id": 4}, "text": "\\ud83d\\ude00"}}'
    [event] = adapter.parse(update_request(body))
    assert isinstance(event.interaction, Message)
    assert event.interaction.text == "\U0001f600"


@settings(max_examples=150)
@given(text=st.text(min_size=1, max_size=300), parent=st.none() | st.integers(1, 2**31))
def test_outbound_body_round_trips_any_text(text: str, parent: int | None) -> None:
    adapter = TelegramAdapter(TelegramConfig(secret_token=SECRET, bot_token=TOKEN))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    reply_to = None if parent is None else f"1111111:{parent}"
    built = adapter.build_outbound(OutboundMessage(text=text, reply_to=reply_to), USER)
    expected: dict[str, object] = {"chat_id": 1111111, "text": text}
    if parent is not None:
        expected["reply_parameters"] = {"message_id": parent}
    assert json.loads(built.body) == expected
    assert built.url == SEND_URL
