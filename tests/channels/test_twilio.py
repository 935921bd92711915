"""Twilio Messaging adapter: golden payloads, status callbacks, refusals, outbound builder.

Golden payloads are in tests/fixtures/channels (see tests/fixtures/SOURCES.md); every
expected event below is written by hand from the payload.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.channels._base import AdapterConfig, OutboundMessage
from omnicx.channels._twilio_signature import sign_request
from omnicx.channels.twilio import STATUS_MAP, TwilioAdapter, TwilioConfig
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
    DeliveryError,
    DeliveryStatus,
    Direction,
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
)
from omnicx.models._interactions import StatusUpdate
from omnicx.testing import ChannelAdapterContract, GoldenCase, inbound_request

FIXTURES = Path(__file__).parent.parent / "fixtures" / "channels"
RECEIVED = datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC)
X32 = "X" * 32
ACCOUNT = "AC0123456789abcdef0123456789abcdef"


def form_request(
    body: bytes | str, *, url: str = "https://example.com/twilio/sms", method: str = "POST"
) -> InboundRequest:
    raw = body.encode() if isinstance(body, str) else body
    return InboundRequest(
        method=method,
        url=url,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=raw,
        received_at=RECEIVED,
    )


def fixture(name: str) -> InboundRequest:
    return form_request((FIXTURES / name).read_bytes())


@pytest.fixture
def adapter() -> TwilioAdapter:
    return TwilioAdapter(TwilioConfig(auth_token="tok3n", account_sid=ACCOUNT, default_sender="+15017122661"))


def phone(value: str) -> Identifier:
    return Identifier(kind="phone", value=value)


# --- inbound messages ---------------------------------------------------------------


def test_sms_botbuilder(adapter: TwilioAdapter) -> None:
    sid = "SMc56324aa4a31735561b7205472192d68"
    expected = InboundEvent(
        interaction=Message(
            channel="sms",
            adapter="twilio",
            dedupe_key=sid,
            occurred_at=RECEIVED,  # Twilio sends no timestamp: the time of receipt
            received_at=RECEIVED,
            direction=Direction.INBOUND,
            author=Author(role=AuthorRole.CUSTOMER, id="+541138050810"),
            endpoint=phone("+541138050810"),
            parts=(TextPart(text="Hello"),),
            platform_message_id=sid,
            metadata={"account_sid": "ACe4885e100ac907f66a8f694350e8f6f3", "to": "+16693421974"},
        ),
        identifiers=(ObservedIdentifier(identifier=phone("+541138050810"), assurance=Assurance.VERIFIED),),
        raw_type="message",
    )
    assert adapter.parse(fixture("twilio_sms_botbuilder.form.txt")) == [expected]


def test_mms_botbuilder_media(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_mms_media_botbuilder.form.txt"))
    message = event.interaction
    assert isinstance(message, Message)
    assert message.channel == "sms"
    assert message.endpoint == phone("+571138050810")
    assert message.dedupe_key == "SMa56324aa4a31735561b7205472192d68"
    # "json" is not a MIME type: kept as given, the kind falls back to "file"
    assert message.parts == (
        TextPart(text="Hello"),
        MediaPart(media_kind="file", url="www.google.com", mime_type="json"),
    )
    assert message.metadata["to"] == "+1A693421974"  # the business side is not normalized


def dict_fixture_wire_body(overrides: dict[str, str] | None = None) -> str:
    """Encode twilio_mms_botbuilder.dict.json to the wire form Twilio sends.

    The fixture is a dict of parameters, not a body. Its values keep their
    percent-escapes ("%2B2222" is "+2222", as in the source's wire payloads),
    so each value is unescaped once, then the whole is form-encoded.
    """
    params = json.loads((FIXTURES / "twilio_mms_botbuilder.dict.json").read_text())
    pairs = {name: unquote(str(value)) for name, value in params.items()}
    pairs.update(overrides or {})
    return urlencode(pairs)


def test_mms_botbuilder_dict_is_refused_for_its_placeholder_number(adapter: TwilioAdapter) -> None:
    body = dict_fixture_wire_body()
    assert "From=%2B2222" in body
    assert "NumMedia=1" in body
    with pytest.raises(PayloadError, match=r"From='\+2222' is not a phone number"):
        adapter.parse(form_request(body))


def test_mms_botbuilder_dict_with_real_shaped_numbers(adapter: TwilioAdapter) -> None:
    body = dict_fixture_wire_body({"From": "+14017122661", "To": "+15558675310"})
    [event] = adapter.parse(form_request(body))
    assert isinstance(event.interaction, Message)
    assert event.interaction.dedupe_key == "3333"
    assert event.interaction.parts == (
        TextPart(text="Hello"),
        MediaPart(media_kind="file", url="www.contoso.com", mime_type="json"),
    )
    assert [str(o.identifier) for o in event.identifiers] == ["phone:+14017122661"]


def test_mms_docs_two_media(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_mms_docs.form.txt"))
    message = event.interaction
    assert isinstance(message, Message)
    media_base = f"https://api.twilio.com/2010-04-01/Accounts/AC{X32}/Messages/MM{X32}/Media/"
    assert message.parts == (
        TextPart(text="Ahoy! We can't wait to see what you build."),
        MediaPart(media_kind="image", url=media_base + "ME" + X32, mime_type="image/jpeg"),
        MediaPart(media_kind="document", url=media_base + "ME" + "Y" * 32, mime_type="application/pdf"),
    )
    assert message.endpoint == phone("+14017122661")
    assert message.metadata == {
        "account_sid": "AC" + X32,
        "to": "+15558675310",
        "messaging_service_sid": "MG" + X32,
    }


def test_whatsapp_button_reply(adapter: TwilioAdapter) -> None:
    sid = "SM" + X32
    expected = InboundEvent(
        interaction=Message(
            channel="whatsapp",
            adapter="twilio",
            dedupe_key=sid,
            occurred_at=RECEIVED,
            received_at=RECEIVED,
            direction=Direction.INBOUND,
            author=Author(role=AuthorRole.CUSTOMER, id="+14017122661", name="Ana"),
            endpoint=phone("+14017122661"),
            thread=ThreadHints(reply_to="MM" + "Y" * 32),
            # Body repeats ButtonText: one interactive part, no duplicate text
            parts=(InteractiveReplyPart(reply_kind="button", reply_id="confirm_booking", title="Yes"),),
            platform_message_id=sid,
            metadata={"account_sid": "AC" + X32, "to": "whatsapp:+15558675310"},
        ),
        identifiers=(
            ObservedIdentifier(
                identifier=phone("+14017122661"), assurance=Assurance.VERIFIED, display_name="Ana"
            ),
        ),
        raw_type="message",
    )
    assert adapter.parse(fixture("twilio_whatsapp_button_docs.form.txt")) == [expected]


def test_whatsapp_location(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_whatsapp_location_docs.form.txt"))
    assert isinstance(event.interaction, Message)
    assert event.interaction.channel == "whatsapp"
    assert event.interaction.parts == (
        LocationPart(
            latitude=37.7879277,
            longitude=-122.4075139,
            name="Twilio HQ",
            address="375 Beale St, San Francisco, CA 94105",
        ),
    )


def test_get_webhook_reads_the_query_string(adapter: TwilioAdapter) -> None:
    query = (FIXTURES / "twilio_sms_botbuilder.form.txt").read_text()
    [event] = adapter.parse(form_request(b"", url="https://example.com/twilio/sms?" + query, method="GET"))
    assert event.interaction.dedupe_key == "SMc56324aa4a31735561b7205472192d68"
    assert event.interaction.endpoint == phone("+541138050810")


def test_body_parameter_wins_over_query_parameter(adapter: TwilioAdapter) -> None:
    body = (FIXTURES / "twilio_sms_botbuilder.form.txt").read_text()
    url = "https://example.com/twilio/sms?tenant=acme&From=%2B14017122661"
    [event] = adapter.parse(form_request(body, url=url))
    assert event.interaction.endpoint == phone("+541138050810")


# --- status callbacks ---------------------------------------------------------------


def test_status_delivered(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_status_delivered_docs.form.txt"))
    assert event == InboundEvent(
        interaction=StatusUpdate(
            channel="sms",
            adapter="twilio",
            dedupe_key=f"SM{X32}:delivered",
            occurred_at=RECEIVED,
            received_at=RECEIVED,
            direction=Direction.OUTBOUND,
            author=Author(role=AuthorRole.SYSTEM),
            endpoint=phone("+15558675310"),
            target_message_id="SM" + X32,
            status=DeliveryStatus.DELIVERED,
            metadata={"twilio_status": "delivered"},
        ),
        identifiers=(ObservedIdentifier(identifier=phone("+15558675310"), assurance=Assurance.ASSERTED),),
        raw_type="status_callback",
    )


def test_status_undelivered_is_failed_with_error_code(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_status_undelivered_docs.form.txt"))
    update = event.interaction
    assert isinstance(update, StatusUpdate)
    assert update.status is DeliveryStatus.FAILED
    assert update.error == DeliveryError(code="30003", title="undelivered")
    assert update.dedupe_key == f"SM{X32}:undelivered"
    assert update.metadata == {"twilio_status": "undelivered"}


def test_whatsapp_status_read(adapter: TwilioAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_whatsapp_status_read_docs.form.txt"))
    update = event.interaction
    assert isinstance(update, StatusUpdate)
    assert (update.channel, update.status, update.error) == ("whatsapp", DeliveryStatus.READ, None)
    assert update.endpoint == phone("+15558675310")


def test_status_map_covers_twilio_statuses() -> None:
    assert {name: status.value for name, status in STATUS_MAP.items()} == {
        "accepted": "queued",
        "scheduled": "queued",
        "queued": "queued",
        "sending": "queued",
        "sent": "sent",
        "delivered": "delivered",
        "read": "read",
        "undelivered": "failed",
        "failed": "failed",
        "canceled": "failed",
    }


def status_body(status: str, extra: dict[str, str] | None = None) -> str:
    pairs = {"MessageSid": "SM" + X32, "MessageStatus": status, "To": "+15558675310", "From": "+15017122661"}
    pairs.update(extra or {})
    return urlencode(pairs)


@settings(max_examples=60)
@given(order=st.permutations(["queued", "sent", "undelivered", "delivered"]))
def test_callbacks_in_any_order_end_failed(order: list[str]) -> None:
    """Status callbacks arrive unordered: applying them by rank ends on the failure."""
    adapter = TwilioAdapter(TwilioConfig(auth_token="t"))
    current = DeliveryStatus.QUEUED
    for status in order:
        [event] = adapter.parse(form_request(status_body(status)))
        assert isinstance(event.interaction, StatusUpdate)
        current = current.advance(event.interaction.status)
    assert current is DeliveryStatus.FAILED


def test_received_status_is_an_inbound_message(adapter: TwilioAdapter) -> None:
    body = status_body("received", {"From": "+14017122661", "To": "+15017122661", "Body": "hi"})
    [event] = adapter.parse(form_request(body))
    assert isinstance(event.interaction, Message)
    assert event.interaction.endpoint == phone("+14017122661")


# --- redelivery -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "twilio_sms_botbuilder.form.txt",
        "twilio_mms_media_botbuilder.form.txt",
        "twilio_mms_docs.form.txt",
        "twilio_whatsapp_button_docs.form.txt",
        "twilio_whatsapp_location_docs.form.txt",
        "twilio_status_delivered_docs.form.txt",
        "twilio_status_undelivered_docs.form.txt",
        "twilio_whatsapp_status_read_docs.form.txt",
    ],
)
def test_redelivery_gives_the_same_keys(adapter: TwilioAdapter, name: str) -> None:
    first = adapter.parse(fixture(name))
    later = fixture(name).model_copy(update={"received_at": RECEIVED + timedelta(hours=3)})
    again = adapter.parse(later)
    assert [e.interaction.dedupe_key for e in first] == [e.interaction.dedupe_key for e in again]
    assert [e.interaction.id for e in first] == [e.interaction.id for e in again]


# --- refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        pytest.param('{"MessageSid": "SM1"}', PayloadError, "JSON", id="json-body"),
        pytest.param("From=%2B14017122661&Body=hi", PayloadError, "no MessageSid", id="no-sid"),
        pytest.param("MessageSid=SM1&Body=hi", PayloadError, "no From", id="no-from"),
        pytest.param("MessageSid=SM1&From=%2B14017122661", PayloadError, "nothing to record", id="empty"),
        pytest.param(
            "MessageSid=SM1&From=%2B14017122661&NumMedia=11", PayloadError, "NumMedia", id="too-many-media"
        ),
        pytest.param(
            "MessageSid=SM1&From=%2B14017122661&NumMedia=two", PayloadError, "NumMedia", id="media-count-text"
        ),
        pytest.param(
            "MessageSid=SM1&From=%2B14017122661&NumMedia=1", PayloadError, "MediaUrl0", id="media-url-missing"
        ),
        pytest.param(
            "MessageSid=SM1&From=whatsapp%3A%2B14017122661&WaId=447911123456&Body=x",
            PayloadError,
            "WaId",
            id="waid-mismatch",
        ),
        pytest.param(
            "MessageSid=SM1&From=%2B14017122661&Latitude=north&Longitude=1",
            PayloadError,
            "Latitude",
            id="bad-latitude",
        ),
        pytest.param(
            "MessageSid=SM1&From=short&Body=hi", PayloadError, "not a phone number", id="not-a-phone"
        ),
        pytest.param("MessageSid=SM1&From=%ff&Body=hi", PayloadError, "UTF-8", id="bad-escape"),
        pytest.param(
            "MessageSid=SM1&From=messenger%3A1234&Body=hi", UnsupportedEvent, "messenger", id="messenger"
        ),
        pytest.param(
            status_body("partially_delivered"), UnsupportedEvent, "partially_delivered", id="unknown-status"
        ),
        pytest.param(
            "MessageStatus=sent&To=%2B15558675310", PayloadError, "no MessageSid", id="status-no-sid"
        ),
    ],
)
def test_refused(adapter: TwilioAdapter, body: str, error: type[OmnicxError], match: str) -> None:
    with pytest.raises(error, match=match):
        adapter.parse(form_request(body))


def test_invalid_utf8_body_is_refused(adapter: TwilioAdapter) -> None:
    with pytest.raises(PayloadError):
        adapter.parse(form_request(b"MessageSid=SM1&Body=\xff\xfe"))


def test_body_size_limit(adapter: TwilioAdapter) -> None:
    small = TwilioAdapter(TwilioConfig(auth_token="t", max_body_bytes=100))
    with pytest.raises(PayloadError, match="more than the 100 allowed"):
        small.parse(fixture("twilio_sms_botbuilder.form.txt"))


_form_text = st.text(max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(
        [
            "twilio_sms_botbuilder.form.txt",
            "twilio_mms_docs.form.txt",
            "twilio_whatsapp_button_docs.form.txt",
            "twilio_status_undelivered_docs.form.txt",
        ]
    ),
    drop=st.sets(st.integers(0, 40), max_size=5),
    replace=st.dictionaries(st.integers(0, 40), st.one_of(_form_text, st.just("9" * 5000)), max_size=4),
    tail=st.binary(max_size=8),
)
def test_damaged_payloads_raise_only_omnicx_errors(
    base: str, drop: set[int], replace: dict[int, str], tail: bytes
) -> None:
    adapter = TwilioAdapter(TwilioConfig(auth_token="t"))
    pairs = parse_qsl((FIXTURES / base).read_text(), keep_blank_values=True)
    damaged = [(n, replace.get(i, v)) for i, (n, v) in enumerate(pairs) if i not in drop]
    try:
        events = adapter.parse(form_request(urlencode(damaged).encode() + tail))
    except OmnicxError:
        return
    assert all(isinstance(e, InboundEvent) for e in events)


# --- outbound -------------------------------------------------------------------------

AUTH = "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2szbg=="  # base64("AC0123…ef:tok3n")
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def test_outbound_sms(adapter: TwilioAdapter) -> None:
    built = adapter.build_outbound(
        OutboundMessage(text="Your order shipped & is on its way"), phone("+14017122661")
    )
    assert built.method == "POST"
    assert built.url == MESSAGES_URL
    assert built.headers == {
        "authorization": AUTH,
        "content-type": "application/x-www-form-urlencoded",
        "accept": "application/json",
    }
    assert built.body == b"To=%2B14017122661&From=%2B15017122661&Body=Your+order+shipped+%26+is+on+its+way"


def test_outbound_whatsapp_with_media_from_sender(adapter: TwilioAdapter) -> None:
    message = OutboundMessage(
        text="Here is your invoice",
        media_url="https://example.com/invoice.pdf",
        sender=Identifier(kind="twilio_address", value="whatsapp:+14155238886"),
    )
    built = adapter.build_outbound(message, phone("+14017122661"))
    assert built.body == (
        b"To=whatsapp%3A%2B14017122661&From=whatsapp%3A%2B14155238886&Body=Here+is+your+invoice"
        b"&MediaUrl=https%3A%2F%2Fexample.com%2Finvoice.pdf"
    )


def test_outbound_template_through_messaging_service() -> None:
    adapter = TwilioAdapter(
        TwilioConfig(
            auth_token="tok3n",
            account_sid=ACCOUNT,
            messaging_service_sid="MG0123456789abcdef0123456789abcdef",
            key_sid="SK0123456789abcdef0123456789abcdef",
            key_secret="k3ysecret",
        )
    )
    message = OutboundMessage(
        template_name="HX0123456789abcdef0123456789abcdef", template_parameters=("Ana", "3pm")
    )
    built = adapter.build_outbound(message, phone("+14017122661"))
    assert (
        built.headers["authorization"] == "Basic U0swMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjprM3lzZWNyZXQ="
    )
    assert built.body == (
        b"To=%2B14017122661&MessagingServiceSid=MG0123456789abcdef0123456789abcdef"
        b"&ContentSid=HX0123456789abcdef0123456789abcdef"
        b"&ContentVariables=%7B%221%22%3A%22Ana%22%2C%222%22%3A%223pm%22%7D"
    )


def test_outbound_body_cannot_smuggle_fields(adapter: TwilioAdapter) -> None:
    built = adapter.build_outbound(OutboundMessage(text="hi&To=+19999999999\r\nX: 1"), phone("+14017122661"))
    assert built.body == b"To=%2B14017122661&From=%2B15017122661&Body=hi%26To%3D%2B19999999999%0D%0AX%3A+1"


@pytest.mark.parametrize(
    ("config", "message", "endpoint", "error"),
    [
        pytest.param(
            {"auth_token": "t"},
            OutboundMessage(text="x"),
            phone("+14017122661"),
            ConfigurationError,
            id="no-account",
        ),
        pytest.param(
            {"auth_token": "t", "account_sid": ACCOUNT},
            OutboundMessage(text="x"),
            phone("+14017122661"),
            ConfigurationError,
            id="no-sender",
        ),
        pytest.param(
            {"auth_token": "t", "account_sid": ACCOUNT, "default_sender": "+15017122661"},
            OutboundMessage(),
            phone("+14017122661"),
            ValidationError,
            id="empty",
        ),
        pytest.param(
            {"auth_token": "t", "account_sid": ACCOUNT, "default_sender": "+15017122661"},
            OutboundMessage(text="x"),
            Identifier(kind="email", value="a@b.co"),
            ValidationError,
            id="email-endpoint",
        ),
        pytest.param(
            {"auth_token": "t", "account_sid": ACCOUNT},
            OutboundMessage(text="x", sender=Identifier(kind="email", value="a@b.co")),
            phone("+14017122661"),
            ValidationError,
            id="email-sender",
        ),
        pytest.param(
            {"auth_token": "t\r\nX: 1", "account_sid": ACCOUNT, "default_sender": "+15017122661"},
            OutboundMessage(text="x"),
            phone("+14017122661"),
            ConfigurationError,
            id="token-with-newline",
        ),
    ],
)
def test_outbound_refused(
    config: dict[str, str], message: OutboundMessage, endpoint: Identifier, error: type[OmnicxError]
) -> None:
    with pytest.raises(error):
        TwilioAdapter(TwilioConfig(**config)).build_outbound(message, endpoint)  # type: ignore[arg-type]


# --- the conformance kit --------------------------------------------------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}
KIT_AT = "2024-01-01T00:00:00+00:00"  # GoldenCase's default received_at: Twilio bodies carry no time


class TestTwilioContract(ChannelAdapterContract):
    adapter_class = TwilioAdapter
    config = TwilioConfig(auth_token="tok3n", account_sid=ACCOUNT, default_sender="+15017122661")
    wrong_config = TwilioConfig(
        auth_token="not-the-token", account_sid=ACCOUNT, default_sender="+15017122661"
    )
    signature_headers = ("x-twilio-signature",)
    outbound_endpoint = Identifier(kind="phone", value="+14017122661")
    golden_cases = (
        GoldenCase.from_file(
            "sms_botbuilder",
            FIXTURES / "twilio_sms_botbuilder.form.txt",
            [
                {
                    "type": "message",
                    "channel": "sms",
                    "dedupe_key": "SMc56324aa4a31735561b7205472192d68",
                    "occurred_at": KIT_AT,
                    "direction": "inbound",
                    "author": "customer",
                    "endpoint": "phone:+541138050810",
                    "identifiers": ["phone:+541138050810 (verified)"],
                    "text": "Hello",
                    "parts": ["text"],
                    "platform_message_id": "SMc56324aa4a31735561b7205472192d68",
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "mms_media_botbuilder",
            FIXTURES / "twilio_mms_media_botbuilder.form.txt",
            [
                {
                    "dedupe_key": "SMa56324aa4a31735561b7205472192d68",
                    "endpoint": "phone:+571138050810",
                    "parts": ["text", "media:file"],
                }
            ],
            headers=FORM,
        ),
        GoldenCase(
            name="mms_botbuilder_dict_placeholder_number",
            request=inbound_request(dict_fixture_wire_body(), headers=FORM),
            raises=PayloadError,
        ),
        GoldenCase.from_file(
            "mms_docs",
            FIXTURES / "twilio_mms_docs.form.txt",
            [
                {
                    "dedupe_key": "MM" + X32,
                    "endpoint": "phone:+14017122661",
                    "parts": ["text", "media:image", "media:document"],
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "whatsapp_button",
            FIXTURES / "twilio_whatsapp_button_docs.form.txt",
            [
                {
                    "channel": "whatsapp",
                    "endpoint": "phone:+14017122661",
                    "identifiers": ["phone:+14017122661 (verified)"],
                    "author_name": "Ana",
                    "reply_to": "MM" + "Y" * 32,
                    "parts": ["interactive_reply"],
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "whatsapp_location",
            FIXTURES / "twilio_whatsapp_location_docs.form.txt",
            [{"channel": "whatsapp", "parts": ["location"]}],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "status_delivered",
            FIXTURES / "twilio_status_delivered_docs.form.txt",
            [
                {
                    "type": "status",
                    "channel": "sms",
                    "dedupe_key": f"SM{X32}:delivered",
                    "direction": "outbound",
                    "endpoint": "phone:+15558675310",
                    "identifiers": ["phone:+15558675310 (asserted)"],
                    "target_message_id": "SM" + X32,
                    "status": "delivered",
                    "raw_type": "status_callback",
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "status_undelivered",
            FIXTURES / "twilio_status_undelivered_docs.form.txt",
            [{"dedupe_key": f"SM{X32}:undelivered", "status": "failed"}],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "whatsapp_status_read",
            FIXTURES / "twilio_whatsapp_status_read_docs.form.txt",
            [{"channel": "whatsapp", "dedupe_key": f"SM{X32}:read", "status": "read"}],
            headers=FORM,
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, TwilioConfig)
        return sign_request(request, config.auth_token.get_secret_value())


def test_too_many_fields_are_refused(adapter: TwilioAdapter) -> None:
    body = "&".join(f"F{i}=x" for i in range(1001))
    with pytest.raises(PayloadError, match="at most 1000 fields"):
        adapter.parse(form_request(body))


def test_lone_surrogate_in_the_url_is_refused(adapter: TwilioAdapter) -> None:
    # InboundRequest refuses such a URL; model_copy(update=...) does not validate, so it can get through
    url = "https://example.com/twilio/sms?MessageSid=SM\ud800&From=%2B14017122661"
    request = form_request(b"Body=hi").model_copy(update={"url": url})
    with pytest.raises(PayloadError, match="query string"):
        adapter.parse(request)
    with pytest.raises(SignatureError, match="URL cannot be read"):
        adapter.verify(request.model_copy(update={"headers": {"x-twilio-signature": "abc="}}))


@settings(max_examples=150)
@given(text=st.text(min_size=1, max_size=300), media=st.none() | st.text(min_size=1, max_size=80))
def test_outbound_body_round_trips_any_text(text: str, media: str | None) -> None:
    """Whatever the text, the form body decodes back to exactly the fields sent, nothing more."""
    adapter = TwilioAdapter(
        TwilioConfig(auth_token="tok3n", account_sid=ACCOUNT, default_sender="+15017122661")
    )
    try:
        text.encode("utf-8")
        (media or "").encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be sent anywhere
    built = adapter.build_outbound(OutboundMessage(text=text, media_url=media), phone("+14017122661"))
    expected = [("To", "+14017122661"), ("From", "+15017122661"), ("Body", text)]
    if media is not None:
        expected.append(("MediaUrl", media))
    assert parse_qsl(built.body.decode("ascii"), keep_blank_values=True, strict_parsing=True) == expected
    assert all("\r" not in v and "\n" not in v for v in built.headers.values())
