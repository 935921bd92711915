"""The identity-merge engine: which identifiers are one customer, and why.

:class:`IdentityEngine` resolves identifiers into customers under a
:class:`MergePolicy`, from an append-only evidence ledger (:class:`Sighting`,
:class:`Link`, :class:`Revocation`, :class:`NeverLink`, :class:`Erasure`).
Every operation returns a :class:`Change` whose ``entries`` are the ledger
entries to persist (:meth:`IdentityEngine.observe_many` one :class:`ObservedBatch`
for many observations); :meth:`IdentityEngine.rebuild` rebuilds from them.
See docs/guides/identity.md.
"""

from omnicx.identity._engine import DEFAULT_SALT, IdentityEngine, Observation, observation_entries
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
from omnicx.identity._policy import (
    DEFAULT_BLOCKLIST,
    DEFAULT_LIMITS,
    DEFAULT_QUARANTINE,
    Blocklist,
    MergePolicy,
)
from omnicx.identity._results import (
    Change,
    Conflict,
    ConflictReason,
    EvidenceStep,
    Explanation,
    Forgotten,
    HistoryEvent,
    ObservedBatch,
)
from omnicx.identity._settled import SettledFacts

__all__ = [
    "Blocklist",
    "Change",
    "Conflict",
    "ConflictReason",
    "DEFAULT_BLOCKLIST",
    "DEFAULT_LIMITS",
    "DEFAULT_QUARANTINE",
    "DEFAULT_SALT",
    "Erasure",
    "Evidence",
    "EvidenceStep",
    "Explanation",
    "Forgotten",
    "HistoryEvent",
    "IdentityEngine",
    "LedgerEntry",
    "Link",
    "LinkKind",
    "MergePolicy",
    "NeverLink",
    "Observation",
    "ObservedBatch",
    "Revocation",
    "SettledFacts",
    "Sighting",
    "entry_id",
    "ledger_entry_adapter",
    "observation_entries",
]
