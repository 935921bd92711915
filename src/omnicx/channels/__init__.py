"""Channel adapters: verify and parse what channels send, build what they receive.

Look adapters up through a :class:`ChannelRegistry` (``default_registry()`` for the
process-wide one); built-ins and ``omnicx.channels`` entry points are found lazily.
"""

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    ChannelAdapter,
    HandshakeResponse,
    OutboundMessage,
    adapter_problems,
)
from omnicx.channels._registry import (
    AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    ChannelPluginWarning,
    ChannelRegistry,
    default_registry,
)

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "AdapterConfig",
    "Capability",
    "ChannelAdapter",
    "ChannelPluginWarning",
    "ChannelRegistry",
    "HandshakeResponse",
    "OutboundMessage",
    "adapter_problems",
    "default_registry",
]
