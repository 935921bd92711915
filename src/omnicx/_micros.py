"""Times as integer microseconds since 1970-01-01 UTC: exact, ordered, and compact in JSON and SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["from_us", "to_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (exact, no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after 1970-01-01 UTC."""
    return _EPOCH + timedelta(microseconds=micros)
