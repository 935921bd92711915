"""What the engine refuses before it changes anything."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnicx.errors import ValidationError
from omnicx.identity import IdentityEngine, LinkKind
from omnicx.models import Assurance, Identifier

T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
ANA = Identifier(kind="email", value="ana@shop.io")
ANA_PHONE = Identifier(kind="phone", value="+14155238886")


def engine() -> IdentityEngine:
    e = IdentityEngine()
    e.observe([ANA], at=T0, channel="email", dedupe_key="m1")
    e.observe([ANA_PHONE], at=T0, channel="sms", dedupe_key="s1")
    return e


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "bogus"),
        ("kind", LinkKind.OBSERVED),
        ("kind", "observed"),
        ("assurance", "certain"),
        ("assurance", 3),
    ],
)
def test_link_refuses_an_unknown_kind_or_assurance_and_changes_nothing(field: str, value: object) -> None:
    e = engine()
    before = e.partition()
    with pytest.raises(ValidationError):
        e.link(ANA, ANA_PHONE, actor="agent", reason="same person", at=T0, **{field: value})  # type: ignore[arg-type]
    assert e.partition() == before
    assert e.customer_of(ANA) != e.customer_of(ANA_PHONE)


@pytest.mark.parametrize(
    ("kind", "assurance"),
    [("imported", "asserted"), (LinkKind.SUGGESTED, Assurance.VERIFIED), ("manual", "verified")],
)
def test_link_takes_members_or_their_values(kind: object, assurance: object) -> None:
    e = engine()
    change = e.link(
        ANA, ANA_PHONE, actor="agent", reason="same person", at=T0, kind=kind, assurance=assurance
    )  # type: ignore[arg-type]
    (entry,) = [x for x in change.entries if x.type == "link"]
    assert (entry.kind, entry.assurance) == (LinkKind(kind), Assurance(assurance))  # type: ignore[union-attr]


@pytest.mark.parametrize("salt", [5, b"", "", None, 1.5])
def test_a_salt_must_be_non_empty_text_or_bytes(salt: object) -> None:
    """``bytes(5)`` is five zero bytes: an int salt used to give tombstones anyone can recompute."""
    with pytest.raises(ValidationError):
        IdentityEngine(salt=salt)  # type: ignore[arg-type]


def test_a_policy_must_be_a_merge_policy() -> None:
    with pytest.raises(ValidationError, match="MergePolicy"):
        IdentityEngine(policy={"limits": {}})  # type: ignore[arg-type]
