"""What a KPI computation is asked for: windows, calendar, SLA targets, grouping."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from omnicx.metrics._calendar import BusinessCalendar
from omnicx.models._base import OmnicxModel, UtcDatetime

__all__ = ["Attribution", "Dimension", "KpiOptions", "Period", "SlaTargets"]

Dimension = Literal["channel", "agent", "team"]
Period = Literal["day", "week", "month"]
Attribution = Literal["conversation_start", "event_time"]
Positive = Annotated[timedelta, Field(gt=timedelta(0))]
Window = Annotated[timedelta, Field(ge=timedelta(0))]


class SlaTargets(OmnicxModel):
    """Service-level targets, in business time of :attr:`KpiOptions.calendar`.

    A target left ``None`` is not measured.
    """

    first_response: Positive | None = None
    next_response: Positive | None = None
    resolution: Positive | None = None


class KpiOptions(OmnicxModel):
    """How to compute and group KPIs.

    * ``calendar``: business hours. When given, every duration KPI is measured in
      business time (``clock == "business"`` in the rows), else in wall time; SLA
      attainment always uses it (around the clock when ``None``).
    * ``sla``: the targets of the SLA attainment KPIs (none measured when ``None``).
    * ``fcr_window`` / ``repeat_window``: N of "no repeat contact within N days"
      (first contact resolution) and of the repeat-contact rate; default 7 days.
    * ``as_of``: the moment the report looks from; conversations whose window has
      not closed by then are left out of FCR and repeat contact, and waits still
      open then count as SLA breaches once past target. Default: the latest
      timestamp in the records (so the result depends on the data only).
    * ``group_by`` / ``period`` / ``attribution`` / ``timezone``: rows per
      combination of the dimensions and per day / ISO week (Monday) / month in
      ``timezone``, a sample falling in the period of its conversation's start
      (``conversation_start``) or of the event that produced it (``event_time``).
    * ``kpis``: names of the KPIs to compute (default all).
    """

    calendar: BusinessCalendar | None = None
    sla: SlaTargets | None = None
    fcr_window: Window = timedelta(days=7)
    repeat_window: Window = timedelta(days=7)
    as_of: UtcDatetime | None = None
    group_by: tuple[Dimension, ...] = ()
    period: Period | None = None
    attribution: Attribution = "conversation_start"
    timezone: str = "UTC"
    kpis: tuple[str, ...] | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Berlin'"
            ) from None
        return value

    @field_validator("group_by")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"group_by names a dimension twice: {value!r}")
        return value
