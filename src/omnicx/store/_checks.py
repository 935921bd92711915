"""Argument checks shared by every backend: bad input becomes a ValidationError that says what to pass."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, TypeVar

from omnicx.errors import ValidationError
from omnicx.models import Customer, Identifier, Interaction
from omnicx.models._interactions import CallRecord, Deletion, Edit, Message, Note, Rating, StatusUpdate

__all__ = ["check_customer", "check_enum", "check_interaction", "identifier_map"]

E = TypeVar("E", bound=StrEnum)

_INTERACTION_TYPES = (Message, CallRecord, StatusUpdate, Note, Rating, Edit, Deletion)


def identifier_map(identifiers: Iterable[Identifier]) -> dict[str, Identifier]:
    """``{key: identifier}`` of ``identifiers``, or :class:`~omnicx.errors.ValidationError`
    when it is not an iterable of :class:`~omnicx.models.Identifier`."""
    if isinstance(identifiers, Identifier | str | bytes):
        raise ValidationError(
            f"pass a list of identifiers, not a single {type(identifiers).__name__}: [identifier]",
            value=repr(identifiers)[:80],
        )
    try:
        items = list(identifiers)
    except TypeError as exc:
        raise ValidationError(
            f"pass a list of identifiers, got {type(identifiers).__name__}", value=repr(identifiers)[:80]
        ) from exc
    found: dict[str, Identifier] = {}
    for item in items:
        if not isinstance(item, Identifier):
            raise ValidationError(
                f"expected omnicx.models.Identifier objects, got {type(item).__name__}; "
                "build them with omnicx.normalize_identifier()",
                value=repr(item)[:80],
            )
        found[item.key] = item
    return found


def check_enum(kind: type[E], value: Any) -> E:
    """``value`` as a member of ``kind``, or :class:`~omnicx.errors.ValidationError` naming the choices."""
    try:
        return kind(value)
    except ValueError:
        raise ValidationError(
            f"{value!r} is not a {kind.__name__}: use one of {', '.join(m.value for m in kind)}",
            value=repr(value)[:80],
        ) from None


def check_interaction(value: Any) -> Interaction:
    """``value`` when it is an interaction model, else :class:`~omnicx.errors.ValidationError`."""
    if not isinstance(value, _INTERACTION_TYPES):
        raise ValidationError(
            f"expected an interaction (Message, CallRecord, StatusUpdate, Note, Rating, Edit or Deletion), "
            f"got {type(value).__name__}",
            value=repr(value)[:80],
        )
    return value


def check_customer(customer: Any) -> Customer:
    """``customer`` when a store can hold it exactly, else :class:`~omnicx.errors.ValidationError`:
    each identifier listed once, and its own id not among its aliases."""
    if not isinstance(customer, Customer):
        raise ValidationError(f"expected an omnicx.models.Customer, got {type(customer).__name__}")
    keys = [item.identifier.key for item in customer.identifiers]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ValidationError(
            f"customer {customer.id!r} lists {twice[0]!r} more than once: list each identifier once",
            customer_id=customer.id,
        )
    if customer.id in customer.aliases:
        raise ValidationError(
            f"customer {customer.id!r} lists its own id among its aliases: aliases are retired ids of other customers",
            customer_id=customer.id,
        )
    return customer
