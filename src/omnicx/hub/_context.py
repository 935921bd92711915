"""The agent's view of a customer: context, brief and its Markdown rendering."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from omnicx.hub._results import ChannelContact, ConversationBrief, CustomerContext
from omnicx.models import (
    CallRecord,
    Conversation,
    ConversationStatus,
    Customer,
    CustomerIdentifier,
    Direction,
    Interaction,
    Message,
    Rating,
    StatusUpdate,
)

__all__ = ["build_context", "context_markdown"]

LATEST_PER_CONVERSATION = 5


def _summary(item: Interaction, width: int = 90) -> str:
    if isinstance(item, Message):
        text = (item.new_text or item.text or item.subject or "").strip().replace("\n", " ")
        if not text:
            text = f"[{', '.join(p.type for p in item.parts) or 'empty'}]"
    elif isinstance(item, CallRecord):
        minutes = f", {item.duration_seconds / 60:.0f} min" if item.duration_seconds else ""
        text = f"[call {item.status.value}{minutes}]" + (f" {item.transcript}" if item.transcript else "")
    elif isinstance(item, Rating):
        text = f"[{item.scale.value} {item.score}]" + (f" {item.comment}" if item.comment else "")
    else:
        text = f"[{item.type}]"
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def _fold_calls(items: list[Interaction]) -> list[Interaction]:
    """One entry per call: a call's status updates (ringing, completed …) keep only the latest."""
    last = {item.call_id: index for index, item in enumerate(items) if isinstance(item, CallRecord)}
    return [
        item
        for index, item in enumerate(items)
        if not isinstance(item, CallRecord) or last[item.call_id] == index
    ]


def build_context(
    customer: Customer,
    identifiers: list[CustomerIdentifier],
    interactions: list[tuple[Interaction, str | None]],
    conversations: list[Conversation],
    now: datetime,
) -> CustomerContext:
    """Assemble the context from a customer's stored data (interactions oldest first)."""
    contacts = _fold_calls([i for i, _ in interactions if not isinstance(i, StatusUpdate)])
    by_conversation: dict[str, list[Interaction]] = {}
    kept = {id(item) for item in contacts}
    for item, cid in interactions:
        if cid is not None and id(item) in kept:
            by_conversation.setdefault(cid, []).append(item)
    identifier_channels: dict[str, list[str]] = {}
    last: dict[str, ChannelContact] = {}
    for item in contacts:
        channels = identifier_channels.setdefault(item.endpoint.key, [])
        if item.channel not in channels:
            channels.append(item.channel)
        last[item.channel] = ChannelContact(
            channel=item.channel,
            at=item.occurred_at,
            direction=item.direction.value,
            endpoint=item.endpoint.key,
        )
    last_contact = tuple(sorted(last.values(), key=lambda c: c.at, reverse=True))
    inbound = [i for i in contacts if i.direction is Direction.INBOUND and not isinstance(i, Rating)]
    preferred = customer.traits.get("preferred_channel")
    preferred_channel = (
        preferred if isinstance(preferred, str) else (inbound[-1].channel if inbound else None)
    )
    open_convs = [c for c in conversations if c.status is not ConversationStatus.RESOLVED]
    open_convs.sort(key=lambda c: c.last_activity_at, reverse=True)
    briefs = tuple(
        ConversationBrief(
            conversation=c, latest=tuple(by_conversation.get(c.id, [])[-LATEST_PER_CONVERSATION:])
        )
        for c in open_convs
    )
    ratings = tuple(i for i in contacts if isinstance(i, Rating))
    counts = Counter(i.channel for i in contacts)
    count_map = {
        "interactions": len(contacts),
        "conversations": len(conversations),
        "open_conversations": len(open_convs),
        **{f"channel:{k}": v for k, v in sorted(counts.items())},
    }
    context = CustomerContext(
        customer=customer,
        identifiers=tuple(identifiers),
        identifier_channels={k: tuple(v) for k, v in identifier_channels.items()},
        open_conversations=briefs,
        last_contact=last_contact,
        preferred_channel=preferred_channel,
        satisfaction=ratings,
        counts=count_map,
        brief="",
    )
    return context.model_copy(update={"brief": _brief(context, contacts, now)})


