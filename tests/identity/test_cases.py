"""The named cases of the identity issue, each its own test, with hand-worked expectations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omnicx.identity import IdentityEngine
from omnicx.models import Identifier
from omnicx.normalize import normalize_identifier

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def email(v: str) -> Identifier:
    return Identifier(kind="email", value=v)


def phone(v: str) -> Identifier:
    return Identifier(kind="phone", value=v)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_family_phone_shared_by_four_people_merges_none_of_them() -> None:
    engine = IdentityEngine()
    home = phone("+14155238886")
    family = [f"{name}.ortiz@gmail.com" for name in ("ana", "luis", "marta", "pablo")]
    for n, address in enumerate(family):
        engine.observe([email(address)], at=at(n), channel="email", dedupe_key=f"m{n}")
        engine.observe([home, email(address)], at=at(10 + n), channel="voice", dedupe_key=f"c{n}")
    # four distinct emails on one number: more than one person has (default threshold 3)
    assert engine.customer_of(home) is None
    assert "more than 3 distinct email" in (engine.shared_reason(home) or "")
    owners = {engine.customer_of(email(a)) for a in family}
    assert len(owners) == 4
    for address in family:
        assert engine.identifiers_of(engine.customer_of(email(address)) or "") == (email(address),)


def test_family_phone_between_two_accounts_is_quarantined() -> None:
    engine = IdentityEngine()
    home = phone("+14155238886")
    acct1, acct2 = Identifier(kind="external_id", value="A-1"), Identifier(kind="external_id", value="A-2")
    engine.observe([acct1, home], at=at(0), channel="webform", dedupe_key="f1")
    assert engine.customer_of(home) == engine.customer_of(acct1)
    change = engine.observe([acct2, home], at=at(5), channel="webform", dedupe_key="f2")
    # two values of a unique kind on one number: the number is shared, linked to neither
    assert engine.customer_of(home) is None
    assert engine.customer_of(acct1) != engine.customer_of(acct2)
    assert "quarantined" in {c.reason for c in change.conflicts}


def test_test_at_test_com_links_nobody() -> None:
    engine = IdentityEngine()
    junk = normalize_identifier("email", " Test@Test.com ")
    a = engine.observe([junk, phone("+14155238801")], at=at(0), channel="webform", dedupe_key="f1")
    b = engine.observe([junk, phone("+14155238802")], at=at(1), channel="webform", dedupe_key="f2")
    assert a.customer_id is not None
    assert b.customer_id is not None
    assert a.customer_id != b.customer_id
    assert engine.customer_of(junk) is None
    assert [c.reason for c in b.conflicts] == ["blocked"]
    assert b.conflicts[0].link_ids == (b.entries[-1].id,)  # the refused link is kept in the ledger


def test_switchboard_shared_by_fifty_customers_merges_none() -> None:
    engine = IdentityEngine()
    switchboard = phone("+442079460321")  # in no blocklist: only the counts give it away
    for n in range(50):
        engine.observe([email(f"client{n}@firm{n}.co.uk")], at=at(n), channel="email", dedupe_key=f"m{n}")
    for n in range(50):
        engine.observe(
            [switchboard, email(f"client{n}@firm{n}.co.uk")],
            at=at(100 + n),
            channel="voice",
            dedupe_key=f"c{n}",
        )
    assert engine.customer_of(switchboard) is None
    assert len(set(engine.partition())) == 50
    assert all(len(keys) == 1 for keys in engine.partition().values())
    # the first three callers were merged while the number looked personal; the fourth
    # showed it is shared, and the engine split them again
    assert engine.why_linked(email("client0@firm0.co.uk"), email("client1@firm1.co.uk")) is None


def test_two_external_ids_on_one_payload_do_not_merge() -> None:
    engine = IdentityEngine()
    real, other = (
        Identifier(kind="external_id", value="cust-1001"),
        Identifier(kind="external_id", value="cust-2002"),
    )
    first = engine.observe([real, email("ana@shop.io")], at=at(0), channel="webform", dedupe_key="f1")
    second = engine.observe([other, email("bo@shop.io")], at=at(1), channel="webform", dedupe_key="f2")
    attack = engine.observe([real, other], at=at(2), channel="webform", dedupe_key="f3")
    assert engine.customer_of(real) == first.customer_id
    assert engine.customer_of(other) == second.customer_id
    assert first.customer_id != second.customer_id
    assert [c.reason for c in attack.conflicts] == ["unique"]
    assert attack.merged == ()


def test_messenger_psids_with_the_same_number_under_two_pages_do_not_merge() -> None:
    engine = IdentityEngine()
    on_a = normalize_identifier("messenger_psid", "2468013579", scope="104729384756")
    on_b = normalize_identifier("messenger_psid", "2468013579", scope="998877665544")
    a = engine.observe([on_a, email("ana@shop.io")], at=at(0), channel="messenger", dedupe_key="m1")
    b = engine.observe([on_b, email("bo@shop.io")], at=at(1), channel="messenger", dedupe_key="m2")
    assert a.customer_id != b.customer_id
    assert set(engine.identifiers_of(a.customer_id or "")) == {on_a, email("ana@shop.io")}
    assert set(engine.identifiers_of(b.customer_id or "")) == {on_b, email("bo@shop.io")}


def test_whatsapp_sender_seen_first_by_business_scoped_id_then_with_the_phone() -> None:
    engine = IdentityEngine()
    bsuid = normalize_identifier("whatsapp_bsuid", "US.13491208655302741918")
    number = normalize_identifier("phone", "14155238886")  # WhatsApp digits without "+"
    first = engine.observe([bsuid], at=at(0), channel="whatsapp", dedupe_key="wamid.1")
    later = engine.observe([bsuid, number], at=at(60), channel="whatsapp", dedupe_key="wamid.2")
    assert later.customer_id == first.customer_id
    assert later.merged == ()
    assert engine.identifiers_of(first.customer_id or "") == (bsuid, number)


def test_whatsapp_business_scoped_id_joins_the_older_phone_history() -> None:
    engine = IdentityEngine()
    number = phone("+14155238886")
    sms = engine.observe([number], at=at(0), channel="sms", dedupe_key="SM1")
    bsuid = normalize_identifier("whatsapp_bsuid", "US.13491208655302741918")
    wa = engine.observe([bsuid], at=at(30), channel="whatsapp", dedupe_key="wamid.1")
    both = engine.observe([bsuid, number], at=at(60), channel="whatsapp", dedupe_key="wamid.2")
    # the older observation (the SMS) names the merged customer; the WhatsApp id is retired
    assert both.customer_id == sms.customer_id
    assert both.merged == (wa.customer_id,)
    assert engine.resolve(wa.customer_id or "") == sms.customer_id
