"""The facade a host application uses: webhooks in, the whole customer story out."""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import attrs

from omnicx._micros import from_us, to_us
from omnicx.channels import Capability, ChannelAdapter, OutboundMessage
from omnicx.conversations import (
    ContinuityRules,
    ConversationAction,
    ConversationEvent,
    ConversationEventType,
    Threading,
    ThreadSnapshot,
    ThreadStep,
    continue_thread,
    thread_conversations,
    thread_lookup_keys,
    thread_snapshot,
)
from omnicx.errors import (
    ConfigurationError,
    Conflict,
    MergeBlocked,
    NotFound,
    PayloadError,
    SignatureError,
    StorageUnavailable,
    UnknownIdentifier,
    UnsupportedEvent,
    ValidationError,
)
from omnicx.events import (
    ChannelSwitched,
    ConversationOpened,
    ConversationReopened,
    ConversationResolved,
    CustomerCreated,
    CustomerForgotten,
    CustomersMerged,
    CustomerSplit,
    EventBus,
    IdentityConflict,
    InteractionIngested,
    _Event,
)
from omnicx.hub._context import build_context
from omnicx.hub._identity_sync import (
    THREAD_KEY,
    THREAD_PREFIX,
    Saved,
    component_engine,
    is_quarantined,
    policy_fingerprint,
    read_facts,
    save_component,
)
from omnicx.hub._results import (
    Accepted,
    CustomerContext,
    IngestResult,
    Rejection,
    ReplyResult,
    TimelineEntry,
    TimelinePage,
)
from omnicx.identity import (
    DEFAULT_SALT,
    Change,
    Erasure,
    Explanation,
    HistoryEvent,
    IdentityEngine,
    MergePolicy,
    observation_entries,
)
from omnicx.identity._core import salt_bytes, tombstone
from omnicx.metrics import ConversationRecord, records_from_threading
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    CallRecord,
    Conversation,
    Customer,
    CustomerIdentifier,
    DeliveryStatus,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    Interaction,
    Message,
    ObservedIdentifier,
    StatusUpdate,
    TextPart,
    interaction_id,
)
from omnicx.models._base import member
from omnicx.store import (
    AuditAction,
    AuditRecord,
    Page,
    RawStatus,
    Store,
    StoredInteraction,
    StoreReader,
    StoreSession,
    open_store,
)
from omnicx.store._codec import decode_cursor, encode_cursor

__all__ = ["Hub"]

