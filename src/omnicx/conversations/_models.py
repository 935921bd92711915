"""What agents do to conversations, and the events conversations produce."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import StringConstraints

from omnicx.models import Conversation
from omnicx.models._base import Name, OmnicxModel, UtcDatetime

__all__ = ["ConversationAction", "ConversationEvent", "ConversationEventType", "Threading"]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=256)]


class ConversationAction(OmnicxModel):
    """Something an agent or the host did to a conversation, at a time.

    * ``resolve`` / ``reopen`` / ``pending``: change the status;
    * ``assign``: set ``assignee`` (``None`` unassigns);
    * ``merge``: fold ``other_conversation_id`` into ``conversation_id``;
    * ``split``: move ``interaction_id`` and every later interaction of the
      conversation into a new conversation.
    """

    type: Literal["resolve", "reopen", "pending", "assign", "merge", "split"]
    conversation_id: Id
    at: UtcDatetime
    actor: Text | None = None
    assignee: Text | None = None
    other_conversation_id: Id | None = None
    interaction_id: Id | None = None


class ConversationEventType(StrEnum):
    """What happened to a conversation."""

    OPENED = "opened"
    CHANNEL_SWITCHED = "channel_switched"
    PENDING = "pending"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ASSIGNED = "assigned"
    MERGED = "merged"
    SPLIT = "split"


class ConversationEvent(OmnicxModel):
    """One thing that happened to a conversation; KPIs are computed from these."""

    type: ConversationEventType
    conversation_id: Id
    at: UtcDatetime
    interaction_id: Id | None = None
    channel: Name | None = None
    from_channel: Name | None = None
    actor: Text | None = None
    other_conversation_id: Id | None = None


class Threading(OmnicxModel):
    """The conversations of one customer: their state, membership and event log."""

    conversations: tuple[Conversation, ...]
    membership: dict[Id, Id]
    """interaction id → conversation id."""
    events: tuple[ConversationEvent, ...]
    ignored_actions: tuple[ConversationAction, ...] = ()
    """Actions that named a conversation that does not exist (any more)."""
