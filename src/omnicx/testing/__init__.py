"""Conformance kits for plugin authors: subclass a contract in your own test suite."""

from omnicx.testing._store_contract import StoreContract

__all__ = ["StoreContract"]
