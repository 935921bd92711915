"""The rules that decide when interactions belong to one conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from omnicx.models._base import Name, OmnicxModel

__all__ = ["ContinuityRules"]

Window = Annotated[timedelta, Field(ge=timedelta(0))]


class ContinuityRules(OmnicxModel):
    """When does an interaction continue a conversation, and when does it start one?

    In order, for an interaction of a customer:

    1. **Explicit threads.** An email whose ``In-Reply-To`` / ``References`` name a
       message of a conversation, a message that replies to a platform message
       (``reply_to``), or a chat message of the same session (``thread_id`` on a
       ``session_channels`` channel) joins that conversation, reopening it if it
       was resolved. An automated message (``Message.automated``: an out-of-office or
       other auto-reply) does not reopen it unless ``auto_replies_reopen``; a delivery
       failure (``metadata["automation"] == "bounce"``) does: the customer never got the
       last message.
    2. **Email subject.** With ``email_subject_threading``, an email whose
       normalized subject (``Re:``/``Fwd:`` stripped) equals an open email
       conversation's subject joins it.
    3. **Open conversation.** Otherwise it joins the customer's most recently
       active open or pending conversation if that was active within
       ``idle_window`` (per channel: ``channel_idle_windows``) — on the same
       channel — or within ``cross_channel_window`` on another channel, which
       records a channel switch. A call (``CallRecord``) joins the caller's open
       conversation whenever one is open within ``cross_channel_window``.
    4. Otherwise an inbound interaction opens a new conversation; an outbound one
       joins the customer's latest conversation (or opens one when there is none).

    Status updates, edits, deletions and reactions join the conversation of the
    message they refer to; ratings and notes join the latest conversation.
    """

    idle_window: Window = timedelta(hours=24)
    channel_idle_windows: dict[Name, Window] = Field(default_factory=dict)
    cross_channel_window: Window = timedelta(hours=24)
    session_channels: frozenset[Name] = frozenset({"webchat"})
    email_subject_threading: bool = True
    auto_replies_reopen: bool = False
    """Whether an automated reply (not a bounce) to a resolved conversation reopens it: an
    out-of-office answer to the resolution would reopen every conversation it resolved."""
    version: int = 1

    def idle_for(self, channel: str) -> timedelta:
        """The idle window of ``channel``."""
        return self.channel_idle_windows.get(channel, self.idle_window)
