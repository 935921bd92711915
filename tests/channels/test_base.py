"""ChannelAdapter's shared behaviour: configuration, body size limit, defaults."""

from __future__ import annotations

import pytest

from omnicx.channels import AdapterConfig, HandshakeResponse, OutboundMessage
from omnicx.channels.email import EmailAdapter, EmailConfig
from omnicx.channels.webchat import WebchatAdapter, WebchatConfig
from omnicx.channels.webform import WebformAdapter
from omnicx.errors import ConfigurationError, PayloadError
from omnicx.models import Identifier
from omnicx.testing import inbound_request


def test_config_from_instance_mapping_or_defaults() -> None:
    config = WebchatConfig(secret="0123456789abcdef")
    assert WebchatAdapter(config).config is config
    assert WebchatAdapter({"secret": "0123456789abcdef"}).config == config
    assert EmailAdapter().config == EmailConfig()


def test_missing_secret_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError, match=r"secret: Field required.*WebchatConfig"):
        WebchatAdapter()


def test_another_adapters_config_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="takes a WebchatConfig, got a EmailConfig"):
        WebchatAdapter(EmailConfig())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="must be a WebformConfig or a mapping"):
        WebformAdapter(42)  # type: ignore[arg-type]


def test_secrets_never_print() -> None:
    assert "0123456789abcdef" not in repr(WebchatConfig(secret="0123456789abcdef"))


def test_body_limit() -> None:
    adapter = WebformAdapter({"max_body_bytes": 10})
    assert adapter.checked_body(inbound_request(b"0123456789")) == b"0123456789"
    with pytest.raises(PayloadError, match="11 bytes, more than the 10 allowed") as info:
        adapter.checked_body(inbound_request(b"01234567890"))
    assert info.value.context["limit"] == 10
    with pytest.raises(ValueError, match="greater than 0"):
        AdapterConfig(max_body_bytes=0)


def test_defaults_for_outbound_and_handshake() -> None:
    adapter = WebformAdapter()
    with pytest.raises(ConfigurationError, match="cannot send messages; implement build_outbound"):
        adapter.build_outbound(OutboundMessage(text="x"), Identifier(kind="email", value="a@example.com"))
    assert adapter.handshake(inbound_request(b"")) is None
    assert HandshakeResponse(body=b"1158201444").status == 200
