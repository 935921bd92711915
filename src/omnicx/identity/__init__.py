"""The identity-merge engine: which identifiers are one customer, and why."""

from omnicx.identity._ledger import (
    Erasure,
    Evidence,
    LedgerEntry,
    Link,
    LinkKind,
    NeverLink,
    Revocation,
    Sighting,
    entry_id,
    ledger_entry_adapter,
)

__all__ = [
    "Erasure",
    "Evidence",
    "LedgerEntry",
    "Link",
    "LinkKind",
    "NeverLink",
    "Revocation",
    "Sighting",
    "entry_id",
    "ledger_entry_adapter",
]
