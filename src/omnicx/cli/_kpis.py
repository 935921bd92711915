"""Print the KPIs of a store's conversations as a table (or CSV).

``omnicx kpis --store sqlite:///omnicx.db [--group-by channel] [--period week] [--csv]``.
Every KPI's definition is in docs/reference/kpis.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from omnicx.errors import ConfigurationError
from omnicx.hub import Hub
from omnicx.metrics import KpiOptions, compute_kpis

__all__ = ["HELP", "configure", "open_existing", "options_from", "run"]

HELP = "print KPIs (first response, resolution, FCR, CSAT, NPS, ...) of a store"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``kpis`` arguments (shared with ``report``)."""
    parser.add_argument("--store", default="sqlite:///omnicx.db", help="store URL (default: %(default)s)")
    parser.add_argument("--tenant", default="default", help="tenant (default: %(default)s)")
    parser.add_argument(
        "--group-by",
        action="append",
        choices=["channel", "agent", "team"],
        default=[],
        help="group rows (repeatable)",
    )
    parser.add_argument("--period", choices=["day", "week", "month"], help="one row per period")
    parser.add_argument("--timezone", default="UTC", help="time zone of periods (default: %(default)s)")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")


def options_from(args: argparse.Namespace) -> KpiOptions:
    """The KpiOptions the arguments ask for."""
    return KpiOptions(group_by=tuple(args.group_by), period=args.period, timezone=args.timezone)


def open_existing(url: str, tenant: str) -> Hub:
    """A hub on the store at ``url``, which must exist: a report on a SQLite file that is not
    there would create an empty one and report nothing."""
    parts = urlsplit(url)
    if (
        parts.scheme == "sqlite"
        and parts.path.startswith("/")
        and not Path(unquote(parts.path[1:])).is_file()
    ):
        raise ConfigurationError(
            f"there is no SQLite store at {unquote(parts.path[1:])!r}: point --store at your database "
            "(omnicx demo writes sqlite:///omnicx-demo.db)"
        )
    return Hub.open(url, tenant=tenant)


def run(args: argparse.Namespace) -> int:
    """Compute and print the KPIs; 0 on success."""
    with open_existing(args.store, args.tenant) as hub:
        report = compute_kpis(hub.conversation_records(), options_from(args))
    sys.stdout.write(report.to_csv() if args.csv else report.format_table() + "\n")
    return 0
