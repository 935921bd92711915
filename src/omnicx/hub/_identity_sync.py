"""Persisting what the identity engine decided, one ledger component at a time.

Beside each customer the store keeps derived state (see
:meth:`~omnicx.store.StoreSession.put_customer_state`) under two prefixes:

* ``i@``: the customer's :class:`~omnicx.identity.SettledFacts` under the policy
  that produced them, so an observation that changes nothing is recognised
  without rebuilding the engine from the ledger;
* ``t``: the conversation snapshot and thread keys (see
  :class:`~omnicx.conversations.ThreadSnapshot`), valid while the customer's
  identifiers stay the same, so they are cleared whenever those change.

Under the owner :data:`SHARED` (no customer id looks like it) it keeps one
``q@<identifier key>`` entry per quarantined identifier, with the policy
fingerprint: an observation of that identifier alone changes nothing, so it is
recognised without rebuilding a ledger component that grows with every customer
who ever wrote the switchboard's number. Every rebuild of a component rewrites
the entries of its identifiers.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from typing import Any

import attrs

from omnicx.errors import NotFound, UnknownIdentifier
from omnicx.identity import IdentityEngine, LedgerEntry, MergePolicy, SettledFacts
from omnicx.identity._core import tombstone
from omnicx.models import Customer, Identifier
from omnicx.store import StoreSession
from omnicx.store._sql import entry_refs

__all__ = [
    "FACTS_KEY",
    "SHARED",
    "Saved",
    "THREAD_KEY",
    "THREAD_PREFIX",
    "component_engine",
    "is_quarantined",
    "policy_fingerprint",
    "read_facts",
    "save_component",
]

FACTS_KEY = "i@"
THREAD_PREFIX = "t"
THREAD_KEY = THREAD_PREFIX + "@"
"""Where a customer's conversation snapshot header is kept (its thread keys start with ``t:``)."""
SHARED = "~shared"
QUARANTINE_PREFIX = "q@"


def is_quarantined(tx: StoreSession, identifier: Identifier, fingerprint: str) -> bool:
    """True when the last rebuild of ``identifier``'s component under the policy ``fingerprint``
    found it quarantined."""
    mark = QUARANTINE_PREFIX + identifier.key
    return tx.customer_state(SHARED, [mark]).get(mark) == fingerprint


def policy_fingerprint(policy: MergePolicy) -> str:
    """A digest of the policy: facts decided under another policy are not used."""
    return hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:32]


def read_facts(tx: StoreSession, customer_id: str, fingerprint: str) -> SettledFacts | None:
    """The customer's settled facts when they were decided under the policy ``fingerprint``."""
    # with the conversation header the same request reads next: one query (the session keeps it)
    stored = tx.customer_state(customer_id, [FACTS_KEY, THREAD_KEY]).get(FACTS_KEY)
    if stored is None:
        return None
    decided_under, _, facts = stored.partition("\n")
    return SettledFacts.from_json(facts) if decided_under == fingerprint else None


def component_engine(
    tx: StoreSession, identifiers: Iterable[Identifier], policy: MergePolicy, salt: bytes
) -> tuple[IdentityEngine, set[str]]:
    """Lock ``identifiers``, rebuild an engine from their ledger component; return it and the keys it saw.

    The erasures whose tombstones match an identifier of the component come along, so
    that a replayed payload of a forgotten customer stays forgotten, as in an engine
    rebuilt from the whole ledger.
    """
    idents = list(identifiers)
    tx.lock_identifiers(idents)
    component: list[LedgerEntry] = tx.ledger_component(idents)
    seen = {k for e in component for k in entry_refs(e) if not k.startswith("#")} | {i.key for i in idents}
    hashes = [tombstone(key, salt) for key in seen]
    engine = IdentityEngine.rebuild([*component, *tx.erasures(hashes)], policy, salt=salt)
    return engine, seen


def _quarantined(engine: IdentityEngine, identifier: Identifier) -> bool:
    try:
        return engine.is_quarantined(identifier)
    except UnknownIdentifier:  # a forgotten identifier seen again: dropped, in no customer
        return False


@attrs.frozen
class Saved:
    """What :func:`save_component` changed."""

    rethread: list[str]
    """The customers whose conversations must be threaded again."""
    regrouped: dict[str, tuple[str, ...]]
    """Each customer the store held whose identifiers are no longer exactly one customer of its
    id, with the customers holding them now: one (a merge into it, or a new id), several (cut
    apart), or none (every identifier became a shared attribute; the customer is gone)."""
    created: dict[str, tuple[Identifier, ...]]
    """The customers none of whose identifiers any customer held before, with their identifiers."""


