"""Identifiers: the endpoints a customer is reached on, and how sure we are of them."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from omnicx.errors import ValidationError
from omnicx.models._base import Name, OmnicxModel

__all__ = [
    "Assurance",
    "Identifier",
    "IdentifierKind",
    "ObservedIdentifier",
    "SCOPED_KINDS",
]


class IdentifierKind(StrEnum):
    """The built-in identifier kinds. Plugins may use any other lowercase name."""

    EMAIL = "email"
    PHONE = "phone"
    EXTERNAL_ID = "external_id"
    WHATSAPP_BSUID = "whatsapp_bsuid"
    MESSENGER_PSID = "messenger_psid"
    INSTAGRAM_IGSID = "instagram_igsid"
    TELEGRAM_USER_ID = "telegram_user_id"
    CHAT_VISITOR = "chat_visitor"


SCOPED_KINDS: frozenset[str] = frozenset({IdentifierKind.MESSENGER_PSID, IdentifierKind.INSTAGRAM_IGSID})
"""Kinds whose values mean nothing without their scope (page-scoped, account-scoped)."""


class Assurance(StrEnum):
    """How sure we are that the customer controls an identifier.

    * ``verified``: the channel proved control (an inbound SMS from the number,
      a WhatsApp message from the ``wa_id``, an email that passed the host's checks);
    * ``asserted``: the customer typed it (a form, a chat pre-survey, a shared contact);
    * ``inferred``: a matcher guessed it.
    """

    VERIFIED = "verified"
    ASSERTED = "asserted"
    INFERRED = "inferred"

    @property
    def rank(self) -> int:
        """2 for verified, 1 for asserted, 0 for inferred: higher is stronger."""
        return _ASSURANCE_RANK[self]

    def at_least(self, other: Assurance) -> bool:
        """True when this assurance is as strong as ``other`` or stronger."""
        return self.rank >= other.rank


_ASSURANCE_RANK = {Assurance.VERIFIED: 2, Assurance.ASSERTED: 1, Assurance.INFERRED: 0}

_SCOPE_RE = r"^[A-Za-z0-9._\-]{1,128}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Scope = Annotated[str, StringConstraints(pattern=_SCOPE_RE)]


class Identifier(OmnicxModel):
    """One endpoint of a customer: ``kind`` + ``value``, within ``scope``.

    ``scope`` names the page, account, business or site a platform id belongs to:
    a Messenger PSID means nothing without its page. Build identifiers from raw
    input with :func:`omnicx.normalize.identifier`, which brings the value into
    canonical form; this model only checks shape.

    The canonical string form is ``kind:value`` or ``kind@scope:value``
    (``email:ana@example.com``, ``messenger_psid@1029384756:2468013579``);
    :meth:`parse` reads it back.
    """

    kind: Name
    value: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    scope: Scope | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.value != self.value.strip() or _CONTROL.search(self.value):
            raise ValueError(
                f"identifier value {self.value[:60]!r} has surrounding white space or control "
                "characters; normalize it with omnicx.normalize.identifier()"
            )
        if self.kind in SCOPED_KINDS and self.scope is None:
            raise ValueError(
                f"a {self.kind} identifier needs its scope (the page or account id it belongs to)"
            )
        return self

    def __str__(self) -> str:
        if self.scope is None:
            return f"{self.kind}:{self.value}"
        return f"{self.kind}@{self.scope}:{self.value}"

    @property
    def key(self) -> str:
        """The canonical string form, usable as a dictionary or database key."""
        return str(self)

    @classmethod
    def parse(cls, text: str) -> Identifier:
        """Read the canonical string form written by ``str(identifier)``.

        Raises :class:`omnicx.errors.ValidationError` when ``text`` is not of that form.
        """
        if not isinstance(text, str):
            raise ValidationError(
                f"an identifier string is needed, got {type(text).__name__}", value=repr(text)[:80]
            )
        head, sep, value = text.partition(":")
        if not sep:
            raise ValidationError(
                f"{text[:80]!r} is not an identifier: expected 'kind:value' or 'kind@scope:value'",
                value=text[:200],
            )
        kind, at, scope = head.partition("@")
        try:
            return cls(kind=kind, value=value, scope=scope if at else None)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValidationError(
                f"{text[:80]!r} is not a valid identifier: {exc}", value=text[:200]
            ) from exc


class ObservedIdentifier(OmnicxModel):
    """An identifier seen in a payload, with the assurance the channel gives it."""

    identifier: Identifier
    assurance: Assurance = Assurance.ASSERTED
    display_name: Annotated[str, Field(max_length=256)] | None = None
