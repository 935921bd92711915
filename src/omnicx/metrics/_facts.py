"""One pass over a conversation: the facts every KPI definition reads.

The walk goes through the conversation's contacts and replies (see
:mod:`omnicx.metrics._classify`) and its status events in time order. At equal
times a reopen comes before interactions and a resolve after them, the same
order :func:`omnicx.conversations.thread_conversations` applies actions in.

* A **segment** is the conversation from its opening, or from a reopen, to the
  next reopen. The first human reply of a segment is its *first response*; the
  later ones that answer a customer are *next responses*.
* The **waiting clock** starts at the first customer contact that no reply has
  answered yet; it **restarts at each bot reply** while the customer waits (the
  last bot reply before a human one is the *bot handoff*); a human reply stops
  it and yields one response sample; a reopen or a resolve clears it.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from omnicx.conversations import ConversationEventType
from omnicx.metrics._calendar import BusinessCalendar
from omnicx.metrics._classify import SURVEY_FLAG, Role, Turn, turns
from omnicx.metrics._records import ConversationRecord
from omnicx.models import ConversationStatus, Direction, Message, Rating, RatingScale

__all__ = ["Facts", "Response", "conversation_facts"]

E = ConversationEventType
_REOPEN, _TURN, _RESOLVE = 0, 1, 2  # order at equal times


@attrs.frozen
class Response:
    """A human reply that answered a waiting customer."""

    first: bool
    """The first response of its segment (else a next response)."""
    waiting_since: datetime
    at: datetime
    channel: str
    """The channel of the customer contact that started the wait."""
    agent: str | None
    wall: float
    business: float


@attrs.frozen
class Waiting:
    """A customer still waiting when the record ends (the conversation is not resolved)."""

    first: bool
    since: datetime
    channel: str


@attrs.frozen
class Facts:
    """What one conversation contributes to KPIs."""

    record: ConversationRecord
    conversation_id: str
    customer_id: str
    opened_at: datetime
    channel: str
    """The channel the conversation opened on."""
    agent: str | None
    team: str | None
    first_contact_at: datetime | None
    responses: tuple[Response, ...]
    waiting: Waiting | None
    resolves: tuple[datetime, ...]
    reopens: int
    final_resolved_at: datetime | None
    human_replies: int
    bot_first_at: datetime | None
    human_after_bot: bool
    ratings: dict[RatingScale, Rating]
    """The latest rating of each scale (by time, then id)."""
    surveys: dict[RatingScale, datetime]
    """The first survey message of each scale."""
    channels: tuple[str, ...]


def conversation_facts(record: ConversationRecord, calendar: BusinessCalendar) -> Facts:
    """The :class:`Facts` of ``record``, business time measured in ``calendar``."""
    conv = record.conversation
    steps: list[tuple[datetime, int, str, Turn | None]] = [
        (t.at, _TURN, t.id, t) for t in turns(record.interactions)
    ]
    resolves: list[datetime] = []
    reopens = 0
    for event in record.events:
        if event.type is E.REOPENED:
            reopens += 1
            steps.append((event.at, _REOPEN, "", None))
        elif event.type is E.RESOLVED:
            resolves.append(event.at)
            steps.append((event.at, _RESOLVE, "", None))
    steps.sort(key=lambda s: (s[0], s[1], s[2]))

    responses: list[Response] = []
    first_done = False
    since: datetime | None = None
    since_channel = ""
    first_contact: datetime | None = None
    human_replies = 0
    bot_first: datetime | None = None
    human_after_bot = False
    for at, kind, _, turn in steps:
        if turn is None:
            if kind == _REOPEN:
                first_done = False
            since = None
        else:
            role = turn.role
            if role is Role.CONTACT:
                if first_contact is None:
                    first_contact = at
                if since is None:
                    since, since_channel = at, turn.channel
            elif role is Role.BOT:
                if bot_first is None:
                    bot_first = at
                if since is not None:
                    since = at  # the clock restarts: the bot was serving the customer until now
            else:
                human_replies += 1
                if bot_first is not None:
                    human_after_bot = True
                if since is not None:
                    responses.append(
                        Response(
                            first=not first_done,
                            waiting_since=since,
                            at=at,
                            channel=since_channel,
                            agent=turn.author_id or record.agent,
                            wall=(at - since).total_seconds(),
                            business=calendar.business_seconds(since, at),
                        )
                    )
                    first_done, since = True, None
    resolved = conv.status is ConversationStatus.RESOLVED
    waiting = Waiting(not first_done, since, since_channel) if since is not None and not resolved else None

    ratings: dict[RatingScale, Rating] = {}
    surveys: dict[RatingScale, datetime] = {}
    for item in record.interactions:
        if isinstance(item, Rating):
            best = ratings.get(item.scale)
            if best is None or (item.occurred_at, item.id) > (best.occurred_at, best.id):
                ratings[item.scale] = item
        elif isinstance(item, Message) and item.direction is Direction.OUTBOUND:
            flag = item.metadata.get(SURVEY_FLAG)
            if isinstance(flag, str) and flag in RatingScale.__members__.values():
                scale = RatingScale(flag)
                if scale not in surveys or item.occurred_at < surveys[scale]:
                    surveys[scale] = item.occurred_at
    opening = conv.channels[0] if conv.channels else (steps_channel(record) or "unknown")
    return Facts(
        record=record,
        conversation_id=conv.id,
        customer_id=record.customer_id,
        opened_at=conv.opened_at,
        channel=opening,
        agent=record.agent,
        team=record.team,
        first_contact_at=first_contact,
        responses=tuple(responses),
        waiting=waiting,
        resolves=tuple(sorted(resolves)),
        reopens=reopens,
        final_resolved_at=conv.resolved_at if resolved else None,
        human_replies=human_replies,
        bot_first_at=bot_first,
        human_after_bot=human_after_bot,
        ratings=ratings,
        surveys=surveys,
        channels=conv.channels,
    )


def steps_channel(record: ConversationRecord) -> str | None:
    """The channel of the record's earliest interaction, when the conversation lists none."""
    if not record.interactions:
        return None
    return min(record.interactions, key=lambda i: (i.occurred_at, i.id)).channel