def save_component(tx: StoreSession, engine: IdentityEngine, seen: set[str], fingerprint: str) -> Saved:
    """Write the engine's customers; ids the store held that the engine no longer has become aliases.

    An id goes stale when entries arrive out of order or customers merge; it keeps
    resolving, to the customer now holding its identifiers. Identifiers of the
    component (``seen``) that the engine places in no customer are unassigned.
    Each customer's settled facts are written beside it; its conversation state is
    dropped when its identifiers changed, and a stale id's derived state goes.

    Returns the customers whose conversations must be threaded again (those whose
    identifiers changed, or that took identifiers another customer held: the part a
    quarantine or a split cut off, say) and how the customers the store held regrouped.
    """
    partition = engine.partition()
    stale: dict[str, set[str]] = {cid: set() for cid in partition}
    owners: dict[str, set[str]] = {cid: set() for cid in partition}  # who held its identifiers
    moved: set[str] = set()
    for cid, keys in partition.items():
        for key in keys:
            old = tx.customer_of(Identifier.parse(key))
            if old is None:
                continue
            owners[cid].add(old)
            if old != cid:
                moved.add(cid)
    # a retired id resolves to one customer: the one holding the identifier it was born with
    for old in sorted(set().union(*owners.values()) - set(partition)):
        holders = sorted(cid for cid in partition if old in owners[cid])
        stale[_alias_target(engine, old, holders)].add(old)
    # the host's name and traits of every customer that held them, read before any is rewritten
    profiles: dict[str, Customer] = {}
    for old in sorted(set().union(*owners.values())):
        with contextlib.suppress(NotFound):
            profiles[old] = tx.get_customer(old)
    placed = {key for keys in partition.values() for key in keys}
    quarantined: dict[str, str] = {}
    left: dict[str, list[Identifier]] = {}  # customer -> its identifiers that go to no customer
    for key in sorted(seen - placed):
        identifier = Identifier.parse(key)
        old = tx.customer_of(identifier)
        if old is not None:
            left.setdefault(old, []).append(identifier)
        tx.assign_customer([identifier], None)
        if _quarantined(engine, identifier):
            quarantined[QUARANTINE_PREFIX + key] = fingerprint
    on_file = tx.customer_state(SHARED, [QUARANTINE_PREFIX + key for key in seen])
    for mark in sorted(set(on_file) - set(quarantined)):
        # by prefix: it may clear a longer key's entry too, which only costs that key a rebuild
        tx.clear_customer_state(SHARED, mark)
    tx.put_customer_state(SHARED, quarantined)
    for cid in sorted(partition):
        customer = engine.customer(cid)
        kept: set[str] = set()
        try:
            if tx.resolve_customer_id(cid) == cid:
                kept = set(tx.get_customer(cid).aliases)
        except NotFound:
            pass
        aliases = (set(customer.aliases) | kept | stale[cid]) - {cid}
        display_name, traits = _profile(
            [profiles[o] for o in sorted(owners[cid], key=lambda o: (o != cid, o)) if o in profiles]
        )
        tx.save_customer(
            customer.model_copy(
                update={"aliases": tuple(sorted(aliases)), "display_name": display_name, "traits": traits}
            )
        )
        for old in sorted(stale[cid]):
            tx.clear_customer_state(old)
        facts = engine.settled_facts(cid)
        before = read_facts(tx, cid, fingerprint)
        if before is None or before.members != facts.members:
            tx.clear_customer_state(cid, THREAD_PREFIX)
            if before is not None:
                moved.add(cid)
        tx.put_customer_state(cid, {FACTS_KEY: f"{fingerprint}\n{facts.to_json()}"})
    retired = {old for olds in stale.values() for old in olds}
    for old in sorted(set(left) - set(partition) - retired):
        _drop_customer(tx, old, left[old])
    regrouped: dict[str, tuple[str, ...]] = {}
    for old in sorted(set().union(*owners.values(), left)):
        parts = tuple(sorted(cid for cid in partition if old in owners[cid]))
        if parts != (old,):
            regrouped[old] = parts
    created = {
        cid: tuple(Identifier.parse(key) for key in sorted(partition[cid]))
        for cid in sorted(partition)
        if not owners[cid]
    }
    return Saved(sorted(moved), regrouped, created)


def _alias_target(engine: IdentityEngine, old: str, holders: list[str]) -> str:
    """Of the customers holding identifiers of the retired id ``old``, the one it resolves to:
    the holder of the identifier it was born with, as :meth:`IdentityEngine.resolve` answers
    (the last holder when that identifier is now shared)."""
    try:
        target = engine.resolve(old)
    except UnknownIdentifier:
        return holders[-1]
    return target if target in holders else holders[-1]


def _profile(held_by: list[Customer]) -> tuple[str | None, dict[str, Any]]:
    """The display name and traits a customer keeps from those that held its identifiers, the
    one of its own id first: a merge keeps both customers' traits (the survivor's win a clash),
    and each part of a split keeps those of the customer it was cut from."""
    display_name = next((c.display_name for c in held_by if c.display_name), None)
    traits: dict[str, Any] = {}
    for held in reversed(held_by):
        traits.update(held.traits)
    return display_name, traits


def _drop_customer(tx: StoreSession, customer_id: str, identifiers: list[Identifier]) -> None:
    """Remove a customer every identifier of which became a shared attribute (a switchboard
    number that was one caller's until others typed it too): a rebuild of the ledger has no
    such customer. Its interactions stay, in no conversation, as a shared identifier's do."""
    for conversation in tx.conversations_of(customer_id):
        tx.delete_conversation(conversation.id)
    cursor: str | None = None
    while True:
        page = tx.timeline(identifiers, limit=1000, cursor=cursor)
        for stored in page.items:
            if stored.conversation_id is not None:
                tx.set_conversation(stored.interaction.id, None)
        cursor = page.next_cursor
        if cursor is None:
            break
    tx.delete_customer(customer_id)
