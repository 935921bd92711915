"""After forgetting a customer, the SQLite file and its WAL hold none of their email or phone bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from omnicx.identity import IdentityEngine
from omnicx.models import (
    Author,
    AuthorRole,
    Direction,
    Identifier,
    InboundRequest,
    Message,
    ObservedIdentifier,
    TextPart,
    interaction_id,
)
from omnicx.store import RawStatus, SQLiteStore

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ANA_EMAIL, ANA_PHONE = "ana.lima.erasure@laposte.net", "+33671894213"
BOB_EMAIL = "bob.keeper.stays@orange.fr"


def _fill(store: SQLiteStore, engine: IdentityEngine) -> str:
    """Ingest 40 payloads from Ana (email and SMS, linked by a form) and 40 from Bob; return Ana's id."""
    ana_mail = Identifier(kind="email", value=ANA_EMAIL)
    ana_phone = Identifier(kind="phone", value=ANA_PHONE)
    bob = Identifier(kind="email", value=BOB_EMAIL)
    plan = [
        (ana_mail, (ana_mail,)),
        (ana_phone, (ana_phone,)),
        (bob, (bob,)),
        (ana_mail, (ana_mail, ana_phone)),
    ]
    for n in range(80):
        endpoint, seen = plan[n % len(plan)]
        at = T0 + timedelta(minutes=n)
        key = f"evt-{n}"
        body = f'{{"from": "{endpoint.value}", "text": "message {n} from {endpoint.value}"}}'.encode()
        with store.transaction() as tx:
            raw_id = tx.record_raw(
                "webform", InboundRequest(url="https://hooks.shop.fr/form", body=body, received_at=at)
            )
            change = engine.observe(
                [ObservedIdentifier(identifier=i) for i in seen], at=at, channel="webform", dedupe_key=key
            )
            tx.append_ledger(change.entries)
            for cid in engine.customers():
                tx.save_customer(engine.customer(cid))
            tx.append_interaction(
                Message(
                    id=interaction_id("webform", key),
                    channel="webform",
                    adapter="webform",
                    dedupe_key=key,
                    occurred_at=at,
                    received_at=at,
                    direction=Direction.INBOUND,
                    author=Author(role=AuthorRole.CUSTOMER, name=endpoint.value),
                    endpoint=endpoint,
                    parts=(TextPart(text=f"hello, reach me at {endpoint.value}"),),
                ),
                raw_id=raw_id,
            )
            tx.mark_raw(raw_id, RawStatus.PARSED, dedupe_keys=[key])
    # One payload that failed to parse still holds Ana's phone in its body.
    with store.transaction() as tx:
        failed = tx.record_raw(
            "twilio",
            InboundRequest(
                url="https://hooks.shop.fr/sms", body=f"From={ANA_PHONE[1:]}&Body=hi".encode(), received_at=T0
            ),
        )
        tx.mark_raw(failed, RawStatus.FAILED, error="bad signature")
    ana = engine.customer_of(ana_mail)
    assert ana is not None
    return ana


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _where(path: Path, needle: bytes) -> list[str]:
    """Where ``needle`` stands in the database file and its WAL: file, byte offset, 4 KiB page.

    The erasure test has failed once in about 40 fresh processes; this says where the bytes
    were left, for the next time it does.
    """
    found = []
    for file in (path, Path(f"{path}-wal")):
        if not file.exists():
            continue
        data = file.read_bytes()
        at = data.find(needle)
        while at >= 0:
            found.append(f"{file.name} offset {at} page {at // 4096} of {len(data) // 4096}")
            at = data.find(needle, at + 1)
    return found


def _forget(store: SQLiteStore, engine: IdentityEngine, customer_id: str) -> None:
    forgotten = engine.forget(customer_id, actor="dpo@shop.fr", reason="GDPR art. 17 request")
    (erasure,) = forgotten.entries
    with store.transaction() as tx:
        tx.forget_customer(customer_id, erasure)  # type: ignore[arg-type]


def test_forgotten_customer_leaves_no_bytes_in_db_or_wal(tmp_path: Path) -> None:
    path = tmp_path / "omnicx.db"
    store = SQLiteStore(path)
    engine = IdentityEngine()
    ana = _fill(store, engine)
    before = _file_bytes(path)
    assert ANA_EMAIL.encode() in before
    assert ANA_PHONE[1:].encode() in before
    _forget(store, engine, ana)
    after = _file_bytes(path)
    assert _where(path, ANA_EMAIL.encode()) == []
    assert _where(path, ANA_PHONE[1:].encode()) == []  # with or without the +
    assert BOB_EMAIL.encode() in after  # the grep can see what is still there
    with store.snapshot() as view:
        assert view.raw_payloads(RawStatus.FAILED).items == ()
        assert len(view.customer_ids()) == 1
    store.close()
    assert _where(path, ANA_EMAIL.encode()) == []
    assert _where(path, ANA_PHONE[1:].encode()) == []


def test_without_secure_delete_the_bytes_would_linger(tmp_path: Path) -> None:
    # The control: the same erasure with SQLite's secure_delete turned off leaves Ana's bytes
    # in free pages, which is what the test above proves does not happen.
    path = tmp_path / "insecure.db"
    store = SQLiteStore(path)
    store._connect().execute("PRAGMA secure_delete = OFF")
    engine = IdentityEngine()
    ana = _fill(store, engine)
    _forget(store, engine, ana)
    with store.snapshot() as view:
        assert view.timeline([Identifier(kind="email", value=ANA_EMAIL)]).items == ()
    assert ANA_EMAIL.encode() in _file_bytes(path)
    store.close()
