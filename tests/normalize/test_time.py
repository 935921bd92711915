"""Timestamps: every accepted form becomes an aware UTC datetime; naive input needs a zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnicx import NormalizationError, normalize_timestamp

EXPECTED = datetime(2003, 7, 1, 8, 52, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 1 Jul 2003 10:52:37 +0200",  # RFC 5322 (an email Date header)
        "1 Jul 2003 10:52:37 +0200",
        "2003-07-01T08:52:37Z",
        "2003-07-01T10:52:37+02:00",
        "2003-07-01 08:52:37+00:00",
        1057049557,
        1057049557000,  # milliseconds
        "1057049557",
        "1057049557000",
        1057049557.0,
        datetime(2003, 7, 1, 10, 52, 37, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_forms(value: object) -> None:
    result = normalize_timestamp(value)
    assert result == EXPECTED
    assert result.tzinfo is UTC


def test_naive_needs_a_zone() -> None:
    with pytest.raises(NormalizationError, match="no time zone"):
        normalize_timestamp("2003-07-01 10:52:37")
    with pytest.raises(NormalizationError, match="no time zone"):
        normalize_timestamp(datetime(2003, 7, 1, 10, 52, 37))
    assert normalize_timestamp("2003-07-01 10:52:37", tz="Europe/Paris") == EXPECTED
    assert normalize_timestamp(datetime(2003, 7, 1, 10, 52, 37), tz=timezone(timedelta(hours=2))) == EXPECTED


@pytest.mark.parametrize("value", ["yesterday-ish", "", "2003-13-45T00:00:00Z", True, None, [1], 10**30])
def test_refused(value: object) -> None:
    with pytest.raises(NormalizationError):
        normalize_timestamp(value)


def test_unknown_zone_name() -> None:
    with pytest.raises(NormalizationError, match="not a time zone"):
        normalize_timestamp("2003-07-01 10:52:37", tz="Mars/Olympus")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_naive_datetimes_are_always_refused(moment: datetime) -> None:
    with pytest.raises(NormalizationError):
        normalize_timestamp(moment)
    with pytest.raises(NormalizationError):
        normalize_timestamp(moment.isoformat())


# Unix milliseconds are told apart from seconds by size, which is unambiguous from March 1973 on.
@given(st.datetimes(min_value=datetime(1973, 3, 4), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_round_trips_and_idempotent(moment: datetime) -> None:
    assert normalize_timestamp(moment.isoformat()) == moment
    assert normalize_timestamp(normalize_timestamp(moment)) == moment
    assert normalize_timestamp(int(moment.timestamp() * 1000)) == moment.replace(
        microsecond=moment.microsecond // 1000 * 1000
    )
