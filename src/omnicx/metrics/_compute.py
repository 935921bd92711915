"""From conversation records to KPI samples and rows."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from omnicx.errors import ConfigurationError, ValidationError
from omnicx.metrics._calendar import BusinessCalendar
from omnicx.metrics._definitions import KPIS, Context, KpiDefinition, KpiSample
from omnicx.metrics._facts import Facts, conversation_facts
from omnicx.metrics._options import KpiOptions
from omnicx.metrics._records import ConversationRecord
from omnicx.metrics._results import KpiReport, KpiRow
from omnicx.metrics._stats import mean, median, nearest_rank, period_of

__all__ = ["checked_records", "compute_kpis", "kpi_samples", "latest_time", "load_facts", "select_kpis"]


def select_kpis(names: Sequence[str] | None) -> tuple[KpiDefinition, ...]:
    """The definitions called ``names`` in report order (all when ``None``).

    Raises :class:`omnicx.ConfigurationError` for an unknown name.
    """
    if names is None:
        return KPIS
    known = {d.name: d for d in KPIS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigurationError(f"unknown KPI {unknown!r}; known KPIs: {sorted(known)}", kpis=unknown)
    return tuple(d for d in KPIS if d.name in set(names))


def checked_records(records: Iterable[ConversationRecord]) -> list[ConversationRecord]:
    """``records`` as a list, after checking each is a record and no conversation comes twice."""
    out: list[ConversationRecord] = []
    seen: set[str] = set()
    for record in records:
        if not isinstance(record, ConversationRecord):
            raise ValidationError(
                f"KPIs are computed from ConversationRecord objects, got {type(record).__name__}; "
                "build them with omnicx.metrics.records_from_threading",
                got=type(record).__name__,
            )
        cid = record.conversation.id
        if cid in seen:
            raise ValidationError(
                f"conversation {cid} appears in two records; give each conversation one record",
                conversation_id=cid,
            )
        seen.add(cid)
        out.append(record)
    return out


def latest_time(records: Iterable[ConversationRecord]) -> datetime | None:
    """The latest timestamp of any interaction, event or conversation in ``records`` (None if empty)."""
    latest: datetime | None = None
    for record in records:
        conv = record.conversation
        times = [conv.last_activity_at, *(i.occurred_at for i in record.interactions)]
        times += [e.at for e in record.events]
        if conv.resolved_at is not None:
            times.append(conv.resolved_at)
        top = max(times)
        if latest is None or top > latest:
            latest = top
    return latest


def load_facts(records: Iterable[ConversationRecord], options: KpiOptions) -> tuple[list[Facts], Context]:
    """The facts of every record and the shared context, after checking the records."""
    checked = checked_records(records)
    calendar = options.calendar or BusinessCalendar()
    facts = [conversation_facts(r, calendar) for r in checked]
    starts: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for f in facts:
        if f.first_contact_at is not None:
            starts[f.customer_id].append((f.first_contact_at, f.conversation_id))
    for found in starts.values():
        found.sort()
    as_of = options.as_of or latest_time(checked) or datetime(1970, 1, 1, tzinfo=UTC)
    ctx = Context(
        as_of=as_of,
        calendar=calendar,
        business_clock=options.calendar is not None,
        sla=options.sla,
        fcr_window=options.fcr_window,
        repeat_window=options.repeat_window,
        starts=dict(starts),
    )
    return facts, ctx


def kpi_samples(records: Iterable[ConversationRecord], options: KpiOptions | None = None) -> list[KpiSample]:
    """Every sample of the selected KPIs, conversation by conversation, in report order.

    Raises :class:`omnicx.ValidationError` for something that is not a
    :class:`ConversationRecord` or a conversation given twice, and
    :class:`omnicx.ConfigurationError` for an unknown KPI name.
    """
    options = options or KpiOptions()
    definitions = select_kpis(options.kpis)
    facts, ctx = load_facts(records, options)
    return [s for f in facts for d in definitions for s in d.samples(f, ctx)]


def compute_kpis(records: Iterable[ConversationRecord], options: KpiOptions | None = None) -> KpiReport:
    """Compute the KPIs of ``records`` and aggregate them into rows.

    ``records`` are all the conversations to report on (all of each customer's
    conversations, for first contact resolution and repeat contact). Returns a
    :class:`KpiReport` with one :class:`KpiRow` per KPI and group (KPI order, then
    period, channel, agent, team); a KPI without samples has no row. Raises as
    :func:`kpi_samples`.
    """
    options = options or KpiOptions()
    definitions = select_kpis(options.kpis)
    facts, ctx = load_facts(records, options)
    zone = ZoneInfo(options.timezone)
    dims = options.group_by
    by_channel, by_agent, by_team = ("channel" in dims), ("agent" in dims), ("team" in dims)
    groups: dict[tuple[int, str | None, date | None, str | None, str | None, str | None], list[float]]
    groups = defaultdict(list)
    start_of_period: dict[datetime, tuple[str, date]] = {}
    for f in facts:
        for index, definition in enumerate(definitions):
            for s in definition.samples(f, ctx):
                label: str | None = None
                first_day: date | None = None
                if options.period is not None:
                    moment = s.started_at if options.attribution == "conversation_start" else s.event_at
                    cached = start_of_period.get(moment)
                    if cached is None:
                        cached = start_of_period[moment] = period_of(moment, options.period, zone)
                    label, first_day = cached
                key = (
                    index,
                    label,
                    first_day,
                    s.channel if by_channel else None,
                    s.agent if by_agent else None,
                    s.team if by_team else None,
                )
                groups[key].append(s.value)
    rows = []
    clock: Literal["wall", "business"] = "business" if ctx.business_clock else "wall"
    for key in sorted(groups, key=lambda k: (k[0], k[2] or date.min, *(v or "" for v in k[3:]))):
        index, label, first_day, channel, agent, team = key
        definition = definitions[index]
        values = sorted(groups[key])
        rows.append(
            KpiRow.model_construct(
                kpi=definition.name,
                version=definition.version,
                unit=definition.unit,
                clock=clock if definition.unit == "seconds" else None,
                attribution=options.attribution,
                group_by=dims,
                period=label,
                period_start=first_day,
                channel=channel,
                agent=agent,
                team=team,
                count=len(values),
                total=math.fsum(values),
                mean=mean(values),
                median=median(values),
                p90=nearest_rank(values, 90),
                min=values[0],
                max=values[-1],
            )
        )
    return KpiReport(
        rows=tuple(rows), options=options, as_of=ctx.as_of if facts else None, conversations=len(facts)
    )
