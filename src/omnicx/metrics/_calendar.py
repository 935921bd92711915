"""Business hours: a time zone, weekly opening hours and holidays.

Service-level targets are measured in business time: the part of a wall-clock
interval that falls inside the calendar's opening hours, on days that are not
holidays, in the calendar's own time zone (``zoneinfo``, so daylight-saving
changes are honoured: a 09:00-17:00 day is 8 hours whatever the UTC offset).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from omnicx.errors import ConfigurationError
from omnicx.models._base import OmnicxModel

__all__ = ["WEEKDAYS", "BusinessCalendar", "Weekday"]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_ALWAYS = dict.fromkeys(WEEKDAYS, ("00:00-24:00",))


def _minutes(text: str) -> tuple[int, int]:
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"opening hours are written 'HH:MM-HH:MM' (e.g. '09:00-17:30'), got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
        raise ValueError(f"opening hours {text!r} must start before they end, within 00:00-24:00")
    return start, end


class BusinessCalendar(OmnicxModel):
    """When the business is open: ``hours`` per weekday in ``timezone``, minus ``holidays``.

    ``hours`` maps a weekday (``"mon"`` … ``"sun"``) to its opening ranges,
    ``"HH:MM-HH:MM"`` in local time (``"24:00"`` ends a day); a missing weekday is
    closed. Ranges of a day must not overlap. ``holidays`` are local dates on
    which the business is closed all day. The default is open around the clock
    in UTC, where business time equals wall time.

    Example::

        BusinessCalendar(
            timezone="Europe/London",
            hours={d: ("09:00-17:00",) for d in ("mon", "tue", "wed", "thu", "fri")},
            holidays=frozenset({date(2026, 12, 25)}),
        )
    """

    timezone: str = "UTC"
    hours: Mapping[Weekday, tuple[str, ...]] = Field(default_factory=lambda: dict(_ALWAYS))
    holidays: frozenset[date] = frozenset()
    version: Annotated[int, Field(ge=1)] = 1

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin' "
                "(install the tzdata package where the system has no zone database)"
            ) from None
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: Mapping[Weekday, tuple[str, ...]]) -> Mapping[Weekday, tuple[str, ...]]:
        for day, ranges in value.items():
            spans = sorted(_minutes(r) for r in ranges)
            for (_, end), (start, _) in itertools.pairwise(spans):
                if start < end:
                    raise ValueError(f"opening hours of {day} overlap: {ranges!r}")
        return value

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _spans(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        return tuple(tuple(sorted(_minutes(r) for r in self.hours.get(day, ()))) for day in WEEKDAYS)

    @cached_property
    def always_open(self) -> bool:
        """True when every day is open 00:00-24:00 and there are no holidays (business = wall time)."""
        return not self.holidays and all(spans == ((0, 24 * 60),) for spans in self._spans)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of ``[start, end)`` that fall in opening hours; 0 when ``end <= start``.

        Both must be timezone-aware (a naive datetime raises
        :class:`omnicx.ConfigurationError`). The result never exceeds the wall-clock
        seconds between them.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise ConfigurationError(
                "business_seconds needs timezone-aware datetimes; attach a zone (tzinfo=UTC)",
                start=str(start),
                end=str(end),
            )
        # in UTC: subtracting two datetimes of one zone would ignore a DST change between them
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        zone = self._zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        total = 0.0
        while day <= last:
            if day not in self.holidays:
                for lo, hi in self._spans[day.weekday()]:
                    open_at = _local(day, lo, zone)
                    close_at = _local(day, hi, zone)
                    overlap = (min(end, close_at) - max(start, open_at)).total_seconds()
                    if overlap > 0:
                        total += overlap
            day += timedelta(days=1)
        return total

    def with_holidays(self, days: Iterable[date]) -> BusinessCalendar:
        """A copy of this calendar with ``days`` added to its holidays."""
        return self.model_copy(update={"holidays": self.holidays | frozenset(days)})

    def with_country_holidays(
        self, country: str, years: Iterable[int], *, subdiv: str | None = None
    ) -> BusinessCalendar:
        """A copy with the public holidays of ``country`` (and ``subdiv``) in ``years`` added.

        Uses the optional ``holidays`` package (``pip install 'omnicx[holidays]'``);
        raises :class:`omnicx.ConfigurationError` when it is not installed or does
        not know the country.
        """
        try:
            import holidays as holidays_package
        except ImportError:
            raise ConfigurationError(
                "country holidays need the optional 'holidays' package: pip install 'omnicx[holidays]'",
                country=country,
            ) from None
        try:
            found: Any = holidays_package.country_holidays(country, subdiv=subdiv, years=list(years))
        except NotImplementedError:
            raise ConfigurationError(
                f"the holidays package does not know country {country!r} (subdivision {subdiv!r}); "
                "use an ISO 3166 code such as 'GB' or 'DE'",
                country=country,
                subdiv=subdiv,
            ) from None
        return self.with_holidays(found.keys())


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    # Converted to UTC: subtracting two datetimes of one zone would ignore a DST change between them.
    if minute >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)
