"""Timestamps → aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser
from dateutil import tz as dateutil_tz

from omnicx.errors import NormalizationError

__all__ = ["normalize_timestamp"]

_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")
# Seconds since 1970 stay below this until the year 5138; milliseconds pass it after 1973.
_MS_THRESHOLD = 100_000_000_000
_RFC5322 = re.compile(r"^\s*(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s")


def normalize_timestamp(value: object, *, tz: tzinfo | str | None = None) -> datetime:
    """Return ``value`` as an aware datetime in UTC.

    Accepts aware datetimes, ISO-8601 strings, RFC 5322 dates
    (``Tue, 1 Jul 2003 10:52:37 +0200``), and Unix time as int, float or string,
    in seconds or milliseconds (told apart by size: 10^11 and more are
    milliseconds, which is unambiguous for any time after 3 March 1973). A value without a zone
    (a naive datetime, ``2024-05-01 10:00``) needs ``tz`` (a tzinfo or an IANA
    name such as ``"Europe/Paris"``), else :class:`~omnicx.errors.NormalizationError`.
    """
    if isinstance(value, bool):
        raise NormalizationError("a timestamp cannot be a bool", kind="timestamp", value=value)
    if isinstance(value, int | float):
        return _from_epoch(float(value), value)
    if isinstance(value, datetime):
        return _attach(value, tz, value)
    if not isinstance(value, str):
        raise NormalizationError(
            f"a timestamp must be a datetime, a number or a string, got {type(value).__name__}",
            kind="timestamp",
            value=repr(value)[:200],
        )
    text = value.strip()
    if _NUMERIC.match(text):
        return _from_epoch(float(text), value)
    parsed: datetime | None = None
    if _RFC5322.match(text):
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            parsed = None
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            try:
                parsed = dateutil_parser.parse(text)
            except (ValueError, ArithmeticError, dateutil_parser.ParserError) as exc:  # decimal errors too
                raise NormalizationError(
                    f"{text[:80]!r} is not a date and time omnicx understands "
                    "(ISO-8601, RFC 5322 or Unix time)",
                    kind="timestamp",
                    value=value,
                ) from exc
    return _attach(parsed, tz, value)


def _from_epoch(number: float, original: object) -> datetime:
    seconds = number / 1000 if abs(number) >= _MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise NormalizationError(
            f"{original!r} is out of the range of Unix time", kind="timestamp", value=original
        ) from exc


def _attach(moment: datetime, zone: tzinfo | str | None, original: object) -> datetime:
    if moment.tzinfo is not None and moment.tzinfo.utcoffset(moment) is not None:
        return moment.astimezone(UTC)
    if zone is None:
        raise NormalizationError(
            f"{str(original)[:80]!r} has no time zone; pass tz= (a tzinfo or a name like "
            "'Europe/Paris') to say which zone it is in",
            kind="timestamp",
            value=str(original),
        )
    if isinstance(zone, str):
        resolved = dateutil_tz.gettz(zone)
        if resolved is None:
            raise NormalizationError(
                f"{zone!r} is not a time zone name", kind="timestamp", value=str(original)
            )
        zone = resolved
    return moment.replace(tzinfo=zone).astimezone(UTC)
