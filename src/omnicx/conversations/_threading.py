"""Conversations as a pure function of a customer's interactions and agents' actions.

Given the same interactions and actions, :func:`thread_conversations` gives the same
conversations, membership and events whatever order they arrived in: items are
replayed in the canonical order (time, interactions before actions, id). A store
recomputes a customer's conversations when an interaction arrives out of order,
or when customers merge or split, and gets stable conversation ids: a
conversation's id derives from its first interaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from omnicx._micros import to_us
from omnicx.conversations._models import (
    ConversationAction,
    ConversationEvent,
    ConversationEventType,
    Threading,
)
from omnicx.conversations._rules import ContinuityRules
from omnicx.models import (
    CallRecord,
    Conversation,
    ConversationStatus,
    Deletion,
    Direction,
    Edit,
    Interaction,
    Message,
    Note,
    Rating,
    ReactionPart,
    StatusUpdate,
)

__all__ = [
    "ThreadSnapshot",
    "ThreadStep",
    "continue_thread",
    "conversation_id",
    "normalize_subject",
    "thread_conversations",
    "thread_lookup_keys",
    "thread_snapshot",
]

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_OPEN = (ConversationStatus.OPEN, ConversationStatus.PENDING)
E = ConversationEventType


ItemKey = tuple[int, int, str]
"""Where an item sorts in the canonical replay order: (time in µs, 0 interaction / 1 action, id)."""

# Thread keys as a store keeps them: one flat string → conversation id (or, for ``c:``, channel).
MESSAGE_KEY, PLATFORM_KEY, SESSION_KEY, CHANNEL_KEY = "t:m:", "t:p:", "t:s:", "t:c:"


def _session_key(channel: str, thread_id: str) -> str:
    return f"{SESSION_KEY}{channel}\n{thread_id}"


def _interaction_key(item: Interaction) -> ItemKey:
    return (to_us(item.occurred_at), 0, item.id)


def _action_key(action: ConversationAction) -> ItemKey:
    ident = f"{action.type}:{action.conversation_id}:{action.other_conversation_id}:{action.interaction_id}"
    return (to_us(action.at), 1, ident)


def conversation_id(first_interaction_id: str) -> str:
    """The id of the conversation that ``first_interaction_id`` opened."""
    return "cv_" + hashlib.sha256(first_interaction_id.encode("utf-8", "surrogatepass")).hexdigest()[:26]


def normalize_subject(subject: str | None) -> str | None:
    """An email subject without ``Re:`` / ``Fwd:`` prefixes, white space folded, case-folded."""
    if not subject:
        return None
    text = " ".join(_SUBJECT_PREFIX.sub("", subject).split()).casefold()
    return text or None


@attrs.define
class _Conv:
    id: str
    opened_at: datetime
    status: ConversationStatus = ConversationStatus.OPEN
    channels: list[str] = attrs.Factory(list)
    last_activity_at: datetime | None = None
    last_channel: str | None = None
    resolved_at: datetime | None = None
    subject: str | None = None
    subject_key: str | None = None
    assignee: str | None = None
    members: list[tuple[datetime, str]] = attrs.Factory(list)


@attrs.define
class _State:
    customer_id: str
    rules: ContinuityRules
    convs: dict[str, _Conv] = attrs.Factory(dict)
    alias: dict[str, str] = attrs.Factory(dict)
    by_message_id: dict[str, str] = attrs.Factory(dict)
    by_platform_id: dict[str, str] = attrs.Factory(dict)
    by_session: dict[tuple[str, str], str] = attrs.Factory(dict)
    membership: dict[str, str] = attrs.Factory(dict)
    events: list[ConversationEvent] = attrs.Factory(list)
    ignored: list[ConversationAction] = attrs.Factory(list)

    def resolve_id(self, cid: str) -> str | None:
        while cid in self.alias:
            cid = self.alias[cid]
        return cid if cid in self.convs else None

    def latest(self, *, open_only: bool) -> _Conv | None:
        candidates = [c for c in self.convs.values() if not open_only or c.status in _OPEN]
        if not candidates:
            return None
        return max(candidates, key=lambda c: (c.last_activity_at or c.opened_at, c.id))

    def event(self, type_: ConversationEventType, conv: _Conv, at: datetime, **fields: object) -> None:
        self.events.append(
            ConversationEvent.model_validate({"type": type_, "conversation_id": conv.id, "at": at, **fields})
        )

    # --- membership -----------------------------------------------------------

    def open_new(self, item: Interaction) -> _Conv:
        conv = _Conv(id=conversation_id(item.id), opened_at=item.occurred_at)
        self.convs[conv.id] = conv
        self.event(E.OPENED, conv, item.occurred_at, interaction_id=item.id, channel=item.channel)
        self.join(conv, item, activity=True)
        return conv

    def join(self, conv: _Conv, item: Interaction, *, activity: bool) -> None:
        conv.members.append((item.occurred_at, item.id))
        self.membership[item.id] = conv.id
        if activity:
            if conv.last_channel is not None and item.channel != conv.last_channel:
                self.event(
                    E.CHANNEL_SWITCHED,
                    conv,
                    item.occurred_at,
                    interaction_id=item.id,
                    channel=item.channel,
                    from_channel=conv.last_channel,
                )
            if item.channel not in conv.channels:
                conv.channels.append(item.channel)
            conv.last_channel = item.channel
            if conv.last_activity_at is None or item.occurred_at > conv.last_activity_at:
                conv.last_activity_at = item.occurred_at
        self.index(conv, item)

    def index(self, conv: _Conv, item: Interaction) -> None:
        if isinstance(item, Message | CallRecord):
            if item.thread.message_id:
                self.by_message_id.setdefault(item.thread.message_id, conv.id)
            platform_id = item.platform_message_id if isinstance(item, Message) else item.call_id
            if platform_id:
                self.by_platform_id.setdefault(platform_id, conv.id)
            if item.thread.thread_id and item.channel in self.rules.session_channels:
                self.by_session[(item.channel, item.thread.thread_id)] = conv.id
        if isinstance(item, Message) and item.channel == "email" and conv.subject is None and item.subject:
            conv.subject = item.subject
            conv.subject_key = normalize_subject(item.subject)

    def reopen(self, conv: _Conv, at: datetime, **fields: object) -> None:
        conv.status = ConversationStatus.OPEN
        conv.resolved_at = None
        self.event(E.REOPENED, conv, at, **fields)


def _explicit_thread(state: _State, item: Message | CallRecord) -> str | None:
    thread = item.thread
    for ref in (thread.in_reply_to, *reversed(thread.references)):
        if ref and ref in state.by_message_id:
            return state.by_message_id[ref]
    if thread.reply_to and thread.reply_to in state.by_platform_id:
        return state.by_platform_id[thread.reply_to]
    if thread.thread_id and item.channel in state.rules.session_channels:
        return state.by_session.get((item.channel, thread.thread_id))
    return None


def _continuing(state: _State, item: Message | CallRecord) -> _Conv | None:
    """Rules 2 and 3: the subject thread or the open conversation this continues."""
    rules = state.rules
    if rules.email_subject_threading and isinstance(item, Message) and item.channel == "email":
        key = normalize_subject(item.subject)
        if key is not None:
            same = [c for c in state.convs.values() if c.status in _OPEN and c.subject_key == key]
            if same:
                return max(same, key=lambda c: (c.last_activity_at or c.opened_at, c.id))
    conv = state.latest(open_only=True)
    if conv is None:
        return None
    gap = item.occurred_at - (conv.last_activity_at or conv.opened_at)
    if isinstance(item, CallRecord):
        return conv if gap <= rules.cross_channel_window else None
    if item.channel == conv.last_channel:
        return conv if gap <= rules.idle_for(item.channel) else None
    return conv if gap <= rules.cross_channel_window else None


def _target(state: _State, item: Interaction) -> str | None:
    if isinstance(item, StatusUpdate | Edit | Deletion):
        return state.by_platform_id.get(item.target_message_id)
    if isinstance(item, Message) and item.parts and all(isinstance(p, ReactionPart) for p in item.parts):
        first = item.parts[0]
        assert isinstance(first, ReactionPart)
        return state.by_platform_id.get(first.target_message_id)
    return None


def _auto_reply(item: Message | CallRecord) -> bool:
    """An automated message that is no delivery failure (an out-of-office reply, a list copy)."""
    return isinstance(item, Message) and item.automated and item.metadata.get("automation") != "bounce"


def _place(state: _State, item: Interaction) -> None:
    target = _target(state, item)
    if target is not None:
        state.join(state.convs[target], item, activity=False)
        return
    if isinstance(item, StatusUpdate | Edit | Deletion):
        latest = state.latest(open_only=False)
        if latest is not None:  # an update of a message outside the timeline: keep it near
            state.join(latest, item, activity=False)
        return
    if isinstance(item, Rating | Note):
        latest = state.latest(open_only=False)
        if latest is None:
            state.open_new(item)
        else:
            state.join(latest, item, activity=False)  # notes and ratings are not contact
        return
    assert isinstance(item, Message | CallRecord)
    inbound = item.direction is Direction.INBOUND
    explicit = _explicit_thread(state, item)
    if explicit is not None:
        conv = state.convs[explicit]
        if conv.status is ConversationStatus.RESOLVED and inbound:
            if _auto_reply(item) and not state.rules.auto_replies_reopen:
                # an out-of-office answer to the resolution: kept in the conversation, not contact
                state.join(conv, item, activity=False)
                return
            state.reopen(conv, item.occurred_at, interaction_id=item.id, channel=item.channel)
        state.join(conv, item, activity=True)
        return
    continuing = _continuing(state, item)
    if continuing is not None:
        state.join(continuing, item, activity=True)
        return
    if not inbound:
        latest = state.latest(open_only=False)
        if latest is not None:
            state.join(latest, item, activity=True)
            return
    state.open_new(item)


def _act(state: _State, action: ConversationAction) -> None:
    cid = state.resolve_id(action.conversation_id)
    if cid is None:
        state.ignored.append(action)
        return
    conv = state.convs[cid]
    at, actor = action.at, action.actor
    if action.type == "resolve":
        if conv.status is not ConversationStatus.RESOLVED:
            conv.status, conv.resolved_at = ConversationStatus.RESOLVED, at
            state.event(E.RESOLVED, conv, at, actor=actor)
    elif action.type == "reopen":
        if conv.status is ConversationStatus.RESOLVED:
            state.reopen(conv, at, actor=actor)
    elif action.type == "pending":
        if conv.status is not ConversationStatus.PENDING:
            conv.status, conv.resolved_at = ConversationStatus.PENDING, None
            state.event(E.PENDING, conv, at, actor=actor)
    elif action.type == "assign":
        conv.assignee = action.assignee
        state.event(E.ASSIGNED, conv, at, actor=actor)
    elif action.type == "merge":
        _merge(state, conv, action)
    else:
        _split(state, conv, action)


def _merge(state: _State, conv: _Conv, action: ConversationAction) -> None:
    other_id = state.resolve_id(action.other_conversation_id or "")
    if other_id is None or other_id == conv.id:
        state.ignored.append(action)
        return
    other = state.convs.pop(other_id)
    state.alias[other_id] = conv.id
    conv.members = sorted(conv.members + other.members)
    conv.opened_at = min(conv.opened_at, other.opened_at)
    conv.channels += [c for c in other.channels if c not in conv.channels]
    if other.last_activity_at and (
        conv.last_activity_at is None or other.last_activity_at > conv.last_activity_at
    ):
        conv.last_activity_at, conv.last_channel = other.last_activity_at, other.last_channel
    for index in (state.by_message_id, state.by_platform_id, state.by_session, state.membership):
        for key, value in index.items():
            if value == other_id:
                index[key] = conv.id  # type: ignore[index]
    state.event(E.MERGED, conv, action.at, actor=action.actor, other_conversation_id=other_id)


def _split(state: _State, conv: _Conv, action: ConversationAction) -> None:
    ids = [iid for _, iid in conv.members]
    if action.interaction_id not in ids or ids.index(action.interaction_id) == 0:
        state.ignored.append(action)
        return
    cut = ids.index(action.interaction_id)
    moved = conv.members[cut:]
    new = _Conv(id=conversation_id(action.interaction_id), opened_at=moved[0][0], members=moved)
    new.last_activity_at, new.channels, new.last_channel = (
        moved[-1][0],
        list(conv.channels),
        conv.last_channel,
    )
    conv.members = conv.members[:cut]
    conv.last_activity_at = conv.members[-1][0]
    state.convs[new.id] = new
    moved_ids = {iid for _, iid in moved}
    for index in (state.by_message_id, state.by_platform_id, state.by_session):
        for key, value in list(index.items()):
            if value == conv.id and key in moved_ids:
                index[key] = new.id  # type: ignore[index]
    for iid in moved_ids:
        state.membership[iid] = new.id
    state.event(
        E.SPLIT,
        conv,
        action.at,
        actor=action.actor,
        other_conversation_id=new.id,
        interaction_id=action.interaction_id,
    )


def _conversation(customer_id: str, c: _Conv) -> Conversation:
    return Conversation(
        id=c.id,
        customer_id=customer_id,
        status=c.status,
        channels=tuple(c.channels),
        opened_at=c.opened_at,
        last_activity_at=max(c.last_activity_at or c.opened_at, c.opened_at),
        resolved_at=c.resolved_at,
        subject=c.subject,
        assignee=c.assignee,
    )


def _replay(
    customer_id: str,
    interactions: Iterable[Interaction],
    actions: Iterable[ConversationAction],
    rules: ContinuityRules | None,
) -> tuple[_State, ItemKey | None]:
    """Replay everything in the canonical order; the final state and the last item's order key."""
    state = _State(customer_id=customer_id, rules=rules or ContinuityRules())
    unique = {item.id: item for item in interactions}
    items: list[tuple[ItemKey, Interaction | ConversationAction]] = [
        (_interaction_key(item), item) for item in unique.values()
    ]
    items += [(_action_key(a), a) for a in actions]
    items.sort(key=lambda row: row[0])
    for _, item in items:
        if isinstance(item, ConversationAction):
            _act(state, item)
        else:
            _place(state, item)
    return state, (items[-1][0] if items else None)


