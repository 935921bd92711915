"""omnicx's pytest plugin (entry point ``pytest11``): fixtures for adapter authors.

Loaded automatically when omnicx is installed. It imports nothing heavier
than omnicx's models, so it costs nothing in projects that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import pytest

from omnicx.channels._registry import ChannelRegistry
from omnicx.models import InboundRequest
from omnicx.testing._golden import DEFAULT_RECEIVED_AT, inbound_request
from omnicx.testing._network import block_network

__all__ = ["omnicx_channel_registry", "omnicx_inbound_request", "omnicx_no_network"]


@pytest.fixture
def omnicx_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any socket connection or DNS look-up in the test raise ``NetworkBlockedError``."""
    block_network(monkeypatch)


@pytest.fixture
def omnicx_channel_registry() -> ChannelRegistry:
    """A fresh :class:`~omnicx.channels.ChannelRegistry` with built-ins and no entry-point discovery."""
    return ChannelRegistry(autoload=False)


@pytest.fixture
def omnicx_inbound_request() -> Callable[..., InboundRequest]:
    """A factory for :class:`~omnicx.models.InboundRequest`: ``omnicx_inbound_request(body, headers=...)``."""

    def make(
        body: bytes | str = b"",
        *,
        url: str = "https://example.com/webhooks",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        received_at: datetime = DEFAULT_RECEIVED_AT,
    ) -> InboundRequest:
        return inbound_request(body, url=url, headers=headers, method=method, received_at=received_at)

    return make
