"""Typed events the hub publishes, and subscriptions to them.

Events are published after the transaction that caused them has committed, in
the order they happened. A subscriber that raises does not undo anything and
does not stop other subscribers: the error is reported as a
:class:`SubscriberWarning` and kept in :attr:`EventBus.failures`.

::

    bus = EventBus()
    bus.subscribe(CustomersMerged, lambda event: print(event.survivor_id))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar, cast

from pydantic import Field, StringConstraints

from omnicx.errors import ValidationError
from omnicx.models import Identifier
from omnicx.models._base import Name, OmnicxModel, UtcDatetime

__all__ = [
    "ChannelSwitched",
    "ConversationOpened",
    "ConversationReopened",
    "ConversationResolved",
    "CustomerCreated",
    "CustomerForgotten",
    "CustomerSplit",
    "CustomersMerged",
    "Event",
    "EventBus",
    "IdentityConflict",
    "InteractionIngested",
    "SubscriberWarning",
]

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(max_length=1024)]


class _Event(OmnicxModel):
    at: UtcDatetime
    tenant: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "default"


class InteractionIngested(_Event):
    """An interaction was stored (never for a duplicate delivery)."""

    type: Literal["interaction.ingested"] = "interaction.ingested"
    interaction_id: Id
    customer_id: Id | None
    """``None`` when the sender is only a shared attribute (junk or a quarantined identifier)."""
    conversation_id: Id | None = None
    channel: Name
    kind: Name
    """The interaction's ``type``: message, call, status …"""


class CustomerCreated(_Event):
    """A customer was seen for the first time."""

    type: Literal["customer.created"] = "customer.created"
    customer_id: Id
    identifiers: tuple[Identifier, ...] = ()


class CustomersMerged(_Event):
    """Customers were found to be one person; ``merged_ids`` now resolve to ``survivor_id``."""

    type: Literal["customer.merged"] = "customer.merged"
    survivor_id: Id
    merged_ids: tuple[Id, ...]
    reason: Text | None = None


class CustomerSplit(_Event):
    """A customer was split; ``customer_ids`` are the parts.

    An agent's unmerge, or a quarantine: an identifier that became a shared attribute cut the
    customer apart (``actor`` is then ``None``). ``customer_ids`` is empty when every identifier
    of the customer became shared: the customer is gone."""

    type: Literal["customer.split"] = "customer.split"
    customer_id: Id
    customer_ids: tuple[Id, ...]
    actor: Text | None = None
    reason: Text | None = None


class CustomerForgotten(_Event):
    """A customer was erased; only salted-hash tombstones remain."""

    type: Literal["customer.forgotten"] = "customer.forgotten"
    customer_id: Id


class IdentityConflict(_Event):
    """The merge policy refused a link; it is kept in the ledger with ``reason``."""

    type: Literal["identity.conflict"] = "identity.conflict"
    a: Identifier
    b: Identifier
    reason: Text


class ConversationOpened(_Event):
    """A conversation started."""

    type: Literal["conversation.opened"] = "conversation.opened"
    conversation_id: Id
    customer_id: Id
    channel: Name


class ChannelSwitched(_Event):
    """A conversation continued on another channel."""

    type: Literal["conversation.channel_switched"] = "conversation.channel_switched"
    conversation_id: Id
    customer_id: Id
    from_channel: Name
    to_channel: Name


class ConversationResolved(_Event):
    """A conversation was resolved."""

    type: Literal["conversation.resolved"] = "conversation.resolved"
    conversation_id: Id
    customer_id: Id
    actor: Text | None = None


class ConversationReopened(_Event):
    """A resolved conversation was reopened (by the customer or an agent)."""

    type: Literal["conversation.reopened"] = "conversation.reopened"
    conversation_id: Id
    customer_id: Id
    actor: Text | None = None


Event = Annotated[
    InteractionIngested
    | CustomerCreated
    | CustomersMerged
    | CustomerSplit
    | CustomerForgotten
    | IdentityConflict
    | ConversationOpened
    | ChannelSwitched
    | ConversationResolved
    | ConversationReopened,
    Field(discriminator="type"),
]
"""Any hub event, told apart by ``type``."""

E = TypeVar("E", bound=_Event)


class SubscriberWarning(UserWarning):
    """A subscriber raised while handling an event; the event was still delivered to the others."""


class EventBus:
    """Delivers events to the subscribers of their class (or of a base class)."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[type[_Event], Callable[[_Event], object]]] = []
        self.failures: list[tuple[_Event, BaseException]] = []
        """Every (event, exception) a subscriber raised, oldest first."""

    def subscribe(self, event_type: type[E], handler: Callable[[E], object]) -> Callable[[], None]:
        """Call ``handler`` with every event of ``event_type``; returns a function that unsubscribes.

        Raises :class:`~omnicx.errors.ValidationError` when ``event_type`` is not an omnicx event
        class (such as :class:`CustomersMerged`) or ``handler`` cannot be called.
        """
        if not (isinstance(event_type, type) and issubclass(event_type, _Event)):
            raise ValidationError(
                f"subscribe to an omnicx.events class such as CustomersMerged, got {event_type!r}",
                value=repr(event_type)[:80],
            )
        if not callable(handler):
            raise ValidationError(f"the handler must be callable, got {type(handler).__name__}")
        entry = cast("tuple[type[_Event], Callable[[_Event], object]]", (event_type, handler))
        self._subscribers.append(entry)

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)

        return unsubscribe

    def publish(self, event: _Event) -> None:
        """Deliver ``event`` to its subscribers, in subscription order."""
        for event_type, handler in list(self._subscribers):
            if isinstance(event, event_type):
                try:
                    handler(event)
                except Exception as exc:
                    self.failures.append((event, exc))
                    warnings.warn(
                        f"subscriber {getattr(handler, '__qualname__', handler)!r} raised {exc!r} "
                        f"on {getattr(event, 'type', type(event).__name__)}; the other subscribers still got it",
                        SubscriberWarning,
                        stacklevel=2,
                    )