def _threading(state: _State) -> Threading:
    return Threading(
        conversations=tuple(
            _conversation(state.customer_id, c)
            for c in sorted(state.convs.values(), key=lambda c: (c.opened_at, c.id))
        ),
        membership=dict(sorted(state.membership.items())),
        events=tuple(state.events),
        ignored_actions=tuple(state.ignored),
    )


def thread_conversations(
    customer_id: str,
    interactions: Iterable[Interaction],
    actions: Iterable[ConversationAction] = (),
    rules: ContinuityRules | None = None,
) -> Threading:
    """Group a customer's interactions into conversations under ``rules``.

    ``interactions`` are all interactions of the customer's identifiers, in any
    order (duplicates by id are ignored); ``actions`` what agents did. Returns
    the conversations (oldest first), which conversation each interaction
    belongs to, the event log in time order, and the actions that named no
    existing conversation.
    """
    state, _ = _replay(customer_id, interactions, actions, rules)
    return _threading(state)


# --- continuing from a stored snapshot -------------------------------------------


@attrs.frozen
class ThreadSnapshot:
    """What a store keeps beside a customer's conversations so that the next
    interaction, when it is newer than everything replayed so far, is placed
    without replaying the customer's history.

    ``keys`` maps flat thread keys to conversation ids: message ids (``t:m:``),
    platform message and call ids (``t:p:``), chat sessions (``t:s:``); and each
    conversation's last channel (``t:c:`` + conversation id → channel).
    ``watermark`` is the order key of the last item replayed, ``latest`` the most
    recently active conversation and ``open`` the open or pending ones.
    """

    watermark: ItemKey | None
    latest: str | None
    open: tuple[str, ...]
    keys: Mapping[str, str] = attrs.field(factory=dict)

    def admits(self, item: Interaction) -> bool:
        """True when ``item`` sorts after everything the snapshot was taken from."""
        return self.watermark is None or _interaction_key(item) > self.watermark

    @staticmethod
    def channel_key(conversation_id: str) -> str:
        """The key under which the last channel of ``conversation_id`` is kept."""
        return CHANNEL_KEY + conversation_id

    def header_json(self) -> str:
        """Everything but ``keys``, as JSON (a store keeps ``keys`` one row each)."""
        return json.dumps(
            {"watermark": self.watermark, "latest": self.latest, "open": list(self.open)},
            separators=(",", ":"),
        )

    @classmethod
    def from_header_json(cls, text: str) -> ThreadSnapshot:
        """The snapshot :meth:`header_json` wrote, without its keys."""
        data = json.loads(text)
        mark = data["watermark"]
        return cls(
            watermark=(int(mark[0]), int(mark[1]), str(mark[2])) if mark is not None else None,
            latest=data["latest"],
            open=tuple(data["open"]),
        )


