"""Type-checked only (``mypy --strict``): pins the types users of omnicx.store see."""

from __future__ import annotations

from typing import assert_type

from omnicx.models import Identifier
from omnicx.store import (
    AppendReport,
    Page,
    RawPayload,
    RawStatus,
    Store,
    StoredInteraction,
    StoreReader,
    StoreSession,
    open_store,
)


def store_api() -> None:
    store = open_store("memory://")
    assert_type(store, Store)
    ana = Identifier(kind="email", value="ana@shop.fr")
    with store.transaction("acme") as tx:
        assert_type(tx, StoreSession)
        assert_type(tx.append_interactions([]), AppendReport)
        assert_type(tx.customer_of(ana), str | None)
        assert_type(tx.customer_state("cus_1", ["t@"]), dict[str, str])
        assert_type(tx.put_customer_state("cus_1", {"t@": "{}"}, overwrite=False), None)
        assert_type(tx.clear_customer_state("cus_1", "t"), None)
    with store.snapshot() as view:
        assert_type(view, StoreReader)
        page = view.timeline([ana], limit=50)
        assert_type(page, Page[StoredInteraction])
        assert_type(page.next_cursor, str | None)
        assert_type(view.raw_payloads(RawStatus.FAILED), Page[RawPayload])
