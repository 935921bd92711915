"""Behaviour of the models a user notices: validation, derived ids, ordering of statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnicx import errors
from omnicx import models as m
from omnicx.errors import ValidationError as OmnicxValidationError

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
PHONE = m.Identifier(kind="phone", value="+14155550123")


def message(**changes: object) -> m.Message:
    fields: dict[str, object] = {
        "channel": "whatsapp",
        "adapter": "whatsapp",
        "dedupe_key": "wamid.HBgL",
        "occurred_at": T0,
        "received_at": T0,
        "direction": "inbound",
        "author": {"role": "customer"},
        "endpoint": PHONE,
        "parts": [{"type": "text", "text": "hello"}],
    }
    fields.update(changes)
    return m.Message.model_validate(fields)


def test_models_are_frozen_and_refuse_unknown_fields() -> None:
    msg = message()
    with pytest.raises(OmnicxValidationError, match="frozen; change it by copy"):
        msg.subject = "x"  # type: ignore[misc]
    assert msg.model_copy(update={"subject": "x"}).subject == "x"
    with pytest.raises(OmnicxValidationError, match="colour: Extra inputs are not permitted"):
        message(colour="red")


def test_naive_datetimes_are_refused_and_aware_ones_become_utc() -> None:
    with pytest.raises(OmnicxValidationError, match="naive datetime"):
        message(occurred_at=datetime(2024, 3, 1, 9, 30))
    paris = message(occurred_at=datetime(2024, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))))
    assert paris.occurred_at == T0
    assert paris.occurred_at.tzinfo is UTC


def test_interaction_id_is_stable_and_depends_on_adapter_and_key() -> None:
    assert message().id == message().id == m.interaction_id("whatsapp", "wamid.HBgL")
    assert message(dedupe_key="wamid.other").id != message().id
    assert message(adapter="twilio").id != message().id
    assert message(id="custom").id == "custom"


def test_bad_input_raises_the_omnicx_error_with_pydantic_details() -> None:
    with pytest.raises(errors.OmnicxError) as info:
        m.Identifier.model_validate_json('{"kind": "email"}')
    assert isinstance(info.value, ValueError)
    assert info.value.context["errors"][0]["loc"] == ("value",)
    assert "value: Field required" in str(info.value)
    with pytest.raises(errors.ValidationError, match="invalid Interaction"):
        m.interaction_adapter.validate_json(b"[]")


def test_discriminated_union_picks_the_class_by_type() -> None:
    data = message().model_dump()
    assert isinstance(m.interaction_adapter.validate_python(data), m.Message)
    data["type"] = "note"
    with pytest.raises(OmnicxValidationError):
        m.interaction_adapter.validate_python(data)  # a note has text, not parts


def test_message_text_joins_plain_parts_and_falls_back_to_captions() -> None:
    msg = message(
        parts=[{"type": "text", "text": "a"}, {"type": "text", "text": "<b>a</b>", "format": "html"}]
    )
    assert msg.text == "a"
    media = message(
        parts=[{"type": "media", "media_kind": "image", "platform_media_id": "1", "caption": "look"}]
    )
    assert media.text == "look"


def test_media_needs_a_reference() -> None:
    with pytest.raises(OmnicxValidationError, match="url or a platform_media_id"):
        m.MediaPart(media_kind="image")


@pytest.mark.parametrize(
    ("scale", "good", "bad"),
    [("csat", [1, 5], [0, 6]), ("nps", [0, 10], [-1, 11]), ("ces", [1, 7], [0, 8])],
)
def test_rating_ranges(scale: str, good: list[int], bad: list[int]) -> None:
    base = message().model_dump(
        exclude={"parts", "subject", "new_text", "platform_message_id", "automated", "type", "id"}
    )
    for score in good:
        assert m.Rating.model_validate({**base, "scale": scale, "score": score}).score == score
    for score in bad:
        with pytest.raises(OmnicxValidationError, match=f"a {scale} score"):
            m.Rating.model_validate({**base, "scale": scale, "score": score})


def test_delivery_status_only_moves_forward() -> None:
    s = m.DeliveryStatus
    assert s.SENT.advance(s.DELIVERED) is s.DELIVERED
    assert s.READ.advance(s.DELIVERED) is s.READ  # a late "delivered" after "read" changes nothing
    assert s.FAILED.advance(s.SENT) is s.FAILED
    assert [x.rank for x in (s.QUEUED, s.SENT, s.DELIVERED, s.READ, s.FAILED)] == [0, 1, 2, 3, 4]


def test_assurance_order() -> None:
    a = m.Assurance
    assert a.VERIFIED.at_least(a.ASSERTED)
    assert a.ASSERTED.at_least(a.ASSERTED)
    assert not a.INFERRED.at_least(a.ASSERTED)


def test_identifier_shape_checks() -> None:
    with pytest.raises(OmnicxValidationError, match="needs its scope"):
        m.Identifier(kind="messenger_psid", value="123")
    with pytest.raises(OmnicxValidationError, match="white space or control"):
        m.Identifier(kind="email", value=" a@b.com")
    with pytest.raises(OmnicxValidationError):
        m.Identifier(kind="Bad Kind", value="x")
    assert str(m.Identifier(kind="instagram_igsid", value="42", scope="17841")) == "instagram_igsid@17841:42"


@pytest.mark.parametrize("text", ["", "no-colon", "Bad:x", "messenger_psid:1", 42])
def test_identifier_parse_refuses_garbage_with_an_omnicx_error(text: object) -> None:
    with pytest.raises(errors.ValidationError):
        m.Identifier.parse(text)  # type: ignore[arg-type]


def test_identifier_parse_keeps_colons_and_at_signs_in_the_value() -> None:
    ident = m.Identifier.parse("email:ana@example.com")
    assert (ident.kind, ident.value, ident.scope) == ("email", "ana@example.com", None)
    ident = m.Identifier.parse("chat_visitor@site-1:v:42")
    assert (ident.kind, ident.value, ident.scope) == ("chat_visitor", "v:42", "site-1")


def test_inbound_request_headers_are_case_insensitive_and_query_is_parsed() -> None:
    request = m.InboundRequest(
        url="https://h.example/hook?bodySHA256=ab&x=1&x=2",
        headers=[(b"X-Twilio-Signature", b"sig"), ("Accept", "a"), ("accept", "b")],
        body=b"{}",
        received_at=T0,
    )
    assert request.header("x-twilio-signature") == "sig"
    assert request.header("ACCEPT") == "a, b"
    assert request.header("missing") is None
    assert request.query == {"bodySHA256": ["ab"], "x": ["1", "2"]}


def test_metadata_is_bounded() -> None:
    with pytest.raises(OmnicxValidationError, match="more than the"):
        message(metadata={"blob": "x" * (17 * 1024)})
    deep: dict[str, object] = {}
    node = deep
    for _ in range(10):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    with pytest.raises(OmnicxValidationError, match="nests deeper"):
        message(metadata=deep)


def test_conversation_times_are_consistent() -> None:
    with pytest.raises(OmnicxValidationError, match="before opened_at"):
        m.Conversation(id="c", customer_id="k", opened_at=T0, last_activity_at=T0 - timedelta(seconds=1))
    with pytest.raises(OmnicxValidationError, match="needs resolved_at"):
        m.Conversation(id="c", customer_id="k", opened_at=T0, last_activity_at=T0, status="resolved")