def _latest_id(state: _State) -> str | None:
    latest = state.latest(open_only=False)
    return latest.id if latest is not None else None


def _open_ids(state: _State) -> tuple[str, ...]:
    return tuple(sorted(c.id for c in state.convs.values() if c.status in _OPEN))


def _state_keys(state: _State) -> dict[str, str]:
    keys = {MESSAGE_KEY + k: v for k, v in state.by_message_id.items()}
    keys.update((PLATFORM_KEY + k, v) for k, v in state.by_platform_id.items())
    keys.update((_session_key(ch, tid), v) for (ch, tid), v in state.by_session.items())
    keys.update((CHANNEL_KEY + c.id, c.last_channel) for c in state.convs.values() if c.last_channel)
    return keys


def thread_snapshot(
    customer_id: str,
    interactions: Iterable[Interaction],
    actions: Iterable[ConversationAction] = (),
    rules: ContinuityRules | None = None,
) -> tuple[Threading, ThreadSnapshot]:
    """:func:`thread_conversations`, and the snapshot to continue from with :func:`continue_thread`."""
    state, last = _replay(customer_id, interactions, actions, rules)
    return _threading(state), ThreadSnapshot(
        watermark=last, latest=_latest_id(state), open=_open_ids(state), keys=_state_keys(state)
    )


