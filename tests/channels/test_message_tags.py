"""A message tag goes only where the channel takes it: elsewhere it is refused, never dropped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omnicx.channels import Capability, OutboundMessage, default_registry
from omnicx.errors import ValidationError
from omnicx.models import Identifier

ENDPOINTS = {
    "email": Identifier(kind="email", value="ana@mailbox.org"),
    "whatsapp": Identifier(kind="phone", value="+447911123456"),
    "twilio": Identifier(kind="phone", value="+447911123456"),
    "telegram": Identifier(kind="telegram_user_id", value="123456789"),
}
CONFIGS = {
    "email": {"business_addresses": ("support@shopdemo.io",), "from_address": "support@shopdemo.io"},
    "whatsapp": {"app_secret": "s", "access_token": "t", "phone_number_id": "106540352242922"},
    "twilio": {"auth_token": "t", "account_sid": "AC" + "0" * 32, "default_sender": "+14155238886"},
    "telegram": {"bot_token": "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "secret_token": "s"},
}


def test_every_built_in_sending_adapter_without_tags_is_listed_here() -> None:
    registry = default_registry()
    untagged = {
        name
        for name in registry.names()
        if registry.get(name).__module__.startswith("omnicx.")
        and Capability.OUTBOUND in registry.get(name).capabilities
        and not registry.get(name).message_tags
    }
    assert untagged == set(ENDPOINTS)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_channel_without_tags_refuses_a_tagged_message(name: str) -> None:
    adapter = default_registry().create(name, CONFIGS[name])
    assert adapter.build_outbound(OutboundMessage(text="hi"), ENDPOINTS[name]) is not None  # it sends
    with pytest.raises(ValidationError, match="tag"):
        adapter.build_outbound(OutboundMessage(text="hi", tag="HUMAN_AGENT"), ENDPOINTS[name])


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_a_channel_without_a_window_delivers_any_time(name: str) -> None:
    adapter = default_registry().create(name, CONFIGS[name])
    late = adapter.reply_refusal(OutboundMessage(text="hi"), timedelta(days=400))
    assert (late is None) is (adapter.reply_window is None)
