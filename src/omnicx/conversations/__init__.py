"""Conversations that continue across channels.

:func:`thread_conversations` is a pure function of a customer's interactions and
agents' :class:`ConversationAction`\\ s under :class:`ContinuityRules`.
"""

from omnicx.conversations._models import (
    ConversationAction,
    ConversationEvent,
    ConversationEventType,
    Threading,
)
from omnicx.conversations._rules import ContinuityRules
from omnicx.conversations._threading import (
    ThreadSnapshot,
    ThreadStep,
    continue_thread,
    conversation_id,
    normalize_subject,
    thread_conversations,
    thread_lookup_keys,
    thread_snapshot,
)

__all__ = [
    "ContinuityRules",
    "ConversationAction",
    "ConversationEvent",
    "ConversationEventType",
    "ThreadSnapshot",
    "ThreadStep",
    "Threading",
    "continue_thread",
    "conversation_id",
    "normalize_subject",
    "thread_conversations",
    "thread_lookup_keys",
    "thread_snapshot",
]
