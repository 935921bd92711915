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
from omnicx.conversations._threading import conversation_id, normalize_subject, thread_conversations

__all__ = [
    "ContinuityRules",
    "ConversationAction",
    "ConversationEvent",
    "ConversationEventType",
    "Threading",
    "conversation_id",
    "normalize_subject",
    "thread_conversations",
]
