"""Type-checked only (``mypy --strict``): the types channel adapter users and authors see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, assert_type

from pydantic import JsonValue

from omnicx import InboundEvent, InboundRequest, OutboundRequest
from omnicx.channels import (
    ChannelAdapter,
    ChannelRegistry,
    HandshakeResponse,
    OutboundMessage,
    default_registry,
    json_object,
)
from omnicx.channels.email import EmailAdapter, EmailConfig
from omnicx.channels.webchat import WebchatAdapter, sign_webchat
from omnicx.models import Identifier
from omnicx.testing import ChannelAdapterContract, GoldenCase, summarize


def registry(request: InboundRequest) -> None:
    reg = default_registry()
    assert_type(reg, ChannelRegistry)
    assert_type(reg.get("email"), type[ChannelAdapter[Any]])
    adapter = reg.create("webchat", {"secret": "0123456789abcdef"})
    assert_type(adapter, ChannelAdapter[Any])
    assert_type(adapter.parse(request), list[InboundEvent])
    assert_type(adapter.verify(request), None)
    assert_type(adapter.handshake(request), HandshakeResponse | None)
    assert_type(reg.names(), list[str])
    assert_type(reg.register(WebchatAdapter, replace=True), type[WebchatAdapter])


def email(request: InboundRequest, to: Identifier) -> None:
    adapter = EmailAdapter(EmailConfig(from_address="support@acme.example"))
    assert_type(adapter.config, EmailConfig)
    assert_type(adapter.build_outbound(OutboundMessage(text="hi"), to), OutboundRequest)
    assert_type(sign_webchat("s", b"{}", request.received_at), dict[str, str])
    assert_type(json_object(b"{}", channel="x"), dict[str, Any])


def kit(event: InboundEvent) -> None:
    assert_type(ChannelAdapterContract.golden_cases, Sequence[GoldenCase])
    assert_type(summarize(event)["type"], JsonValue)
