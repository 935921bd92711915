"""Webform details beyond the contract."""

from __future__ import annotations

import pytest

from omnicx.channels.webform import WebformAdapter, WebformConfig
from omnicx.errors import ConfigurationError, PayloadError, SignatureError
from omnicx.models import Message
from omnicx.testing import inbound_request

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}


def parse(body: str, headers: dict[str, str], **config: object) -> Message:
    events = WebformAdapter(WebformConfig.model_validate(config)).parse(
        inbound_request(body, headers=headers)
    )
    message = events[0].interaction
    assert isinstance(message, Message)
    return message


def test_national_phone_needs_the_default_region() -> None:
    body = "phone=%28415%29+555-0123&message=call+me"
    assert str(parse(body, FORM, default_region="US").endpoint) == "phone:+14155550123"
    with pytest.raises(PayloadError, match="no valid email or phone"):
        parse(body, FORM)


def test_without_email_or_phone_nobody_could_be_answered() -> None:
    with pytest.raises(PayloadError, match="add an 'email' or 'phone' field"):
        parse('{"name": "Ana", "message": "hi"}', JSON)


def test_same_body_gives_same_key_and_different_body_another() -> None:
    first = parse("email=a%40example.com&message=hi", FORM)
    again = parse("email=a%40example.com&message=hi", FORM)
    other = parse("email=a%40example.com&message=hi!", FORM)
    assert first.dedupe_key == again.dedupe_key
    assert first.dedupe_key != other.dedupe_key


def test_body_without_content_type_is_sniffed() -> None:
    assert str(parse('{"email": "a@example.com"}', {}).endpoint) == "email:a@example.com"
    assert str(parse("email=a%40example.com", {}).endpoint) == "email:a@example.com"


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        ('{"email": "a@example.com", "address": {"city": "Paris"}}', JSON, "'address' must be a string"),
        ("[1, 2]", JSON, "must be a JSON object"),
        ("email=a%40example.com", {"content-type": "text/plain"}, "application/json or"),
        ('{"email": "a@example.com", "submitted_at": "yesterday-ish"}', JSON, "submitted_at"),
        ("email=%FF", FORM, "not UTF-8"),
    ],
    ids=["nested", "array", "content-type", "bad-time", "bad-escape"],
)
def test_malformed_submissions_say_what_is_wrong(body: str, headers: dict[str, str], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse(body, headers)


def test_without_a_secret_every_request_verifies_and_with_one_it_is_required() -> None:
    request = inbound_request("email=a%40example.com", headers=FORM)
    WebformAdapter().verify(request)
    with pytest.raises(SignatureError, match="lacks"):
        WebformAdapter(WebformConfig(secret="s3cret-s3cret")).verify(request)


def test_unknown_region_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="default_region"):
        WebformAdapter({"default_region": "XX"})
