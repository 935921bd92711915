"""The input of every KPI: one conversation with its interactions, events and attribution."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Self

from pydantic import StringConstraints, model_validator

from omnicx.conversations import ConversationEvent, ConversationEventType, Threading
from omnicx.errors import ValidationError
from omnicx.models import Conversation, Interaction
from omnicx.models._base import OmnicxModel

__all__ = ["ConversationRecord", "records_from_threading"]

Label = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ConversationRecord(OmnicxModel):
    """One conversation as KPIs see it.

    * ``conversation``: its state at the time of reporting (status, channels,
      ``opened_at``, ``resolved_at``, ``assignee``);
    * ``interactions``: every interaction threaded into it, in any order;
    * ``events``: its :class:`~omnicx.conversations.ConversationEvent` log, including
      the events of conversations merged into it;
    * ``customer_id``: the customer it belongs to (defaults to
      ``conversation.customer_id``); cross-conversation KPIs (first contact
      resolution, repeat contact, returning customers) group by it;
    * ``team`` / ``agent``: attribution for grouping; ``agent`` defaults to
      ``conversation.assignee``. Reply-level KPIs (response times) are attributed to
      the agent who wrote the reply, conversation-level KPIs to ``agent``.
    """

    conversation: Conversation
    interactions: tuple[Interaction, ...] = ()
    events: tuple[ConversationEvent, ...] = ()
    customer_id: Label
    team: Label | None = None
    agent: Label | None = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and "conversation" in data:
            conv = data["conversation"]
            if isinstance(conv, Conversation):
                data = dict(data)
                data.setdefault("customer_id", conv.customer_id)
                if data.get("agent") is None:
                    data["agent"] = conv.assignee
        return data

    @model_validator(mode="after")
    def _events_are_its_own(self) -> Self:
        own = {self.conversation.id} | {
            e.other_conversation_id
            for e in self.events
            if e.type is ConversationEventType.MERGED and e.other_conversation_id
        }
        stray = sorted({e.conversation_id for e in self.events} - own)
        if stray:
            raise ValueError(
                f"events of conversation(s) {stray} are in the record of {self.conversation.id}; "
                "give each record only its own events (and those of conversations merged into it)"
            )
        return self


def records_from_threading(
    threading: Threading,
    interactions: Iterable[Interaction],
    *,
    team_of: Callable[[Conversation], str | None] | None = None,
) -> list[ConversationRecord]:
    """One :class:`ConversationRecord` per conversation of ``threading``, oldest first.

    ``interactions`` are the interactions that were threaded (any order; those not
    in ``threading.membership`` are skipped). ``team_of`` names the team of a
    conversation (default: none). Raises :class:`omnicx.ValidationError` when an
    interaction is a member of a conversation that ``threading`` does not hold.
    """
    by_conv: dict[str, dict[str, Interaction]] = {c.id: {} for c in threading.conversations}
    for item in interactions:
        cid = threading.membership.get(item.id)
        if cid is None:
            continue
        if cid not in by_conv:
            raise ValidationError(
                f"interaction {item.id} belongs to conversation {cid}, which the threading does not hold",
                interaction_id=item.id,
                conversation_id=cid,
            )
        by_conv[cid][item.id] = item
    # events of a merged-away conversation belong to the survivor
    survivor: dict[str, str] = {}
    for event in threading.events:
        if event.type is ConversationEventType.MERGED and event.other_conversation_id:
            survivor[event.other_conversation_id] = event.conversation_id

    def home(cid: str) -> str:
        seen: set[str] = set()
        while cid in survivor and cid not in seen:
            seen.add(cid)
            cid = survivor[cid]
        return cid

    events: dict[str, list[ConversationEvent]] = {c.id: [] for c in threading.conversations}
    for event in threading.events:
        target = home(event.conversation_id)
        if target in events:
            events[target].append(event)
    records = []
    for conv in threading.conversations:
        records.append(
            ConversationRecord(
                conversation=conv,
                interactions=tuple(sorted(by_conv[conv.id].values(), key=lambda i: (i.occurred_at, i.id))),
                events=tuple(events[conv.id]),
                customer_id=conv.customer_id,
                team=team_of(conv) if team_of else None,
            )
        )
    return records