def thread_lookup_keys(item: Interaction, rules: ContinuityRules) -> list[str]:
    """The thread keys placing ``item`` may read or write (see :class:`ThreadSnapshot`)."""
    keys: list[str] = []
    if isinstance(item, StatusUpdate | Edit | Deletion):
        keys.append(PLATFORM_KEY + item.target_message_id)
    if isinstance(item, Message):
        keys += [PLATFORM_KEY + p.target_message_id for p in item.parts if isinstance(p, ReactionPart)]
    if isinstance(item, Message | CallRecord):
        thread = item.thread
        keys += [
            MESSAGE_KEY + ref for ref in (thread.in_reply_to, *thread.references, thread.message_id) if ref
        ]
        platform_id = item.platform_message_id if isinstance(item, Message) else item.call_id
        keys += [PLATFORM_KEY + ref for ref in (thread.reply_to, platform_id) if ref]
        if thread.thread_id and item.channel in rules.session_channels:
            keys.append(_session_key(item.channel, thread.thread_id))
    return sorted(set(keys))


@attrs.frozen
class ThreadStep:
    """What placing one interaction changed, for the store to write."""

    conversation_id: str | None
    """The conversation the interaction joined (``None``: it joined none)."""
    conversation: Conversation | None
    """That conversation as it is now (the only one that changed)."""
    events: tuple[ConversationEvent, ...]
    added_keys: Mapping[str, str]
    """Message and platform ids seen for the first time: written only where absent."""
    replaced_keys: Mapping[str, str]
    """Chat sessions and the conversation's last channel: written over what is there."""
    snapshot: ThreadSnapshot
    """The new header (``keys`` empty: they are the two mappings above)."""


