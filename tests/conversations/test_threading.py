"""Conversations continue across channels; the result does not depend on arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx import models as m
from omnicx.conversations import (
    ContinuityRules,
    ConversationAction,
    ConversationEventType,
    conversation_id,
    normalize_subject,
    thread_conversations,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EMAIL = m.Identifier(kind="email", value="ana@example.com")
PHONE = m.Identifier(kind="phone", value="+447911123456")
VISITOR = m.Identifier(kind="chat_visitor", value="v1", scope="site")
E = ConversationEventType


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def base(
    key: str, minutes: float, channel: str, endpoint: m.Identifier, direction: str = "inbound", **extra: Any
) -> dict[str, Any]:
    return {
        "channel": channel,
        "adapter": channel,
        "dedupe_key": key,
        "occurred_at": at(minutes),
        "received_at": at(minutes),
        "direction": direction,
        "author": {"role": "customer" if direction == "inbound" else "agent"},
        "endpoint": endpoint,
        **extra,
    }


def msg(
    key: str, minutes: float, channel: str = "whatsapp", endpoint: m.Identifier = PHONE, **extra: Any
) -> m.Message:
    fields = base(key, minutes, channel, endpoint, **extra)
    fields.setdefault("parts", [{"type": "text", "text": key}])
    fields.setdefault("platform_message_id", key)
    return m.Message.model_validate(fields)


def call(key: str, minutes: float) -> m.CallRecord:
    return m.CallRecord.model_validate(
        {**base(key, minutes, "voice", PHONE), "call_id": key, "status": "completed"}
    )


def status(key: str, minutes: float, target: str) -> m.StatusUpdate:
    return m.StatusUpdate.model_validate(
        {
            **base(key, minutes, "whatsapp", PHONE, "outbound"),
            "target_message_id": target,
            "status": "read",
            "author": {"role": "system"},
        }
    )


def test_the_seed_story_is_one_conversation_across_four_channels() -> None:
    chat = msg("chat-1", 0, "webchat", VISITOR, thread={"thread_id": "session-9"})
    email = msg("mail-1", 40, "email", EMAIL, subject="My order", thread={"message_id": "m1@example.com"})
    whatsapp = msg("wa-1", 60 * 5, "whatsapp", PHONE)
    phone = call("CA1", 60 * 20)
    result = thread_conversations("cus_1", [phone, whatsapp, email, chat])
    assert len(result.conversations) == 1
    conv = result.conversations[0]
    assert conv.id == conversation_id(chat.id)
    assert conv.channels == ("webchat", "email", "whatsapp", "voice")
    assert conv.opened_at == at(0)
    assert conv.last_activity_at == at(60 * 20)
    assert conv.subject == "My order"
    switches = [(e.from_channel, e.channel) for e in result.events if e.type is E.CHANNEL_SWITCHED]
    assert switches == [("webchat", "email"), ("email", "whatsapp"), ("whatsapp", "voice")]
    assert set(result.membership.values()) == {conv.id}


def test_idle_window_starts_a_new_conversation_on_the_same_channel() -> None:
    first, second = msg("a", 0), msg("b", 60 * 25)
    result = thread_conversations("c", [first, second])
    assert [c.id for c in result.conversations] == [conversation_id(first.id), conversation_id(second.id)]
    rules = ContinuityRules(channel_idle_windows={"whatsapp": timedelta(hours=48)})
    assert len(thread_conversations("c", [first, second], rules=rules).conversations) == 1


def test_cross_channel_window_is_its_own_setting() -> None:
    first, second = msg("a", 0, "webchat", VISITOR), msg("b", 90, "email", EMAIL)
    assert len(thread_conversations("c", [first, second]).conversations) == 1
    rules = ContinuityRules(cross_channel_window=timedelta(hours=1))
    assert len(thread_conversations("c", [first, second], rules=rules).conversations) == 2


def test_email_reply_reopens_a_resolved_conversation_even_after_the_idle_window() -> None:
    first = msg("m1", 0, "email", EMAIL, subject="Refund", thread={"message_id": "m1@x"})
    resolve = ConversationAction(
        type="resolve", conversation_id=conversation_id(first.id), at=at(10), actor="agent-7"
    )
    reply = msg(
        "m2",
        60 * 24 * 5,
        "email",
        EMAIL,
        subject="Re: Refund",
        thread={"message_id": "m2@x", "in_reply_to": "m1@x"},
    )
    result = thread_conversations("c", [reply, first], [resolve])
    assert len(result.conversations) == 1
    assert result.conversations[0].status is m.ConversationStatus.OPEN
    assert [e.type for e in result.events] == [E.OPENED, E.RESOLVED, E.REOPENED]
    assert result.events[1].actor == "agent-7"


def _resolved_then(answer: m.Message, rules: ContinuityRules | None = None) -> Any:
    first = msg("m1", 0, "email", EMAIL, subject="Refund", thread={"message_id": "m1@x"})
    resolve = ConversationAction(type="resolve", conversation_id=conversation_id(first.id), at=at(10))
    return thread_conversations("c", [first, answer], [resolve], rules)


def auto_answer(automation: str, **extra: Any) -> m.Message:
    return msg(
        "m2",
        20,
        "email",
        EMAIL,
        subject="Automatic reply: Refund",
        thread={"message_id": "m2@x", "in_reply_to": "m1@x"},
        automated=True,
        metadata={"automation": automation},
        **extra,
    )


def test_an_out_of_office_reply_does_not_reopen_a_resolved_conversation() -> None:
    result = _resolved_then(auto_answer("auto_reply"))
    (conversation,) = result.conversations
    assert conversation.status is m.ConversationStatus.RESOLVED
    assert [e.type for e in result.events] == [E.OPENED, E.RESOLVED]
    assert result.membership[auto_answer("auto_reply").id] == conversation.id  # kept, in its thread
    assert conversation.last_activity_at == at(0)  # an auto-reply is no contact
    reopened = _resolved_then(auto_answer("auto_reply"), ContinuityRules(auto_replies_reopen=True))
    assert reopened.conversations[0].status is m.ConversationStatus.OPEN


def test_a_bounce_of_the_last_message_reopens_it() -> None:
    """A delivery failure: the customer never got the answer, someone must act."""
    result = _resolved_then(auto_answer("bounce"))
    assert result.conversations[0].status is m.ConversationStatus.OPEN
    assert [e.type for e in result.events] == [E.OPENED, E.RESOLVED, E.REOPENED]


def test_a_new_message_after_resolution_opens_a_new_conversation() -> None:
    first = msg("a", 0)
    resolve = ConversationAction(type="resolve", conversation_id=conversation_id(first.id), at=at(5))
    again = msg("b", 30)
    result = thread_conversations("c", [first, again], [resolve])
    assert [c.status for c in result.conversations] == [
        m.ConversationStatus.RESOLVED,
        m.ConversationStatus.OPEN,
    ]
    assert result.conversations[0].resolved_at == at(5)


def test_subject_threading_joins_an_open_email_conversation_without_headers() -> None:
    rules = ContinuityRules(cross_channel_window=timedelta(0), idle_window=timedelta(0))
    first = msg("m1", 0, "email", EMAIL, subject="Invoice 42")
    other = msg("m2", 1, "email", EMAIL, subject="Something else")
    again = msg("m3", 60, "email", EMAIL, subject="RE: Fwd:  invoice   42")
    result = thread_conversations("c", [first, other, again], rules=rules)
    assert result.membership[again.id] == result.membership[first.id] != result.membership[other.id]
    assert normalize_subject("Re: AW: Fwd[2]: Hello  World") == "hello world"


def test_status_updates_follow_their_message_without_counting_as_activity() -> None:
    out = msg("wamid.out", 0, direction="outbound", author={"role": "agent"})
    read = status("wamid.out:read", 60 * 30, "wamid.out")
    result = thread_conversations("c", [read, out])
    conv = result.conversations[0]
    assert result.membership[read.id] == conv.id
    assert conv.last_activity_at == at(0)


def test_outbound_after_resolution_joins_without_reopening() -> None:
    first = msg("a", 0)
    resolve = ConversationAction(type="resolve", conversation_id=conversation_id(first.id), at=at(5))
    follow_up = msg("b", 60 * 30, direction="outbound", author={"role": "agent"})
    result = thread_conversations("c", [first, follow_up], [resolve])
    assert len(result.conversations) == 1
    assert result.conversations[0].status is m.ConversationStatus.RESOLVED


def test_merge_and_split_actions() -> None:
    a, b = msg("a", 0), msg("b", 60 * 30)
    ca, cb = conversation_id(a.id), conversation_id(b.id)
    merged = thread_conversations(
        "c",
        [a, b],
        [ConversationAction(type="merge", conversation_id=ca, other_conversation_id=cb, at=at(60 * 31))],
    )
    assert [c.id for c in merged.conversations] == [ca]
    assert merged.membership == {a.id: ca, b.id: ca}
    # a later action on the merged-away id lands on the survivor
    resolved = thread_conversations(
        "c",
        [a, b],
        [
            ConversationAction(type="merge", conversation_id=ca, other_conversation_id=cb, at=at(60 * 31)),
            ConversationAction(type="resolve", conversation_id=cb, at=at(60 * 32)),
        ],
    )
    assert resolved.conversations[0].status is m.ConversationStatus.RESOLVED

    x, y, z = msg("x", 0), msg("y", 1), msg("z", 2)
    split = thread_conversations(
        "c",
        [x, y, z],
        [
            ConversationAction(
                type="split", conversation_id=conversation_id(x.id), interaction_id=y.id, at=at(3)
            )
        ],
    )
    assert split.membership == {
        x.id: conversation_id(x.id),
        y.id: conversation_id(y.id),
        z.id: conversation_id(y.id),
    }
    assert [c.last_activity_at for c in split.conversations] == [at(0), at(2)]


def test_actions_on_unknown_conversations_are_reported_not_applied() -> None:
    action = ConversationAction(type="resolve", conversation_id="cv_missing", at=at(1))
    result = thread_conversations("c", [msg("a", 0)], [action])
    assert result.ignored_actions == (action,)
    assert result.conversations[0].status is m.ConversationStatus.OPEN


def test_notes_and_ratings_join_the_latest_conversation() -> None:
    first = msg("a", 0)
    note = m.Note.model_validate(
        {**base("n1", 5, "whatsapp", PHONE, "outbound"), "text": "VIP", "author": {"role": "agent"}}
    )
    rating = m.Rating.model_validate({**base("r1", 60 * 40, "whatsapp", PHONE), "scale": "csat", "score": 5})
    result = thread_conversations("c", [rating, note, first])
    assert set(result.membership.values()) == {conversation_id(first.id)}
    assert result.conversations[0].last_activity_at == at(0)


# --- order independence -------------------------------------------------------------

STORY = [
    msg("chat-1", 0, "webchat", VISITOR, thread={"thread_id": "s1"}),
    msg(
        "chat-2",
        3,
        "webchat",
        VISITOR,
        thread={"thread_id": "s1"},
        direction="outbound",
        author={"role": "agent"},
    ),
    msg("mail-1", 50, "email", EMAIL, subject="Order 7", thread={"message_id": "m1@x"}),
    msg("wa-1", 60 * 30, "whatsapp", PHONE),
    status("wa-1:read", 60 * 31, "wa-1"),
    call("CA9", 60 * 31),
    msg(
        "mail-2",
        60 * 24 * 6,
        "email",
        EMAIL,
        subject="Re: Order 7",
        thread={"message_id": "m2@x", "in_reply_to": "m1@x"},
    ),
    msg("wa-2", 60 * 24 * 7 + 60, "whatsapp", PHONE),  # 25 h after the reopened email thread
]
ACTIONS = [
    ConversationAction(type="resolve", conversation_id=conversation_id(STORY[3].id), at=at(60 * 32)),
    ConversationAction(
        type="assign", conversation_id=conversation_id(STORY[0].id), assignee="agent-1", at=at(4)
    ),
]


@settings(max_examples=100)
@given(st.permutations(STORY), st.lists(st.sampled_from(STORY), max_size=4))
def test_any_arrival_order_and_redelivery_give_the_same_result(
    order: list[m.Interaction], again: list[m.Interaction]
) -> None:
    expected = thread_conversations("c", STORY, ACTIONS)
    assert thread_conversations("c", order + again, list(reversed(ACTIONS))) == expected


def test_the_story_worked_by_hand() -> None:
    result = thread_conversations("c", STORY, ACTIONS)
    first, second, third = (conversation_id(STORY[i].id) for i in (0, 3, 7))
    assert [c.id for c in result.conversations] == [first, second, third]
    # chat + email (cross-channel within 24 h) are one; WhatsApp 29 h later opens another,
    # which the call joins; the email reply goes back to the first; wa-2 opens a third.
    assert result.membership[STORY[2].id] == first
    assert result.membership[STORY[5].id] == second
    assert result.membership[STORY[6].id] == first
    assert result.conversations[0].assignee == "agent-1"
    assert result.conversations[1].status is m.ConversationStatus.RESOLVED
