"""Type-checked only (``mypy --strict``): the types the Meta adapters give their users."""

from __future__ import annotations

from datetime import timedelta
from typing import assert_type

from pydantic import SecretStr

from omnicx import InboundEvent, InboundRequest, OutboundRequest
from omnicx.channels import HandshakeResponse, OutboundMessage
from omnicx.channels.instagram import InstagramAdapter, InstagramConfig
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig
from omnicx.models import Identifier


def whatsapp(request: InboundRequest, endpoint: Identifier) -> None:
    adapter = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr("s"), business_id="506914307656634"))
    assert_type(adapter.config, WhatsAppConfig)
    assert_type(adapter.verify(request), None)
    assert_type(adapter.parse(request), list[InboundEvent])
    assert_type(adapter.handshake(request), HandshakeResponse | None)
    assert_type(adapter.build_outbound(OutboundMessage(text="hi"), endpoint), OutboundRequest)


def messenger_and_instagram(request: InboundRequest, endpoint: Identifier) -> None:
    messenger = MessengerAdapter(MessengerConfig(app_secret=SecretStr("s"), bot_app_ids=frozenset({"1"})))
    assert_type(messenger.parse(request), list[InboundEvent])
    assert_type(
        messenger.build_tagged(OutboundMessage(text="hi"), endpoint, tag="HUMAN_AGENT"), OutboundRequest
    )
    instagram = InstagramAdapter(InstagramConfig(app_secret=SecretStr("s"), login="facebook", page_id="1"))
    assert_type(instagram.config, InstagramConfig)
    assert_type(instagram.handshake(request), HandshakeResponse | None)
    assert_type(instagram.build_outbound(OutboundMessage(text="hi"), endpoint), OutboundRequest)
    tagged = OutboundMessage(text="hi", tag="HUMAN_AGENT")
    assert_type(tagged.tag, str | None)
    assert_type(messenger.message_tags, frozenset[str])
    assert_type(messenger.reply_refusal(tagged, timedelta(days=2)), str | None)
    assert_type(messenger.check_tag(tagged), None)
