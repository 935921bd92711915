"""The Echo adapter passes omnicx's channel adapter contract."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from omnicx_echo_channel import EchoAdapter, EchoConfig, sign_echo

from omnicx.channels import AdapterConfig
from omnicx.models import Identifier, InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent / "fixtures"


class TestEchoContract(ChannelAdapterContract):
    adapter_class = EchoAdapter
    config = EchoConfig(app_secret="echo-app-secret", api_token="tok_123")
    wrong_config = EchoConfig(app_secret="not-the-app-secret")
    signature_headers = ("x-echo-signature",)
    outbound_endpoint = Identifier(kind="echo_user", value="u_42")
    golden_cases = (
        GoldenCase.from_file(
            "message",
            FIXTURES / "echo_message.json",
            [
                {
                    "type": "message",
                    "dedupe_key": "em_1001",
                    "occurred_at": "2024-05-01T10:00:00+00:00",  # 1714557600
                    "endpoint": "echo_user:u_42",
                    "identifiers": ["echo_user:u_42 (verified)", "email:ana@example.com (asserted)"],
                    "author_name": "Ana",
                    "text": "hello",
                }
            ],
            headers={"content-type": "application/json"},
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, EchoConfig)
        signature = sign_echo(config.app_secret.get_secret_value(), request.body)
        return request.model_copy(update={"headers": {**request.headers, "x-echo-signature": signature}})


def test_reply_request_shape() -> None:
    from omnicx.channels import OutboundMessage

    adapter = EchoAdapter(EchoConfig(app_secret="s", api_token="tok_123"))
    request = adapter.build_outbound(OutboundMessage(text="hi"), Identifier(kind="echo_user", value="u_42"))
    assert request.url == "https://api.echo.example/v1/messages"
    assert request.headers["authorization"] == "Bearer tok_123"
    assert request.body == b'{"to": "u_42", "text": "hi"}'
