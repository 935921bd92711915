"""Email addresses → one canonical spelling (syntax only, never DNS)."""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache

import email_validator

from omnicx.errors import NormalizationError

__all__ = ["normalize_email"]

# Dot-atom ASCII addresses whose canonical form is just the lower-cased text and
# that email-validator accepts; anything else takes the full validator.
_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
FAST_SHAPE = rf"({_LOCAL})@((?:{_LABEL}\.)+[a-z]{{2,24}})"
"""The lower-cased, stripped ASCII addresses of the fast path: local part and domain. Their
canonical form is the text itself when it is at most 254 characters, the local part at most 64,
the last label is not one of :data:`SPECIAL_TLDS` and the domain holds no ``--`` (the DuckDB
engine of ``omnicx resolve`` applies the same rule in SQL)."""
_FAST = re.compile(f"^{FAST_SHAPE}$")
SPECIAL_TLDS = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(
    raw: str,
    *,
    fold_local_case: bool = True,
    provider_rules: bool = False,
    fold_plus_tags: bool = False,
) -> str:
    """Return the canonical form of an email address.

    * accepts ``Name <a@b>`` and ``mailto:`` forms and surrounding white space;
    * checks syntax with email-validator (no DNS look-up);
    * the domain is lower-cased and IDNA-encoded (``bücher.de`` → ``xn--bcher-kva.de``);
    * the local part is case-folded unless ``fold_local_case=False``
      (RFC 5321 lets a server tell ``Ana`` from ``ana``; no real provider does);
    * ``provider_rules=True`` applies Gmail's rules (dots ignored, ``+tag``
      dropped, ``googlemail.com`` → ``gmail.com``);
    * ``fold_plus_tags=True`` drops a ``+tag`` for every domain.

    Raises :class:`~omnicx.errors.NormalizationError` for anything that is not an address.
    """
    if not isinstance(raw, str):
        raise NormalizationError(
            f"an email address must be a string, got {type(raw).__name__}", kind="email", value=raw
        )
    return _normalize(raw, fold_local_case, provider_rules, fold_plus_tags)


@lru_cache(maxsize=1 << 17)
def _normalize(raw: str, fold_local_case: bool, provider_rules: bool, fold_plus_tags: bool) -> str:
    text = raw.strip()
    if fold_local_case:
        match = _FAST.match(text.lower())
        if match is not None and len(text) <= 254 and len(match.group(1)) <= 64:
            local, domain = match.group(1), match.group(2)
            if domain.rsplit(".", 1)[-1] not in SPECIAL_TLDS and "--" not in domain:
                return _provider(local, domain, provider_rules, fold_plus_tags)
    local, domain = _validate(text)
    if fold_local_case:
        local = local.casefold()
    return _provider(local, domain, provider_rules, fold_plus_tags)


def _validate(text: str) -> tuple[str, str]:
    if text.lower().startswith("mailto:"):
        text = text[7:].split("?", 1)[0]
    if "<" in text:
        text = parseaddr(text)[1] or text
    try:
        result = email_validator.validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except email_validator.EmailNotValidError as exc:
        raise NormalizationError(
            f"{text[:80]!r} is not an email address: {exc}", kind="email", value=text
        ) from exc
    local = result.local_part
    domain = (result.ascii_domain or result.domain).lower()
    return local, domain


def _provider(local: str, domain: str, provider_rules: bool, fold_plus_tags: bool) -> str:
    if provider_rules and domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    elif fold_plus_tags and "+" in local[1:]:
        local = local.split("+", 1)[0]
    if not local:
        raise NormalizationError(
            "the address has nothing before its +tag", kind="email", value=f"{local}@{domain}"
        )
    return f"{local}@{domain}"