def continue_thread(
    customer_id: str,
    item: Interaction,
    snapshot: ThreadSnapshot,
    conversations: Iterable[Conversation],
    rules: ContinuityRules | None = None,
) -> ThreadStep | None:
    """Place ``item`` after the items ``snapshot`` was taken from, exactly as a full replay would.

    ``conversations``: at least the snapshot's open ones, its latest one, and every
    conversation its ``keys`` name; ``snapshot.keys``: at least the stored keys
    among :func:`thread_lookup_keys` of ``item`` and the ``t:c:`` key of each of
    those conversations. Returns ``None`` when ``item`` is not newer than the
    snapshot's watermark: then only a full replay places it correctly.
    """
    if not snapshot.admits(item):
        return None
    state = _State(customer_id=customer_id, rules=rules or ContinuityRules())
    for stored in conversations:
        state.convs[stored.id] = _Conv(
            id=stored.id,
            opened_at=stored.opened_at,
            status=stored.status,
            channels=list(stored.channels),
            last_activity_at=stored.last_activity_at,
            last_channel=snapshot.keys.get(CHANNEL_KEY + stored.id),
            resolved_at=stored.resolved_at,
            subject=stored.subject,
            subject_key=normalize_subject(stored.subject),
            assignee=stored.assignee,
        )
    before: dict[str, str] = {}
    for key, value in snapshot.keys.items():
        if key.startswith(MESSAGE_KEY):
            state.by_message_id[key[len(MESSAGE_KEY) :]] = value
        elif key.startswith(PLATFORM_KEY):
            state.by_platform_id[key[len(PLATFORM_KEY) :]] = value
        elif key.startswith(SESSION_KEY):
            channel, _, thread_id = key[len(SESSION_KEY) :].partition("\n")
            state.by_session[(channel, thread_id)] = value
        else:
            continue
        before[key] = value
    _place(state, item)
    joined = state.membership.get(item.id)
    conv = state.convs.get(joined) if joined is not None else None
    after = _state_keys(state)
    added = {k: v for k, v in after.items() if k not in before and k.startswith((MESSAGE_KEY, PLATFORM_KEY))}
    replaced = {
        k: v
        for k, v in after.items()
        if before.get(k) != v
        and (k.startswith(SESSION_KEY) or (conv is not None and k == CHANNEL_KEY + conv.id))
    }
    return ThreadStep(
        conversation_id=joined,
        conversation=_conversation(customer_id, conv) if conv is not None else None,
        events=tuple(state.events),
        added_keys=added,
        replaced_keys=replaced,
        snapshot=ThreadSnapshot(
            watermark=_interaction_key(item), latest=_latest_id(state), open=_open_ids(state)
        ),
    )
