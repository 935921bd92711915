"""A small help desk written out by hand: seven conversations of five customers.

Every KPI test states its expected values from this timeline, with the arithmetic
in comments. T0 is Monday 2026-11-02 09:00 UTC; times are minutes after T0.

ana   A  whatsapp  assigned to alice at 12 · 0 msg · 1 bot · 3 bot · 13 alice · 20 msg · 22 msg · 27 template ·
                   30 alice · 31 alice · 32 reaction · resolve 40 · 60 msg (reply to
                   13: reopens) · 61 automated · 75 bob · resolve 80 · 81 CSAT survey ·
                   82 CSAT 2 · 85 CSAT 4
ana   B  email/sms 1d+0 email · 1d+30 carol (email) · 1d+60 sms · 1d+80 carol (sms) ·
                   resolve 1d+120 · NPS 9 and CES 6 at 1d+130
ben   C  webchat   120 msg · 125 dave · resolve 130 · 131 CSAT survey · NPS 3, CES 4 at 135
cat   D  sms       180 msg · 200 dave · resolve 210 · CSAT 3 at 220
cat   E  sms       3d+0 msg · 3d+40 erin · resolve 3d+60 · NPS 7 at 3d+70
dan   F  webchat   300 msg · 305 bot · resolve 306 · NPS 10 at 310
eve   G  voice     240 inbound call (ringing, then completed at 241) · never answered, open
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from omnicx import models as m
from omnicx.conversations import ConversationAction, conversation_id, thread_conversations
from omnicx.metrics import ConversationRecord, records_from_threading

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 60
AS_OF = T0 + timedelta(days=11)

_ENDPOINTS = {
    "whatsapp": ("phone", "+447911123456"),
    "sms": ("phone", "+447911123456"),
    "voice": ("phone", "+447911123456"),
    "email": ("email", "ana@example.com"),
    "webchat": ("chat_visitor", "v1"),
}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _base(
    key: str, minutes: float, channel: str, direction: str, role: str, author_id: str | None
) -> dict[str, Any]:
    kind, value = _ENDPOINTS[channel]
    endpoint = {"kind": kind, "value": value, **({"scope": "site"} if kind == "chat_visitor" else {})}
    return {
        "channel": channel,
        "adapter": channel,
        "dedupe_key": key,
        "occurred_at": at(minutes),
        "received_at": at(minutes),
        "direction": direction,
        "author": {"role": role, "id": author_id},
        "endpoint": endpoint,
    }


def customer(key: str, minutes: float, channel: str = "whatsapp", **extra: Any) -> m.Message:
    """An inbound message by the customer."""
    return m.Message.model_validate(
        {
            **_base(key, minutes, channel, "inbound", "customer", None),
            "parts": [{"type": "text", "text": f"customer says {key}"}],
            "platform_message_id": key,
            **extra,
        }
    )


def reply(
    key: str,
    minutes: float,
    role: str = "agent",
    author: str | None = None,
    channel: str = "whatsapp",
    **extra: Any,
) -> m.Message:
    """An outbound message by an agent (default), a bot or the system."""
    return m.Message.model_validate(
        {
            **_base(key, minutes, channel, "outbound", role, author),
            "parts": [{"type": "text", "text": f"{role} says {key}"}],
            "platform_message_id": key,
            **extra,
        }
    )


def rating(key: str, minutes: float, scale: str, score: int, channel: str = "whatsapp") -> m.Rating:
    return m.Rating.model_validate(
        {**_base(key, minutes, channel, "inbound", "customer", None), "scale": scale, "score": score}
    )


def call(
    key: str, minutes: float, status: str, call_id: str, direction: str = "inbound", author: str | None = None
) -> m.CallRecord:
    role = "customer" if direction == "inbound" else "agent"
    return m.CallRecord.model_validate(
        {**_base(key, minutes, "voice", direction, role, author), "call_id": call_id, "status": status}
    )


def reaction(key: str, minutes: float, target: str) -> m.Message:
    return m.Message.model_validate(
        {
            **_base(key, minutes, "whatsapp", "inbound", "customer", None),
            "parts": [{"type": "reaction", "action": "add", "emoji": "+1", "target_message_id": target}],
        }
    )


def resolve(first_interaction: m.Interaction, minutes: float) -> ConversationAction:
    return ConversationAction(
        type="resolve", conversation_id=conversation_id(first_interaction.id), at=at(minutes)
    )


# --- the seven conversations ------------------------------------------------------

A1 = customer("a1", 0)
ANA = [
    A1,
    reply("a-bot1", 1, "bot", "helpbot"),
    reply("a-bot2", 3, "bot", "helpbot"),
    reply("a-r1", 13, author="alice"),
    customer("a2", 20),
    customer("a3", 22),
    reply("a-tpl", 27, author="alice", metadata={"template": True}),
    reply("a-r2", 30, author="alice"),
    reply("a-r3", 31, author="alice"),
    reaction("a-like", 32, "a-r2"),
    customer("a4", 60, thread={"reply_to": "a-r1"}),
    reply("a-auto", 61, author="alice", automated=True),
    reply("a-r4", 75, author="bob"),
    reply("a-survey", 81, "system", metadata={"survey": "csat"}),
    rating("a-csat1", 82, "csat", 2),
    rating("a-csat2", 85, "csat", 4),
]
B1 = customer("b1", DAY, "email", subject="Invoice")
ANA += [
    B1,
    reply("b-r1", DAY + 30, author="carol", channel="email"),
    customer("b2", DAY + 60, "sms"),
    reply("b-r2", DAY + 80, author="carol", channel="sms"),
    rating("b-nps", DAY + 130, "nps", 9, "sms"),
    rating("b-ces", DAY + 130, "ces", 6, "sms"),
]
ANA_ACTIONS = [
    ConversationAction(type="assign", conversation_id=conversation_id(A1.id), assignee="alice", at=at(12)),
    resolve(A1, 40),
    resolve(A1, 80),
    resolve(B1, DAY + 120),
]

C1 = customer("c1", 120, "webchat")
BEN = [
    C1,
    reply("c-r1", 125, author="dave", channel="webchat"),
    reply("c-survey", 131, "system", channel="webchat", metadata={"survey": "csat"}),
    rating("c-nps", 135, "nps", 3, "webchat"),
    rating("c-ces", 135, "ces", 4, "webchat"),
]
BEN_ACTIONS = [resolve(C1, 130)]

D1 = customer("d1", 180, "sms")
E1 = customer("e1", 3 * DAY, "sms")
CAT = [
    D1,
    reply("d-r1", 200, author="dave", channel="sms"),
    rating("d-csat", 220, "csat", 3, "sms"),
    E1,
    reply("e-r1", 3 * DAY + 40, author="erin", channel="sms"),
    rating("e-nps", 3 * DAY + 70, "nps", 7, "sms"),
]
CAT_ACTIONS = [resolve(D1, 210), resolve(E1, 3 * DAY + 60)]

F1 = customer("f1", 300, "webchat")
DAN = [
    F1,
    reply("f-bot", 305, "bot", "helpbot", channel="webchat"),
    rating("f-nps", 310, "nps", 10, "webchat"),
]
DAN_ACTIONS = [resolve(F1, 306)]

EVE = [call("g-ring", 240, "ringing", "CA1"), call("g-done", 241, "completed", "CA1")]

CUSTOMERS: dict[str, tuple[list[m.Interaction], list[ConversationAction]]] = {
    "ana": (ANA, ANA_ACTIONS),
    "ben": (BEN, BEN_ACTIONS),
    "cat": (CAT, CAT_ACTIONS),
    "dan": (DAN, DAN_ACTIONS),
    "eve": (EVE, []),
}
TEAMS = {"ana": "billing", "ben": "support", "cat": "support", "dan": "support", "eve": "billing"}


def desk_records(
    order: dict[str, list[m.Interaction]] | None = None,
) -> list[ConversationRecord]:
    """The records of the desk, threaded with thread_conversations (optionally in another order)."""
    records: list[ConversationRecord] = []
    for name, (items, actions) in CUSTOMERS.items():
        given = order[name] if order else items
        threading = thread_conversations(name, given, actions)
        team = TEAMS[name]
        records += records_from_threading(threading, given, team_of=lambda _c, team=team: team)
    return records


def by_first(records: list[ConversationRecord]) -> dict[str, ConversationRecord]:
    """Records keyed by A..G, the letter of their first interaction's key."""
    out = {}
    for record in records:
        first = min(record.interactions, key=lambda i: (i.occurred_at, i.id))
        out[first.dedupe_key[0].upper()] = record
    return out
