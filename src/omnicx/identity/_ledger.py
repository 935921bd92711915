"""The evidence ledger: append-only facts about which identifiers belong together.

The ledger records *facts*; the merge policy decides what they mean. Customers
are a pure function of (ledger, policy): a link the policy refuses stays in the
ledger and is reported as a conflict, never dropped. Nothing is removed from the
ledger except by erasure (:class:`Erasure`), which also leaves salted-hash
tombstones.

Every entry is a frozen pydantic model with a stable ``id`` and an ``at`` time;
entries are evaluated in the canonical order ``(at, id)`` whatever order they
were appended in. Storage persists entries as JSON (``ledger_entry_adapter``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, TypeAdapter, model_validator

from omnicx.models import Assurance, Identifier
from omnicx.models._base import OmnicxModel, UnionAdapter, UtcDatetime

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

Text = Annotated[str, StringConstraints(max_length=1024)]
EntryId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class LinkKind(StrEnum):
    """Where a link came from."""

    OBSERVED = "observed"
    """Both identifiers arrived in one payload."""
    MANUAL = "manual"
    """An agent linked them."""
    IMPORTED = "imported"
    """An import or a host system said so."""
    SUGGESTED = "suggested"
    """A matcher guessed; never merges on its own."""


class Evidence(OmnicxModel):
    """Why an entry exists: the payload it came from, or who did it and why."""

    channel: Text | None = None
    dedupe_key: Text | None = None
    actor: Text | None = None
    reason: Text | None = None


def entry_id(prefix: str, *parts: str) -> str:
    """A stable entry id: the same facts always give the same id (idempotent appends).

    Lone surrogates (``"\\ud800"`` from a JSON escape) are hashed as they are, not refused.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}_{digest[:26]}"


_UTC_TIME: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)


class _Entry(OmnicxModel):
    id: EntryId
    at: UtcDatetime
    """When the fact was observed (the payload's time), which orders evaluation."""
    evidence: Evidence = Evidence()

    @model_validator(mode="before")
    @classmethod
    def _derive_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id"):
            # the id hashes the time in UTC, as the engine writes it: an entry built with
            # "2024-01-01T11:00:00+02:00" or a string gets the id of the engine's own entry
            try:
                facts = {**data, "at": _UTC_TIME.validate_python(data.get("at"))}
            except ValueError:  # no time, or a bad one: the field's own validation says so
                facts = data
            return {**data, "id": cls._stable_id(facts)}
        return data

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        raise NotImplementedError  # every concrete entry overrides this


def _key(value: Any) -> str:
    if isinstance(value, Identifier):
        return value.key
    if isinstance(value, dict):
        return Identifier.model_validate(value).key
    return str(value)


def evidence_text(fields: Iterable[object]) -> str:
    """Evidence fields (channel, dedupe key, actor, reason) as the one string an entry id hashes:
    joined with ``|``, a field that holds ``|`` or ``\\`` escaped with ``\\``, so that two
    different evidences never join alike (``sms`` + ``a|b`` against ``sms|a`` + ``b``). A field
    without either is written as it is, as before the escaping."""
    texts = [str(v) if v else "" for v in fields]
    joined = "|".join(texts)
    if joined.count("|") == len(texts) - 1 and "\\" not in joined:
        return joined
    return "|".join(t.replace("\\", "\\\\").replace("|", "\\|") for t in texts)


def _ev(data: dict[str, Any]) -> str:
    ev = data.get("evidence") or {}
    if isinstance(ev, Evidence):
        ev = ev.model_dump()
    return evidence_text(ev.get(k) for k in ("channel", "dedupe_key", "actor", "reason"))


def sighting_id(key: str, assurance: str, at: object, evidence: str) -> str:
    """The id of a sighting of the identifier keyed ``key`` at ``at`` (a UTC datetime; its ``str``
    is hashed) with ``evidence`` (:func:`evidence_text`)."""
    return entry_id("sig", key, assurance, str(at), evidence)


class Sighting(_Entry):
    """An identifier was seen (alone or with others): it exists from ``at`` on."""

    type: Literal["sighting"] = "sighting"
    identifier: Identifier
    assurance: Assurance

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        return sighting_id(
            _key(data.get("identifier")), str(data.get("assurance")), data.get("at"), _ev(data)
        )


class Link(_Entry):
    """``a`` and ``b`` belong to one person, by ``kind`` of evidence at ``assurance``."""

    type: Literal["link"] = "link"
    a: Identifier
    b: Identifier
    kind: LinkKind
    assurance: Assurance

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        a, b = sorted((_key(data.get("a")), _key(data.get("b"))))
        kind, assurance = str(data.get("kind")), str(data.get("assurance"))
        return entry_id("lnk", a, b, kind, assurance, str(data.get("at")), _ev(data))


class Revocation(_Entry):
    """Link ``link_id`` no longer counts (an unmerge). The link itself stays in the ledger.

    ``link_id`` may also name a :class:`NeverLink`, which then no longer applies.
    """

    type: Literal["revocation"] = "revocation"
    link_id: EntryId

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        return entry_id("rev", str(data.get("link_id")), str(data.get("at")), _ev(data))


class NeverLink(_Entry):
    """A manual rule: ``a`` and ``b`` must never end in one customer."""

    type: Literal["never_link"] = "never_link"
    a: Identifier
    b: Identifier

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        a, b = sorted((_key(data.get("a")), _key(data.get("b"))))
        return entry_id("nvr", a, b, str(data.get("at")), _ev(data))


class Erasure(_Entry):
    """A customer was forgotten. ``tombstones`` are salted hashes of its identifiers.

    Storage removes the forgotten identifiers' entries; this entry stays, so a
    later sighting of a tombstoned identifier is recognised (see the identity docs).
    """

    type: Literal["erasure"] = "erasure"
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    tombstones: tuple[Annotated[str, StringConstraints(min_length=16, max_length=128)], ...]

    @classmethod
    def _stable_id(cls, data: dict[str, Any]) -> str:
        return entry_id("era", str(data.get("customer_id")), str(data.get("at")))


LedgerEntry = Annotated[
    Sighting | Link | Revocation | NeverLink | Erasure,
    Field(discriminator="type"),
]
"""Any ledger entry, told apart by ``type``."""

ledger_entry_adapter: UnionAdapter[LedgerEntry] = UnionAdapter(LedgerEntry, "LedgerEntry")
"""Validates and serialises ledger entries (``dump_json`` / ``validate_json``)."""
