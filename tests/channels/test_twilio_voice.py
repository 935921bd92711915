"""Twilio Voice adapter: call status, recording and transcription callbacks → CallRecord.

Golden payloads are in tests/fixtures/channels (see tests/fixtures/SOURCES.md); expected
records are written by hand from the payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.channels._base import AdapterConfig
from omnicx.channels._twilio_signature import sign_request
from omnicx.channels.twilio_voice import CALL_STATUS_MAP, TwilioVoiceAdapter, TwilioVoiceConfig
from omnicx.errors import OmnicxError, PayloadError, UnsupportedEvent
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    CallRecord,
    CallStatus,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    ObservedIdentifier,
    RecordingRef,
)
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures" / "channels"
RECEIVED = datetime(2026, 11, 24, 12, 0, 5, tzinfo=UTC)
X32 = "X" * 32
CALL = "CA" + X32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{X32}/Recordings/RE{X32}"


def form_request(body: bytes | str, url: str = "https://example.com/twilio/voice") -> InboundRequest:
    raw = body.encode() if isinstance(body, str) else body
    return InboundRequest(
        url=url, headers={"content-type": "application/x-www-form-urlencoded"}, body=raw, received_at=RECEIVED
    )


def fixture(name: str, url: str = "https://example.com/twilio/voice") -> InboundRequest:
    return form_request((FIXTURES / name).read_bytes(), url)


def params(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / name).read_text(), keep_blank_values=True))


def phone(value: str) -> Identifier:
    return Identifier(kind="phone", value=value)


@pytest.fixture
def adapter() -> TwilioVoiceAdapter:
    return TwilioVoiceAdapter(TwilioVoiceConfig(auth_token="tok3n"))


def test_incoming_call(adapter: TwilioVoiceAdapter) -> None:
    assert adapter.parse(fixture("twilio_voice_incoming_docs.form.txt")) == [
        InboundEvent(
            interaction=CallRecord(
                channel="voice",
                adapter="twilio_voice",
                dedupe_key=f"{CALL}:status:ringing",
                occurred_at=RECEIVED,  # the incoming-call request has no Timestamp
                received_at=RECEIVED,
                direction=Direction.INBOUND,
                author=Author(role=AuthorRole.CUSTOMER, id="+15558675310"),
                endpoint=phone("+15558675310"),
                call_id=CALL,
                status=CallStatus.RINGING,
                metadata={"twilio_direction": "inbound", "account_sid": "AC" + X32},
            ),
            identifiers=(ObservedIdentifier(identifier=phone("+15558675310"), assurance=Assurance.VERIFIED),),
            raw_type="call_status",
        )
    ]


def test_outbound_call_completed(adapter: TwilioVoiceAdapter) -> None:
    assert adapter.parse(fixture("twilio_voice_status_completed_docs.form.txt")) == [
        InboundEvent(
            interaction=CallRecord(
                channel="voice",
                adapter="twilio_voice",
                dedupe_key=f"{CALL}:status:completed:3",
                occurred_at=datetime(2026, 11, 24, 10, 15, 42, tzinfo=UTC),  # Timestamp
                received_at=RECEIVED,
                direction=Direction.OUTBOUND,
                author=Author(role=AuthorRole.AGENT),
                endpoint=phone("+15558675310"),  # an outbound call's customer is To
                call_id=CALL,
                status=CallStatus.COMPLETED,
                duration_seconds=49,
                metadata={"twilio_direction": "outbound-api", "account_sid": "AC" + X32},
            ),
            identifiers=(ObservedIdentifier(identifier=phone("+15558675310"), assurance=Assurance.ASSERTED),),
            raw_type="call_status",
        )
    ]


def test_outbound_call_no_answer(adapter: TwilioVoiceAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_voice_status_no_answer_docs.form.txt"))
    record = event.interaction
    assert isinstance(record, CallRecord)
    assert (record.status, record.duration_seconds, record.dedupe_key) == (
        CallStatus.NO_ANSWER,
        0,
        "CA" + "Y" * 32 + ":status:no-answer:2",
    )


def test_recording_callback_without_caller_is_unsupported(adapter: TwilioVoiceAdapter) -> None:
    with pytest.raises(UnsupportedEvent, match="names no caller"):
        adapter.parse(fixture("twilio_voice_recording_docs.form.txt"))


def test_recording_callback_with_caller_in_callback_url(adapter: TwilioVoiceAdapter) -> None:
    url = "https://example.com/twilio/recording?" + urlencode(
        {"From": "+15558675310", "To": "+15017122661", "Direction": "inbound"}
    )
    [event] = adapter.parse(fixture("twilio_voice_recording_docs.form.txt", url))
    assert event == InboundEvent(
        interaction=CallRecord(
            channel="voice",
            adapter="twilio_voice",
            dedupe_key=f"{CALL}:recording:RE{X32}:completed",
            occurred_at=RECEIVED,
            received_at=RECEIVED,
            direction=Direction.INBOUND,
            author=Author(role=AuthorRole.CUSTOMER, id="+15558675310"),
            endpoint=phone("+15558675310"),
            call_id=CALL,
            status=CallStatus.IN_PROGRESS,  # a recording exists: the call was at least answered
            recordings=(RecordingRef(url=RECORDING_URL, platform_id="RE" + X32, duration_seconds=14),),
            metadata={
                "twilio_direction": "inbound",
                "account_sid": "AC" + X32,
                "recording_status": "completed",
            },
        ),
        identifiers=(ObservedIdentifier(identifier=phone("+15558675310"), assurance=Assurance.VERIFIED),),
        raw_type="recording",
    )


def test_transcription(adapter: TwilioVoiceAdapter) -> None:
    [event] = adapter.parse(fixture("twilio_voice_transcription_docs.form.txt"))
    record = event.interaction
    assert isinstance(record, CallRecord)
    assert record.dedupe_key == f"{CALL}:transcription:TR{X32}"
    assert record.transcript == "Hi, this is Ana calling about my order. Please call me back."
    assert record.status is CallStatus.COMPLETED
    assert record.recordings == (RecordingRef(url=RECORDING_URL, platform_id="RE" + X32),)
    assert record.endpoint == phone("+15558675310")
    assert event.raw_type == "transcription"
    assert record.metadata["transcription_status"] == "completed"


def test_failed_transcription_has_no_transcript(adapter: TwilioVoiceAdapter) -> None:
    body = params("twilio_voice_transcription_docs.form.txt")
    body.update(TranscriptionStatus="failed", TranscriptionText="")
    [event] = adapter.parse(form_request(urlencode(body)))
    assert isinstance(event.interaction, CallRecord)
    assert event.interaction.transcript is None
    assert event.interaction.metadata["transcription_status"] == "failed"


def test_status_callback_with_recording(adapter: TwilioVoiceAdapter) -> None:
    body = params("twilio_voice_status_completed_docs.form.txt")
    body.update(RecordingUrl=RECORDING_URL, RecordingSid="RE" + X32, RecordingDuration="47")
    [event] = adapter.parse(form_request(urlencode(body)))
    assert isinstance(event.interaction, CallRecord)
    assert event.interaction.recordings == (
        RecordingRef(url=RECORDING_URL, platform_id="RE" + X32, duration_seconds=47),
    )


def test_outbound_dial_customer_is_to(adapter: TwilioVoiceAdapter) -> None:
    body = params("twilio_voice_status_completed_docs.form.txt")
    body["Direction"] = "outbound-dial"
    [event] = adapter.parse(form_request(urlencode(body)))
    assert event.interaction.direction is Direction.OUTBOUND
    assert event.interaction.endpoint == phone("+15558675310")


def test_failed_stir_shaken_attestation_downgrades_caller_to_asserted(adapter: TwilioVoiceAdapter) -> None:
    body = params("twilio_voice_incoming_docs.form.txt")
    body["StirVerstat"] = "TN-Validation-Failed-A"
    [event] = adapter.parse(form_request(urlencode(body)))
    assert [o.assurance for o in event.identifiers] == [Assurance.ASSERTED]
    body["StirVerstat"] = "TN-Validation-Passed-A"
    [event] = adapter.parse(form_request(urlencode(body)))
    assert [o.assurance for o in event.identifiers] == [Assurance.VERIFIED]


def test_every_call_status_maps() -> None:
    assert {k: v.value for k, v in CALL_STATUS_MAP.items()} == {
        "queued": "queued",
        "initiated": "queued",
        "ringing": "ringing",
        "in-progress": "in_progress",
        "completed": "completed",
        "busy": "busy",
        "no-answer": "no_answer",
        "failed": "failed",
        "canceled": "canceled",
    }


@pytest.mark.parametrize(
    "name",
    [
        "twilio_voice_incoming_docs.form.txt",
        "twilio_voice_status_completed_docs.form.txt",
        "twilio_voice_status_no_answer_docs.form.txt",
        "twilio_voice_transcription_docs.form.txt",
    ],
)
def test_redelivery_gives_the_same_keys(adapter: TwilioVoiceAdapter, name: str) -> None:
    first = adapter.parse(fixture(name))
    again = adapter.parse(fixture(name).model_copy(update={"received_at": RECEIVED + timedelta(hours=2)}))
    assert [e.interaction.dedupe_key for e in first] == [e.interaction.dedupe_key for e in again]


def test_each_status_of_one_call_has_its_own_key(adapter: TwilioVoiceAdapter) -> None:
    body = params("twilio_voice_status_completed_docs.form.txt")
    keys = set()
    for sequence, status in enumerate(["initiated", "ringing", "in-progress", "completed"]):
        body.update(CallStatus=status, SequenceNumber=str(sequence))
        [event] = adapter.parse(form_request(urlencode(body)))
        keys.add(event.interaction.dedupe_key)
    assert len(keys) == 4


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        pytest.param({"CallStatus": "exploded"}, UnsupportedEvent, "exploded", id="unknown-status"),
        pytest.param({"Direction": "sideways"}, UnsupportedEvent, "sideways", id="unknown-direction"),
        pytest.param({"From": "client:agent42"}, UnsupportedEvent, "not a phone number", id="sdk-client"),
        pytest.param({"From": "sip:ana@example.com"}, UnsupportedEvent, "not a phone number", id="sip"),
        pytest.param({"From": "12"}, PayloadError, "not a phone number", id="short"),
        pytest.param({"CallSid": ""}, PayloadError, "no CallSid", id="no-callsid"),
        pytest.param({"CallStatus": ""}, PayloadError, "no CallStatus", id="no-status"),
        pytest.param({"CallDuration": "-3"}, PayloadError, "CallDuration", id="negative-duration"),
        pytest.param({"Timestamp": "yesterday-ish"}, PayloadError, "Timestamp", id="bad-timestamp"),
        pytest.param({"SequenceNumber": "x"}, PayloadError, "SequenceNumber", id="bad-sequence"),
    ],
)
def test_refused(
    adapter: TwilioVoiceAdapter, change: dict[str, str], error: type[OmnicxError], match: str
) -> None:
    body = params("twilio_voice_incoming_docs.form.txt")
    body.update(change)
    with pytest.raises(error, match=match):
        adapter.parse(form_request(urlencode(body)))


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(
        [
            "twilio_voice_incoming_docs.form.txt",
            "twilio_voice_status_completed_docs.form.txt",
            "twilio_voice_recording_docs.form.txt",
            "twilio_voice_transcription_docs.form.txt",
        ]
    ),
    drop=st.sets(st.integers(0, 30), max_size=5),
    replace=st.dictionaries(
        st.integers(0, 30), st.one_of(st.text(max_size=40), st.just("9" * 5000)), max_size=4
    ),
)
def test_damaged_payloads_raise_only_omnicx_errors(
    base: str, drop: set[int], replace: dict[int, str]
) -> None:
    adapter = TwilioVoiceAdapter(TwilioVoiceConfig(auth_token="t"))
    pairs = parse_qsl((FIXTURES / base).read_text(), keep_blank_values=True)
    damaged = [(n, replace.get(i, v)) for i, (n, v) in enumerate(pairs) if i not in drop]
    try:
        events = adapter.parse(form_request(urlencode(damaged)))
    except OmnicxError:
        return
    assert all(isinstance(e, InboundEvent) for e in events)


# --- the conformance kit --------------------------------------------------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}


class TestTwilioVoiceContract(ChannelAdapterContract):
    adapter_class = TwilioVoiceAdapter
    config = TwilioVoiceConfig(auth_token="tok3n")
    wrong_config = TwilioVoiceConfig(auth_token="not-the-token")
    signature_headers = ("x-twilio-signature",)
    golden_cases = (
        GoldenCase.from_file(
            "incoming_call",
            FIXTURES / "twilio_voice_incoming_docs.form.txt",
            [
                {
                    "type": "call",
                    "channel": "voice",
                    "adapter": "twilio_voice",
                    "dedupe_key": f"{CALL}:status:ringing",
                    "occurred_at": "2024-01-01T00:00:00+00:00",
                    "direction": "inbound",
                    "author": "customer",
                    "endpoint": "phone:+15558675310",
                    "identifiers": ["phone:+15558675310 (verified)"],
                    "call_id": CALL,
                    "status": "ringing",
                    "duration_seconds": None,
                    "recordings": 0,
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "outbound_completed",
            FIXTURES / "twilio_voice_status_completed_docs.form.txt",
            [
                {
                    "dedupe_key": f"{CALL}:status:completed:3",
                    "occurred_at": "2026-11-24T10:15:42+00:00",
                    "direction": "outbound",
                    "author": "agent",
                    "endpoint": "phone:+15558675310",
                    "identifiers": ["phone:+15558675310 (asserted)"],
                    "status": "completed",
                    "duration_seconds": 49.0,
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "outbound_no_answer",
            FIXTURES / "twilio_voice_status_no_answer_docs.form.txt",
            [{"status": "no_answer", "duration_seconds": 0.0}],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "recording_without_caller",
            FIXTURES / "twilio_voice_recording_docs.form.txt",
            headers=FORM,
            raises=UnsupportedEvent,
        ),
        GoldenCase.from_file(
            "recording_with_caller_in_url",
            FIXTURES / "twilio_voice_recording_docs.form.txt",
            [
                {
                    "dedupe_key": f"{CALL}:recording:RE{X32}:completed",
                    "endpoint": "phone:+15558675310",
                    "status": "in_progress",
                    "recordings": 1,
                    "raw_type": "recording",
                }
            ],
            url="https://example.com/twilio/recording?From=%2B15558675310&To=%2B15017122661&Direction=inbound",
            headers=FORM,
        ),
        GoldenCase.from_file(
            "transcription",
            FIXTURES / "twilio_voice_transcription_docs.form.txt",
            [
                {
                    "dedupe_key": f"{CALL}:transcription:TR{X32}",
                    "status": "completed",
                    "transcript": "Hi, this is Ana calling about my order. Please call me back.",
                    "recordings": 1,
                }
            ],
            headers=FORM,
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, TwilioVoiceConfig)
        return sign_request(request, config.auth_token.get_secret_value())


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("Tue, 24 Nov 2026 10:15:42 +0000", datetime(2026, 11, 24, 10, 15, 42, tzinfo=UTC)),
        ("Tue, 24 Nov 2026 10:15:42 -0000", datetime(2026, 11, 24, 10, 15, 42, tzinfo=UTC)),
        ("Tue, 24 Nov 2026 12:15:42 +0200", datetime(2026, 11, 24, 10, 15, 42, tzinfo=UTC)),
    ],
)
def test_timestamp_is_rfc_2822_in_utc(
    adapter: TwilioVoiceAdapter, timestamp: str, expected: datetime
) -> None:
    body = params("twilio_voice_status_completed_docs.form.txt")
    body["Timestamp"] = timestamp
    [event] = adapter.parse(form_request(urlencode(body)))
    assert event.interaction.occurred_at == expected


@pytest.mark.parametrize(
    "timestamp", ["2026-11-24T10:15:42Z", "1764000000", "Tue, 24 Nov 2026 10:15:99 +0000"]
)
def test_timestamp_that_is_not_rfc_2822_is_refused(adapter: TwilioVoiceAdapter, timestamp: str) -> None:
    body = params("twilio_voice_status_completed_docs.form.txt")
    body["Timestamp"] = timestamp
    with pytest.raises(PayloadError, match="not an RFC 2822 date"):
        adapter.parse(form_request(urlencode(body)))
