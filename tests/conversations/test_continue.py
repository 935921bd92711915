"""Continuing from a stored snapshot places each newer interaction exactly as a full replay does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx import models as m
from omnicx.conversations import (
    ContinuityRules,
    ConversationAction,
    ThreadSnapshot,
    continue_thread,
    thread_conversations,
    thread_lookup_keys,
    thread_snapshot,
)
from tests.conversations.test_threading import EMAIL, PHONE, VISITOR, at, base

RULES = ContinuityRules(idle_window=timedelta(hours=2), cross_channel_window=timedelta(hours=3))
ENDPOINTS = {"whatsapp": PHONE, "email": EMAIL, "webchat": VISITOR, "voice": PHONE}


class Store:
    """What a store keeps for one customer: conversations, thread keys and the snapshot header."""

    def __init__(self) -> None:
        self.conversations: dict[str, m.Conversation] = {}
        self.keys: dict[str, str] = {}
        self.header: ThreadSnapshot | None = None
        self.membership: dict[str, str] = {}

    def rebuild(self, items: list[m.Interaction], actions: list[ConversationAction]) -> None:
        threading, snapshot = thread_snapshot("c", items, actions, RULES)
        self.conversations = {c.id: c for c in threading.conversations}
        self.keys = dict(snapshot.keys)
        self.header = ThreadSnapshot(snapshot.watermark, snapshot.latest, snapshot.open)
        self.membership = dict(threading.membership)

    def place(self, item: m.Interaction) -> bool:
        """Place ``item`` the way the hub does; False when a full replay is needed."""
        assert self.header is not None
        wanted = thread_lookup_keys(item, RULES)
        found = {k: self.keys[k] for k in wanted if k in self.keys}
        ids = set(self.header.open) | {self.header.latest} if self.header.latest else set(self.header.open)
        ids |= set(found.values())
        found.update({f"t:c:{c}": self.keys[f"t:c:{c}"] for c in ids if f"t:c:{c}" in self.keys})
        snapshot = ThreadSnapshot(self.header.watermark, self.header.latest, self.header.open, found)
        step = continue_thread("c", item, snapshot, [self.conversations[c] for c in sorted(ids)], RULES)
        if step is None:
            return False
        if step.conversation is not None:
            self.conversations[step.conversation.id] = step.conversation
        for key, value in step.added_keys.items():
            self.keys.setdefault(key, value)
        self.keys.update(step.replaced_keys)
        self.header = step.snapshot
        if step.conversation_id is not None:
            self.membership[item.id] = step.conversation_id
        return True


@st.composite
def streams(draw: st.DrawFn) -> list[m.Interaction | str]:
    """Interactions (and the word "action" where an agent acts) with realistic thread hints."""
    out: list[m.Interaction | str] = []
    minutes = 0.0
    messages: list[tuple[str, str | None]] = []  # (platform id, email message id)
    for n in range(draw(st.integers(1, 18))):
        minutes += draw(st.sampled_from([0, 1, 20, 90, 150, 200, 60 * 26]))
        kind = draw(st.sampled_from(["whatsapp", "email", "webchat", "voice", "status", "note", "action"]))
        key = f"k{n}"
        common: dict[str, Any]
        if kind == "action":
            out.append("action")
            continue
        if kind == "status":
            if not messages:
                continue
            target = draw(st.sampled_from(messages))[0]
            common = base(key, minutes, "whatsapp", PHONE, "outbound")
            out.append(
                m.StatusUpdate.model_validate(
                    {**common, "target_message_id": target, "status": "read", "author": {"role": "system"}}
                )
            )
            continue
        if kind == "note":
            common = base(key, minutes, "whatsapp", PHONE, "outbound")
            out.append(m.Note.model_validate({**common, "text": "called back", "author": {"role": "agent"}}))
            continue
        direction = draw(st.sampled_from(["inbound", "inbound", "outbound"]))
        common = base(key, minutes, kind, ENDPOINTS[kind], direction)
        if kind == "voice":
            out.append(m.CallRecord.model_validate({**common, "call_id": key, "status": "completed"}))
            messages.append((key, None))
            continue
        thread: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        if kind == "email":
            thread["message_id"] = f"{key}@mail"
            earlier = [mid for _, mid in messages if mid]
            if earlier and draw(st.booleans()):
                thread["in_reply_to"] = draw(st.sampled_from(earlier))
            extra["subject"] = draw(st.sampled_from(["Order 7", "Re: Order 7", "Refund", None]))
            automation = draw(st.sampled_from([None, None, "auto_reply", "bounce"]))
            if automation is not None and direction == "inbound":  # an out-of-office, a bounce
                extra.update(automated=True, metadata={"automation": automation})
        elif kind == "webchat":
            thread["thread_id"] = draw(st.sampled_from(["s1", "s2"]))
        elif messages and draw(st.booleans()):
            thread["reply_to"] = draw(st.sampled_from(messages))[0]
        out.append(
            m.Message.model_validate(
                {
                    **common,
                    **extra,
                    "parts": [{"type": "text", "text": key}],
                    "platform_message_id": key,
                    "thread": thread,
                }
            )
        )
        messages.append((key, thread.get("message_id")))
    return out


def an_action(n: int, minutes: float, store: Store, draw: st.DrawFn) -> ConversationAction | None:
    if not store.conversations:
        return None
    target = draw(st.sampled_from(sorted(store.conversations)))
    kind = draw(st.sampled_from(["resolve", "reopen", "pending", "assign", "merge"]))
    fields: dict[str, Any] = {"type": kind, "conversation_id": target, "at": at(minutes), "actor": f"a{n}"}
    if kind == "assign":
        fields["assignee"] = "agent-1"
    if kind == "merge":
        fields["other_conversation_id"] = draw(st.sampled_from(sorted(store.conversations)))
    return ConversationAction.model_validate(fields)


@settings(max_examples=300, deadline=None)
@given(streams(), st.data())
def test_continuing_in_order_equals_a_full_replay(
    stream: list[m.Interaction | str], data: st.DataObject
) -> None:
    store = Store()
    store.rebuild([], [])
    items: list[m.Interaction] = []
    actions: list[ConversationAction] = []
    for n, entry in enumerate(stream):
        if isinstance(entry, str):
            minutes = (items[-1].occurred_at - at(0)).total_seconds() / 60 + 0.5 if items else 0.5
            action = an_action(n, minutes, store, data.draw)
            if action is not None:
                actions.append(action)
                store.rebuild(items, actions)  # agents' actions take the full replay, as in the hub
            continue
        items.append(entry)
        if not store.place(entry):  # a same-minute item with a smaller id sorts before the last one
            assert store.header is not None
            assert store.header.watermark is not None
            assert (store.header.watermark[0], 0, entry.id) < store.header.watermark
            store.rebuild(items, actions)
        expected = thread_conversations("c", items, actions, RULES)
        assert sorted(store.conversations.values(), key=lambda c: (c.opened_at, c.id)) == list(
            expected.conversations
        )
        assert store.membership == expected.membership
        _, snapshot = thread_snapshot("c", items, actions, RULES)
        assert store.keys == dict(snapshot.keys)
        assert store.header == ThreadSnapshot(snapshot.watermark, snapshot.latest, snapshot.open)


def test_an_interaction_older_than_the_watermark_needs_a_full_replay() -> None:
    store = Store()
    first = m.Message.model_validate(
        {**base("late", 10, "whatsapp", PHONE), "parts": [{"type": "text", "text": "x"}]}
    )
    newer = m.Message.model_validate(
        {**base("new", 20, "whatsapp", PHONE), "parts": [{"type": "text", "text": "y"}]}
    )
    store.rebuild([newer], [])
    assert store.place(first) is False
    assert store.place(newer) is False  # the same item again is not newer either


def test_events_of_the_step_are_those_of_the_full_replay_for_that_item() -> None:
    chat = m.Message.model_validate(
        {
            **base("c1", 0, "webchat", VISITOR),
            "parts": [{"type": "text", "text": "hi"}],
            "thread": {"thread_id": "s"},
        }
    )
    mail = m.Message.model_validate(
        {**base("e1", 30, "email", EMAIL), "parts": [{"type": "text", "text": "re"}], "subject": "Hi"}
    )
    store = Store()
    store.rebuild([chat], [])
    snapshot = ThreadSnapshot(store.header.watermark, store.header.latest, store.header.open, store.keys)  # type: ignore[union-attr]
    step = continue_thread("c", mail, snapshot, list(store.conversations.values()), RULES)
    assert step is not None
    full = thread_conversations("c", [chat, mail], rules=RULES)
    assert step.events == tuple(e for e in full.events if e.interaction_id == mail.id)
    assert [e.type.value for e in step.events] == ["channel_switched"]