E = TypeVar("E", bound=_Event)
T = TypeVar("T")
PAGE = 1000
ECHO_WINDOW = 100
"""How many of an endpoint's latest messages and statuses the hub searches for the reply an
outbound copy (an echo) repeats, when the copy names no reply by its correlation id."""
HUB_REPLY = "hub_reply"
"""The metadata flag of the replies ``Hub.reply`` records."""
ECHO_DELAY = timedelta(minutes=10)
"""How long after a reply its channel's copy may come to be known by its text alone."""
ECHO_SKEW = timedelta(minutes=1)
"""How much earlier than the reply, by the channel's clock, such a copy may be dated."""
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _paged(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a paged store query, page after page, fetched only as far as it is read."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def _owner(engine: IdentityEngine, identifier: Identifier) -> str | None:
    """The customer of ``identifier``; None when it has none or was dropped as forgotten."""
    try:
        return engine.customer_of(identifier)
    except UnknownIdentifier:  # a forgotten identifier in a payload from before its erasure
        return None


def _error_name(exc: BaseException) -> str:
    return _SNAKE.sub("_", type(exc).__name__).lower()


class Hub:
    """One object that takes webhooks in and gives the agent the whole story.

    Open one with :meth:`open`; it wires the channel adapters, the identity engine
    (under ``policy``), the store and conversation continuity (``continuity``).
    Every :meth:`ingest` is one transaction; events go to subscribers after it
    commits. A hub serves one tenant; open one per tenant for many.
    """

    def __init__(
        self,
        store: Store,
        channels: Iterable[ChannelAdapter[Any]] | Mapping[str, ChannelAdapter[Any]] = (),
        *,
        policy: MergePolicy | None = None,
        continuity: ContinuityRules | None = None,
        tenant: str = "default",
        salt: str | bytes = DEFAULT_SALT,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        adapters = list(channels.values()) if isinstance(channels, Mapping) else list(channels)
        self._adapters: dict[str, ChannelAdapter[Any]] = {}
        for adapter in adapters:
            if not isinstance(adapter, ChannelAdapter):
                raise ConfigurationError(
                    f"channels must be ChannelAdapter instances, got {type(adapter).__name__}; "
                    "build one with omnicx.channels.default_registry().create(name, config)"
                )
            if adapter.name in self._adapters:
                raise ConfigurationError(
                    f"two channel adapters are named {adapter.name!r}; a hub takes one adapter per channel name"
                )
            self._adapters[adapter.name] = adapter
        if policy is not None and not isinstance(policy, MergePolicy):
            raise ConfigurationError(
                f"policy must be a MergePolicy (MergePolicy.model_validate() reads a dict), got {type(policy).__name__}"
            )
        if continuity is not None and not isinstance(continuity, ContinuityRules):
            raise ConfigurationError(
                f"continuity must be ContinuityRules (ContinuityRules.model_validate() reads a dict), "
                f"got {type(continuity).__name__}"
            )
        try:
            self._salt = salt_bytes(salt)
        except ValidationError as exc:
            raise ConfigurationError(str(exc)) from None
        self.store = store
        self.policy = policy or MergePolicy()
        self._fingerprint = policy_fingerprint(self.policy)
        self._compiled = self.policy.compile()
        self.continuity = continuity or ContinuityRules()
        self.tenant = tenant
        self._clock = clock or (lambda: datetime.now(UTC))
        self.events = EventBus()
        """Subscribe here (or with :meth:`subscribe`) to what the hub does."""

    @classmethod
    def open(
        cls,
        url: str = "sqlite:///omnicx.db",
        *,
        channels: Iterable[ChannelAdapter[Any]] | Mapping[str, ChannelAdapter[Any]] = (),
        policy: MergePolicy | None = None,
        continuity: ContinuityRules | None = None,
        tenant: str = "default",
        salt: str | bytes = DEFAULT_SALT,
        clock: Callable[[], datetime] | None = None,
    ) -> Hub:
        """Open a hub on the store at ``url`` (``sqlite:///path.db``, ``memory://``, ``postgresql://…``)."""
        return cls(
            open_store(url),
            channels,
            policy=policy,
            continuity=continuity,
            tenant=tenant,
            salt=salt,
            clock=clock,
        )

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(self, event_type: type[E], handler: Callable[[E], object]) -> Callable[[], None]:
        """Call ``handler`` for every event of ``event_type``; returns the unsubscribe function."""
        return self.events.subscribe(event_type, handler)

    def adapter(self, name: str) -> ChannelAdapter[Any]:
        """The configured adapter ``name``; :class:`ConfigurationError` when there is none."""
        try:
            return self._adapters[name]
        except KeyError:
            known = ", ".join(sorted(self._adapters)) or "none"
            raise ConfigurationError(
                f"no channel {name!r} is configured on this hub (configured: {known}); "
                "pass its adapter in Hub.open(channels=...)",
                channel=name,
            ) from None

    # --- ingestion ---------------------------------------------------------------

    def ingest(self, channel: str, request: InboundRequest) -> IngestResult:
        """Take one webhook request in: store it raw, verify, parse, resolve identity, store, thread.

        One transaction per request stores the raw payload first, then what it
        says, so nothing is lost: a signature or parse failure commits the raw
        payload marked ``failed`` (see :meth:`replay`), and an unexpected error
        while storing it still keeps the raw payload, marked ``failed`` with the
        error, before the error propagates. A redelivered event is a duplicate and
        changes nothing.
        """
        adapter = self.adapter(channel)
        if not isinstance(request, InboundRequest):
            raise ValidationError(
                f"ingest takes an omnicx.InboundRequest, got {type(request).__name__}: build one from your "
                "framework's request (url, headers, body, received_at)",
                value=repr(request)[:200],
            )
        handshake = adapter.handshake(request)
        if handshake is not None:
            return IngestResult(channel=channel, status="handshake", handshake_body=handshake.body)
        return self._process(adapter, None, request)

    def replay(
        self, status: RawStatus | str = RawStatus.FAILED, *, channel: str | None = None
    ) -> list[IngestResult]:
        """Run kept raw payloads with ``status`` through their (fixed) adapters again."""
        wanted = member(RawStatus, status, "status")
        with self.store.snapshot(self.tenant) as view:
            pending = list(
                _paged(lambda cursor: view.raw_payloads(wanted, channel=channel, limit=PAGE, cursor=cursor))
            )
        return [self._process(self.adapter(raw.channel), raw.id, raw.request) for raw in pending]

    def _process(
        self, adapter: ChannelAdapter[Any], raw_id: str | None, request: InboundRequest
    ) -> IngestResult:
        """Verify and parse (pure), then one transaction: the raw payload (unless kept already) and its events."""
        name = adapter.name
        refused: tuple[RawStatus, str, Rejection] | None = None
        events: Sequence[InboundEvent] = ()
        try:
            adapter.verify(request)
            events = adapter.parse(request)
        except UnsupportedEvent as exc:
            rejection = Rejection(error=_error_name(exc), message=str(exc))
            refused = (RawStatus.UNSUPPORTED, str(exc), rejection)
        except (SignatureError, PayloadError, ValidationError) as exc:
            rejection = Rejection(error=_error_name(exc), message=str(exc))
            refused = (RawStatus.FAILED, f"{_error_name(exc)}: {exc}", rejection)
        except Exception as exc:  # a bug in the adapter: keep the payload for a replay after the fix
            self._keep_failed(name, raw_id, request, exc)
            raise
        for attempt in range(20):
            published: list[_Event] = []
            accepted: list[Accepted] = []
            duplicates: list[str] = []
            erased: list[str] = []
            try:
                with self.store.transaction(self.tenant) as tx:
                    rid = raw_id if raw_id is not None else tx.record_raw(name, request)
                    if refused is not None:
                        tx.mark_raw(rid, refused[0], error=refused[1][:4000])
                    else:
                        for event in events:
                            outcome = self._store_event(tx, event, rid, published)
                            if outcome is None:
                                duplicates.append(event.interaction.dedupe_key)
                            elif outcome == "erased":
                                erased.append(event.interaction.dedupe_key)
                            else:
                                accepted.append(outcome)
                        if erased:
                            # it holds a forgotten sender's words: keep none of it, as forget()
                            # deletes every raw payload of theirs (the others' events are stored)
                            tx.delete_raw(rid)
                        else:
                            tx.mark_raw(
                                rid, RawStatus.PARSED, dedupe_keys=[e.interaction.dedupe_key for e in events]
                            )
                break
            except StorageUnavailable as exc:
                if attempt == 19:
                    self._keep_failed(name, raw_id, request, exc)
                    raise
            except Exception as exc:
                self._keep_failed(name, raw_id, request, exc)
                raise
        if refused is not None:
            status = "unsupported" if refused[0] is RawStatus.UNSUPPORTED else "rejected"
            return IngestResult(channel=name, raw_id=rid, status=status, rejections=(refused[2],))
        for item in published:
            self.events.publish(item)
        status = (
            "accepted" if accepted or not (duplicates or erased) else "duplicate" if duplicates else "erased"
        )
        return IngestResult(
            channel=name,
            raw_id=rid,
            status=status,
            accepted=tuple(accepted),
            duplicates=tuple(duplicates),
            erased=tuple(erased),
        )

    def _keep_failed(
        self, channel: str, raw_id: str | None, request: InboundRequest, error: BaseException
    ) -> None:
        """After the request's transaction failed: keep its raw payload, marked failed with the error.

        Best effort: when the store itself is what failed, the original error is what
        the caller needs to see, so a second failure here is not raised.
        """
        try:
            with self.store.transaction(self.tenant) as tx:
                rid = raw_id if raw_id is not None else tx.record_raw(channel, request)
                tx.mark_raw(rid, RawStatus.FAILED, error=f"{_error_name(error)}: {error}"[:4000])
        except Exception:  # the first error is the one to report
            return

    def _store_event(
        self, tx: StoreSession, event: InboundEvent, raw_id: str | None, published: list[_Event]
    ) -> Accepted | Literal["erased"] | None:
        """Store one event; None for a duplicate, ``"erased"`` (nothing stored) for an event whose
        sender was forgotten after it was sent."""
        item = event.interaction
        if tx.find_interaction(item.adapter, item.dedupe_key) is not None:
            return None
        if isinstance(item, Message) and item.direction is Direction.OUTBOUND:
            reply = self._echoed_reply(tx, item)
            if reply is not None:  # the channel's copy of a reply the hub recorded: the same message
                if item.platform_message_id:
                    tx.lock_identifiers([item.endpoint])
                    self._record_sent(tx, reply, item.platform_message_id, item.occurred_at)
                return None
        observed = list(event.identifiers) or [
            ObservedIdentifier(identifier=item.endpoint, assurance=Assurance.ASSERTED)
        ]
        settled = self._settled(tx, observed, item)
        created: list[Identifier] = []
        saved = Saved([], {}, {})  # a settled observation regroups nobody
        if settled is not None:
            change, customer_id = settled, settled.customer_id
            member = customer_id is not None
        else:
            engine, seen = component_engine(tx, [o.identifier for o in observed], self.policy, self._salt)
            change = engine.observe(
                observed, at=item.occurred_at, channel=item.channel, dedupe_key=item.dedupe_key
            )
            if any(c.reason == "erased" and item.endpoint in c.identifiers for c in change.conflicts):
                return "erased"  # sent before its sender's erasure: nothing of it is kept
            tx.append_ledger(change.entries)
            saved = save_component(tx, engine, seen, self._fingerprint)
            endpoint_owner = _owner(engine, item.endpoint)
            customer_id = endpoint_owner or change.customer_id
            member = endpoint_owner is not None
            for other in saved.rethread:  # this request's customer is threaded with its interaction below
                if other != customer_id:
                    self._rethread(tx, other, published)
            if change.created:
                created = [o.identifier for o in observed if _owner(engine, o.identifier) == customer_id]
        step = self._continue(tx, customer_id, item, created) if customer_id is not None and member else None
        tx.append_interaction(item, raw_id=raw_id, conversation_id=step.conversation_id if step else None)
        now = self._clock()
        if change.created and customer_id is not None:
            published.append(
                CustomerCreated(
                    at=now,
                    tenant=self.tenant,
                    customer_id=customer_id,
                    identifiers=tuple(o.identifier for o in observed),
                )
            )
        reason = f"{item.channel}:{item.dedupe_key}"
        into = self._merged_into(published, customer_id, change.merged, saved.regrouped, reason)
        if into and customer_id is not None:
            self._audit(tx, AuditAction.MERGE, (customer_id, *into), None, {"dedupe_key": item.dedupe_key})
        # this request's own new customer was told above, with the identifiers it came with
        announced = {customer_id} if change.created and customer_id is not None else frozenset()
        self._regroup_events(published, saved, set(into), reason, announced=announced)
        for conflict in change.conflicts:
            if len(conflict.identifiers) >= 2:
                published.append(
                    IdentityConflict(
                        at=now,
                        tenant=self.tenant,
                        a=conflict.identifiers[0],
                        b=conflict.identifiers[1],
                        reason=f"{conflict.reason}: {conflict.detail}",
                    )
                )
        conversation_id = None
        if customer_id is not None:
            conversation_id = self._thread_item(tx, customer_id, item, published, step)
        published.append(
            InteractionIngested(
                at=now,
                tenant=self.tenant,
                interaction_id=item.id,
                customer_id=customer_id,
                conversation_id=conversation_id,
                channel=item.channel,
                kind=item.type,
            )
        )
        return Accepted(
            interaction_id=item.id,
            dedupe_key=item.dedupe_key,
            customer_id=customer_id,
            conversation_id=conversation_id,
            created_customer=change.created,
            merged=into,
            conflicts=change.conflicts,
        )

    def _settled(
        self, tx: StoreSession, observed: Sequence[ObservedIdentifier], item: Interaction
    ) -> Change | None:
        """What an observation that changes nothing did, with its evidence recorded; else ``None``.

        Two common cases change nothing (see :class:`~omnicx.identity.SettledFacts`).
        One is a returning customer on identifiers already linked to one another: the
        ledger gets the observation's entries and the identifiers their last sighting.
        The other is a shared identifier alone: one the policy blocklists such as
        ``noreply@…``, or one the last rebuild of its component found quarantined, such
        as a switchboard calling; its entries are recorded and it stays in no customer.
        In both the engine is not rebuilt from a ledger that grows with every such payload.
        ``None`` leaves everything to the full path.
        """
        keys = [o.identifier.key for o in observed]
        if item.endpoint.key not in keys:
            return None

        def record() -> None:
            tx.append_ledger(
                observation_entries(
                    observed, at=item.occurred_at, channel=item.channel, dedupe_key=item.dedupe_key
                )
            )

        tx.lock_identifiers([o.identifier for o in observed])
        if (
            set(keys) == {item.endpoint.key}
            and (
                self._compiled.is_blocked(
                    item.endpoint.kind, item.endpoint.key.split(":", 1)[1], item.endpoint.key
                )
                or is_quarantined(tx, item.endpoint, self._fingerprint)
            )
            # a shared identifier once a forgotten customer's: the full path decides whether the
            # payload was sent before the erasure (and keeps nothing of it)
            and not tx.tombstoned([tombstone(item.endpoint.key, self._salt)])
        ):
            record()
            tx.assign_customer([item.endpoint], None)  # as the full path leaves a shared identifier
            return Change()
        owners = {tx.customer_of(o.identifier) for o in observed}
        owner = owners.pop() if len(owners) == 1 else None
        if owner is None:
            return None
        facts = read_facts(tx, owner, self._fingerprint)
        if facts is None or facts.customer_id != owner or not facts.settles(keys, item.occurred_at):
            return None
        record()
        tx.upsert_identifiers(
            CustomerIdentifier(
                identifier=o.identifier,
                assurance=o.assurance,
                first_seen=item.occurred_at,
                last_seen=item.occurred_at,
            )
            for o in observed
        )
        return Change(customer_id=owner)

    # --- conversations -----------------------------------------------------------

    def _thread_item(
        self,
        tx: StoreSession,
        customer_id: str,
        item: Interaction,
        published: list[_Event],
        step: ThreadStep | None,
    ) -> str | None:
        """Place a just-stored interaction in the customer's conversations; return its conversation id.

        ``step`` is what :meth:`_continue` computed before the interaction was stored
        (stored with its conversation id already): its writes are made here. Without
        one the customer is rethreaded from its whole history. Both give the same
        result (see :func:`continue_thread`).
        """
        if step is None:
            return self._rethread(tx, customer_id, published, trigger=item.id).membership.get(item.id)
        if step.conversation is not None:
            tx.save_conversation(step.conversation)
        tx.put_customer_state(customer_id, step.added_keys, overwrite=False)
        tx.put_customer_state(customer_id, {**step.replaced_keys, THREAD_KEY: step.snapshot.header_json()})
        self._publish_thread_events(step.events, customer_id, item.id, published)
        return step.conversation_id

    def _append_threaded(
        self, tx: StoreSession, owner: str | None, item: Interaction, *, member: bool
    ) -> str | None:
        """Store an interaction the hub made (a reply, a receipt) and place it in ``owner``'s conversations."""
        step = self._continue(tx, owner, item) if owner is not None and member else None
        tx.append_interaction(item, conversation_id=step.conversation_id if step else None)
        return self._thread_item(tx, owner, item, [], step) if owner is not None else None

    def _continue(
        self, tx: StoreSession, customer_id: str, item: Interaction, created_from: Sequence[Identifier] = ()
    ) -> ThreadStep | None:
        """Where ``item`` goes in the customer's conversations, from the stored snapshot.

        ``None`` when only a full rethread can tell: no snapshot, or ``item`` is not
        newer than it. ``created_from``: the identifiers of a customer this request
        created; when nothing else is stored on them, its history is ``item`` alone.
        """
        header = tx.customer_state(customer_id, [THREAD_KEY]).get(THREAD_KEY)
        if header is None:
            if not created_from:
                return None
            stored = tx.timeline(created_from, limit=2).items
            if any(s.interaction.id != item.id for s in stored):
                return None  # an interaction was stored on these identifiers before they had a customer
            header = ThreadSnapshot(watermark=None, latest=None, open=()).header_json()
        snapshot = ThreadSnapshot.from_header_json(header)
        if not snapshot.admits(item):
            return None
        ids = set(snapshot.open) | ({snapshot.latest} if snapshot.latest else set())
        wanted = thread_lookup_keys(item, self.continuity)
        keys = tx.customer_state(customer_id, [*wanted, *map(ThreadSnapshot.channel_key, ids)])
        named = {v for k, v in keys.items() if k in wanted} - ids
        if named:
            keys.update(tx.customer_state(customer_id, map(ThreadSnapshot.channel_key, named)))
            ids |= named
        try:
            conversations = [tx.get_conversation(c) for c in sorted(ids)]
        except NotFound:
            return None
        if any(c.customer_id != customer_id for c in conversations):
            return None
        return continue_thread(
            customer_id, item, attrs.evolve(snapshot, keys=keys), conversations, self.continuity
        )

    def _interactions_of(
        self, view: StoreReader, identifiers: Sequence[Identifier]
    ) -> list[tuple[Interaction, str | None]]:
        """Every interaction on ``identifiers``, oldest first, with its conversation id."""
        if not identifiers:
            return []
        pages = _paged(
            lambda cursor: view.timeline(identifiers, limit=PAGE, cursor=cursor, newest_first=False)
        )
        return [(s.interaction, s.conversation_id) for s in pages]

    def _actions_of(self, view: StoreReader, customer_ids: Iterable[str]) -> list[ConversationAction]:
        actions: dict[str, ConversationAction] = {}
        for cid in customer_ids:
            for record in view.audit_log(cid, limit=100_000):
                if record.action is AuditAction.CONVERSATION and isinstance(
                    record.details.get("action"), dict
                ):
                    actions[f"{record.id}"] = ConversationAction.model_validate(record.details["action"])
        return list(actions.values())

    def _rethread(
        self, tx: StoreSession, customer_id: str, published: list[_Event], *, trigger: str | None = None
    ) -> Threading:
        """Recompute the customer's conversations from its interactions and agents' actions; persist changes."""
        customer = tx.get_customer(customer_id)
        identifiers = [ci.identifier for ci in customer.identifiers]
        stored = self._interactions_of(tx, identifiers)
        actions = self._actions_of(tx, (customer_id, *customer.aliases))
        threading, snapshot = thread_snapshot(customer_id, [i for i, _ in stored], actions, self.continuity)
        tx.clear_customer_state(customer_id, THREAD_PREFIX)
        tx.put_customer_state(customer_id, {**snapshot.keys, THREAD_KEY: snapshot.header_json()})
        for alias in customer.aliases:
            tx.clear_customer_state(alias)
        for item, current in stored:
            wanted = threading.membership.get(item.id)
            if wanted != current:
                tx.set_conversation(item.id, wanted)
        for conversation in threading.conversations:
            tx.save_conversation(conversation)
        kept = {c.id for c in threading.conversations}
        for owner in (customer_id, *customer.aliases):
            for stale in tx.conversations_of(owner):
                if stale.id not in kept:
                    tx.delete_conversation(stale.id)
        if trigger is not None:
            self._publish_thread_events(threading.events, customer_id, trigger, published)
        return threading

    def _publish_thread_events(
        self, events: Iterable[ConversationEvent], customer_id: str, trigger: str, published: list[_Event]
    ) -> None:
        """Queue the subscriber events of what the ``trigger`` interaction did to conversations."""
        now = self._clock()
        for event in events:
            if event.interaction_id != trigger:
                continue
            if event.type is ConversationEventType.OPENED and event.channel:
                published.append(
                    ConversationOpened(
                        at=now,
                        tenant=self.tenant,
                        conversation_id=event.conversation_id,
                        customer_id=customer_id,
                        channel=event.channel,
                    )
                )
            elif (
                event.type is ConversationEventType.CHANNEL_SWITCHED and event.channel and event.from_channel
            ):
                published.append(
                    ChannelSwitched(
                        at=now,
                        tenant=self.tenant,
                        conversation_id=event.conversation_id,
                        customer_id=customer_id,
                        from_channel=event.from_channel,
                        to_channel=event.channel,
                    )
                )
            elif event.type is ConversationEventType.REOPENED:
                published.append(
                    ConversationReopened(
                        at=now,
                        tenant=self.tenant,
                        conversation_id=event.conversation_id,
                        customer_id=customer_id,
                    )
                )

    def _conversation_owner(self, view: StoreReader, conversation_id: str) -> tuple[Conversation, str]:
        conversation = view.get_conversation(conversation_id)
        return conversation, view.resolve_customer_id(conversation.customer_id)

    def _act(self, action: ConversationAction) -> Conversation:
        published: list[_Event] = []
        with self.store.transaction(self.tenant) as tx:
            _, owner = self._conversation_owner(tx, action.conversation_id)
            customer = tx.get_customer(owner)
            tx.lock_identifiers([ci.identifier for ci in customer.identifiers])
            self._audit(
                tx,
                AuditAction.CONVERSATION,
                (owner,),
                action.actor,
                {"action": action.model_dump(mode="json")},
            )
            threading = self._rethread(tx, owner, published)
            if action in threading.ignored_actions:  # raising rolls the audit record back
                raise ValidationError(_ignored_reason(action), conversation_id=action.conversation_id)
            # the action names a conversation that exists (checked above); merge and split keep it
            result = next(c for c in threading.conversations if c.id == action.conversation_id)
        now = self._clock()
        if action.type == "resolve":
            published.append(
                ConversationResolved(
                    at=now,
                    tenant=self.tenant,
                    conversation_id=result.id,
                    customer_id=owner,
                    actor=action.actor,
                )
            )
        elif action.type == "reopen":
            published.append(
                ConversationReopened(
                    at=now,
                    tenant=self.tenant,
                    conversation_id=result.id,
                    customer_id=owner,
                    actor=action.actor,
                )
            )
        for item in published:
            self.events.publish(item)
        return result

    def _do(
        self, type_: str, conversation_id: str, actor: str | None, at: datetime | None, **fields: Any
    ) -> Conversation:
        return self._act(
            ConversationAction.model_validate(
                {
                    "type": type_,
                    "conversation_id": conversation_id,
                    "actor": actor,
                    "at": at or self._clock(),
                    **fields,
                }
            )
        )

    def resolve(
        self, conversation_id: str, *, actor: str | None = None, at: datetime | None = None
    ) -> Conversation:
        """Mark a conversation resolved."""
        return self._do("resolve", conversation_id, actor, at)

    def reopen(
        self, conversation_id: str, *, actor: str | None = None, at: datetime | None = None
    ) -> Conversation:
        """Reopen a resolved conversation."""
        return self._do("reopen", conversation_id, actor, at)

    def set_pending(
        self, conversation_id: str, *, actor: str | None = None, at: datetime | None = None
    ) -> Conversation:
        """Mark a conversation pending (waiting on the customer or a third party)."""
        return self._do("pending", conversation_id, actor, at)

    def assign(
        self, conversation_id: str, agent: str | None, *, actor: str | None = None, at: datetime | None = None
    ) -> Conversation:
        """Assign a conversation to ``agent`` (``None`` unassigns)."""
        return self._do("assign", conversation_id, actor, at, assignee=agent)

    def merge_conversations(
        self, into: str, other: str, *, actor: str | None = None, at: datetime | None = None
    ) -> Conversation:
        """Fold conversation ``other`` into ``into`` (both of one customer)."""
        return self._do("merge", into, actor, at, other_conversation_id=other)

    def split_conversation(
        self,
        conversation_id: str,
        from_interaction: str,
        *,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> Conversation:
        """Move ``from_interaction`` and every later interaction of the conversation into a new one; return the original."""
        return self._do("split", conversation_id, actor, at, interaction_id=from_interaction)

    # --- identity operations -----------------------------------------------------

    def _merged_into(
        self,
        published: list[_Event],
        survivor: str | None,
        retired: tuple[str, ...],
        regrouped: dict[str, tuple[str, ...]],
        reason: str,
    ) -> tuple[str, ...]:
        """Publish the merge of the ``retired`` ids whose identifiers all went to ``survivor``;
        returns them. One a quarantine cut apart (its oldest identifier went elsewhere) is told
        by :meth:`_regroup_events` instead."""
        into = tuple(m for m in retired if regrouped.get(m, (survivor,)) == (survivor,))
        if into and survivor is not None:
            published.append(
                CustomersMerged(
                    at=self._clock(), tenant=self.tenant, survivor_id=survivor, merged_ids=into, reason=reason
                )
            )
        return into

    def _regroup_events(
        self,
        published: list[_Event],
        saved: Saved,
        reported: set[str],
        reason: str | None,
        actor: str | None = None,
        *,
        announced: AbstractSet[str] = frozenset(),
    ) -> None:
        """Tell subscribers how customers regrouped beyond what the operation's own events say:
        every new customer (but those in ``announced``, told already), the parts a quarantine
        cut a customer into (or none: every identifier of it is shared now, and the customer
        is gone) as a split, a customer whose identifiers all went to another id as a merge
        into it (but those in ``reported``). A host mirroring customers from events then holds
        the customers the store holds."""
        now = self._clock()
        for cid, identifiers in saved.created.items():
            if cid in announced:
                continue
            published.append(
                CustomerCreated(at=now, tenant=self.tenant, customer_id=cid, identifiers=identifiers)
            )
        for old, parts in saved.regrouped.items():
            if old in reported:
                continue
            if len(parts) == 1:
                published.append(
                    CustomersMerged(
                        at=now, tenant=self.tenant, survivor_id=parts[0], merged_ids=(old,), reason=reason
                    )
                )
            else:
                published.append(
                    CustomerSplit(
                        at=now,
                        tenant=self.tenant,
                        customer_id=old,
                        customer_ids=parts,
                        actor=actor,
                        reason=reason,
                    )
                )

    def _audit(
        self,
        tx: StoreSession,
        action: AuditAction,
        customers: Sequence[str],
        actor: str | None,
        details: dict[str, Any],
    ) -> None:
        tx.append_audit(
            AuditRecord(
                at=self._clock(), action=action, customer_ids=tuple(customers), actor=actor, details=details
            )
        )

    def customer_of(self, identifier: Identifier) -> str | None:
        """The canonical customer id of ``identifier``, or ``None``."""
        with self.store.snapshot(self.tenant) as view:
            return view.customer_of(identifier)

    def customer(self, customer_id: str) -> Customer:
        """The customer ``customer_id`` (a retired id resolves to its survivor)."""
        with self.store.snapshot(self.tenant) as view:
            return view.get_customer(customer_id)

    def update_customer(
        self,
        customer_id: str,
        *,
        display_name: str | None = None,
        traits: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> Customer:
        """Record what your application knows of a customer: a display name, and traits.

        ``traits`` are merged into the stored ones (a key given ``None`` is removed); the
        ``preferred_channel`` trait names the channel the agent context calls preferred.
        ``display_name`` replaces the name (``""`` clears it; ``None`` leaves it). Both stay
        through merges (the survivor's traits win a clash) and splits (each part keeps those
        of the customer it was cut from). The audit log records the change, with the trait
        keys but not their values. Returns the customer; a retired id resolves to its survivor.
        Raises :class:`~omnicx.errors.NotFound` for an unknown customer and
        :class:`~omnicx.errors.ValidationError` for a name or traits a customer cannot hold.
        """
        if traits is not None and not isinstance(traits, Mapping):
            raise ValidationError(
                f"traits are a mapping of names to JSON values, got {type(traits).__name__}"
            )
        if display_name is not None and not isinstance(display_name, str):
            raise ValidationError(f"display_name is a string, got {type(display_name).__name__}")
        with self.store.transaction(self.tenant) as tx:
            stored = tx.get_customer(customer_id)
            tx.lock_identifiers([ci.identifier for ci in stored.identifiers])
            stored = tx.get_customer(stored.id)  # as the locks found it
            merged = dict(stored.traits)
            for key, value in (traits or {}).items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            name = stored.display_name if display_name is None else (display_name or None)
            try:
                updated = Customer.model_validate(
                    {**stored.model_dump(), "display_name": name, "traits": merged}
                )
            except ValueError as exc:
                raise ValidationError(
                    f"cannot update customer {stored.id}: {exc}", customer_id=stored.id
                ) from exc
            tx.save_customer(updated)
            self._audit(
                tx,
                AuditAction.PROFILE,
                (stored.id,),
                actor,
                {"traits": sorted(traits or {}), "display_name": display_name is not None},
            )
        return updated

    def link(
        self, a: Identifier, b: Identifier, *, actor: str, reason: str, at: datetime | None = None
    ) -> str:
        """Link two identifiers by hand (a manual merge); return the customer they end in.

        Raises :class:`~omnicx.errors.MergeBlocked` when the merge policy refuses the merge
        (a never-link rule an earlier split left, two external ids, a quarantined identifier):
        the link is kept in the ledger all the same, as a refused link :meth:`history` shows,
        and :class:`~omnicx.events.IdentityConflict` is published. :meth:`revoke` lifts a
        never-link rule.
        """
        published: list[_Event] = []
        with self.store.transaction(self.tenant) as tx:
            for ident in (a, b):
                if tx.customer_of(ident) is None:
                    raise UnknownIdentifier(f"{ident} belongs to no customer; ingest something from it first")
            engine, seen = component_engine(tx, [a, b], self.policy, self._salt)
            change = engine.link(a, b, actor=actor, reason=reason, at=at or self._clock())
            tx.append_ledger(change.entries)
            saved = save_component(tx, engine, seen, self._fingerprint)
            survivor = engine.customer_of(a)
            joined = survivor is not None and survivor == engine.customer_of(b)
            for other in saved.rethread:
                if other != survivor:
                    self._rethread(tx, other, published)
            into: tuple[str, ...] = ()
            if survivor is not None:
                self._audit(tx, AuditAction.LINK, (survivor, *change.merged), actor, {"reason": reason})
                self._rethread(tx, survivor, published)
                into = self._merged_into(published, survivor, change.merged, saved.regrouped, reason)
            self._regroup_events(published, saved, set(into), reason, actor)
            why = "; ".join(f"{c.reason}: {c.detail}" for c in change.conflicts) or "a shared attribute"
            if not joined:
                published.append(IdentityConflict(at=self._clock(), tenant=self.tenant, a=a, b=b, reason=why))
        for item in published:
            self.events.publish(item)
        if not joined or survivor is None:
            raise MergeBlocked(
                f"the merge policy refuses to link {a} and {b} ({why}); the link is kept as refused "
                "(see history()); revoke() lifts a never-link rule",
                reason=why,
            )
        return survivor

    def revoke(
        self, customer_id: str, entry_id: str, *, actor: str, reason: str, at: datetime | None = None
    ) -> tuple[str, ...]:
        """Revoke a link or a never-link rule of the customer by its id (``link_id`` of a
        :meth:`history` event): an unmerge of one link, or lifting the rule a :meth:`split`
        left so that the parts may be linked again. The entry stays in the ledger, marked
        revoked. Returns the customer ids the entry's identifiers are in afterwards.

        Raises :class:`~omnicx.errors.NotFound` for an unknown customer and
        :class:`~omnicx.errors.IdentityError` when no link or rule of the customer has that id.
        """
        published: list[_Event] = []
        with self.store.transaction(self.tenant) as tx:
            canonical = tx.resolve_customer_id(customer_id)
            identifiers = [ci.identifier for ci in tx.identifiers_of(canonical)]
            engine, seen = component_engine(tx, identifiers, self.policy, self._salt)
            change = engine.revoke(entry_id, actor=actor, reason=reason, at=at or self._clock())
            tx.append_ledger(change.entries)
            saved = save_component(tx, engine, seen, self._fingerprint)
            self._audit(tx, AuditAction.UNLINK, (canonical, *change.split), actor, {"reason": reason})
            for other in sorted({canonical, *change.split, *saved.rethread} & set(engine.partition())):
                self._rethread(tx, other, published)
            self._regroup_events(published, saved, set(), reason, actor)
        for item in published:
            self.events.publish(item)
        return change.split

    def split(
        self,
        customer_id: str,
        groups: Sequence[Sequence[Identifier]],
        *,
        actor: str,
        reason: str,
        at: datetime | None = None,
    ) -> tuple[str, ...]:
        """Split a customer into identifier groups (an unmerge); return the customer ids of the parts.

        The identifiers listed in no group form one more part. Interactions never move: each
        part's timeline is the interactions of its identifiers, and replies go to the endpoint
        of each conversation. A never-link rule between the parts keeps later payloads from
        joining them again; :meth:`revoke` lifts it. Raises
        :class:`~omnicx.errors.ValidationError` for groups that leave one part.
        """
        published: list[_Event] = []
        with self.store.transaction(self.tenant) as tx:
            canonical = tx.resolve_customer_id(customer_id)
            identifiers = [ci.identifier for ci in tx.identifiers_of(canonical)]
            engine, seen = component_engine(tx, identifiers, self.policy, self._salt)
            change = engine.split(canonical, groups, actor=actor, reason=reason, at=at or self._clock())
            tx.append_ledger(change.entries)
            saved = save_component(tx, engine, seen, self._fingerprint)
            parts = change.split  # every part, the one of the identifiers in no group too
            self._audit(tx, AuditAction.SPLIT, parts, actor, {"reason": reason})
            for part in sorted(set(parts) | set(saved.rethread)):
                self._rethread(tx, part, published)
            published.append(
                CustomerSplit(
                    at=self._clock(),
                    tenant=self.tenant,
                    customer_id=canonical,
                    customer_ids=parts,
                    actor=actor,
                    reason=reason,
                )
            )
            self._regroup_events(published, saved, {canonical}, reason, actor)
        for item in published:
            self.events.publish(item)
        return parts

    def why_linked(self, a: Identifier, b: Identifier) -> Explanation | None:
        """The shortest evidence path between two identifiers, or ``None`` when they are not one customer."""
        with self.store.snapshot(self.tenant) as view:
            engine = IdentityEngine.rebuild(view.ledger_component([a, b]), self.policy, salt=self._salt)
            return engine.why_linked(a, b)

    def history(self, customer_id: str) -> tuple[HistoryEvent, ...]:
        """The customer's merges, refusals, revocations and never-link rules, oldest first."""
        with self.store.snapshot(self.tenant) as view:
            canonical = view.resolve_customer_id(customer_id)
            identifiers = [ci.identifier for ci in view.identifiers_of(canonical)]
            engine = IdentityEngine.rebuild(view.ledger_component(identifiers), self.policy, salt=self._salt)
            return engine.history(canonical)

    def forget(self, customer_id: str, *, actor: str | None = None, reason: str | None = None) -> None:
        """Erase a customer: interactions, identifiers, links and raw payloads; tombstones stay."""
        with self.store.transaction(self.tenant) as tx:
            canonical = tx.resolve_customer_id(customer_id)
            identifiers = [ci.identifier for ci in tx.identifiers_of(canonical)]
            engine, seen = component_engine(tx, identifiers, self.policy, self._salt)
            forgotten = engine.forget(canonical, at=self._clock(), actor=actor, reason=reason)
            erasure = next(e for e in forgotten.entries if isinstance(e, Erasure))
            tx.forget_customer(canonical, erasure)
            remaining = seen - {i.key for i in identifiers}
            saved = save_component(tx, engine, remaining, self._fingerprint)
            for other in saved.rethread:
                self._rethread(tx, other, [])
            published: list[_Event] = [
                CustomerForgotten(at=self._clock(), tenant=self.tenant, customer_id=canonical)
            ]
            self._regroup_events(published, saved, {canonical}, reason or "erasure", actor)
        for item in published:
            self.events.publish(item)

    # --- reads -----------------------------------------------------------------------

    def conversations(self, customer_id: str) -> list[Conversation]:
        """The customer's conversations, latest activity first."""
        with self.store.snapshot(self.tenant) as view:
            return view.conversations_of(view.resolve_customer_id(customer_id))

    def conversation(self, conversation_id: str) -> Conversation:
        """One conversation."""
        with self.store.snapshot(self.tenant) as view:
            return view.get_conversation(conversation_id)

    def timeline(
        self,
        customer_id: str,
        *,
        cursor: str | None = None,
        limit: int = 50,
        channels: Iterable[str] | None = None,
        kinds: Iterable[str] | None = None,
        conversation: str | None = None,
        identity_events: bool = True,
    ) -> TimelinePage:
        """A page of the customer's timeline, newest first, in stable ``(occurred_at, id)`` order.

        Interactions of every identifier of the customer, whatever channel and
        whatever order they arrived in; identity events (merges, splits, refusals)
        are entries of their own, placed after the interactions of the same instant.
        Paging with ``next_cursor`` gives every entry exactly once: an identity event
        between two pages' interactions comes first on the later page.
        """
        channels, kinds = _names(channels, "channels"), _names(kinds, "kinds")
        unknown = sorted(set(kinds or ()) - INTERACTION_TYPES)
        if unknown:  # a typo would filter everything out
            raise ValidationError(
                f"kinds are interaction types ({', '.join(sorted(INTERACTION_TYPES))}), got {unknown}",
                value=repr(unknown)[:80],
            )
        store_cursor, upper = _read_timeline_cursor(cursor) if cursor is not None else (None, None)
        with self.store.snapshot(self.tenant) as view:
            canonical = view.resolve_customer_id(customer_id)
            identifiers = [ci.identifier for ci in view.identifiers_of(canonical)]
            page = view.timeline(
                identifiers,
                limit=limit,
                cursor=store_cursor,
                channels=channels,
                types=kinds,
                conversation_id=conversation,
            )
            entries = [
                TimelineEntry(
                    type="interaction",
                    at=s.interaction.occurred_at,
                    interaction=s.interaction,
                    conversation_id=s.conversation_id,
                )
                for s in page.items
            ]
            if (
                identity_events
                and identifiers
                and conversation is None
                and kinds is None
                and channels is None
            ):
                engine = IdentityEngine.rebuild(
                    view.ledger_component(identifiers), self.policy, salt=self._salt
                )
                # The page holds the identity events after the previous page's last
                # interaction (``upper``) down to this page's last one, exclusive when
                # another page follows: an event of that instant sorts after it.
                lower = entries[-1].at if page.next_cursor is not None and entries else None
                for event in engine.history(canonical):
                    if (upper is None or event.at <= upper) and (lower is None or event.at > lower):
                        entries.append(TimelineEntry(type="identity", at=event.at, identity=event))
                entries.sort(key=lambda e: (e.at, 0 if e.type == "identity" else 1), reverse=True)
        next_cursor = None
        if page.next_cursor is not None:
            last = page.items[-1].interaction.occurred_at
            next_cursor = encode_cursor(_TIMELINE_CURSOR, to_us(last), page.next_cursor)
        return TimelinePage(customer_id=canonical, entries=tuple(entries), next_cursor=next_cursor)

    def conversation_records(self, customer_ids: Iterable[str] | None = None) -> list[ConversationRecord]:
        """Every conversation with its interactions and events, as :mod:`omnicx.metrics` takes them.

        ``customer_ids``: only those customers (default: every customer of the tenant); a retired
        id stands for its survivor, and each customer counts once.
        """
        records: list[ConversationRecord] = []
        with self.store.snapshot(self.tenant) as view:
            wanted = _names(customer_ids, "customer_ids")
            # a retired id names its survivor: each customer once, however many of its ids are given
            ids = (
                sorted({view.resolve_customer_id(c) for c in wanted})
                if wanted is not None
                else view.customer_ids()
            )
            for cid in ids:
                customer = view.get_customer(cid)
                stored = self._interactions_of(view, [ci.identifier for ci in customer.identifiers])
                interactions = [i for i, _ in stored]
                actions = self._actions_of(view, (customer.id, *customer.aliases))
                threading = thread_conversations(customer.id, interactions, actions, self.continuity)
                records += records_from_threading(threading, interactions)
        return records

    def context(self, customer_id: str) -> CustomerContext:
        """What an agent needs to know about a customer, with a ten-second ``brief``."""
        with self.store.snapshot(self.tenant) as view:
            customer = view.get_customer(customer_id)
            identifiers = list(customer.identifiers)
            interactions = self._interactions_of(view, [ci.identifier for ci in identifiers])
            conversations = view.conversations_of(customer.id)
        return build_context(customer, identifiers, interactions, conversations, self._clock())

    # --- replies -------------------------------------------------------------------

    def reply(
        self,
        conversation_id: str,
        message: OutboundMessage | str,
        *,
        agent: str | None = None,
        dedupe_key: str | None = None,
    ) -> ReplyResult:
        """Build the reply to a conversation and record it as an outbound interaction.

        The reply goes on the channel, through the adapter and to the endpoint of
        the conversation's latest inbound interaction — never to another
        identifier of the customer, so customers wrongly merged never get each
        other's replies. The host sends :attr:`ReplyResult.request` with its own
        HTTP client (and may report the platform's message id with :meth:`record_sent`).
        On a channel whose adapter cannot send, such as web chat in the host's own widget,
        the reply is recorded all the same and :attr:`ReplyResult.delivery` is ``"host"``:
        the host shows it in its widget. After a call, the latest message from the caller's
        own number on a channel that can send takes the reply (the call, when there is none).
        """
        if not isinstance(message, OutboundMessage | str):
            raise ValidationError(
                f"a reply is a str or an omnicx.channels.OutboundMessage, got {type(message).__name__}",
                value=repr(message)[:200],
            )
        outbound = OutboundMessage(text=message) if isinstance(message, str) else message
        with self.store.transaction(self.tenant) as tx:
            conversation = tx.get_conversation(conversation_id)
            latest = self._latest_inbound(tx, conversation)
            adapter = self.adapter(latest.adapter)
            if outbound.reply_to is None:
                reply_to = (
                    latest.thread.message_id
                    if latest.channel == "email"
                    else getattr(latest, "platform_message_id", None)
                )
                references = (
                    (*latest.thread.references, latest.thread.message_id) if latest.thread.message_id else ()
                )
                subject = outbound.subject or (
                    (
                        latest.subject
                        if latest.subject and latest.subject.lower().startswith("re:")
                        else f"Re: {latest.subject}"
                    )
                    if isinstance(latest, Message) and latest.subject
                    else None
                )
                outbound = outbound.model_copy(
                    update={
                        "reply_to": reply_to,
                        "references": tuple(r for r in references if r),
                        "subject": subject,
                    }
                )
            # an adapter that cannot send (the host's own chat widget) leaves delivery to the host
            sends = self._sends(latest.adapter)
            adapter.check_tag(outbound)  # also where the host delivers: it would drop the tag
            if sends:
                self._check_reply_window(tx, adapter, latest, outbound)
            key = dedupe_key or f"reply:{uuid.uuid4().hex}"
            reply_id = interaction_id(latest.adapter, key)
            if outbound.correlation_id is None:  # the channel's echo of it names this reply
                outbound = outbound.model_copy(update={"correlation_id": reply_id})
            request = adapter.build_outbound(outbound, latest.endpoint) if sends else None
            now = self._clock()
            interaction = Message(
                id=reply_id,
                channel=latest.channel,
                adapter=latest.adapter,
                dedupe_key=key,
                occurred_at=now,
                received_at=now,
                direction=Direction.OUTBOUND,
                author=Author(role=AuthorRole.AGENT, id=agent),
                endpoint=latest.endpoint,
                parts=(TextPart(text=outbound.text or ""),) if outbound.text else (),
                subject=outbound.subject,
                # the id the adapter gave the message (an email's Message-ID): the customer's
                # answer to it names it, and threads into this conversation
                thread=latest.thread.model_copy(
                    update={
                        "message_id": request.message_id if request is not None else None,
                        "in_reply_to": outbound.reply_to,
                        "references": outbound.references,
                    }
                ),
                metadata={HUB_REPLY: True, **({"template": True} if outbound.template_name else {})},
            )
            tx.lock_identifiers([latest.endpoint])  # and its customer: serialized with its ingests
            if dedupe_key is not None:
                _same_reply(tx.find_interaction(latest.adapter, key), interaction)
            owner = tx.resolve_customer_id(conversation.customer_id)
            joined = self._append_threaded(
                tx, owner, interaction, member=tx.customer_of(interaction.endpoint) == owner
            )
        return ReplyResult(
            request=request,
            delivery="request" if sends else "host",
            interaction_id=interaction.id,
            conversation_id=joined or conversation_id,
            channel=latest.channel,
            adapter=latest.adapter,
            endpoint=latest.endpoint.key,
        )

    def _latest_inbound(self, view: StoreReader, conversation: Conversation) -> Message | CallRecord:
        """The interaction a reply answers: the conversation's latest inbound message or call.

        A call's adapter cannot carry a written reply, so after a call the latest inbound
        message from the caller's own number on a channel that can send (WhatsApp, SMS)
        answers instead; with none, the call does (the host calls back).
        """
        customer = view.get_customer(conversation.customer_id)
        identifiers = [ci.identifier for ci in customer.identifiers]
        call: CallRecord | None = None
        if identifiers:
            pages = _paged(
                lambda cursor: view.timeline(
                    identifiers, limit=PAGE, cursor=cursor, conversation_id=conversation.id
                )
            )
            for stored in pages:  # newest first: stops at the first inbound message or call
                item = stored.interaction
                if (
                    item.direction is not Direction.INBOUND
                    or not isinstance(item, Message | CallRecord)
                    or item.adapter not in self._adapters
                ):
                    continue
                if call is None:
                    if isinstance(item, Message) or self._sends(item.adapter):
                        return item
                    call = item
                elif (
                    item.endpoint == call.endpoint and isinstance(item, Message) and self._sends(item.adapter)
                ):
                    return item
        if call is not None:
            return call
        raise NotFound(
            f"conversation {conversation.id} has no inbound message on a configured channel to reply to",
            conversation_id=conversation.id,
        )

    def _check_reply_window(
        self,
        view: StoreReader,
        adapter: ChannelAdapter[Any],
        latest: Message | CallRecord,
        outbound: OutboundMessage,
    ) -> None:
        """Refuse a reply the channel would not deliver so long after the customer's last inbound
        message on it from this endpoint (:meth:`ChannelAdapter.reply_refusal`)."""
        now = self._clock()
        last = latest.occurred_at
        if adapter.reply_refusal(outbound, now - last) is None:
            return
        # another conversation may hold a later message of theirs
        for stored in _paged(
            lambda cursor: view.timeline(
                [latest.endpoint], limit=PAGE, cursor=cursor, channels=[latest.channel]
            )
        ):
            item = stored.interaction
            if item.direction is Direction.INBOUND and item.adapter == adapter.name:
                last = max(last, item.occurred_at)
                break
        refusal = adapter.reply_refusal(outbound, now - last)
        if refusal is not None:
            raise ValidationError(
                f"{refusal} ({last:%Y-%m-%d %H:%M} UTC)",
                channel=latest.channel,
            )

    def _sends(self, adapter: str) -> bool:
        return Capability.OUTBOUND in self._adapters[adapter].capabilities

    def record_sent(self, outbound_id: str, platform_message_id: str, *, at: datetime | None = None) -> None:
        """Record that the host sent outbound ``outbound_id`` and the channel called it ``platform_message_id``.

        Later status callbacks for that platform id then move its delivery status.
        """
        with self.store.transaction(self.tenant) as tx:
            sent = tx.get_interaction(outbound_id).interaction
            tx.lock_identifiers([sent.endpoint])
            self._record_sent(tx, sent, platform_message_id, at or self._clock())

    def _record_sent(
        self, tx: StoreSession, sent: Interaction, platform_message_id: str, now: datetime
    ) -> None:
        """The ``sent`` status linking outbound ``sent`` to its platform id (once: a second is a no-op)."""
        update = StatusUpdate(
            id=interaction_id(sent.adapter, f"sent:{sent.id}"),
            channel=sent.channel,
            adapter=sent.adapter,
            dedupe_key=f"sent:{sent.id}",
            occurred_at=now,
            received_at=now,
            direction=Direction.OUTBOUND,
            author=Author(role=AuthorRole.SYSTEM),
            endpoint=sent.endpoint,
            target_message_id=platform_message_id,
            status=DeliveryStatus.SENT,
            metadata={"outbound_interaction_id": sent.id},
        )
        if tx.find_interaction(update.adapter, update.dedupe_key) is not None:
            return
        self._append_threaded(tx, tx.customer_of(sent.endpoint), update, member=True)

    def _echoed_reply(self, tx: StoreSession, item: Message) -> Interaction | None:
        """The reply the hub recorded that outbound ``item`` is the channel's copy of, else None.

        Known by the correlation id the channel carried back (Messenger's ``metadata``), by the
        Message-ID the email adapter gave it, by the platform id ``record_sent`` linked it to, or,
        when the copy names none of those yet, as the newest reply of the same text sent within
        :data:`ECHO_DELAY` before it that no platform id claims.
        Only the endpoint's latest :data:`ECHO_WINDOW` messages and statuses on the channel are
        searched: a copy comes within seconds, and a customer with a long history costs no more.
        """
        correlation = item.metadata.get("correlation_id")
        if isinstance(correlation, str) and correlation.startswith("ix_"):
            try:
                stored = tx.get_interaction(correlation).interaction
            except NotFound:
                stored = None
            if (
                isinstance(stored, Message)
                and stored.direction is Direction.OUTBOUND
                and stored.adapter == item.adapter
                and stored.endpoint == item.endpoint
            ):
                return stored
        message_id, platform_id = item.thread.message_id, item.platform_message_id
        if not message_id and not platform_id and not item.text:
            return None
        recent = tx.timeline(
            [item.endpoint], limit=ECHO_WINDOW, channels=[item.channel], types=["message", "status"]
        ).items
        linked: set[str] = set()  # replies a sent status already ties to a platform id
        same_text: list[Message] = []  # hub replies of the echo's words, newest first
        for stored_item in recent:
            found = stored_item.interaction
            if found.adapter != item.adapter or found.direction is not Direction.OUTBOUND:
                continue
            if isinstance(found, Message):
                if message_id and found.thread.message_id == message_id:
                    return found
                if found.metadata.get(HUB_REPLY) is True and item.text and found.text == item.text:
                    same_text.append(found)
                continue
            sent_id = found.metadata.get("outbound_interaction_id")
            if not isinstance(found, StatusUpdate) or not isinstance(sent_id, str):
                continue
            if platform_id and found.target_message_id == platform_id:
                try:
                    return tx.get_interaction(sent_id).interaction
                except NotFound:
                    return None
            linked.add(sent_id)
        # no id to know it by (an Instagram echo that beat record_sent): the newest reply of the
        # same words, just before it, that no platform id claims
        for found in same_text:
            if found.id not in linked and -ECHO_SKEW <= item.occurred_at - found.occurred_at <= ECHO_DELAY:
                return found
        return None

    def delivery_status(self, interaction_id: str) -> DeliveryStatus | None:
        """The delivery status of an outbound interaction: the highest-ranked status reported for it."""
        with self.store.snapshot(self.tenant) as view:
            sent = view.get_interaction(interaction_id).interaction
            pages = _paged(
                lambda cursor: view.timeline([sent.endpoint], limit=PAGE, cursor=cursor, types=["status"])
            )
            updates = [s.interaction for s in pages if isinstance(s.interaction, StatusUpdate)]
            platform_ids = {
                u.target_message_id
                for u in updates
                if u.metadata.get("outbound_interaction_id") == interaction_id
            }
            if isinstance(sent, Message) and sent.platform_message_id:
                platform_ids.add(sent.platform_message_id)
            status: DeliveryStatus | None = None
            for update in updates:
                if update.target_message_id in platform_ids:
                    status = update.status if status is None else status.advance(update.status)
            return status


_TIMELINE_CURSOR = "hub-timeline"
INTERACTION_TYPES = frozenset(
    typing.get_args(cls.model_fields["type"].annotation)[0]
    for cls in typing.get_args(typing.get_args(Interaction)[0])  # Annotated[Message | CallRecord | ..., ...]
)
"""The ``type`` of every interaction class: what ``timeline(kinds=...)`` takes."""


def _read_timeline_cursor(cursor: str) -> tuple[str, datetime]:
    """The store's cursor inside a timeline cursor, and the time of the interaction it follows."""
    position, store_cursor = decode_cursor(cursor, _TIMELINE_CURSOR)
    return store_cursor, from_us(position)


def _names(values: Iterable[str] | None, what: str) -> list[str] | None:
    """A filter's names as a list; a lone string is refused (it would filter by its characters)."""
    if values is None:
        return None
    if isinstance(values, str | bytes):
        raise ValidationError(
            f"{what} is a list of names, e.g. [{values!r}], not a string", value=repr(values)[:80]
        )
    names = list(values)
    for name in names:
        if not isinstance(name, str):
            raise ValidationError(
                f"{what} holds names (strings), got {type(name).__name__}", value=repr(name)[:80]
            )
    return names


def _ignored_reason(action: ConversationAction) -> str:
    """Why threading ignores an agent's conversation action, for the agent who asked."""
    if action.type == "merge":
        return (
            f"cannot merge conversation {action.other_conversation_id!r} into {action.conversation_id!r}: "
            "it is the same conversation, or not one of this customer's"
        )
    if action.type == "split":
        return (
            f"cannot split conversation {action.conversation_id!r} at {action.interaction_id!r}: "
            "name one of its interactions after the first"
        )
    return f"conversation {action.conversation_id!r} cannot take the action {action.type!r}"


def _same_reply(stored: StoredInteraction | None, wanted: Message) -> None:
    """A reply retried with its dedupe key must be the reply recorded under it: the host would
    otherwise send one message while the timeline shows another."""
    if stored is None:
        return
    kept = stored.interaction
    fields = ("endpoint", "parts", "subject", "metadata", "author")
    if not isinstance(kept, Message) or any(getattr(kept, f) != getattr(wanted, f) for f in fields):
        raise Conflict(
            f"a reply with dedupe_key {wanted.dedupe_key!r} is recorded already, with other content or to "
            "another endpoint: give a new reply a new key (retry with the same key only to resend it)",
            dedupe_key=wanted.dedupe_key,
        )
