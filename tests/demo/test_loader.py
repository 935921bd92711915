"""omnicx._demo's loader: the demo adapters, signing, and its errors."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx._demo import (
    DEMO_META_APP_SECRET,
    DEMO_TELEGRAM_SECRET_TOKEN,
    DEMO_TWILIO_AUTH_TOKEN,
    DEMO_WEBCHAT_SECRET,
    DEMO_WEBFORM_SECRET,
    DeliverStep,
    _load,
    demo_channels,
    demo_payload,
    demo_steps,
    sign,
)
from omnicx.channels import default_registry
from omnicx.errors import ConfigurationError, SignatureError
from omnicx.models import InboundRequest

WHEN = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
SECRETS = {
    "webchat": DEMO_WEBCHAT_SECRET,
    "whatsapp": DEMO_META_APP_SECRET,
    "messenger": DEMO_META_APP_SECRET,
    "twilio": DEMO_TWILIO_AUTH_TOKEN,
    "twilio_voice": DEMO_TWILIO_AUTH_TOKEN,
    "telegram": DEMO_TELEGRAM_SECRET_TOKEN,
    "webform": DEMO_WEBFORM_SECRET,
}


def test_demo_channels_are_the_registered_builtin_adapters() -> None:
    registry = default_registry()
    for name, adapter in demo_channels().items():
        assert type(adapter) is registry.get(name)
        assert adapter.name == name


def test_loading_is_deterministic() -> None:
    assert demo_steps() == demo_steps()


def test_a_step_carries_the_shipped_payload() -> None:
    first = demo_steps()[0]
    assert isinstance(first, DeliverStep)
    assert first.request.body == demo_payload(first.file)
    assert first.request.header("x-omnicx-signature", "").startswith("v1=")


def test_a_missing_payload_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"payloads/999-nothing\.json"):
        demo_payload("payloads/999-nothing.json")


def test_signing_an_unknown_channel_is_a_configuration_error() -> None:
    request = InboundRequest(url="https://h.example/x", body=b"{}", received_at=WHEN)
    with pytest.raises(ConfigurationError, match="no signing scheme for channel 'fax'"):
        sign("fax", request, "s")


@settings(max_examples=60)
@given(
    channel=st.sampled_from(["webchat", "whatsapp", "messenger", "telegram", "webform"]),
    body=st.binary(max_size=300),
)
def test_sign_round_trips_through_verify_for_body_signatures(channel: str, body: bytes) -> None:
    request = InboundRequest(url=f"https://h.example/{channel}", body=body, received_at=WHEN)
    adapter = demo_channels()[channel]
    adapter.verify(sign(channel, request, SECRETS[channel]))
    with pytest.raises(SignatureError):
        adapter.verify(sign(channel, request, "another-secret_0123456789"))


@settings(max_examples=60)
@given(
    channel=st.sampled_from(["twilio", "twilio_voice"]),
    params=st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=30), max_size=6),
)
def test_sign_round_trips_through_verify_for_twilio(channel: str, params: dict[str, str]) -> None:
    request = InboundRequest(
        url=f"https://h.example/{channel}", body=urlencode(params).encode(), received_at=WHEN
    )
    adapter = demo_channels()[channel]
    adapter.verify(sign(channel, request, SECRETS[channel]))
    with pytest.raises(SignatureError):
        adapter.verify(sign(channel, request, "another-secret"))


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"format": 1}', "no 'steps' list"),
        (b'{"steps": [{"step": "teleport", "id": "s001"}]}', "unknown demo step kind 'teleport'"),
        (b'{"steps": [{"step": "link", "id": "s001", "a": "email:a@b.example"}]}', "step 's001' is invalid"),
        (
            b'{"steps": [{"step": "split", "id": "s001", "of": "nonsense", "groups": [], '
            b'"actor": "x", "reason": "y", "at": "2026-11-09T08:00:00Z"}]}',
            "step 's001' is invalid",
        ),
    ],
)
def test_a_broken_manifest_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, manifest: bytes, message: str
) -> None:
    monkeypatch.setattr(_load, "demo_payload", lambda file: manifest)
    with pytest.raises(ConfigurationError, match=message):
        demo_steps()