def _brief(context: CustomerContext, contacts: Sequence[Interaction], now: datetime) -> str:
    customer = context.customer
    name = customer.display_name or next(
        (i.author.name for i in reversed(contacts) if i.direction is Direction.INBOUND and i.author.name),
        None,
    )
    kinds = Counter(ci.identifier.kind for ci in context.identifiers)
    reach = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))
    lines = [
        f"{name or 'Unnamed customer'} — customer since {customer.created_at:%Y-%m-%d}; "
        f"{_count(context.counts['interactions'], 'contact')} in "
        f"{_count(context.counts['conversations'], 'conversation')}; reachable by {reach or 'nothing'}."
    ]
    if context.preferred_channel:
        lines.append(f"Prefers {context.preferred_channel}.")
    for brief in context.open_conversations:
        conv = brief.conversation
        path = " → ".join(conv.channels)
        subject = f" '{conv.subject}'" if conv.subject else ""
        lines.append(
            f"OPEN{subject} ({conv.status.value}, {path}, since {_ago(conv.opened_at, now)}, "
            f"last {_ago(conv.last_activity_at, now)}):"
        )
        customer_said = [i for i in brief.latest if i.direction is Direction.INBOUND]
        agent_said = [i for i in brief.latest if i.direction is Direction.OUTBOUND]
        if customer_said:
            first = customer_said[0]
            lines.append(f"  customer ({first.channel}): {_summary(first)}")
            if customer_said[-1] is not first:
                lastc = customer_said[-1]
                lines.append(f"  latest ({lastc.channel}): {_summary(lastc)}")
        if agent_said:
            lines.append(f"  we said ({agent_said[-1].channel}): {_summary(agent_said[-1])}")
        if brief.latest and brief.latest[-1].direction is Direction.INBOUND:
            lines.append("  → waiting for our reply.")
    if not context.open_conversations:
        lines.append("No open conversation.")
    if context.satisfaction:
        scores = ", ".join(f"{r.scale.value.upper()} {r.score}" for r in context.satisfaction[-3:])
        lines.append(f"Satisfaction: {scores}.")
    return "\n".join(lines)


_MARKUP = re.compile(r"([\\`*_\[\]<>#!|~&])")
_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
_BACKTICKS = re.compile(r"`+")


def _md(text: str) -> str:
    """Text as literal Markdown inline text: on one line, every character Markdown or HTML
    could read as markup backslash-escaped (a customer's name or message cannot add a link,
    an image, raw HTML or a table cell to the agent's page)."""
    return _MARKUP.sub(r"\\\1", _BREAKS.sub(" ", text))


def _fenced(text: str) -> list[str]:
    """``text`` in a code fence longer than any run of backticks in it (which would close it)."""
    fence = "`" * max([3, *(len(run) + 1 for run in _BACKTICKS.findall(text))])
    return [fence, text, fence]


def context_markdown(context: CustomerContext) -> str:
    """Render a context as Markdown. Everything the customer wrote is escaped: it shows as text."""
    out = [f"## {_md(context.customer.display_name or context.customer.id)}", "", *_fenced(context.brief), ""]
    out += ["### Identifiers", "", "| identifier | assurance | channels |", "|---|---|---|"]
    for ci in context.identifiers:
        channels = ", ".join(context.identifier_channels.get(ci.identifier.key, ())) or "—"
        out.append(f"| {_md(ci.identifier.key)} | {ci.assurance.value} | {_md(channels)} |")
    out += ["", "### Last contact per channel", ""]
    out += [
        f"- **{_md(c.channel)}**: {c.at:%Y-%m-%d %H:%M} UTC ({c.direction})" for c in context.last_contact
    ] or ["- none"]
    for brief in context.open_conversations:
        conv = brief.conversation
        title = _md(f"{conv.subject or conv.id} ({' → '.join(conv.channels)})")
        out += ["", f"### Open conversation {title}", ""]
        out += [
            f"- {i.occurred_at:%Y-%m-%d %H:%M} {_md(i.channel)} {i.direction.value}: {_md(_summary(i))}"
            for i in brief.latest
        ]
    return "\n".join(out) + "\n"
