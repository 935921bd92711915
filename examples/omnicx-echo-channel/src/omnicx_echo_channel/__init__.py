"""Example third-party omnicx channel adapter for the (made-up) Echo chat service."""

from omnicx_echo_channel._adapter import EchoAdapter, EchoConfig, sign_echo

__all__ = ["EchoAdapter", "EchoConfig", "sign_echo"]
