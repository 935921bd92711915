"""What an interaction counts as for KPIs: customer contact, human reply, bot reply, or nothing.

The rules, applied to every interaction of a conversation:

* **customer contact**: an inbound :class:`~omnicx.models.Message` written by the
  customer (``author.role == "customer"``), not ``automated`` (auto-replies and
  bounces are machines) and not made only of reactions; or an inbound
  :class:`~omnicx.models.CallRecord` (a call is counted once, at the first record
  of its ``call_id``).
* **human agent reply**: an outbound message by ``author.role == "agent"`` that is
  neither ``automated`` nor a template (``metadata["template"] is True``, see
  :data:`TEMPLATE_FLAG`); or an outbound call by an agent that connected (some
  record of its ``call_id`` is ``in_progress`` or ``completed``), at the time of
  its first record.
* **bot reply**: an outbound message by ``author.role == "bot"``.
* everything else (system messages, templates, automated messages, notes, status
  updates, edits, deletions, ratings) is not contact and not a reply.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum

import attrs

from omnicx.models import (
    AuthorRole,
    CallRecord,
    CallStatus,
    Direction,
    Interaction,
    Message,
    ReactionPart,
)

__all__ = ["SURVEY_FLAG", "TEMPLATE_FLAG", "Role", "Turn", "is_template", "turns"]

TEMPLATE_FLAG = "template"
"""``Message.metadata[TEMPLATE_FLAG] is True`` marks a message sent from a template
(a WhatsApp template, a canned acknowledgement, a macro sent without editing).
Adapters and hosts set it; a template is never a human reply."""

SURVEY_FLAG = "survey"
"""``Message.metadata[SURVEY_FLAG]`` on an outbound message names the survey it
sent: ``"csat"``, ``"nps"`` or ``"ces"``. It makes the conversation count in that
survey's response-rate denominator."""

_CONNECTED = (CallStatus.IN_PROGRESS, CallStatus.COMPLETED)


class Role(Enum):
    """What an interaction is for KPIs."""

    CONTACT = "contact"
    HUMAN = "human"
    BOT = "bot"


@attrs.frozen
class Turn:
    """One contact or reply, in time order."""

    at: datetime
    role: Role
    channel: str
    author_id: str | None
    id: str


def is_template(message: Message) -> bool:
    """True when ``message.metadata[TEMPLATE_FLAG] is True``."""
    return message.metadata.get(TEMPLATE_FLAG) is True


def _message_role(item: Message) -> Role | None:
    if item.automated:
        return None
    if item.direction is Direction.INBOUND:
        if item.author.role is not AuthorRole.CUSTOMER:
            return None
        if item.parts and all(isinstance(p, ReactionPart) for p in item.parts):
            return None
        return Role.CONTACT
    if item.author.role is AuthorRole.BOT:
        return Role.BOT
    if item.author.role is AuthorRole.AGENT and not is_template(item):
        return Role.HUMAN
    return None


def turns(interactions: Iterable[Interaction]) -> list[Turn]:
    """The contacts and replies among ``interactions``, sorted by (time, role order, id).

    At equal times a customer contact sorts before a reply, so a reply stamped in
    the same second answers it.
    """
    found: list[Turn] = []
    calls: dict[tuple[str, str], list[CallRecord]] = {}
    for item in interactions:
        if isinstance(item, Message):
            role = _message_role(item)
            if role is not None:
                found.append(Turn(item.occurred_at, role, item.channel, item.author.id, item.id))
        elif isinstance(item, CallRecord):
            calls.setdefault((item.direction.value, item.call_id), []).append(item)
    for (direction, _), records in calls.items():
        first = min(records, key=lambda r: (r.occurred_at, r.id))
        if direction == Direction.INBOUND.value:
            found.append(Turn(first.occurred_at, Role.CONTACT, first.channel, first.author.id, first.id))
        elif first.author.role is AuthorRole.AGENT and any(r.status in _CONNECTED for r in records):
            found.append(Turn(first.occurred_at, Role.HUMAN, first.channel, first.author.id, first.id))
    order = {Role.CONTACT: 0, Role.BOT: 1, Role.HUMAN: 2}
    found.sort(key=lambda t: (t.at, order[t.role], t.id))
    return found
