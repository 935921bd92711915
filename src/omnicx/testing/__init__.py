"""Conformance kits for plugin authors: subclass a contract, set a few attributes, run pytest.

Needs the ``testing`` extra (pytest, hypothesis): ``pip install omnicx[testing]``.
"""

from omnicx.testing._channel_contract import ChannelAdapterContract
from omnicx.testing._golden import SUMMARY_KEYS, GoldenCase, inbound_request, summarize
from omnicx.testing._network import NetworkBlockedError, block_network
from omnicx.testing._store_contract import StoreContract

__all__ = [
    "SUMMARY_KEYS",
    "ChannelAdapterContract",
    "GoldenCase",
    "NetworkBlockedError",
    "StoreContract",
    "block_network",
    "inbound_request",
    "summarize",
]
