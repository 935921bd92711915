"""The store conformance kit: :class:`StoreContract`, the tests every store must pass.

A third-party store subclasses it in its own test suite and overrides the
``store`` fixture::

    from omnicx.testing import StoreContract

    class TestRedisStore(StoreContract):
        @pytest.fixture
        def store(self):
            store = RedisStore.from_url("redis://localhost/15")
            yield store
            store.close()

The fixture must yield an empty store (or one where the tenants these tests
make up are unused: every test works in fresh tenants) that is safe to share
between threads. omnicx's memory, SQLite and PostgreSQL stores pass this kit.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx.errors import NotFound, OmnicxError, ValidationError
from omnicx.identity import Erasure, Evidence, LedgerEntry, Link, LinkKind, NeverLink, Revocation, Sighting
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    CallRecord,
    CallStatus,
    ContactPart,
    Conversation,
    ConversationStatus,
    Customer,
    CustomerIdentifier,
    Deletion,
    DeliveryError,
    DeliveryStatus,
    Direction,
    Edit,
    Identifier,
    InboundRequest,
    Interaction,
    InteractiveReplyPart,
    LocationPart,
    MediaPart,
    Message,
    Note,
    Rating,
    RatingScale,
    ReactionPart,
    RecordingRef,
    TextPart,
    ThreadHints,
    UnsupportedPart,
    interaction_id,
)
from omnicx.models._interactions import StatusUpdate
from omnicx.store import AuditAction, AuditRecord, RawStatus, Store

__all__ = ["StoreContract"]

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def _tenant() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def _email(name: str) -> Identifier:
    return Identifier(kind="email", value=f"{name}@example.com")


def _phone(number: str) -> Identifier:
    return Identifier(kind="phone", value=number)


def _message(
    endpoint: Identifier, key: str, at: datetime, text: str = "hello", channel: str = "email"
) -> Message:
    return Message(
        id=interaction_id(channel, key),
        channel=channel,
        adapter=channel,
        dedupe_key=key,
        occurred_at=at,
        received_at=at + timedelta(seconds=1),
        direction=Direction.INBOUND,
        author=Author(role=AuthorRole.CUSTOMER),
        endpoint=endpoint,
        parts=(TextPart(text=text),),
    )


def _every_interaction(endpoint: Identifier) -> list[Interaction]:
    """One interaction of every type, every content part among them."""
    common = {
        "received_at": T0 + timedelta(hours=1),
        "author": Author(role=AuthorRole.CUSTOMER, id="u1", name="Ana"),
        "endpoint": endpoint,
    }
    return [
        Message(
            channel="whatsapp",
            adapter="whatsapp",
            dedupe_key="wamid.1",
            occurred_at=T0,
            direction=Direction.INBOUND,
            thread=ThreadHints(
                message_id="m1", in_reply_to="m0", references=("m-1", "m0"), thread_id="t", reply_to="r"
            ),
            metadata={"source": {"nested": [1, 2.5, None, True, "x"]}},
            subject="Order 42",
            new_text="Where is it?",
            platform_message_id="wamid.1",
            parts=(
                TextPart(text="Where is my order? ünïcødé ✓", format="markdown"),
                MediaPart(
                    media_kind="image", url="https://cdn.example/a.jpg", mime_type="image/jpeg", size=1234
                ),
                LocationPart(latitude=48.85, longitude=2.35, name="Paris"),
                ContactPart(name="Bob", phones=("+33612345678",), emails=("bob@example.com",)),
                InteractiveReplyPart(reply_kind="button", reply_id="yes", title="Yes"),
                ReactionPart(action="add", emoji="👍", target_message_id="wamid.0"),
                UnsupportedPart(raw_type="ephemeral"),
            ),
            **common,
        ),
        CallRecord(
            channel="voice",
            adapter="twilio_voice",
            dedupe_key="CA1:completed",
            occurred_at=T0 + timedelta(minutes=1),
            direction=Direction.INBOUND,
            call_id="CA1",
            status=CallStatus.COMPLETED,
            duration_seconds=61.5,
            recordings=(
                RecordingRef(url="https://api.example/rec.mp3", platform_id="RE1", duration_seconds=60),
            ),
            transcript="hello",
            **common,
        ),
        StatusUpdate(
            channel="whatsapp",
            adapter="whatsapp",
            dedupe_key="wamid.9:failed",
            occurred_at=T0 + timedelta(minutes=2),
            direction=Direction.OUTBOUND,
            target_message_id="wamid.9",
            status=DeliveryStatus.FAILED,
            error=DeliveryError(code="131047", title="Re-engagement message"),
            **common,
        ),
        Note(
            channel="email",
            adapter="email",
            dedupe_key="note-1",
            occurred_at=T0 + timedelta(minutes=3),
            direction=Direction.OUTBOUND,
            text="VIP customer",
            **common,
        ),
        Rating(
            channel="webform",
            adapter="webform",
            dedupe_key="nps-1",
            occurred_at=T0 + timedelta(minutes=4),
            direction=Direction.INBOUND,
            scale=RatingScale.NPS,
            score=9,
            comment="great",
            **common,
        ),
        Edit(
            channel="telegram",
            adapter="telegram",
            dedupe_key="edit-1",
            occurred_at=T0 + timedelta(minutes=5),
            direction=Direction.INBOUND,
            target_message_id="42",
            parts=(TextPart(text="fixed typo"),),
            **common,
        ),
        Deletion(
            channel="messenger",
            adapter="messenger",
            dedupe_key="del-1",
            occurred_at=T0 + timedelta(minutes=6),
            direction=Direction.INBOUND,
            target_message_id="mid.1",
            **common,
        ),
    ]


def _request(body: bytes, at: datetime = T0) -> InboundRequest:
    return InboundRequest(
        url="https://hooks.example/omnicx/whatsapp?x=1",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=ab"},
        body=body,
        received_at=at,
    )


def _link(a: Identifier, b: Identifier, at: datetime, key: str) -> Link:
    return Link.model_validate(
        {
            "a": a,
            "b": b,
            "kind": LinkKind.OBSERVED,
            "assurance": Assurance.VERIFIED,
            "at": at,
            "evidence": Evidence(channel="webform", dedupe_key=key),
        }
    )


def _sighting(ident: Identifier, at: datetime, key: str) -> Sighting:
    return Sighting.model_validate(
        {"identifier": ident, "assurance": Assurance.ASSERTED, "at": at, "evidence": Evidence(dedupe_key=key)}
    )


_IN_TRANSACTION = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)
"""Hypothesis settings of the tests that replay random operations inside one transaction."""


class StoreContract:
    """Contract tests for a :class:`~omnicx.store.Store`. Subclass it and override ``store``."""

    @pytest.fixture
    def store(self) -> Store:
        """The store under test. Override this fixture in your subclass."""
        raise NotImplementedError(
            "override the `store` fixture in your StoreContract subclass: it must yield the store under test"
        )

    # --- round trips --------------------------------------------------------

    def test_every_interaction_type_round_trips(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        items = _every_interaction(ana)
        with store.transaction(tenant) as tx:
            for item in items:
                assert tx.append_interaction(item, conversation_id="conv-1") is True
        with store.snapshot(tenant) as view:
            for item in items:
                stored = view.get_interaction(item.id)
                assert stored.interaction == item
                assert type(stored.interaction) is type(item)
                assert stored.conversation_id == "conv-1"
                assert view.find_interaction(item.adapter, item.dedupe_key) == stored
            page = view.timeline([ana], limit=100, newest_first=False)
        assert [s.interaction for s in page.items] == items

    def test_raw_payload_round_trips_with_status_and_keys(self, store: Store) -> None:
        tenant = _tenant()
        body = b'{"entry": []}\x00\xff\xfe not utf-8'
        with store.transaction(tenant) as tx:
            raw_id = tx.record_raw("whatsapp", _request(body))
        with store.snapshot(tenant) as view:
            raw = view.get_raw(raw_id)
        assert raw.request == _request(body)
        assert raw.request.header("x-hub-signature-256") == "sha256=ab"
        assert (raw.status, raw.error, raw.dedupe_keys, raw.channel) == (
            RawStatus.RECEIVED,
            None,
            (),
            "whatsapp",
        )
        with store.transaction(tenant) as tx:
            tx.mark_raw(raw_id, RawStatus.PARSED, dedupe_keys=["wamid.2", "wamid.1"])
        with store.snapshot(tenant) as view:
            assert view.get_raw(raw_id).dedupe_keys == ("wamid.1", "wamid.2")
        with store.transaction(tenant) as tx:
            tx.mark_raw(raw_id, RawStatus.FAILED, error="PayloadError: no entry")
        with store.snapshot(tenant) as view:
            raw = view.get_raw(raw_id)
        assert (raw.status, raw.error, raw.dedupe_keys) == (RawStatus.FAILED, "PayloadError: no entry", ())
        with store.transaction(tenant) as tx:
            kept = tx.record_raw("whatsapp", _request(b'{"entry": [1]}'))
            tx.mark_raw(kept, RawStatus.PARSED, dedupe_keys=["wamid.3"])
            tx.delete_raw(raw_id)
            with pytest.raises(NotFound):
                tx.delete_raw(raw_id)
        with store.snapshot(tenant) as view:
            with pytest.raises(NotFound):
                view.get_raw(raw_id)
            assert [r.id for r in view.raw_payloads().items] == [kept]

    def test_customer_round_trips(self, store: Store) -> None:
        tenant = _tenant()
        customer = Customer(
            id="cus_a",
            created_at=T0,
            # In the order the store gives them back: first sighting, then key.
            identifiers=(
                CustomerIdentifier(
                    identifier=_phone("+33612345678"),
                    assurance=Assurance.VERIFIED,
                    first_seen=T0,
                    last_seen=T0 + timedelta(days=2),
                ),
                CustomerIdentifier(
                    identifier=_email("ana"),
                    assurance=Assurance.INFERRED,
                    first_seen=T0 + timedelta(hours=1),
                    last_seen=T0 + timedelta(hours=3),
                ),
                CustomerIdentifier(
                    identifier=Identifier(kind="messenger_psid", scope="1029384756", value="2468"),
                    assurance=Assurance.ASSERTED,
                    first_seen=T0 + timedelta(hours=1),
                    last_seen=T0 + timedelta(hours=1),
                ),
            ),
            aliases=("cus_old1", "cus_old2"),
            display_name="Ana Lima",
            traits={"plan": "gold", "seats": 3, "tags": ["vip"]},
        )
        with store.transaction(tenant) as tx:
            tx.save_customer(customer)
        with store.snapshot(tenant) as view:
            assert view.get_customer("cus_a") == customer
            assert view.get_customer("cus_old2") == customer
            assert view.resolve_customer_id("cus_old1") == "cus_a"
            assert view.customer_of(_email("ana")) == "cus_a"
            assert view.customer_ids() == ["cus_a"]
        smaller = customer.model_copy(update={"identifiers": customer.identifiers[:1], "aliases": ()})
        with store.transaction(tenant) as tx:
            tx.save_customer(smaller)
        with store.snapshot(tenant) as view:
            assert view.get_customer("cus_a") == smaller
            assert view.customer_of(_email("ana")) is None
            with pytest.raises(NotFound):
                view.resolve_customer_id("cus_old1")

    def test_conversation_and_audit_round_trip(self, store: Store) -> None:
        tenant = _tenant()
        older = Conversation(
            id="conv-1",
            customer_id="cus_a",
            status=ConversationStatus.RESOLVED,
            channels=("webchat", "email"),
            opened_at=T0,
            last_activity_at=T0 + timedelta(hours=1),
            resolved_at=T0 + timedelta(hours=2),
            subject="Order 42",
            assignee="agent-7",
            metadata={"priority": "high"},
        )
        newer = Conversation(
            id="conv-2", customer_id="cus_a", opened_at=T0, last_activity_at=T0 + timedelta(days=1)
        )
        record = AuditRecord(
            at=T0,
            action=AuditAction.MERGE,
            customer_ids=("cus_a", "cus_b"),
            actor="agent-7",
            details={"n": 2},
        )
        with store.transaction(tenant) as tx:
            tx.save_conversation(older)
            tx.save_conversation(newer)
            first = tx.append_audit(record)
            second = tx.append_audit(record.model_copy(update={"action": AuditAction.SPLIT}))
        assert first.id < second.id
        assert first.model_copy(update={"id": 0}) == record
        with store.snapshot(tenant) as view:
            assert view.get_conversation("conv-1") == older
            assert view.conversations_of("cus_a") == [newer, older]
            assert view.conversations_of("cus_a", status=ConversationStatus.RESOLVED) == [older]
            assert view.audit_log() == [first, second.model_copy(update={"action": AuditAction.SPLIT})]
            assert [r.id for r in view.audit_log("cus_b")] == [first.id, second.id]

    def test_delete_conversation(self, store: Store) -> None:
        tenant = _tenant()
        kept = Conversation(id="conv-keep", customer_id="cus_a", opened_at=T0, last_activity_at=T0)
        gone = Conversation(id="conv-gone", customer_id="cus_a", opened_at=T0, last_activity_at=T0)
        with store.transaction(tenant) as tx:
            tx.save_conversation(kept)
            tx.save_conversation(gone)
        with store.transaction(tenant) as tx:
            tx.delete_conversation("conv-gone")
            tx.delete_conversation("conv-never-existed")  # ignored
        with store.snapshot(tenant) as view:
            assert view.conversations_of("cus_a") == [kept]
            with pytest.raises(NotFound):
                view.get_conversation("conv-gone")
            assert view.audit_log("cus_c") == []

    def test_customer_state_puts_keeps_and_clears_by_prefix(self, store: Store) -> None:
        tenant = _tenant()
        with store.transaction(tenant) as tx:
            tx.put_customer_state("cus_a", {"i@": "facts", "t@": "header", "t:m:<1@x>": "conv-1"})
            tx.put_customer_state("cus_b", {"t@": "b's"})
        with store.transaction(tenant) as tx:
            tx.put_customer_state("cus_a", {"t:m:<1@x>": "conv-2", "t:m:<2@x>": "conv-2"}, overwrite=False)
            tx.put_customer_state("cus_a", {"t@": "newer"})
        with store.snapshot(tenant) as view:
            assert view.customer_state("cus_a", ["i@", "t@", "t:m:<1@x>", "t:m:<2@x>", "absent"]) == {
                "i@": "facts",
                "t@": "newer",
                "t:m:<1@x>": "conv-1",  # overwrite=False kept the first value
                "t:m:<2@x>": "conv-2",
            }
            assert view.customer_state("cus_missing", ["t@"]) == {}
        with store.transaction(tenant) as tx:
            tx.clear_customer_state("cus_a", "t")
        with store.snapshot(tenant) as view:
            assert view.customer_state("cus_a", ["i@", "t@", "t:m:<1@x>", "t:m:<2@x>"]) == {"i@": "facts"}
            assert view.customer_state("cus_b", ["t@"]) == {"t@": "b's"}
        with store.transaction(tenant) as tx:
            tx.clear_customer_state("cus_a")
        with store.snapshot(tenant) as view:
            assert view.customer_state("cus_a", ["i@"]) == {}
        with store.snapshot(_tenant()) as view:  # tenants never mix
            assert view.customer_state("cus_b", ["t@"]) == {}

    @_IN_TRANSACTION
    @given(
        before=st.dictionaries(
            st.sampled_from(["i@", "t@", "t:a", "t:b", "x"]), st.sampled_from("uvw"), max_size=5
        ),
        ops=st.lists(
            st.tuples(
                st.sampled_from(["read", "put", "keep", "clear", "clear-all"]),
                st.sampled_from(["cus_a", "cus_b"]),
                st.lists(st.sampled_from(["i@", "t@", "t:a", "t:b", "x"]), min_size=1, max_size=3),
                st.sampled_from(["", "t", "t:", "i"]),
                st.sampled_from("pqr"),
            ),
            max_size=25,
        ),
    )
    def test_customer_state_read_inside_a_transaction_sees_its_writes(
        self, store: Store, before: dict[str, str], ops: list[tuple[str, str, list[str], str, str]]
    ) -> None:
        """Whatever a store keeps to answer reads inside a transaction, they match what is stored."""
        tenant = _tenant()
        model = {"cus_a": dict(before), "cus_b": {k: v + "b" for k, v in before.items()}}
        with store.transaction(tenant) as tx:
            for owner, values in model.items():
                tx.put_customer_state(owner, values)
        with store.transaction(tenant) as tx:
            for verb, owner, keys, prefix, value in ops:
                state = model[owner]
                if verb == "read":
                    assert tx.customer_state(owner, keys) == {k: state[k] for k in keys if k in state}
                elif verb in ("put", "keep"):
                    values = {k: f"{value}{n}" for n, k in enumerate(keys)}
                    tx.put_customer_state(owner, values, overwrite=verb == "put")
                    for k, v in values.items():
                        if verb == "put" or k not in state:
                            state[k] = v
                else:
                    cut = "" if verb == "clear-all" else prefix
                    tx.clear_customer_state(owner, cut)
                    model[owner] = {k: v for k, v in state.items() if not k.startswith(cut)}
            everything = ["i@", "t@", "t:a", "t:b", "x"]
            for owner, state in model.items():
                assert tx.customer_state(owner, everything) == state
        with store.snapshot(tenant) as view:
            for owner, state in model.items():
                assert view.customer_state(owner, everything) == state

    @_IN_TRANSACTION
    @given(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["lock", "assign", "unassign", "alias", "ask"]),
                st.lists(st.integers(0, 3), min_size=1, max_size=3),
                st.integers(0, 2),
                st.integers(0, 2),
            ),
            max_size=25,
        ),
    )
    def test_customer_of_inside_a_transaction_follows_its_writes(
        self, store: Store, ops: list[tuple[str, list[int], int, int]]
    ) -> None:
        """Whatever a store remembers from taking locks, ``customer_of`` answers as the memory store does."""
        from omnicx.store import MemoryStore

        tenant = _tenant()
        pool = [_email(f"p{n}") for n in range(4)]
        reference = MemoryStore()
        with store.transaction(tenant) as tx, reference.transaction(tenant) as ref:
            for verb, picks, i, j in ops:
                idents = [pool[n] for n in picks]
                for session in (tx, ref):
                    if verb == "lock":
                        session.lock_identifiers(idents)
                    elif verb in ("assign", "unassign"):
                        session.assign_customer(idents, f"cus_{i}" if verb == "assign" else None)
                    elif verb == "alias" and i != j:
                        session.add_alias(f"cus_{i}", f"cus_{j}")
                assert [tx.customer_of(x) for x in pool] == [ref.customer_of(x) for x in pool]

    def test_ledger_round_trips_in_canonical_order(self, store: Store) -> None:
        tenant = _tenant()
        ana, phone, bob = _email("ana"), _phone("+33612345678"), _email("bob")
        link = _link(ana, phone, T0 + timedelta(minutes=5), "k1")
        entries: list[LedgerEntry] = [
            _sighting(ana, T0 + timedelta(minutes=1), "k0"),
            link,
            Revocation.model_validate(
                {
                    "link_id": link.id,
                    "at": T0 + timedelta(minutes=9),
                    "evidence": Evidence(actor="agent", reason="x"),
                }
            ),
            NeverLink.model_validate({"a": ana, "b": bob, "at": T0 + timedelta(minutes=7)}),
            Erasure.model_validate({"customer_id": "cus_z", "tombstones": ("a" * 64,), "at": T0}),
        ]
        with store.transaction(tenant) as tx:
            assert tx.append_ledger(reversed(entries)) == list(reversed(entries))
            assert tx.append_ledger(entries) == []
        canonical = sorted(entries, key=lambda e: (e.at, e.id))
        with store.snapshot(tenant) as view:
            assert view.ledger() == canonical
            # ana is named by the sighting, the link, the never-link; the link's revocation comes along.
            assert view.ledger([ana]) == [e for e in canonical if e.type != "erasure"]
            assert view.ledger([bob]) == [entries[3]]
            assert view.ledger([_email("nobody")]) == []
            assert view.tombstoned(["a" * 64, "b" * 64]) == frozenset({"a" * 64})
            # an erasure names no identifier: it is found by its tombstones
            assert view.erasures(["a" * 64, "b" * 64]) == [e for e in canonical if e.type == "erasure"]
            assert view.erasures(["b" * 64]) == []

    def test_revocation_of_a_never_link_comes_with_it(self, store: Store) -> None:
        tenant = _tenant()
        ana, bob = _email("ana"), _email("bob")
        never = NeverLink.model_validate({"a": ana, "b": bob, "at": T0})
        lifted = Revocation.model_validate(
            {"link_id": never.id, "at": T0 + timedelta(hours=1), "evidence": Evidence(actor="agent-7")}
        )
        with store.transaction(tenant) as tx:
            tx.append_ledger([lifted, never])
        with store.snapshot(tenant) as view:
            assert view.ledger([bob]) == [never, lifted]
            assert view.ledger_component([ana]) == [never, lifted]

    def test_ledger_component_follows_links_transitively(self, store: Store) -> None:
        tenant = _tenant()
        a, b, c, d = _email("a"), _email("b"), _email("c"), _email("d")
        ab, bc, dd = _link(a, b, T0, "1"), _link(b, c, T0 + timedelta(seconds=1), "2"), _sighting(d, T0, "3")
        with store.transaction(tenant) as tx:
            tx.append_ledger([ab, bc, dd])
        with store.snapshot(tenant) as view:
            assert view.ledger_component([a]) == [ab, bc]
            assert view.ledger_component([c]) == [ab, bc]
            assert view.ledger_component([d]) == [dd]

    # --- identity bookkeeping ---------------------------------------------

    def test_upsert_identifiers_keeps_strongest_and_widest(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        seen = [
            CustomerIdentifier(identifier=ana, assurance=Assurance.ASSERTED, first_seen=T0, last_seen=T0),
            CustomerIdentifier(
                identifier=ana,
                assurance=Assurance.VERIFIED,
                first_seen=T0 + timedelta(days=1),
                last_seen=T0 + timedelta(days=1),
            ),
            CustomerIdentifier(
                identifier=ana,
                assurance=Assurance.INFERRED,
                first_seen=T0 - timedelta(days=1),
                last_seen=T0 - timedelta(days=1),
            ),
        ]
        with store.transaction(tenant) as tx:
            for item in seen:
                tx.upsert_identifiers([item])
            tx.assign_customer([ana], "cus_a")
        with store.snapshot(tenant) as view:
            assert view.identifiers_of("cus_a") == [
                CustomerIdentifier(
                    identifier=ana,
                    assurance=Assurance.VERIFIED,
                    first_seen=T0 - timedelta(days=1),
                    last_seen=T0 + timedelta(days=1),
                )
            ]
            assert view.get_customer("cus_a").created_at == T0 - timedelta(days=1)

    def test_aliases_follow_merges(self, store: Store) -> None:
        tenant = _tenant()
        a, b, c = _email("a"), _email("b"), _email("c")
        with store.transaction(tenant) as tx:
            tx.assign_customer([a], "cus_1")
            tx.assign_customer([b], "cus_2")
            tx.assign_customer([c], "cus_3")
            tx.add_alias("cus_2", "cus_1")  # cus_2 merged into cus_1
            tx.add_alias("cus_1", "cus_3")  # then cus_1 into cus_3: cus_2 follows
        with store.snapshot(tenant) as view:
            assert view.resolve_customer_id("cus_2") == "cus_3"
            assert view.resolve_customer_id("cus_1") == "cus_3"
            assert view.customer_of(a) == view.customer_of(b) == "cus_3"
            assert view.get_customer("cus_2").aliases == ("cus_1", "cus_2")
            assert view.customer_ids() == ["cus_3"]
        with store.transaction(tenant) as tx:
            tx.assign_customer([b], "cus_2")  # a split gives cus_2 its id back
        with store.snapshot(tenant) as view:
            assert view.resolve_customer_id("cus_2") == "cus_2"
            assert view.customer_of(b) == "cus_2"
            assert view.customer_ids() == ["cus_2", "cus_3"]

    def test_delete_customer_removes_it_its_aliases_and_state(self, store: Store) -> None:
        tenant = _tenant()
        a, b, c = _email("a"), _email("b"), _email("c")
        with store.transaction(tenant) as tx:
            tx.assign_customer([a, b], "cus_1")
            tx.assign_customer([c], "cus_2")
            tx.assign_customer([_email("d")], "cus_0")
            tx.add_alias("cus_0", "cus_1")  # cus_0 merged into cus_1
            tx.put_customer_state("cus_1", {"k": "v", "t:x": "y"})
        with store.transaction(tenant) as tx:
            tx.delete_customer("cus_1")
            assert tx.customer_of(a) is None  # inside the transaction too
            tx.delete_customer("cus_nope")  # unknown: ignored
        with store.snapshot(tenant) as view:
            assert view.customer_ids() == ["cus_2"]
            assert view.customer_of(a) is None
            assert view.customer_of(b) is None
            assert view.customer_of(c) == "cus_2"
            for gone in ("cus_1", "cus_0"):
                with pytest.raises(NotFound):
                    view.resolve_customer_id(gone)
            assert view.customer_state("cus_1", ["k", "t:x"]) == {}
        with store.transaction(tenant) as tx:
            tx.assign_customer([a], "cus_1")  # a recomputation may bring it back
        with store.snapshot(tenant) as view:
            assert view.customer_ids() == ["cus_1", "cus_2"]
            assert view.get_customer("cus_1").aliases == ()

    # --- idempotency, rollback, concurrency --------------------------------

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(
        picks=st.lists(st.integers(min_value=0, max_value=11), min_size=1, max_size=30),
        split=st.integers(min_value=0, max_value=30),
    )
    def test_append_is_idempotent_under_duplicates(self, store: Store, picks: list[int], split: int) -> None:
        tenant = _tenant()
        ana = _email("ana")
        pool = [_message(ana, f"k{n}", T0 + timedelta(minutes=n % 4)) for n in range(12)]
        batch = [pool[n] for n in picks]
        with store.transaction(tenant) as tx:
            first = tx.append_interactions(batch[:split])
        with store.transaction(tenant) as tx:
            second = tx.append_interactions(batch[split:])
            again = tx.append_interactions(batch)
        unique = list(dict.fromkeys(m.id for m in batch))
        assert list(first.stored) + list(second.stored) == unique
        assert len(first.duplicates) + len(second.duplicates) == len(batch) - len(unique)
        assert again.stored == ()
        assert list(again.duplicates) == [m.id for m in batch]
        with store.snapshot(tenant) as view:
            page = view.timeline([ana], limit=100)
        assert sorted(s.interaction.id for s in page.items) == sorted(unique)

    def test_rollback_leaves_nothing(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")

        class Boom(Exception):
            pass

        raw_ids: list[str] = []

        def failing_ingestion() -> None:
            with store.transaction(tenant) as tx:
                raw_ids.append(tx.record_raw("email", _request(b"x")))
                tx.append_interaction(_message(ana, "k1", T0))
                tx.assign_customer([ana], "cus_a")
                tx.append_ledger([_sighting(ana, T0, "k1")])
                tx.save_conversation(
                    Conversation(id="c1", customer_id="cus_a", opened_at=T0, last_activity_at=T0)
                )
                tx.append_audit(AuditRecord(at=T0, action=AuditAction.LINK, customer_ids=("cus_a",)))
                tx.put_customer_state("cus_a", {"t@": "header"})
                raise Boom

        with pytest.raises(Boom):
            failing_ingestion()
        raw_id = raw_ids[0]
        with store.snapshot(tenant) as view:
            assert view.timeline([ana]).items == ()
            assert view.customer_of(ana) is None
            assert view.customer_ids() == []
            assert view.ledger() == []
            assert view.raw_payloads().items == ()
            assert view.audit_log() == []
            with pytest.raises(NotFound):
                view.get_raw(raw_id)
            with pytest.raises(NotFound):
                view.get_conversation("c1")
            assert view.customer_state("cus_a", ["t@"]) == {}

    def test_concurrent_duplicate_insert_yields_one_row(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        message = _message(ana, "same-key", T0)
        results: list[bool] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(6)

        def worker() -> None:
            try:
                barrier.wait()
                with store.transaction(tenant) as tx:
                    results.append(tx.append_interaction(message))
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(results) == [False] * 5 + [True]
        with store.snapshot(tenant) as view:
            assert [s.interaction for s in view.timeline([ana]).items] == [message]

    # --- paging -------------------------------------------------------------

    def test_timeline_pages_in_order_across_identifiers(self, store: Store) -> None:
        tenant = _tenant()
        ana, phone, bob = _email("ana"), _phone("+33612345678"), _email("bob")
        # Same minute on two endpoints: the id breaks the tie.
        messages = [
            _message(ana if n % 2 else phone, f"k{n}", T0 + timedelta(minutes=n // 2)) for n in range(9)
        ]
        with store.transaction(tenant) as tx:
            tx.append_interactions([*messages, _message(bob, "bob", T0)])
        expected = sorted(messages, key=lambda m: (m.occurred_at, m.id), reverse=True)
        with store.snapshot(tenant) as view:
            seen: list[Interaction] = []
            cursor = None
            for _ in range(5):
                page = view.timeline([ana, phone], limit=2, cursor=cursor)
                seen.extend(s.interaction for s in page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert seen == expected
            oldest = view.timeline([phone, ana], limit=3, newest_first=False)
            assert [s.interaction for s in oldest.items] == expected[::-1][:3]
            assert oldest.next_cursor is not None
            with pytest.raises(ValidationError):
                view.timeline([ana], cursor=oldest.next_cursor)  # made for the other ordering
            with pytest.raises(ValidationError):
                view.timeline([ana], cursor="not a cursor")
            with pytest.raises(ValidationError):
                view.timeline([ana], limit=0)

    def test_timeline_filters(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        chat = _message(ana, "c1", T0, channel="webchat")
        mail = _message(ana, "m1", T0 + timedelta(minutes=1), channel="email")
        note = Note(
            id=interaction_id("email", "n1"),
            channel="email",
            adapter="email",
            dedupe_key="n1",
            occurred_at=T0 + timedelta(minutes=2),
            received_at=T0,
            direction=Direction.OUTBOUND,
            author=Author(role=AuthorRole.AGENT),
            endpoint=ana,
            text="call back",
        )
        with store.transaction(tenant) as tx:
            tx.append_interaction(chat, conversation_id="conv-1")
            tx.append_interaction(mail)
            tx.append_interaction(note)
            tx.set_conversation(mail.id, "conv-1")
        with store.snapshot(tenant) as view:

            def ids(**kw: object) -> list[str]:
                return [s.interaction.id for s in view.timeline([ana], **kw).items]  # type: ignore[arg-type]

            assert ids(channels=["email"]) == [note.id, mail.id]
            assert ids(types=["message"]) == [mail.id, chat.id]
            assert ids(conversation_id="conv-1") == [mail.id, chat.id]
            assert ids(channels=["email"], types=["message"]) == [mail.id]
            assert ids(channels=[]) == []

    def test_paging_is_stable_under_concurrent_inserts(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        original = [_message(ana, f"o{n}", T0 + timedelta(minutes=n)) for n in range(20)]
        with store.transaction(tenant) as tx:
            tx.append_interactions(original)
        seen: list[Message] = []
        cursor = None
        inserted = 0
        while True:
            with store.snapshot(tenant) as view:
                page = view.timeline([ana], limit=3, cursor=cursor)
            seen.extend(s.interaction for s in page.items)  # type: ignore[misc]
            # Another writer lands newer, older and same-time interactions between page reads.
            with store.transaction(tenant) as tx:
                tx.append_interactions(
                    [
                        _message(ana, f"new{inserted}", T0 + timedelta(days=1, minutes=inserted)),
                        _message(ana, f"old{inserted}", T0 - timedelta(days=1, minutes=inserted)),
                        _message(ana, f"tie{inserted}", T0 + timedelta(minutes=10)),
                    ]
                )
            inserted += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        ids = [m.id for m in seen]
        assert len(ids) == len(set(ids)), "a page repeated an interaction"
        assert {m.id for m in original} <= set(ids), "a page skipped an interaction"
        positions = [(m.occurred_at, m.id) for m in seen]
        assert positions == sorted(positions, reverse=True)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
    )
    @given(
        minutes=st.lists(st.integers(min_value=0, max_value=15), min_size=0, max_size=25),
        limit=st.integers(min_value=1, max_value=7),
        newest_first=st.booleans(),
    )
    def test_pages_concatenate_to_the_whole_sorted_timeline(
        self, store: Store, minutes: list[int], limit: int, newest_first: bool
    ) -> None:
        tenant = _tenant()
        endpoints = [_email("ana"), _phone("+33671894213"), _email("ana.work")]
        messages = [
            _message(endpoints[n % 3], f"k{n}", T0 + timedelta(minutes=m)) for n, m in enumerate(minutes)
        ]
        with store.transaction(tenant) as tx:
            tx.append_interactions(messages)
        expected = sorted(messages, key=lambda m: (m.occurred_at, m.id), reverse=newest_first)
        got: list[Interaction] = []
        cursor = None
        with store.snapshot(tenant) as view:
            for _ in range(len(messages) + 1):
                page = view.timeline(endpoints, limit=limit, cursor=cursor, newest_first=newest_first)
                assert len(page.items) <= limit
                got.extend(s.interaction for s in page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        assert got == expected

    def test_paging_with_a_writer_thread_running(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        original = [_message(ana, f"o{n}", T0 + timedelta(minutes=n)) for n in range(60)]
        with store.transaction(tenant) as tx:
            tx.append_interactions(original)
        stop = threading.Event()
        errors: list[BaseException] = []

        def writer() -> None:
            n = 0
            try:
                while not stop.is_set() and n < 300:
                    offset = timedelta(minutes=(n * 7) % 90 - 15, seconds=n % 2)
                    with store.transaction(tenant) as tx:
                        tx.append_interaction(_message(ana, f"w{n}", T0 + offset))
                    n += 1
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=writer)
        thread.start()
        seen: list[Interaction] = []
        cursor = None
        try:
            while True:
                with store.snapshot(tenant) as view:
                    page = view.timeline([ana], limit=7, cursor=cursor)
                seen.extend(s.interaction for s in page.items)
                cursor = page.next_cursor
                if cursor is None:
                    break
        finally:
            stop.set()
            thread.join()
        assert errors == []
        ids = [m.id for m in seen]
        assert len(ids) == len(set(ids)), "a page repeated an interaction"
        assert {m.id for m in original} <= set(ids), "a page skipped an interaction"
        positions = [(m.occurred_at, m.id) for m in seen]
        assert positions == sorted(positions, reverse=True)

    def test_raw_inbox_lists_by_status_oldest_first(self, store: Store) -> None:
        tenant = _tenant()
        with store.transaction(tenant) as tx:
            ids = [tx.record_raw("webform", _request(b"%d" % n, T0 + timedelta(seconds=n))) for n in range(5)]
            for n in (0, 2, 3):
                tx.mark_raw(ids[n], RawStatus.FAILED, error=f"bad {n}")
            tx.mark_raw(ids[4], RawStatus.UNSUPPORTED, error="ping")
        with store.snapshot(tenant) as view:
            first = view.raw_payloads(RawStatus.FAILED, limit=2)
            assert [r.id for r in first.items] == [ids[0], ids[2]]
            assert first.next_cursor is not None
            rest = view.raw_payloads(RawStatus.FAILED, limit=2, cursor=first.next_cursor)
            assert [r.id for r in rest.items] == [ids[3]]
            assert rest.next_cursor is None
            assert [r.id for r in view.raw_payloads(RawStatus.RECEIVED).items] == [ids[1]]
            assert [r.id for r in view.raw_payloads(RawStatus.UNSUPPORTED).items] == [ids[4]]
            assert [r.id for r in view.raw_payloads(channel="email").items] == []
            assert len(view.raw_payloads().items) == 5

    # --- tenants, errors ----------------------------------------------------

    def test_tenants_never_mix(self, store: Store) -> None:
        one, two = _tenant(), _tenant()
        ana = _email("ana")
        message = _message(ana, "k1", T0)
        with store.transaction(one) as tx:
            assert tx.append_interaction(message)
            tx.assign_customer([ana], "cus_a")
            tx.append_ledger([_sighting(ana, T0, "k1")])
            raw_id = tx.record_raw("email", _request(b"x"))
        with store.transaction(two) as tx:
            assert tx.append_interaction(message)  # not a duplicate in another tenant
        with store.snapshot(two) as view:
            assert view.customer_of(ana) is None
            assert view.ledger() == []
            assert view.customer_ids() == []
            with pytest.raises(NotFound):
                view.get_raw(raw_id)
        with pytest.raises(ValidationError):
            store.transaction("no spaces allowed").__enter__()

    def test_missing_things_raise_not_found(self, store: Store) -> None:
        tenant = _tenant()
        with store.transaction(tenant) as tx:
            for call in (
                lambda: tx.get_raw("raw_missing"),
                lambda: tx.get_interaction("ix_missing"),
                lambda: tx.get_customer("cus_missing"),
                lambda: tx.get_conversation("conv_missing"),
                lambda: tx.mark_raw("raw_missing", RawStatus.PARSED),
                lambda: tx.set_conversation("ix_missing", "c"),
                lambda: tx.forget_customer(
                    "cus_missing",
                    Erasure.model_validate({"customer_id": "cus_missing", "tombstones": (), "at": T0}),
                ),
            ):
                with pytest.raises(NotFound) as caught:
                    call()
                assert isinstance(caught.value, OmnicxError)
                assert "missing" in str(caught.value)
            assert tx.find_interaction("email", "nope") is None

    def test_bad_input_raises_validation_error(self, store: Store) -> None:
        tenant = _tenant()
        ana = _email("ana")
        with store.transaction(tenant) as tx:
            raw_id = tx.record_raw("email", _request(b"x"))
            calls: dict[str, Callable[[], object]] = {
                "a single identifier": lambda: tx.timeline(ana),  # type: ignore[arg-type]
                "identifier strings": lambda: tx.timeline(["email:ana@example.com"]),  # type: ignore[list-item]
                "a dict interaction": lambda: tx.append_interaction({"type": "message"}),  # type: ignore[arg-type]
                "a string interaction": lambda: tx.append_interactions(["x"]),  # type: ignore[list-item]
                "an unknown raw status": lambda: tx.mark_raw(raw_id, "bogus"),  # type: ignore[arg-type]
                "an unknown listed status": lambda: tx.raw_payloads("bogus"),  # type: ignore[arg-type]
                "an unknown conversation status": lambda: tx.conversations_of("c", status="closed"),  # type: ignore[arg-type]
                "a string identifier": lambda: tx.customer_of("email:ana@example.com"),  # type: ignore[arg-type]
                "a huge limit": lambda: tx.timeline([ana], limit=5000),
                "a zero limit": lambda: tx.raw_payloads(limit=0),
            }
            for what, call in calls.items():
                with pytest.raises(ValidationError) as caught:
                    call()
                assert isinstance(caught.value, ValueError), what
            assert tx.get_raw(raw_id).status == RawStatus.RECEIVED  # nothing half-done

    # --- erasure ------------------------------------------------------------

    def test_forget_customer_cascades_and_leaves_tombstones(self, store: Store) -> None:
        tenant = _tenant()
        ana, ana_phone, bob = _email("ana"), _phone("+33611111111"), _email("bob")
        ana_msg = _message(ana, "a1", T0, text="my card ends 4242")
        ana_call = _message(ana_phone, "a2", T0 + timedelta(minutes=1), channel="sms")
        bob_msg = _message(bob, "b1", T0)
        link = _link(ana, ana_phone, T0, "a1")
        tomb = "f" * 64
        with store.transaction(tenant) as tx:
            raw_a = tx.record_raw("email", _request(b"From: ana@example.com"))
            raw_retry = tx.record_raw("email", _request(b"retry of a1"))
            raw_failed = tx.record_raw("sms", _request(b"From=%2B33611111111&Body=hi", T0))
            raw_b = tx.record_raw("email", _request(b"From: bob@example.com"))
            tx.append_interaction(ana_msg, raw_id=raw_a, conversation_id="conv-a")
            tx.append_interaction(ana_call)
            tx.append_interaction(bob_msg, raw_id=raw_b)
            tx.mark_raw(raw_a, RawStatus.PARSED, dedupe_keys=["a1"])
            tx.mark_raw(raw_retry, RawStatus.PARSED, dedupe_keys=["a1"])
            tx.mark_raw(raw_failed, RawStatus.FAILED, error="bad signature")
            tx.mark_raw(raw_b, RawStatus.PARSED, dedupe_keys=["b1"])
            tx.assign_customer([ana, ana_phone], "cus_ana")
            tx.assign_customer([_email("ana.old")], "cus_ana_old")
            tx.add_alias("cus_ana_old", "cus_ana")
            tx.assign_customer([bob], "cus_bob")
            tx.append_ledger([link, _sighting(ana, T0, "a1"), _sighting(bob, T0, "b1")])
            tx.append_ledger([Revocation.model_validate({"link_id": link.id, "at": T0 + timedelta(hours=1)})])
            tx.save_conversation(
                Conversation(id="conv-a", customer_id="cus_ana", opened_at=T0, last_activity_at=T0)
            )
            tx.append_audit(
                AuditRecord(at=T0, action=AuditAction.MERGE, customer_ids=("cus_ana", "cus_ana_old"))
            )
            tx.append_audit(AuditRecord(at=T0, action=AuditAction.LINK, customer_ids=("cus_bob",)))
            tx.put_customer_state("cus_ana", {"t:m:<a1@example.com>": "conv-a"})
            tx.put_customer_state("cus_ana_old", {"i@": "ana.old@example.com"})
            tx.put_customer_state("cus_bob", {"i@": "bob@example.com"})
        erasure = Erasure.model_validate(
            {"customer_id": "cus_ana", "tombstones": (tomb,), "at": T0 + timedelta(days=1)}
        )
        with store.transaction(tenant) as tx:
            report = tx.forget_customer("cus_ana_old", erasure)
        assert report.customer_id == "cus_ana"
        assert report.aliases == ("cus_ana_old",)
        assert (report.interactions, report.raw_payloads, report.identifiers) == (2, 3, 3)
        assert (report.ledger_entries, report.conversations, report.tombstones) == (3, 1, 1)
        with store.snapshot(tenant) as view:
            assert view.timeline([ana, ana_phone]).items == ()
            assert view.customer_of(ana) is None
            assert view.customer_of(ana_phone) is None
            for gone in ("cus_ana", "cus_ana_old"):
                with pytest.raises(NotFound):
                    view.resolve_customer_id(gone)
            for raw_id in (raw_a, raw_retry, raw_failed):
                with pytest.raises(NotFound):
                    view.get_raw(raw_id)
            with pytest.raises(NotFound):
                view.get_conversation("conv-a")
            assert view.ledger([ana, ana_phone]) == []
            assert view.ledger() == [_sighting(bob, T0, "b1"), erasure]
            assert view.tombstoned([tomb]) == frozenset({tomb})
            assert [r.action for r in view.audit_log()] == [AuditAction.LINK, AuditAction.ERASURE]
            assert view.audit_log("cus_ana")[0].details["interactions"] == 2
            # Bob is untouched.
            assert [s.interaction for s in view.timeline([bob]).items] == [bob_msg]
            assert view.get_raw(raw_b).dedupe_keys == ("b1",)
            assert view.customer_of(bob) == "cus_bob"
            assert view.customer_state("cus_ana", ["t:m:<a1@example.com>"]) == {}
            assert view.customer_state("cus_ana_old", ["i@"]) == {}
            assert view.customer_state("cus_bob", ["i@"]) == {"i@": "bob@example.com"}
