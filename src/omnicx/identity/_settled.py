"""When does an observation change nothing? The facts that answer it without the ledger.

Most payloads come from a returning customer on identifiers already linked to one
another: such an observation only adds evidence. :class:`SettledFacts` holds, for
one customer, what decides that (see :meth:`SettledFacts.settles`), small enough
to keep beside the customer and read in one lookup, so a host can skip rebuilding
the engine from the customer's ledger for the common case.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from omnicx._micros import from_us, to_us
from omnicx.errors import ValidationError

__all__ = ["SettledFacts"]


@attrs.frozen
class SettledFacts:
    """One customer's identifiers, the first sighting of each, and its joined pairs.

    ``sightings``: identifier key → time of its first real sighting (an identifier
    known only from a manual or imported link has none). ``pairs``: (key, key) in
    sorted order → time of the pair's earliest qualifying link, for every admitted
    pair inside the customer. ``members``: every identifier key of the customer.
    """

    customer_id: str
    members: frozenset[str]
    sightings: Mapping[str, datetime]
    pairs: Mapping[tuple[str, str], datetime]

    def settles(self, keys: Iterable[str], at: datetime) -> bool:
        """True when observing ``keys`` together at ``at`` changes no customer and no id.

        That holds when every key is this customer's and was first sighted at ``at`` or
        before, and every pair of them already has a qualifying link before ``at``: the
        new sightings move no birth (a birth is the first instant), and the new links
        move no pair's order key (a link of the same instant may sort first by its id),
        so the canonical evaluation is the same (see :mod:`omnicx.identity._core`).
        """
        if not isinstance(at, datetime) or at.utcoffset() is None:
            raise ValidationError(f"at={at!r} must be an aware datetime", value=repr(at)[:80])
        if type(keys) is not list and (isinstance(keys, str) or not isinstance(keys, Iterable)):
            raise ValidationError(f"keys must be identifier keys (str), got {type(keys).__name__}")
        listed = keys if type(keys) is list else list(keys)
        for k in listed:
            if type(k) is not str and not isinstance(k, str):
                raise ValidationError("keys must be identifier keys (str), as Identifier.key gives them")
        distinct = sorted(set(listed))
        if not distinct:
            return False
        for key in distinct:
            first = self.sightings.get(key)
            if first is None or at < first:
                return False
        for i, a in enumerate(distinct):
            for b in distinct[i + 1 :]:
                linked = self.pairs.get((a, b))
                if linked is None or not linked < at:
                    return False
        return True

    def to_json(self) -> str:
        """A compact JSON form (times in microseconds since the epoch)."""
        return json.dumps(
            {
                "customer_id": self.customer_id,
                "members": sorted(self.members),
                "sightings": {k: to_us(v) for k, v in sorted(self.sightings.items())},
                "pairs": [[a, b, to_us(t)] for (a, b), t in sorted(self.pairs.items())],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> SettledFacts:
        """The facts :meth:`to_json` wrote. Raises :class:`~omnicx.errors.ValidationError` for
        any other text."""
        try:
            data = json.loads(text)
            return cls(
                customer_id=data["customer_id"],
                members=frozenset(data["members"]),
                sightings={k: from_us(v) for k, v in data["sightings"].items()},
                pairs={(a, b): from_us(t) for a, b, t in data["pairs"]},
            )
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
            raise ValidationError(
                f"not settled facts as SettledFacts.to_json() writes them: {exc!r}", value=str(text)[:80]
            ) from None
