"""Every customer id the engine ever gave out keeps resolving, to the customer holding the
identifier it was born with, until that identifier is forgotten or becomes a shared attribute."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings

from omnicx.errors import UnknownIdentifier
from omnicx.identity import IdentityEngine
from omnicx.models import Identifier

from .strategies import long_ops_lists, ops_lists, run


def _check(ops: list) -> None:  # type: ignore[type-arg]
    # every id ever current → the identifier it was born with, and that identifier's last
    # erasure then (an identifier forgotten since is gone; seen again later it is a new one)
    born: dict[str, tuple[Identifier, datetime | None]] = {}

    def record(engine: IdentityEngine) -> None:
        c = engine._core
        for cid, keys in engine.partition().items():
            # the canonical identifier, read without resolve() or identifiers_of(): their lookups
            # remember ids, and this must see what an engine nobody asked knows
            canon = c.canon_of(c.find(c.index[next(iter(keys))]))
            ident = Identifier.parse(c.keys[canon])  # type: ignore[arg-type]
            born.setdefault(cid, (ident, c.erased_until(ident.key)))

    engine, _ = run(ops, each=record)
    for cid, (ident, erased) in born.items():
        known = engine._core.index.get(ident.key)
        forgotten = engine._core.erased_until(ident.key) != erased
        if known is None or forgotten or engine.customer_of(ident) is None:
            with pytest.raises(UnknownIdentifier):
                engine.resolve(cid)
        else:
            assert engine.resolve(cid) == engine.customer_of(ident), cid


@settings(max_examples=400, deadline=None)
@given(ops=ops_lists)
def test_every_id_given_out_resolves_to_the_holder_of_its_birth_identifier(ops) -> None:
    _check(ops)


@settings(max_examples=60, deadline=None)
@given(ops=long_ops_lists)
def test_every_id_given_out_resolves_in_long_histories(ops) -> None:
    _check(ops)
