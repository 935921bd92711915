"""Platform ids (PSIDs, IGSIDs, BSUIDs, Telegram ids …) and the :func:`identifier` entry point."""

from __future__ import annotations

import re

from omnicx.errors import NormalizationError
from omnicx.models._base import NAME_PATTERN
from omnicx.models._identifiers import SCOPED_KINDS, Identifier, IdentifierKind
from omnicx.normalize._email import normalize_email
from omnicx.normalize._phone import normalize_phone

__all__ = ["normalize_identifier", "normalize_platform_id"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SCOPE = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")

# kind → (pattern, what it should look like)
_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    IdentifierKind.MESSENGER_PSID: (re.compile(r"^\d{1,32}$"), "the digits of a page-scoped id"),
    IdentifierKind.INSTAGRAM_IGSID: (re.compile(r"^\d{1,32}$"), "the digits of an account-scoped id"),
    IdentifierKind.TELEGRAM_USER_ID: (re.compile(r"^[1-9]\d{0,19}$"), "a positive integer"),
    IdentifierKind.WHATSAPP_BSUID: (
        re.compile(r"^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$"),
        "a business-scoped user id such as US.13491208655302741918",
    ),
    IdentifierKind.CHAT_VISITOR: (
        re.compile(r"^[A-Za-z0-9._:\-]{1,128}$"),
        "1-128 letters, digits or . _ : -",
    ),
}


def normalize_platform_id(kind: str, raw: str | int, scope: str | int | None = None) -> Identifier:
    """Validate a platform id (or any non-email, non-phone kind) and build its identifier.

    PSIDs and IGSIDs need ``scope`` (the page or Instagram account id): the same
    number under two pages is two different people. Values are kept as the
    platform sent them, case included; ints are accepted for numeric ids.
    """
    if not isinstance(kind, str) or not NAME_PATTERN.match(kind):
        raise NormalizationError(
            f"{kind!r} is not an identifier kind: use a lowercase name such as 'email' or 'acme_id'",
            kind="identifier",
            value=str(kind),
        )
    value = _text(kind, raw)
    scope_text = None if scope is None else _text(kind, scope)
    if kind in SCOPED_KINDS and scope_text is None:
        raise NormalizationError(
            f"a {kind} is scoped: pass scope= (the page or account id it belongs to)",
            kind=kind,
            value=value,
        )
    if scope_text is not None and not _SCOPE.match(scope_text):
        raise NormalizationError(
            f"scope {scope_text[:80]!r} must be 1-128 letters, digits or . _ -", kind=kind, value=value
        )
    rule = _PATTERNS.get(kind)
    if rule is not None and not rule[0].match(value):
        raise NormalizationError(
            f"{value[:80]!r} is not a {kind}: expected {rule[1]}", kind=kind, value=value
        )
    if len(value) > 512 or _CONTROL.search(value):
        raise NormalizationError(
            f"a {kind} value must be at most 512 characters without control characters",
            kind=kind,
            value=value,
        )
    return Identifier(kind=kind, value=value, scope=scope_text)


def _text(kind: str, raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise NormalizationError(
            f"a {kind} value must be a string or an int, got {type(raw).__name__}",
            kind=kind,
            value=repr(raw)[:200],
        )
    text = str(raw).strip()
    if not text:
        raise NormalizationError(f"a {kind} value cannot be empty", kind=kind, value=text)
    return text


def normalize_identifier(
    kind: str,
    raw: str | int,
    scope: str | int | None = None,
    *,
    region: str | None = None,
) -> Identifier:
    """Build the canonical :class:`~omnicx.models.Identifier` of a raw value.

    Emails go through :func:`normalize_email`, phones through :func:`normalize_phone`
    (``region`` for national forms), everything else through
    :func:`normalize_platform_id`. Idempotent: normalizing the value of a
    normalized identifier gives it back unchanged.
    """
    if kind == IdentifierKind.EMAIL:
        if not isinstance(raw, str):
            raise NormalizationError("an email address must be a string", kind="email", value=repr(raw))
        return Identifier(kind="email", value=normalize_email(raw), scope=_scope(kind, scope))
    if kind == IdentifierKind.PHONE:
        if not isinstance(raw, str):
            raw = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
        if not isinstance(raw, str):
            raise NormalizationError("a phone number must be a string", kind="phone", value=repr(raw))
        return Identifier(kind="phone", value=normalize_phone(raw, region=region), scope=_scope(kind, scope))
    return normalize_platform_id(kind, raw, scope)


def _scope(kind: str, scope: str | int | None) -> str | None:
    if scope is None:
        return None
    text = _text(kind, scope)
    if not _SCOPE.match(text):
        raise NormalizationError(
            f"scope {text[:80]!r} must be 1-128 letters, digits or . _ -", kind=kind, value=text
        )
    return text
