"""The hub: webhooks in, one continuous customer story out."""

from omnicx.hub._hub import Hub
from omnicx.hub._results import (
    Accepted,
    ChannelContact,
    ConversationBrief,
    CustomerContext,
    IngestResult,
    Rejection,
    ReplyResult,
    TimelineEntry,
    TimelinePage,
)

__all__ = [
    "Accepted",
    "ChannelContact",
    "ConversationBrief",
    "CustomerContext",
    "Hub",
    "IngestResult",
    "Rejection",
    "ReplyResult",
    "TimelineEntry",
    "TimelinePage",
]
