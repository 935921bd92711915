"""Phone numbers → E.164, with a fast path for values that are already canonical."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from omnicx.errors import NormalizationError

__all__ = ["normalize_phone"]

E164_DIGITS = r"[1-9]\d{6,14}"
"""The digits after the ``+`` of an E.164 number."""
_E164 = re.compile(rf"^\+({E164_DIGITS})$")
_URI_PREFIXES = ("tel:", "whatsapp:", "sms:", "callto:", "wa:")
_SEPARATORS = re.compile(r"[\s\-.()/\u00a0\u2010-\u2015]")
_DIGITS = re.compile(r"^\d+$")
ASCII_STRIP = " -.()/"
"""The ASCII characters the fast path drops (with no-break spaces and Unicode dashes)."""
_STRIP = str.maketrans("", "", ASCII_STRIP + "\u00a0\u2010\u2011\u2012\u2013\u2014\u2015")
_NANP_REGIONS = frozenset(phonenumbers.region_codes_for_country_code(1))


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of a phone number (``+14155550123``).

    Understands international forms (``+44 7911 123456``, ``00 44 …``), trunk
    prefixes (``+44 (0) 7911 123456``), spaces, dashes, dots and parentheses,
    ``tel:`` / ``whatsapp:`` / ``sms:`` URIs, and bare international digits as
    WhatsApp's ``wa_id`` sends them (``447911123456``). A national form
    (``(415) 555-0123``) needs ``region`` (an ISO 3166 code such as ``"US"``);
    with a region, digits that are not a possible national number there are
    tried as international digits.

    Numbers that cannot exist (wrong length for their country) are refused
    with :class:`~omnicx.errors.NormalizationError`. Canonical E.164 input and
    repeated values are cheap: the first takes a fast path, the second a cache.
    """
    if not isinstance(raw, str):
        raise NormalizationError(
            f"a phone number must be a string, got {type(raw).__name__}", kind="phone", value=raw
        )
    return _cached(raw, region)


@lru_cache(maxsize=1 << 18)
def _cached(raw: str, region: str | None) -> str:
    if region is not None:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise NormalizationError(
                f"{region!r} is not a region phonenumbers knows; use an ISO 3166 code such as 'US'",
                kind="phone",
                value=raw,
            )
    fast = _fast_path(raw, region)
    return fast if fast is not None else _normalize(raw, region)


def _fast_path(raw: str, region: str | None) -> str | None:
    """E.164 without parsing, for the common shapes whose answer is certain; else ``None``.

    * ``+`` and digits with spaces, dashes, dots or parentheses: the digits are
      checked against their country's possible lengths;
    * ten national digits in a North American region (``(415) 555-0123`` with
      ``region="US"``) when they cannot start with a trunk prefix.
    Anything else (trunk prefixes, leading zeros, URIs, letters) takes the full parser.
    """
    text = raw.strip()
    if text[:1] == "+":
        compact = text.translate(_STRIP)
        match = _E164.match(compact)
        if match is not None and _fast_possible(match.group(1)):
            return compact
        return None
    if region in _NANP_REGIONS:
        compact = text.translate(_STRIP)
        if len(compact) == 10 and compact.isdigit() and compact[0] not in "01" and _possible(1, int(compact)):
            return "+1" + compact
    return None


_POSSIBLE: dict[tuple[int, int], bool] = {}


def _possible(code: int, national: int) -> bool:
    """``phonenumbers.is_possible_number`` of ``+code national``, memoized.

    phonenumbers decides it from the country code and the length of the national
    significant number alone (``is_possible_number_for_type_with_reason``), so the
    answer is kept per (code, length).
    """
    size = len(str(national))
    known = _POSSIBLE.get((code, size))
    if known is None:
        number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
        known = _POSSIBLE[(code, size)] = bool(phonenumbers.is_possible_number(number))
    return known


def _fast_possible(digits: str) -> bool:
    """True when ``+digits`` is a possible number, decided without parsing."""
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            if not national or national[0] == "0":
                return False  # leading zeros (Italy): let the full parser decide
            return _possible(code, int(national))
    return False


def _normalize(raw: str, region: str | None) -> str:
    text = raw.strip()
    lowered = text.lower()
    for prefix in _URI_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :].split(";", 1)[0].strip()
            break
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00") and _DIGITS.match(compact[2:]):
        text = "+" + compact[2:]
    elif _DIGITS.match(compact) and region is None:
        text = "+" + compact  # bare international digits, as WhatsApp's wa_id
    attempts = [text]
    if region is not None and not text.startswith("+") and _DIGITS.match(compact):
        attempts.append("+" + compact)
    error: str = "no digits"
    for attempt in attempts:
        try:
            number = phonenumbers.parse(attempt, None if attempt.startswith("+") else region)
        except phonenumbers.NumberParseException as exc:
            error = str(exc)
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        error = "not a possible number for its country (wrong length)"
    written_international = raw.strip().startswith(("+", "00"))
    hint = (
        ""
        if region or written_international
        else "; if it is a national number, pass region= (e.g. region='US')"
    )
    raise NormalizationError(f"{raw[:80]!r} is not a phone number: {error}{hint}", kind="phone", value=raw)
