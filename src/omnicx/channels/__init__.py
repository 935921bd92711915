"""Channel adapters: verify and parse what channels send, build what they receive."""

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter, OutboundMessage

__all__ = ["AdapterConfig", "Capability", "ChannelAdapter", "OutboundMessage"]
