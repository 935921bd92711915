"""One self-contained HTML page: KPI table, KPI trends, channel mix, one customer's journey.

Pure: no network, no external asset, no script; charts are inline SVG; every
piece of text from the data is HTML-escaped.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from html import escape

from omnicx.metrics._channels import ChannelMixTable
from omnicx.metrics._records import ConversationRecord
from omnicx.metrics._results import KpiReport, KpiRow, _fmt
from omnicx.models import AuthorRole, Direction, Message, Rating

__all__ = ["render_report"]

_PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563")
_ROLE_COLOR = {"customer": "#2563eb", "agent": "#16a34a", "bot": "#9333ea", "system": "#6b7280"}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#111827;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb}
table{border-collapse:collapse;font-size:.85rem}th,td{padding:.25rem .6rem;border-bottom:1px solid #f3f4f6}
th{text-align:left;background:#f9fafb}td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.muted{color:#6b7280;font-size:.8rem}
svg text{font-family:inherit;font-size:11px;fill:#374151}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _kpi_table(rows: Sequence[KpiRow]) -> str:
    if not rows:
        return '<p class="muted">No KPI had samples.</p>'
    head = "<tr><th>KPI</th><th>version</th><th>period</th><th>group</th><th>n</th><th>mean</th><th>median</th><th>p90</th></tr>"
    body = []
    for r in rows:
        group = ", ".join(f"{d}={getattr(r, d) or '-'}" for d in r.group_by) or "all"
        spread = r.unit != "ratio"
        body.append(
            f"<tr><td>{_e(r.kpi)}</td><td class=n>v{r.version}</td><td>{_e(r.period or 'all')}</td>"
            f"<td>{_e(group)}</td><td class=n>{r.count}</td><td class=n>{_e(_fmt(r.mean, r.unit))}</td>"
            f"<td class=n>{_e(_fmt(r.median, r.unit)) if spread else ''}</td>"
            f"<td class=n>{_e(_fmt(r.p90, r.unit)) if spread else ''}</td></tr>"
        )
    return f"<table>{head}{''.join(body)}</table>"


def _trend_chart(name: str, unit: str, points: list[tuple[str, float]]) -> str:
    width, height, left, bottom, top = 340, 180, 72, 36, 24
    plot_w, plot_h = width - left - 40, height - bottom - top
    values = [v for _, v in points]
    low, high = min(0.0, *values), max(values)
    span = (high - low) or 1.0

    def x(i: int) -> float:
        return left + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v - low) / span * plot_h

    coords = [(x(i), y(v)) for i, (_, v) in enumerate(points)]
    line = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
    dots = "".join(
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#2563eb"><title>{_e(label)}: {_e(_fmt(v, unit))}</title></circle>'
        for (cx, cy), (label, v) in zip(coords, points, strict=True)
    )
    shown = [i for i in range(len(points)) if len(points) <= 4 or i in (0, len(points) - 1)]
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{height - 18}" text-anchor="middle">{_e(points[i][0])}</text>'
        for i in shown
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{_e(name)} trend">'
        f'<text x="{left}" y="14" font-weight="600">{_e(name)}</text>'
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#d1d5db"/>'
        f'<text x="{left - 4}" y="{y(high) + 4:.1f}" text-anchor="end">{_e(_fmt(high, unit))}</text>'
        f'<text x="{left - 4}" y="{y(low) + 4:.1f}" text-anchor="end">{_e(_fmt(low, unit))}</text>'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{line}"/>{dots}{labels}</svg>'
    )


def _trends(trends: KpiReport | None) -> str:
    if trends is None or not trends.rows:
        return '<p class="muted">No trend data.</p>'
    series: dict[str, list[tuple[str, float]]] = defaultdict(list)
    units: dict[str, str] = {}
    for r in trends.rows:
        if r.period is None or any(getattr(r, d) is not None for d in r.group_by):
            continue
        series[r.kpi].append((r.period, r.mean))
        units[r.kpi] = r.unit
    if not series:
        return '<p class="muted">The trend report has no per-period rows (compute it with a period).</p>'
    charts = "".join(_trend_chart(k, units[k], pts) for k, pts in series.items())
    return f'<p class="muted">Per {_e(trends.options.period)}, attributed by {_e(trends.options.attribution)}.</p><div class="charts">{charts}</div>'


def _mix(mix: ChannelMixTable | None) -> str:
    if mix is None or not mix.rows:
        return '<p class="muted">No customer contacts.</p>'
    counts: Counter[str] = Counter()
    for row in mix.rows:
        counts[row.channel] += row.contacts
    total = sum(counts.values())
    width, bar_h, left = 520, 22, 110
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    height = bar_h * len(items) + 10
    bars = []
    for i, (channel, n) in enumerate(items):
        w = (width - left - 90) * n / total
        yy = 5 + i * bar_h
        share = n / total
        bars.append(
            f'<text x="{left - 6}" y="{yy + 15}" text-anchor="end">{_e(channel)}</text>'
            f'<rect x="{left}" y="{yy + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="{_PALETTE[i % len(_PALETTE)]}">'
            f"<title>{_e(channel)}: {n} contacts</title></rect>"
            f'<text x="{left + w + 6:.1f}" y="{yy + 15}">{share * 100:.1f}% ({n})</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="channel mix">{"".join(bars)}</svg>'
    )


def _role(item: object) -> str:
    if isinstance(item, Message) and item.direction is Direction.INBOUND:
        return "customer"
    author = getattr(item, "author", None)
    role = author.role if author is not None else AuthorRole.SYSTEM
    return str(role.value)


def _journey(journey: Sequence[ConversationRecord] | None) -> str:
    if not journey:
        return '<p class="muted">No journey selected.</p>'
    items = [i for r in journey for i in r.interactions]
    if not items:
        return '<p class="muted">The customer has no interactions.</p>'
    channels: list[str] = []
    for item in sorted(items, key=lambda i: (i.occurred_at, i.id)):
        if item.channel not in channels:
            channels.append(item.channel)
    t0 = min(i.occurred_at for i in items)
    t1 = (
        max(max(i.occurred_at for i in items), *(e.at for r in journey for e in r.events))
        if any(r.events for r in journey)
        else max(i.occurred_at for i in items)
    )
    span = (t1 - t0).total_seconds() or 1.0
    left, lane, width, top = 110, 34, 900, 30
    plot_w = width - left - 20
    height = top + lane * len(channels) + 40

    def x(moment: datetime) -> float:
        return left + plot_w * (moment - t0).total_seconds() / span

    parts = [
        f'<text x="{left}" y="14" class="muted">{_e(t0.isoformat(timespec="minutes"))} → '
        f"{_e(t1.isoformat(timespec='minutes'))} (UTC)</text>"
    ]
    for n, record in enumerate(journey):
        conv = record.conversation
        end = conv.resolved_at or conv.last_activity_at
        x0, x1 = x(conv.opened_at), max(x(end), x(conv.opened_at) + 4)
        parts.append(
            f'<rect x="{x0:.1f}" y="{top - 6}" width="{x1 - x0:.1f}" height="{lane * len(channels) + 6}" '
            f'fill="{_PALETTE[n % len(_PALETTE)]}" fill-opacity="0.07" stroke="{_PALETTE[n % len(_PALETTE)]}" '
            f'stroke-opacity="0.4"><title>conversation {_e(conv.id)} ({_e(conv.status.value)})</title></rect>'
        )
        for event in record.events:
            if event.type.value in ("resolved", "reopened", "channel_switched"):
                ex = x(event.at)
                parts.append(
                    f'<line x1="{ex:.1f}" y1="{top - 6}" x2="{ex:.1f}" y2="{top + lane * len(channels)}" '
                    f'stroke="#6b7280" stroke-dasharray="3,3"><title>{_e(event.type.value)} at '
                    f"{_e(event.at.isoformat(timespec='minutes'))}</title></line>"
                )
    for lane_no, channel in enumerate(channels):
        yy = top + lane * lane_no + lane / 2
        parts.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" text-anchor="end">{_e(channel)}</text>')
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="#e5e7eb"/>')
    for item in sorted(items, key=lambda i: (i.occurred_at, i.id)):
        role = _role(item)
        yy = top + lane * channels.index(item.channel) + lane / 2
        shape = "rect" if isinstance(item, Rating) else "circle"
        label = f"{item.occurred_at.isoformat(timespec='minutes')} {item.type} by {role} on {item.channel}"
        if isinstance(item, Message) and item.text:
            label += f": {item.text[:80]}"
        color = _ROLE_COLOR.get(role, "#6b7280")
        if shape == "rect":
            mark = f'<rect x="{x(item.occurred_at) - 4:.1f}" y="{yy - 4:.1f}" width="8" height="8" fill="{color}">'
        else:
            mark = f'<circle cx="{x(item.occurred_at):.1f}" cy="{yy:.1f}" r="5" fill="{color}">'
        parts.append(f"{mark}<title>{_e(label)}</title></{shape}>")
    legend_y = height - 12
    for n, (role, color) in enumerate(_ROLE_COLOR.items()):
        lx = left + n * 90
        parts.append(
            f'<circle cx="{lx}" cy="{legend_y - 4}" r="5" fill="{color}"/><text x="{lx + 9}" y="{legend_y}">{_e(role)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="customer journey">{"".join(parts)}</svg>'
    )


def render_report(
    kpis: KpiReport,
    *,
    trends: KpiReport | None = None,
    channel_mix: ChannelMixTable | None = None,
    journey: Sequence[ConversationRecord] | None = None,
    title: str = "omnicx report",
) -> str:
    """One self-contained HTML page (a ``str``) with the KPI table and inline SVG charts.

    ``kpis`` is shown as a table; ``trends`` (a report computed with a ``period``)
    as one line chart per KPI over its ungrouped rows; ``channel_mix`` as a bar
    chart of contacts per channel; ``journey`` (the records of one customer) as a
    swimlane per channel with each interaction coloured by who wrote it,
    conversations as bands and resolves / reopens / channel switches as dashed
    lines. The page loads nothing: no script, no stylesheet, no image, no font.
    """
    customer = _e(journey[0].customer_id) if journey else ""
    as_of = kpis.as_of.isoformat(timespec="minutes") if kpis.as_of else "-"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head><body>'
        f"<h1>{_e(title)}</h1>"
        f'<p class="muted">{kpis.conversations} conversations · as of {_e(as_of)} · '
        f"samples attributed by {_e(kpis.options.attribution)}</p>"
        f"<h2>KPIs</h2>{_kpi_table(kpis.rows)}"
        f"<h2>KPI trends</h2>{_trends(trends)}"
        f"<h2>Channel mix</h2>{_mix(channel_mix)}"
        f"<h2>Journey{': ' + customer if customer else ''}</h2>{_journey(journey)}"
        "</body></html>\n"
    )
