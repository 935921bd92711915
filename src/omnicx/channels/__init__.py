"""Channel adapters: verify and parse what channels send, build what they receive.

Look adapters up through a :class:`ChannelRegistry` (``default_registry()`` for the
process-wide one); built-ins and ``omnicx.channels`` entry points are found lazily.
The payload and signature helpers are for adapter authors (see
``docs/guides/writing-a-channel-adapter.md``).
"""

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    ChannelAdapter,
    HandshakeResponse,
    OutboundMessage,
    adapter_problems,
)
from omnicx.channels._payload import (
    decode_text,
    form_fields,
    json_object,
    optional_str,
    require_mapping,
    require_str,
)
from omnicx.channels._registry import (
    AUTOLOAD_ENV,
    ENTRY_POINT_GROUP,
    ChannelPluginWarning,
    ChannelRegistry,
    default_registry,
)
from omnicx.channels._signatures import check_replay_window, constant_time_equals, hmac_base64, hmac_hex

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
    "check_replay_window",
    "constant_time_equals",
    "decode_text",
    "default_registry",
    "form_fields",
    "hmac_base64",
    "hmac_hex",
    "json_object",
    "optional_str",
    "require_mapping",
    "require_str",
]
