"""Typed KPI rows and their renderings: CSV, a terminal table, pandas."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from omnicx.errors import ConfigurationError
from omnicx.metrics._options import Attribution, KpiOptions
from omnicx.models._base import OmnicxModel, UtcDatetime

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["KpiReport", "KpiRow", "rows_to_csv", "rows_to_pandas"]


class KpiRow(OmnicxModel):
    """One KPI over one group of samples.

    ``attribution`` names how samples were put into ``period``: by their
    conversation's start or by the time of the event that produced them.
    ``channel`` / ``agent`` / ``team`` are the group's values for the dimensions
    grouped by (``None`` both for "not grouped by" and for "no agent"; see
    ``group_by``). For a rate, ``mean`` is the rate, ``total`` its numerator and
    ``count`` its denominator. Durations are seconds on ``clock``.
    """

    kpi: str
    version: int
    unit: Literal["seconds", "ratio", "score", "count"]
    clock: Literal["wall", "business"] | None
    attribution: Attribution
    group_by: tuple[str, ...]
    period: str | None
    period_start: date | None
    channel: str | None
    agent: str | None
    team: str | None
    count: int
    total: float
    mean: float
    median: float
    p90: float
    min: float
    max: float


_COLUMNS = tuple(KpiRow.model_fields)


def rows_to_csv(rows: Sequence[OmnicxModel]) -> str:
    """``rows`` (all of one model class) as CSV text with a header; empty string for no rows."""
    if not rows:
        return ""
    out = io.StringIO()
    fields = list(type(rows[0]).model_fields)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        data = row.model_dump(mode="json")
        writer.writerow(
            ["|".join(v) if isinstance(v, list) else ("" if v is None else v) for v in data.values()]
        )
    return out.getvalue()


def rows_to_pandas(rows: Sequence[OmnicxModel], columns: Sequence[str]) -> pandas.DataFrame:
    """``rows`` as a pandas DataFrame with ``columns``.

    Raises :class:`omnicx.ConfigurationError` when pandas is not installed.
    """
    try:
        import pandas
    except ImportError:
        raise ConfigurationError(
            "to_pandas() needs pandas, which omnicx does not install: pip install pandas"
        ) from None
    return pandas.DataFrame([row.model_dump() for row in rows], columns=list(columns))


class KpiReport(OmnicxModel):
    """The result of :func:`omnicx.metrics.compute_kpis`: rows plus the options and ``as_of`` used."""

    rows: tuple[KpiRow, ...]
    options: KpiOptions
    as_of: UtcDatetime | None
    conversations: int

    def for_kpi(self, name: str) -> tuple[KpiRow, ...]:
        """The rows of the KPI called ``name`` (empty when it had no samples)."""
        return tuple(r for r in self.rows if r.kpi == name)

    def get(self, name: str, **group: Any) -> KpiRow | None:
        """The one row of ``name`` whose fields equal ``group`` (e.g. ``channel="sms"``), else None."""
        found = [r for r in self.for_kpi(name) if all(getattr(r, k) == v for k, v in group.items())]
        if len(found) > 1:
            raise ConfigurationError(
                f"{len(found)} rows of {name} match {group}; name more fields (period, channel, agent, team)",
                kpi=name,
            )
        return found[0] if found else None

    def to_csv(self) -> str:
        """The rows as CSV (header first; ``group_by`` joined with ``|``)."""
        return rows_to_csv(self.rows)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame; raises :class:`omnicx.ConfigurationError` without pandas."""
        return rows_to_pandas(self.rows, _COLUMNS)

    def format_table(self) -> str:
        """A plain-text table for a terminal: KPI, group, count, mean, median, p90."""
        return format_table(self.rows)


def _fmt(value: float, unit: str) -> str:
    if unit == "seconds":
        return _duration(value)
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return f"{value:.2f}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{m:02d}m"
    days, h = divmod(hours, 24)
    return f"{days}d{h:02d}h"


def format_table(rows: Sequence[KpiRow]) -> str:
    """``rows`` as an aligned plain-text table (durations as ``1h05m``, rates as percentages)."""
    header = ("kpi", "period", "group", "n", "mean", "median", "p90")
    lines: list[tuple[str, ...]] = [header]
    for r in rows:
        group = ",".join(f"{d}={getattr(r, d) or '-'}" for d in r.group_by) or "all"
        lines.append(
            (
                r.kpi,
                r.period or "all",
                group,
                str(r.count),
                _fmt(r.mean, r.unit),
                _fmt(r.median, r.unit) if r.unit != "ratio" else "",
                _fmt(r.p90, r.unit) if r.unit != "ratio" else "",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"
