"""Every built-in store passes the store conformance kit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from omnicx.store import MemoryStore, Store, open_store
from omnicx.testing import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = MemoryStore()
        yield store
        store.close()


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        store = open_store(f"sqlite:///{tmp_path / 'contract.db'}")
        yield store
        store.close()


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[Store]:
        store = open_store(pg_url)
        yield store
        store.close()
