"""All omnicx KPIs over N interactions, time and peak memory, beside a naive baseline.

Self-contained: a seeded generator makes help-desk conversations (customer
messages on several channels, bot replies, agent replies, templates, automated
messages, reopens, resolves, CSAT / NPS / CES answers, assignment to agents and
teams) as ConversationRecords, built with ``model_construct`` (valid by
construction; the benchmark measures KPIs, not validation).

Contenders, on the same records in the same run:

* omnicx: ``compute_kpis`` with all 18 KPIs (wall clock, SLA targets on);
* omnicx + calendar: the same with a Mon-Fri business calendar and holidays,
  grouped by channel and week;
* omnicx channel mix + returning customers;
* baseline: first response time and CSAT the naive way: a pandas groupby on a
  flat frame (first agent message minus conversation start; mean CSAT), when
  pandas is installed, else the same in a plain-Python loop. The baseline
  computes 2 numbers with none of omnicx's rules (bots, templates, reopen,
  handoff), so it is a floor on cost, not an equal.

Peak memory is measured in a second pass under tracemalloc (allocations made by
the computation, the input excluded).

    python benchmarks/kpis.py [N]        # N interactions, default 50000 (under a minute); 1000000 for the doc
"""

from __future__ import annotations

import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from omnicx import models as m
from omnicx.conversations import ConversationEvent, ConversationEventType
from omnicx.metrics import (
    BusinessCalendar,
    ConversationRecord,
    KpiOptions,
    SlaTargets,
    channel_mix,
    compute_kpis,
    returning_customers,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CHANNELS = ["whatsapp", "email", "webchat", "sms", "messenger", "voice"]
AGENTS = [f"agent-{i}" for i in range(40)]
TEAMS = ["billing", "support", "sales", "tech"]
E = ConversationEventType


def _author(role: m.AuthorRole, author_id: str | None) -> m.Author:
    return m.Author.model_construct(role=role, id=author_id, name=None)


def _endpoint(customer: int) -> m.Identifier:
    return m.Identifier.model_construct(kind="phone", value=f"+4479{customer:08d}", scope=None)


def _message(
    n: int, at: datetime, channel: str, inbound: bool, author: m.Author, endpoint: m.Identifier, **extra: Any
) -> m.Message:
    return m.Message.model_construct(
        id=f"ix_{n:012d}",
        channel=channel,
        adapter=channel,
        dedupe_key=str(n),
        occurred_at=at,
        received_at=at,
        direction=m.Direction.INBOUND if inbound else m.Direction.OUTBOUND,
        author=author,
        endpoint=endpoint,
        thread=m.ThreadHints.model_construct(),
        metadata=extra.pop("metadata", {}),
        parts=(m.TextPart.model_construct(text="hello", format="plain"),),
        automated=extra.pop("automated", False),
        **extra,
    )


def generate(n_interactions: int, seed: int = 7) -> list[ConversationRecord]:
    """Conversations until ``n_interactions`` interactions exist (about 9 per conversation)."""
    rng = random.Random(seed)
    customer_author = _author(m.AuthorRole.CUSTOMER, None)
    bot = _author(m.AuthorRole.BOT, "helpbot")
    agents = {a: _author(m.AuthorRole.AGENT, a) for a in AGENTS}
    records: list[ConversationRecord] = []
    count = 0
    conv_no = 0
    n_customers = max(1, n_interactions // 25)
    while count < n_interactions:
        conv_no += 1
        customer = rng.randrange(n_customers)
        endpoint = _endpoint(customer)
        start = T0 + timedelta(minutes=rng.randrange(60 * 24 * 90))
        channel = rng.choice(CHANNELS)
        channels = [channel]
        agent = rng.choice(AGENTS)
        items: list[m.Interaction] = []
        events: list[ConversationEvent] = []
        cid = f"cv_{conv_no:012d}"
        t = start
        events.append(
            ConversationEvent.model_construct(type=E.OPENED, conversation_id=cid, at=t, channel=channel)
        )
        status = m.ConversationStatus.OPEN
        resolved_at: datetime | None = None
        bot_only = rng.random() < 0.08  # the bot answers and nobody else
        for segment in range(1 + (rng.random() < 0.12)):
            if segment:
                t += timedelta(hours=rng.uniform(2, 72))
                events.append(ConversationEvent.model_construct(type=E.REOPENED, conversation_id=cid, at=t))
            for _ in range(rng.randint(1, 4)):
                count += 1
                if rng.random() < 0.1:
                    new = rng.choice(CHANNELS)
                    if new not in channels:
                        channels.append(new)
                    channel = new
                items.append(_message(count, t, channel, True, customer_author, endpoint))
                if bot_only or rng.random() < 0.3:
                    t += timedelta(seconds=rng.uniform(2, 30))
                    count += 1
                    items.append(_message(count, t, channel, False, bot, endpoint))
                if bot_only:
                    t += timedelta(minutes=rng.uniform(1, 10))
                    continue
                if rng.random() < 0.1:
                    count += 1
                    items.append(
                        _message(
                            count, t, channel, False, agents[agent], endpoint, metadata={"template": True}
                        )
                    )
                t += timedelta(minutes=rng.expovariate(1 / 45))
                count += 1
                items.append(
                    _message(
                        count,
                        t,
                        channel,
                        False,
                        agents[rng.choice((agent, agent, rng.choice(AGENTS)))],
                        endpoint,
                    )
                )
                t += timedelta(minutes=rng.uniform(1, 120))
            if rng.random() < 0.85:
                t += timedelta(minutes=rng.uniform(1, 30))
                events.append(ConversationEvent.model_construct(type=E.RESOLVED, conversation_id=cid, at=t))
                status, resolved_at = m.ConversationStatus.RESOLVED, t
            else:
                status, resolved_at = m.ConversationStatus.OPEN, None
                break
        if status is m.ConversationStatus.RESOLVED and rng.random() < 0.5:
            count += 1
            t += timedelta(minutes=1)
            survey = _message(count, t, channel, False, bot, endpoint, metadata={"survey": "csat"})
            items.append(survey.model_copy(update={"author": _author(m.AuthorRole.SYSTEM, None)}))
        if status is m.ConversationStatus.RESOLVED and rng.random() < 0.35:
            count += 1
            t += timedelta(minutes=rng.uniform(1, 60))
            scale = rng.choice((m.RatingScale.CSAT, m.RatingScale.CSAT, m.RatingScale.NPS, m.RatingScale.CES))
            top = {m.RatingScale.CSAT: 5, m.RatingScale.NPS: 10, m.RatingScale.CES: 7}[scale]
            items.append(
                m.Rating.model_construct(
                    id=f"ix_{count:012d}",
                    channel=channel,
                    adapter=channel,
                    dedupe_key=str(count),
                    occurred_at=t,
                    received_at=t,
                    direction=m.Direction.INBOUND,
                    author=customer_author,
                    endpoint=endpoint,
                    thread=m.ThreadHints.model_construct(),
                    metadata={},
                    scale=scale,
                    score=rng.randint(0 if scale is m.RatingScale.NPS else 1, top),
                    comment=None,
                )
            )
        conv = m.Conversation.model_construct(
            id=cid,
            customer_id=f"cus_{customer}",
            status=status,
            channels=tuple(channels),
            opened_at=start,
            last_activity_at=t,
            resolved_at=resolved_at,
            subject=None,
            assignee=agent,
            metadata={},
        )
        records.append(
            ConversationRecord.model_construct(
                conversation=conv,
                interactions=tuple(items),
                events=tuple(events),
                customer_id=f"cus_{customer}",
                team=TEAMS[AGENTS.index(agent) % len(TEAMS)],
                agent=agent,
            )
        )
    return records


def baseline(records: list[ConversationRecord]) -> Callable[[], object]:
    """The naive FRT + CSAT: pandas groupby when pandas is installed, else a plain loop."""
    try:
        import pandas as pd
    except ImportError:
        pd = None

    if pd is not None:

        def with_pandas() -> object:
            rows = [
                (
                    r.conversation.id,
                    r.conversation.opened_at,
                    i.occurred_at,
                    i.author.role.value,
                    getattr(i, "score", None),
                    i.type,
                )
                for r in records
                for i in r.interactions
            ]
            frame = pd.DataFrame(rows, columns=["conv", "opened", "at", "role", "score", "type"])
            agent = frame[frame.role == "agent"]
            first = agent.groupby("conv").agg(first=("at", "min"), opened=("opened", "first"))
            frt = (first["first"] - first["opened"]).dt.total_seconds().mean()
            csat = frame.loc[frame.type == "rating", "score"].mean()
            return frt, csat

        return with_pandas

    def with_loop() -> object:
        total = n = 0.0
        scores: list[int] = []
        for r in records:
            first = min(
                (i.occurred_at for i in r.interactions if i.author.role is m.AuthorRole.AGENT), default=None
            )
            if first is not None:
                total += (first - r.conversation.opened_at).total_seconds()
                n += 1
            scores += [i.score for i in r.interactions if isinstance(i, m.Rating)]
        return total / max(n, 1), sum(scores) / max(len(scores), 1)

    return with_loop


def measure(fn: Callable[[], object]) -> tuple[float, float]:
    gc.collect()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    started = time.perf_counter()
    records = generate(n)
    interactions = sum(len(r.interactions) for r in records)
    print(
        f"generated {len(records):,} conversations, {interactions:,} interactions in {time.perf_counter() - started:.1f} s"
    )
    sla = SlaTargets(
        first_response=timedelta(hours=1), next_response=timedelta(hours=2), resolution=timedelta(hours=24)
    )
    office = BusinessCalendar(
        timezone="Europe/London", hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), ("09:00-17:30",))
    ).with_holidays([date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 4)])
    base = baseline(records)
    try:
        import pandas  # noqa: F401

        base_name = "baseline: pandas groupby (FRT + CSAT only)"
    except ImportError:
        base_name = "baseline: plain loop (FRT + CSAT only)"
    contenders: list[tuple[str, Callable[[], object]]] = [
        ("omnicx: 18 KPIs, wall clock, SLA", lambda: compute_kpis(records, KpiOptions(sla=sla))),
        (
            "omnicx: 18 KPIs, business calendar, by channel+week",
            lambda: compute_kpis(
                records, KpiOptions(sla=sla, calendar=office, group_by=("channel",), period="week")
            ),
        ),
        (
            "omnicx: channel mix + returning customers",
            lambda: (channel_mix(records), returning_customers(records)),
        ),
        (base_name, base),
    ]
    print()
    print(f"| contender ({interactions:,} interactions) | seconds | interactions/s | peak MiB |")
    print("|---|---:|---:|---:|")
    for name, fn in contenders:
        seconds, peak = measure(fn)
        print(f"| {name} | {seconds:.2f} | {interactions / seconds:,.0f} | {peak:,.0f} |")
    report = compute_kpis(records, KpiOptions(sla=sla))
    print()
    print(report.format_table())


if __name__ == "__main__":
    main()
