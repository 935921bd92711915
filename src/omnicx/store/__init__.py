"""Where the history lives: the :class:`Store` protocol and its backends.

Open a store by URL with :func:`open_store`: ``memory://``, ``sqlite:///omnicx.db``
(the default) or ``postgresql://user@host/db`` (extra ``postgres``). Plugins add
schemes through the entry-point group ``omnicx.stores``.
"""

from omnicx.store._memory import MemoryStore
from omnicx.store._models import (
    DEFAULT_TENANT,
    AppendReport,
    AuditAction,
    AuditRecord,
    ErasureReport,
    Page,
    RawPayload,
    RawStatus,
    StoredInteraction,
)
from omnicx.store._plugins import (
    DEFAULT_URL,
    ENTRY_POINT_GROUP,
    StoreFactory,
    open_store,
    register_store,
    store_schemes,
)
from omnicx.store._postgres import PostgresStore
from omnicx.store._protocol import Store, StoreReader, StoreSession
from omnicx.store._schema import LATEST_VERSION
from omnicx.store._sqlite import ScrubPendingWarning, SQLiteStore

__all__ = [
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
