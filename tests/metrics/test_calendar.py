"""Business time: opening hours in a time zone, holidays, daylight saving, never more than wall time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.errors import ConfigurationError, ValidationError
from omnicx.metrics import BusinessCalendar

LONDON = ZoneInfo("Europe/London")
WEEKDAY_9_TO_5 = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:00",))
OFFICE = BusinessCalendar(timezone="Europe/London", hours=WEEKDAY_9_TO_5)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def test_default_calendar_is_wall_time() -> None:
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert BusinessCalendar().business_seconds(start, start + timedelta(days=3, minutes=5)) == 3 * 86400 + 300


def test_friday_afternoon_to_monday_morning() -> None:
    # Fri 2026-11-06 16:30 -> Mon 2026-11-09 09:15 London (GMT): 30 min Friday + 15 min Monday
    assert OFFICE.business_seconds(local(2026, 11, 6, 16, 30), local(2026, 11, 9, 9, 15)) == 45 * 60


def test_holidays_close_the_whole_day() -> None:
    # Thu 2026-12-24 10:00 -> Mon 2026-12-28 10:00. Thu: 7 h (10-17). Fri 25th holiday. Sat/Sun closed.
    # Mon 28th (bank holiday given by hand): closed -> 7 h; without the 28th as holiday: 7 h + 1 h = 8 h
    cal = OFFICE.with_holidays([date(2026, 12, 25)])
    assert cal.business_seconds(local(2026, 12, 24, 10), local(2026, 12, 28, 10)) == 8 * 3600
    cal = cal.with_holidays([date(2026, 12, 28)])
    assert cal.business_seconds(local(2026, 12, 24, 10), local(2026, 12, 28, 10)) == 7 * 3600


def test_country_holidays_from_the_holidays_package() -> None:
    pytest.importorskip("holidays")
    cal = OFFICE.with_country_holidays("GB", [2026], subdiv="ENG")
    # England 2026: Christmas Day Fri 25 Dec, Boxing Day substitute Mon 28 Dec
    assert {date(2026, 12, 25), date(2026, 12, 28)} <= cal.holidays
    assert cal.business_seconds(local(2026, 12, 24, 10), local(2026, 12, 28, 10)) == 7 * 3600
    with pytest.raises(ConfigurationError, match="does not know country"):
        OFFICE.with_country_holidays("XX", [2026])


def test_daylight_saving_day_has_25_hours_in_london() -> None:
    # Clocks go back on Sunday 2026-10-25 in London: that local day lasts 25 hours
    always = BusinessCalendar(timezone="Europe/London")
    assert always.business_seconds(local(2026, 10, 25, 0), local(2026, 10, 26, 0)) == 25 * 3600
    # open 00:00-03:00 on Sundays: 01:00-02:00 happens twice that night -> 4 h, not 3
    night = BusinessCalendar(timezone="Europe/London", hours={"sun": ("00:00-03:00",)})
    assert night.business_seconds(local(2026, 10, 24, 12), local(2026, 10, 26, 12)) == 4 * 3600
    # and 8 h of office hours stay 8 h on the Monday after the change
    assert OFFICE.business_seconds(local(2026, 10, 26, 0), local(2026, 10, 27, 0)) == 8 * 3600


def test_other_zone_than_the_datetimes() -> None:
    # 09:00-17:00 in Tokyo (UTC+9) is 00:00-08:00 UTC
    tokyo = BusinessCalendar(timezone="Asia/Tokyo", hours=WEEKDAY_9_TO_5)
    start = datetime(2026, 11, 2, 6, tzinfo=UTC)  # Mon 15:00 Tokyo
    assert tokyo.business_seconds(start, start + timedelta(hours=4)) == 2 * 3600  # until 17:00 Tokyo


def test_split_days_and_end_before_start() -> None:
    lunch = BusinessCalendar(hours={"mon": ("09:00-12:00", "13:00-17:00")})
    mon = datetime(2026, 11, 2, tzinfo=UTC)
    assert lunch.business_seconds(mon, mon + timedelta(days=1)) == 7 * 3600
    assert lunch.business_seconds(mon + timedelta(hours=1), mon) == 0


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": ("9-17",)}, "HH:MM-HH:MM"),
        ({"mon": ("17:00-09:00",)}, "start before they end"),
        ({"mon": ("09:00-13:00", "12:00-17:00")}, "overlap"),
        ({"mon": ("09:00-24:30",)}, "start before they end"),
    ],
)
def test_bad_hours_say_what_to_write(hours: dict[str, tuple[str, ...]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        BusinessCalendar.model_validate({"hours": hours})


def test_bad_zone_and_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="IANA"):
        BusinessCalendar(timezone="Mars/Olympus")
    with pytest.raises(ConfigurationError, match="timezone-aware"):
        OFFICE.business_seconds(datetime(2026, 1, 1), datetime(2026, 1, 2))


ZONES = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
RANGES = st.lists(
    st.tuples(st.integers(0, 47), st.integers(1, 48))
    .map(lambda t: (t[0], t[0] + t[1]))
    .filter(lambda t: t[1] <= 48),
    max_size=3,
)


def _hours(spans: list[tuple[int, int]]) -> tuple[str, ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if not out or lo >= out[-1][1]:
            out.append((lo, hi))
    return tuple(f"{lo // 2:02d}:{lo % 2 * 30:02d}-{hi // 2:02d}:{hi % 2 * 30:02d}" for lo, hi in out)


@settings(max_examples=150, deadline=None)
@given(
    zone=ZONES,
    week=st.lists(RANGES, min_size=7, max_size=7),
    holidays=st.sets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20),
    start=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
    length=st.timedeltas(timedelta(0), timedelta(days=20)),
)
def test_business_time_never_exceeds_wall_time(
    zone: str,
    week: list[list[tuple[int, int]]],
    holidays: set[date],
    start: datetime,
    length: timedelta,
) -> None:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    cal = BusinessCalendar(
        timezone=zone,
        hours={d: _hours(spans) for d, spans in zip(days, week, strict=True) if spans},
        holidays=frozenset(holidays),
    )
    business = cal.business_seconds(start, start + length)
    assert 0 <= business <= length.total_seconds()
    # additive: splitting the interval anywhere gives the same total
    mid = start + length / 3
    assert business == pytest.approx(
        cal.business_seconds(start, mid) + cal.business_seconds(mid, start + length)
    )


def test_country_holidays_without_the_package_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_holidays(name: str, *args: object, **kwargs: object) -> object:
        if name == "holidays":
            raise ImportError("not installed")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_holidays)
    with pytest.raises(ConfigurationError, match=r"omnicx\[holidays\]"):
        OFFICE.with_country_holidays("GB", [2026])
