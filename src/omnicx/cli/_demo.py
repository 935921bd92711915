"""Run the demo: a shipped set of real-format payloads through the hub, then one customer's story.

``omnicx demo [--db omnicx-demo.db]`` ingests 60 signed webhook deliveries from 8 channels
(web chat, email, WhatsApp, Messenger, Twilio SMS and Voice, Telegram, web forms) for 24
customers — with channel switches, webhook retries, a forged and a malformed request, and one
wrong merge by an agent that is later split — into a fresh SQLite file, and prints the seed
customer's unified timeline, their agent context and a summary.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TextIO

from omnicx._demo import DeliverStep, LinkStep, SplitStep, demo_channels, demo_steps
from omnicx.hub import Hub, IngestResult
from omnicx.metrics import compute_kpis
from omnicx.models import CallRecord, Message, Rating, StatusUpdate

__all__ = ["HELP", "configure", "run", "run_demo"]

HELP = "ingest the shipped sample payloads and print one customer's whole story"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` arguments."""
    parser.add_argument(
        "--db", type=Path, default=Path("omnicx-demo.db"), help="SQLite file to create (default: %(default)s)"
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo into ``args.db``; 0 on success."""
    run_demo(args.db, sys.stdout)
    return 0


def _fresh(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        target = Path(f"{path}{suffix}")
        if target.exists():
            target.unlink()


def _line(entry_at: datetime, channel: str, arrow: str, text: str) -> str:
    return f"  {entry_at:%a %d %b %H:%M}  {channel:<9} {arrow} {text}"


def run_demo(db: Path, out: TextIO) -> str:
    """Ingest every demo step into a fresh SQLite ``db``, print the story; return the seed customer id."""
    _fresh(db)
    steps = demo_steps()
    now = [steps[0].request.received_at if isinstance(steps[0], DeliverStep) else steps[0].at]
    results: list[tuple[DeliverStep, IngestResult]] = []
    seed: str | None = None
    merges = splits = 0
    with Hub.open(f"sqlite:///{db}", channels=demo_channels(), clock=lambda: now[0]) as hub:
        for step in steps:
            if isinstance(step, DeliverStep):
                now[0] = step.request.received_at
                result = hub.ingest(step.channel, step.request)
                results.append((step, result))
                if step.story == "seed" and seed is None and result.customer_ids:
                    seed = result.customer_ids[0]
            elif isinstance(step, LinkStep):
                now[0] = step.at
                hub.link(step.a, step.b, actor=step.actor, reason=step.reason, at=step.at)
                merges += 1
                print(
                    f"! {step.at:%d %b} {step.actor} linked {step.a} and {step.b}: {step.reason!r}", file=out
                )
            elif isinstance(step, SplitStep):
                now[0] = step.at
                customer = hub.customer_of(step.of)
                if customer is not None:
                    parts = hub.split(customer, step.groups, actor=step.actor, reason=step.reason, at=step.at)
                    splits += 1
                    print(
                        f"! {step.at:%d %b} {step.actor} split {customer} into {', '.join(parts)}: {step.reason!r}",
                        file=out,
                    )
        if seed is None:
            raise RuntimeError("the demo data has no seed story")
        seed = hub.customer(seed).id
        _story(hub, seed, out)
        _summary(hub, results, merges, splits, out)
    print(f"\nEverything is in {db} — try: omnicx kpis --store sqlite:///{db}", file=out)
    return seed


def _story(hub: Hub, customer_id: str, out: TextIO) -> None:
    context = hub.context(customer_id)
    print(
        f"\n══ The unified timeline of {context.customer.display_name or context.brief.split(' — ', 1)[0]} ({customer_id}) ══",
        file=out,
    )
    entries = list(reversed(hub.timeline(customer_id, limit=200).entries))
    last_call = {
        e.interaction.call_id: index
        for index, e in enumerate(entries)
        if isinstance(e.interaction, CallRecord)
    }
    for entry in entries:
        if entry.identity is not None:
            event = entry.identity
            what = ", ".join(str(i) for i in event.identifiers) or event.retired_id or ""
            print(
                f"  {entry.at:%a %d %b %H:%M}  identity  · {event.type} {what} {event.reason}".rstrip(),
                file=out,
            )
            continue
        item = entry.interaction
        if item is None or isinstance(item, StatusUpdate):
            continue
        if isinstance(item, CallRecord) and last_call[item.call_id] != entries.index(entry):
            continue  # an earlier update of a call shown once, at its latest state
        arrow = "→" if item.direction.value == "inbound" else "←"
        who = item.author.role.value
        if isinstance(item, Message):
            text = (
                item.new_text or item.text or item.subject or f"[{', '.join(p.type for p in item.parts)}]"
            ).strip()
        elif isinstance(item, CallRecord):
            text = f"[call {item.status.value}" + (
                f", {item.duration_seconds:.0f} s]" if item.duration_seconds else "]"
            )
        elif isinstance(item, Rating):
            text = f"[{item.scale.value.upper()} {item.score}]"
        else:
            text = f"[{item.type}]"
        text = " ".join(text.split())
        print(_line(item.occurred_at, item.channel, arrow, f"{who}: {text[:90]}"), file=out)
    print("\n══ Agent context ══", file=out)
    print(context.brief, file=out)
    identifiers = ", ".join(f"{ci.identifier} ({ci.assurance.value})" for ci in context.identifiers)
    print(f"identifiers: {identifiers}", file=out)


def _summary(
    hub: Hub, results: list[tuple[DeliverStep, IngestResult]], merges: int, splits: int, out: TextIO
) -> None:
    statuses = Counter(result.status for _, result in results)
    channels = Counter(step.channel for step, _ in results)
    records = hub.conversation_records()
    with hub.store.snapshot(hub.tenant) as view:
        customers = view.customer_ids()
    switched = sum(1 for record in records if len(record.conversation.channels) > 1)
    print("\n══ Summary ══", file=out)
    print(f"requests: {len(results)} on {len(channels)} channels ({', '.join(sorted(channels))})", file=out)
    print("  " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())), file=out)
    for step, result in results:
        if result.status == "rejected":
            print(
                f"  rejected {step.channel} ({result.http_status}): {result.rejections[0].message[:90]}",
                file=out,
            )
    print(
        f"customers: {len(customers)}; conversations: {len(records)}, {switched} across several channels",
        file=out,
    )
    junk = [a for _, result in results for a in result.accepted if a.customer_id is None]
    if junk:
        print(
            f"  {len(junk)} accepted events name no customer: their sender is junk under the merge policy "
            "(e.g. a reserved example.* domain)",
            file=out,
        )
    print(f"identity: {merges} manual merge, {splits} split", file=out)
    report = compute_kpis(records)
    wanted = {"first_response_time", "channel_switch_rate", "csat_top2_box", "reopen_count"}
    rows = [row for row in report.rows if row.kpi in wanted]
    if rows:
        print(report.model_copy(update={"rows": tuple(rows)}).format_table(), file=out)
