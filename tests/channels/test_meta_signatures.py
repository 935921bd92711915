"""X-Hub-Signature checks and the hub.challenge handshake shared by the three Meta adapters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from omnicx.channels import HandshakeResponse
from omnicx.channels._meta import hub_challenge, verify_hub_signature
from omnicx.channels.instagram import InstagramAdapter, InstagramConfig
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig
from omnicx.errors import ConfigurationError, PayloadError, SignatureError
from omnicx.models import InboundRequest

FIXTURES = Path(__file__).parent.parent / "fixtures"
VECTOR_BODY = (FIXTURES / "whatsapp_text_signed.raw.json").read_bytes()
VECTOR_SECRET = "1222e786b144d0e85b9f365372d93676"
VECTOR_SIGNATURE = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
RECEIVED = datetime(2024, 10, 29, 19, 58, tzinfo=UTC)


def request(
    body: bytes, headers: dict[str, str], *, method: str = "POST", url: str = "https://example.com/meta"
) -> InboundRequest:
    return InboundRequest(method=method, url=url, headers=headers, body=body, received_at=RECEIVED)


def adapters(secret: str) -> list[WhatsAppAdapter | MessengerAdapter | InstagramAdapter]:
    return [
        WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(secret))),
        MessengerAdapter(MessengerConfig(app_secret=SecretStr(secret))),
        InstagramAdapter(InstagramConfig(app_secret=SecretStr(secret))),
    ]


def test_the_documented_vector_is_511_bytes_without_newline() -> None:
    assert len(VECTOR_BODY) == 511
    assert not VECTOR_BODY.endswith(b"\n")


@pytest.mark.parametrize("adapter", adapters(VECTOR_SECRET), ids=lambda a: a.name)
def test_documented_vector_verifies(adapter: WhatsAppAdapter | MessengerAdapter | InstagramAdapter) -> None:
    assert adapter.verify(request(VECTOR_BODY, {"X-Hub-Signature-256": VECTOR_SIGNATURE})) is None


def test_header_name_is_case_insensitive_and_hex_case_is_ignored() -> None:
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(VECTOR_SECRET)))
    upper = "sha256=" + VECTOR_SIGNATURE.removeprefix("sha256=").upper()
    assert adapter.verify(request(VECTOR_BODY, {"x-hub-signature-256": upper})) is None


@pytest.mark.parametrize("adapter", adapters(VECTOR_SECRET), ids=lambda a: a.name)
def test_one_changed_byte_is_refused(adapter: WhatsAppAdapter | MessengerAdapter | InstagramAdapter) -> None:
    tampered = VECTOR_BODY.replace(b"Hey there!", b"Hey there?")
    with pytest.raises(SignatureError, match="does not match"):
        adapter.verify(request(tampered, {"X-Hub-Signature-256": VECTOR_SIGNATURE}))


def test_reserialised_json_does_not_verify() -> None:
    """The HMAC covers the bytes as sent: the same JSON with spaces is another body."""
    import json

    reserialised = json.dumps(json.loads(VECTOR_BODY)).encode()
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(VECTOR_SECRET)))
    with pytest.raises(SignatureError):
        adapter.verify(request(reserialised, {"X-Hub-Signature-256": VECTOR_SIGNATURE}))


@pytest.mark.parametrize("adapter", adapters("not-the-app-secret"), ids=lambda a: a.name)
def test_wrong_secret_is_refused(adapter: WhatsAppAdapter | MessengerAdapter | InstagramAdapter) -> None:
    with pytest.raises(SignatureError):
        adapter.verify(request(VECTOR_BODY, {"X-Hub-Signature-256": VECTOR_SIGNATURE}))


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": VECTOR_SIGNATURE.removeprefix("sha256=")},
        {"X-Hub-Signature-256": "sha1=" + VECTOR_SIGNATURE.removeprefix("sha256=")},
        {"X-Hub-Signature-256": "sha256=zz"},
    ],
    ids=["missing", "empty", "no-prefix", "wrong-prefix", "not-hex"],
)
def test_missing_or_malformed_header_is_refused(headers: dict[str, str]) -> None:
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(VECTOR_SECRET)))
    with pytest.raises(SignatureError):
        adapter.verify(request(VECTOR_BODY, headers))


def _sha1(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def test_legacy_sha1_header_verifies_when_sha256_is_absent() -> None:
    adapter = MessengerAdapter(MessengerConfig(app_secret=SecretStr(VECTOR_SECRET)))
    assert (
        adapter.verify(request(VECTOR_BODY, {"X-Hub-Signature": _sha1(VECTOR_SECRET, VECTOR_BODY)})) is None
    )


def test_legacy_sha1_can_be_turned_off() -> None:
    adapter = MessengerAdapter(MessengerConfig(app_secret=SecretStr(VECTOR_SECRET), accept_sha1=False))
    with pytest.raises(SignatureError, match="X-Hub-Signature-256"):
        adapter.verify(request(VECTOR_BODY, {"X-Hub-Signature": _sha1(VECTOR_SECRET, VECTOR_BODY)}))


def test_sha256_is_checked_when_both_headers_are_present() -> None:
    """A right SHA-1 does not rescue a wrong SHA-256 (no downgrade)."""
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(VECTOR_SECRET)))
    headers = {
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "X-Hub-Signature": _sha1(VECTOR_SECRET, VECTOR_BODY),
    }
    with pytest.raises(SignatureError):
        adapter.verify(request(VECTOR_BODY, headers))


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2048), secret=st.text(min_size=1, max_size=40), header=st.text(max_size=80))
def test_any_header_either_verifies_or_raises_signature_error(body: bytes, secret: str, header: str) -> None:
    signed = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    for given_header in (signed, header):
        try:
            verify_hub_signature(
                request(body, {"X-Hub-Signature-256": given_header}),
                SecretStr(secret),
                channel="whatsapp",
                accept_sha1=True,
            )
        except SignatureError:
            assert given_header != signed
        else:
            assert given_header.lower() == signed or given_header.strip().lower() == signed


# --- the GET hub.challenge handshake ------------------------------------------------------------

HANDSHAKE = (
    "https://example.com/meta?hub.mode=subscribe&hub.verify_token=meatball-42&hub.challenge=1158201444"
)


def test_handshake_returns_the_challenge() -> None:
    assert (
        hub_challenge(
            request(b"", {}, method="GET", url=HANDSHAKE), SecretStr("meatball-42"), channel="whatsapp"
        )
        == "1158201444"
    )


@pytest.mark.parametrize(
    ("adapter_class", "config_class"),
    [
        (WhatsAppAdapter, WhatsAppConfig),
        (MessengerAdapter, MessengerConfig),
        (InstagramAdapter, InstagramConfig),
    ],
)
def test_every_meta_adapter_answers_the_handshake(adapter_class: type, config_class: type) -> None:
    adapter = adapter_class(config_class(app_secret=SecretStr("s"), verify_token=SecretStr("meatball-42")))
    assert adapter.handshake(request(b"", {}, method="GET", url=HANDSHAKE)) == HandshakeResponse(
        body=b"1158201444"
    )


def test_wrong_verify_token_is_refused() -> None:
    with pytest.raises(SignatureError, match="verify_token"):
        hub_challenge(request(b"", {}, method="GET", url=HANDSHAKE), SecretStr("other"), channel="whatsapp")


def test_handshake_without_configured_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="verify_token"):
        hub_challenge(request(b"", {}, method="GET", url=HANDSHAKE), None, channel="messenger")


def test_other_modes_are_refused() -> None:
    url = HANDSHAKE.replace("subscribe", "unsubscribe")
    with pytest.raises(SignatureError, match="subscribe"):
        hub_challenge(request(b"", {}, method="GET", url=url), SecretStr("meatball-42"), channel="whatsapp")


def test_missing_challenge_is_a_payload_error() -> None:
    url = "https://example.com/meta?hub.mode=subscribe&hub.verify_token=meatball-42"
    with pytest.raises(PayloadError, match=r"hub\.challenge"):
        hub_challenge(request(b"", {}, method="GET", url=url), SecretStr("meatball-42"), channel="whatsapp")


@pytest.mark.parametrize(
    ("method", "url"),
    [("POST", HANDSHAKE), ("GET", "https://example.com/meta"), ("GET", "https://example.com/meta?foo=1")],
)
def test_requests_that_are_not_handshakes_give_none(method: str, url: str) -> None:
    assert (
        hub_challenge(
            request(b"{}", {}, method=method, url=url), SecretStr("meatball-42"), channel="whatsapp"
        )
        is None
    )
