"""The public surface of omnicx.store and omnicx.testing is exactly their sorted ``__all__``."""

from __future__ import annotations

import importlib
import inspect

import pytest

import omnicx.store
import omnicx.testing


def test_exact_store_export_list() -> None:
    assert omnicx.store.__all__ == [
        "AppendReport",
        "AuditAction",
        "AuditRecord",
        "DEFAULT_TENANT",
        "DEFAULT_URL",
        "ENTRY_POINT_GROUP",
        "ErasureReport",
        "LATEST_VERSION",
        "MemoryStore",
        "Page",
        "PostgresStore",
        "RawPayload",
        "RawStatus",
        "SQLiteStore",
        "ScrubPendingWarning",
        "Store",
        "StoreFactory",
        "StoreReader",
        "StoreSession",
        "StoredInteraction",
        "open_store",
        "register_store",
        "store_schemes",
    ]
    assert "StoreContract" in omnicx.testing.__all__


@pytest.mark.parametrize("module", [omnicx.store, omnicx.testing])
def test_nothing_public_beyond_all(module: object) -> None:
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == set(module.__all__)  # type: ignore[attr-defined]


def test_exported_classes_come_from_omnicx_and_are_reachable_publicly() -> None:
    for name in omnicx.store.__all__:
        value = getattr(omnicx.store, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("omnicx.store."), (name, value.__module__)
            assert getattr(importlib.import_module("omnicx.store"), name) is value


def test_built_in_stores_satisfy_the_protocol(tmp_path: object) -> None:
    store = omnicx.store.MemoryStore()
    assert isinstance(store, omnicx.store.Store)
    with store.transaction() as tx:
        assert isinstance(tx, omnicx.store.StoreSession)
        assert isinstance(tx, omnicx.store.StoreReader)
