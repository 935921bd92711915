"""Write one self-contained HTML report: KPIs, weekly trends, channel mix, one customer's journey.

``omnicx report --html report.html --store sqlite:///omnicx.db [--customer ID]``.
The page loads nothing from the network: inline SVG, no script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from omnicx.cli._kpis import configure as configure_kpis
from omnicx.cli._kpis import open_existing, options_from
from omnicx.metrics import KpiOptions, channel_mix, compute_kpis, render_report

__all__ = ["HELP", "configure", "run"]

HELP = "write a self-contained HTML report (KPI trends, channel mix, a customer journey)"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` arguments."""
    configure_kpis(parser)
    parser.add_argument("--html", required=True, type=Path, help="file to write")
    parser.add_argument(
        "--customer", help="customer whose journey to draw (default: the one with most channels)"
    )
    parser.add_argument("--title", default="omnicx report")


def run(args: argparse.Namespace) -> int:
    """Write the report; 0 on success."""
    with open_existing(args.store, args.tenant) as hub:
        records = hub.conversation_records()
        customer = args.customer
        if customer is not None:
            customer = hub.customer(customer).id
    if customer is None and records:
        spread: dict[str, set[str]] = {}
        for record in records:
            spread.setdefault(record.customer_id, set()).update(record.conversation.channels)
        customer = max(sorted(spread), key=lambda c: len(spread[c]))
    options = options_from(args)
    page = render_report(
        compute_kpis(records, options),
        trends=compute_kpis(records, KpiOptions(period=args.period or "week", timezone=args.timezone)),
        channel_mix=channel_mix(records),
        journey=[r for r in records if r.customer_id == customer],
        title=args.title,
    )
    args.html.write_text(page, encoding="utf-8")
    print(f"wrote {args.html} ({len(page):,} bytes, {len(records)} conversations)", file=sys.stderr)
    return 0
