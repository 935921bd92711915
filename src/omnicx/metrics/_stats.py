"""Summary statistics and calendar periods, defined once for every KPI.

* ``mean``: arithmetic mean of the samples (for a 0/1 rate, the rate).
* ``median``: the middle sample of the sorted values; for an even count the mean
  of the two middle ones.
* ``p90``: nearest-rank 90th percentile: the sorted sample at 1-based rank
  ``ceil(0.9 x n)``. Always an observed value (a real wait a customer had), never
  an interpolation: for 10 samples it is the 9th smallest, for 1-10 samples never
  the maximum unless n < 10.
* Periods: ``day`` is the local date in the report's time zone, ``week`` the ISO
  week starting Monday (labelled ``2026-W45``), ``month`` labelled ``2026-11``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["mean", "median", "nearest_rank", "period_of"]


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean of non-empty ``values`` (summed in sorted order, so order never matters)."""
    return math.fsum(values) / len(values)


def median(sorted_values: Sequence[float]) -> float:
    """The median of non-empty, sorted ``sorted_values``."""
    n = len(sorted_values)
    mid = n // 2
    if n % 2:
        return sorted_values[mid]
    return (sorted_values[mid - 1] + sorted_values[mid]) / 2


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float:
    """The nearest-rank ``percent`` percentile of non-empty, sorted ``sorted_values``."""
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def period_of(moment: datetime, period: str, zone: ZoneInfo) -> tuple[str, date]:
    """The label and first local day of the ``day`` / ``week`` / ``month`` holding ``moment``."""
    local = moment.astimezone(zone).date()
    if period == "day":
        return local.isoformat(), local
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}", local - timedelta(days=local.weekday())
    return f"{local.year}-{local.month:02d}", local.replace(day=1)
