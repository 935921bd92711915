"""Persisting what the identity engine decided, one ledger component at a time."""

from __future__ import annotations

from collections.abc import Iterable

from omnicx.errors import NotFound
from omnicx.identity import IdentityEngine, LedgerEntry, MergePolicy
from omnicx.models import Identifier
from omnicx.store import StoreSession
from omnicx.store._sql import entry_refs

__all__ = ["component_engine", "save_component"]


def component_engine(
    tx: StoreSession, identifiers: Iterable[Identifier], policy: MergePolicy, salt: bytes
) -> tuple[IdentityEngine, set[str]]:
    """Lock ``identifiers``, rebuild an engine from their ledger component; return it and the keys it saw."""
    idents = list(identifiers)
    tx.lock_identifiers(idents)
    component: list[LedgerEntry] = tx.ledger_component(idents)
    engine = IdentityEngine.rebuild(component, policy, salt=salt)
    seen = {k for e in component for k in entry_refs(e) if not k.startswith("#")} | {i.key for i in idents}
    return engine, seen


def save_component(tx: StoreSession, engine: IdentityEngine, seen: set[str]) -> None:
    """Write the engine's customers; ids the store held that the engine no longer has become aliases.

    An id goes stale when entries arrive out of order or customers merge; it keeps
    resolving, to the customer now holding its identifiers. Identifiers of the
    component (``seen``) that the engine places in no customer are unassigned.
    """
    partition = engine.partition()
    stale: dict[str, set[str]] = {cid: set() for cid in partition}
    for cid, keys in partition.items():
        for key in keys:
            old = tx.customer_of(Identifier.parse(key))
            if old is not None and old not in partition:
                stale[cid].add(old)
    placed = {key for keys in partition.values() for key in keys}
    for key in sorted(seen - placed):
        tx.assign_customer([Identifier.parse(key)], None)
    for cid in sorted(partition):
        customer = engine.customer(cid)
        kept: set[str] = set()
        try:
            if tx.resolve_customer_id(cid) == cid:
                kept = set(tx.get_customer(cid).aliases)
        except NotFound:
            pass
        aliases = (set(customer.aliases) | kept | stale[cid]) - {cid}
        tx.save_customer(customer.model_copy(update={"aliases": tuple(sorted(aliases))}))
