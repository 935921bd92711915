"""Persisting what the identity engine decided, one ledger component at a time.

Beside each customer the store keeps derived state (see
:meth:`~omnicx.store.StoreSession.put_customer_state`) under two prefixes:

* ``i@``: the customer's :class:`~omnicx.identity.SettledFacts` under the policy
  that produced them, so an observation that changes nothing is recognised
  without rebuilding the engine from the ledger;
* ``t``: the conversation snapshot and thread keys (see
  :class:`~omnicx.conversations.ThreadSnapshot`), valid while the customer's
  identifiers stay the same, so they are cleared whenever those change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from omnicx.errors import NotFound
from omnicx.identity import IdentityEngine, LedgerEntry, MergePolicy, SettledFacts
from omnicx.models import Identifier
from omnicx.store import StoreSession
from omnicx.store._sql import entry_refs

__all__ = [
    "FACTS_KEY",
    "THREAD_PREFIX",
    "component_engine",
    "policy_fingerprint",
    "read_facts",
    "save_component",
]

FACTS_KEY = "i@"
THREAD_PREFIX = "t"


def policy_fingerprint(policy: MergePolicy) -> str:
    """A digest of the policy: facts decided under another policy are not used."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:32]


def read_facts(tx: StoreSession, customer_id: str, fingerprint: str) -> SettledFacts | None:
    """The customer's settled facts when they were decided under the policy ``fingerprint``."""
    stored = tx.customer_state(customer_id, [FACTS_KEY]).get(FACTS_KEY)
    if stored is None:
        return None
    decided_under, _, facts = stored.partition("\n")
    return SettledFacts.from_json(facts) if decided_under == fingerprint else None


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


def save_component(tx: StoreSession, engine: IdentityEngine, seen: set[str], fingerprint: str) -> None:
    """Write the engine's customers; ids the store held that the engine no longer has become aliases.

    An id goes stale when entries arrive out of order or customers merge; it keeps
    resolving, to the customer now holding its identifiers. Identifiers of the
    component (``seen``) that the engine places in no customer are unassigned.
    Each customer's settled facts are written beside it; its conversation state is
    dropped when its identifiers changed, and a stale id's derived state goes.
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
        for old in sorted(stale[cid]):
            tx.clear_customer_state(old)
        facts = engine.settled_facts(cid)
        before = read_facts(tx, cid, fingerprint)
        if before is None or before.members != facts.members:
            tx.clear_customer_state(cid, THREAD_PREFIX)
        tx.put_customer_state(cid, {FACTS_KEY: f"{fingerprint}\n{facts.to_json()}"})
