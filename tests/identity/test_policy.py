"""The merge policy: loading, validation, defaults and each rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnicx.errors import ConfigurationError
from omnicx.identity import Blocklist, IdentityEngine, MergePolicy
from omnicx.models import Assurance, Identifier, ObservedIdentifier

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def email(v: str) -> Identifier:
    return Identifier(kind="email", value=v)


def phone(v: str) -> Identifier:
    return Identifier(kind="phone", value=v)


def test_policy_loads_from_json_and_toml_with_the_same_meaning(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(
        json.dumps(
            {"version": 1, "limits": {"email": 2}, "blocklist": {"exact": {"email": ["help@shop.io"]}}}
        )
    )
    (tmp_path / "p.toml").write_text(
        'version = 1\n[limits]\nemail = 2\n[blocklist.exact]\nemail = ["help@shop.io"]\n'
    )
    from_json, from_toml = (
        MergePolicy.from_file(tmp_path / "p.json"),
        MergePolicy.from_file(tmp_path / "p.toml"),
    )
    assert from_json == from_toml
    assert from_json.limits == {"email": 2}
    assert from_json.blocklist.exact == {"email": ("help@shop.io",)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 2}', "version 2"),
        ('{"limits": {"email": 0}}', "greater than or equal to 1"),
        ('{"blocklist": {"patterns": {"email": ["("]}}}', "does not compile"),
        ('{"colour": "red"}', "colour"),
        ("{not json", "not valid JSON"),
        # "*" means every kind in quarantine and the blocklist; a limit or a unique kind is per kind
        ('{"limits": {"*": 1}}', "limits"),
        ('{"unique_kinds": ["*"]}', "unique_kinds"),
        ('{"phone_region": "ZZ"}', "phone_region 'ZZ' is not a region"),
        # what re.compile raises beside re.error
        ('{"blocklist": {"patterns": {"email": ["a{99999999999}"]}}}', "does not compile"),
        (json.dumps({"blocklist": {"patterns": {"email": ["(" * 1000 + ")" * 1000]}}}), "does not compile"),
    ],
)
def test_a_bad_policy_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        MergePolicy.from_json(text)


def test_a_policy_file_needs_a_known_suffix(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("version: 1")
    with pytest.raises(ConfigurationError, match=r"\*\.json or \*\.toml"):
        MergePolicy.from_file(tmp_path / "policy.yaml")
    with pytest.raises(ConfigurationError, match="cannot read"):
        MergePolicy.from_file(tmp_path / "missing.json")
    with pytest.raises(ConfigurationError, match="TOML"):
        MergePolicy.from_toml("limits = = 1")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "noreply@shop.io"),
        ("email", "no-reply@accounts.example.net"),
        ("email", "donotreply@bank.co.uk"),
        ("email", "do-not-reply@bank.co.uk"),
        ("email", "mailer-daemon@mx.shop.io"),
        ("email", "ana@example.com"),
        ("email", "none@none.com"),
        ("email", "test@shop.io"),
        ("email", "postmaster@shop.io"),
        ("email", "bounces+ana=gmail.com@mail.shop.io"),
        ("email", "bounce-1234@em.shop.io"),
        ("email", "n/a@shop.io"),
        ("phone", "+10000000000"),
        ("phone", "+15555555555"),
        ("phone", "+11234567890"),
        ("phone", "+14155550123"),
        ("chat_visitor", "undefined"),
        ("chat_visitor", "null"),
        ("chat_visitor", "anonymous"),
    ],
)
def test_default_blocklist_catches_placeholders(kind: str, value: str) -> None:
    compiled = MergePolicy().compile()
    assert compiled.blocked(kind, value, f"{kind}:{value}") is not None


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("email", "ana.ortiz@gmail.com"),
        ("email", "noreplyfan@gmail.com"),
        ("email", "tester@shop.io"),
        ("phone", "+14155238886"),
        ("phone", "+447911123456"),
        # people and shops whose address starts like an automated sender's or a placeholder
        ("email", "bounce.house@party.com"),
        ("email", "postmaster.general@shop.com"),
        ("email", "na@company.com"),
        # an Ohio number: the run 1234567 only with the country code's 1 (every +1 234 567 xxxx)
        ("phone", "+12345670199"),
        ("chat_visitor", "v_93b105f00daa"),
    ],
)
def test_default_blocklist_leaves_real_values_alone(kind: str, value: str) -> None:
    assert MergePolicy().compile().blocked(kind, value, f"{kind}:{value}") is None


def test_host_identifiers_and_raw_blocklist_values_are_normalized() -> None:
    policy = MergePolicy(
        host_identifiers=("email:Help@Shop.IO", "phone:(415) 523-8800"),
        blocklist=Blocklist(exact={"email": (" Orders@Shop.io ",)}),
    )
    compiled = policy.compile()
    assert compiled.blocked("email", "help@shop.io", "email:help@shop.io") == "host identifier"
    assert compiled.blocked("phone", "+14155238800", "phone:+14155238800") == "host identifier"
    assert compiled.blocked("email", "orders@shop.io", "email:orders@shop.io") is not None


def test_a_policy_path_with_a_nul_character_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="NUL"):
        MergePolicy.from_file("/tmp/policy\x00.json")


def test_an_exact_value_that_can_block_nothing_is_refused_and_star_values_are_read_each_way() -> None:
    # a phone no number can have is a mistake to report, as in host_identifiers
    with pytest.raises(ConfigurationError, match="would block nothing"):
        MergePolicy(blocklist=Blocklist(exact={"phone": ("call me",)})).compile()
    with pytest.raises(ConfigurationError, match="phone_region US"):
        MergePolicy(blocklist=Blocklist(exact={"phone": ("020 7946 0000",)})).compile()
    # "*" values are compared with every kind's normalized value: raw forms block too
    compiled = MergePolicy(
        blocklist=Blocklist(exact={"*": ("+1 (415) 523-8886", " Ana@X.com", "n.a.")})
    ).compile()
    assert compiled.blocked("phone", "+14155238886", "phone:+14155238886") is not None
    assert compiled.blocked("email", "ana@x.com", "email:ana@x.com") is not None
    assert compiled.blocked("chat_visitor", "n.a.", "chat_visitor:n.a.") is not None


def test_national_phones_in_a_policy_are_read_in_its_phone_region() -> None:
    # A London shop writes its switchboard and a junk number as its staff dial them.
    written = {
        "host_identifiers": ["phone:020 7946 0000"],
        "blocklist": {"exact": {"phone": ["07700 900123"]}},
    }
    london = MergePolicy.from_json(json.dumps({**written, "phone_region": "gb"})).compile()
    assert london.blocked("phone", "+442079460000", "phone:+442079460000") == "host identifier"
    assert london.blocked("phone", "+447700900123", "phone:+447700900123") is not None
    # read as US numbers (the default region) they are other numbers, or none at all
    with pytest.raises(ConfigurationError, match="host identifier"):
        MergePolicy.from_json(json.dumps({**written, "blocklist": {}})).compile()
    with pytest.raises(ConfigurationError, match="would block nothing"):
        MergePolicy.from_json(json.dumps({**written, "host_identifiers": []})).compile()
    # without a region only international forms are phones
    with pytest.raises(ConfigurationError, match="host identifier"):
        MergePolicy(phone_region=None, host_identifiers=("phone:(415) 523-8800",)).compile()
    assert MergePolicy(phone_region=None, host_identifiers=("phone:+1 415 523 8800",)).compile().host == {
        "phone:+14155238800"
    }


def test_without_the_default_blocklist_only_the_hosts_entries_apply() -> None:
    compiled = MergePolicy(use_default_blocklist=False).compile()
    assert compiled.blocked("email", "test@test.com", "email:test@test.com") is None


def test_weak_evidence_is_recorded_as_a_suggestion() -> None:
    engine = IdentityEngine(MergePolicy(min_assurance=Assurance.VERIFIED))
    guess = engine.observe(
        [
            ObservedIdentifier(identifier=email("ana@shop.io"), assurance=Assurance.VERIFIED),
            phone("+14155238886"),
        ],
        at=T0,
        channel="webform",
        dedupe_key="f1",
    )
    assert [c.reason for c in guess.conflicts] == ["suggestion"]
    assert engine.customer_of(email("ana@shop.io")) != engine.customer_of(phone("+14155238886"))
    sure = engine.observe(
        [
            ObservedIdentifier(identifier=email("ana@shop.io"), assurance=Assurance.VERIFIED),
            ObservedIdentifier(identifier=phone("+14155238886"), assurance=Assurance.VERIFIED),
        ],
        at=T0 + timedelta(hours=1),
        channel="sms",
        dedupe_key="s1",
    )
    assert sure.conflicts == ()
    assert engine.customer_of(email("ana@shop.io")) == engine.customer_of(phone("+14155238886"))


def test_limit_refuses_the_merge_that_would_give_a_third_phone() -> None:
    engine = IdentityEngine()
    a = engine.observe([email("ana@shop.io"), phone("+14155238886")], at=T0, channel="sms", dedupe_key="1")
    engine.observe(
        [email("ana@shop.io"), phone("+14155238887")], at=T0 + timedelta(1), channel="sms", dedupe_key="2"
    )
    third = engine.observe(
        [email("ana@shop.io"), phone("+14155238888")], at=T0 + timedelta(2), channel="sms", dedupe_key="3"
    )
    assert [c.reason for c in third.conflicts] == ["limit"]
    assert "at most 2 identifiers of kind phone" in third.conflicts[0].detail
    assert len(engine.identifiers_of(a.customer_id or "")) == 3


def test_suggested_links_never_merge() -> None:
    engine = IdentityEngine()
    engine.observe([email("ana@shop.io")], at=T0, channel="email", dedupe_key="1")
    engine.observe([email("a.ortiz@work.io")], at=T0, channel="email", dedupe_key="2")
    change = engine.link(
        email("ana@shop.io"), email("a.ortiz@work.io"), actor="matcher", reason="same name", kind="suggested"
    )
    assert [c.reason for c in change.conflicts] == ["suggestion"]
    assert engine.customer_of(email("ana@shop.io")) != engine.customer_of(email("a.ortiz@work.io"))


def test_each_link_carries_the_weaker_assurance_of_its_two_identifiers() -> None:
    engine = IdentityEngine(MergePolicy(min_assurance=Assurance.VERIFIED))
    psid = Identifier(kind="messenger_psid", value="6569341800484935", scope="104729384756")
    change = engine.observe(
        [
            ObservedIdentifier(identifier=email("ana@shop.io"), assurance=Assurance.VERIFIED),
            ObservedIdentifier(identifier=phone("+14155238886"), assurance=Assurance.VERIFIED),
            ObservedIdentifier(identifier=psid, assurance=Assurance.INFERRED),
        ],
        at=T0,
        channel="messenger",
        dedupe_key="m1",
    )
    links = {frozenset((e.a.key, e.b.key)): e.assurance for e in change.entries if e.type == "link"}
    assert links[frozenset(("email:ana@shop.io", "phone:+14155238886"))] is Assurance.VERIFIED
    assert links[frozenset(("email:ana@shop.io", psid.key))] is Assurance.INFERRED
    assert engine.customer_of(email("ana@shop.io")) == engine.customer_of(phone("+14155238886"))
    assert engine.customer_of(psid) != engine.customer_of(email("ana@shop.io"))
    assert sorted(c.reason for c in change.conflicts) == ["suggestion", "suggestion"]


def test_compile_keeps_the_form_of_the_last_policies_and_never_a_stale_one() -> None:
    from omnicx.identity import _policy

    policy = MergePolicy(limits={"phone": 3})
    assert policy.compile() is policy.compile()  # an engine per request does not recompile
    changed = policy.model_copy(update={"limits": {"phone": 1}})
    assert changed.compile() is not policy.compile()
    assert changed.compile().limits["phone"] == 1
    assert policy.compile().limits["phone"] == 3
    for n in range(20):
        MergePolicy(limits={"email": n + 1}).compile()
    assert len(_policy._COMPILED) <= _policy._COMPILED_KEPT


@pytest.mark.parametrize("host", ["phone:not a number", "email:nope", "phone:12"])
def test_a_host_identifier_that_can_match_nothing_is_refused(host: str) -> None:
    # a value no identifier can normalize to would never be matched: a mistake to report
    with pytest.raises(ConfigurationError, match="host identifier"):
        MergePolicy(host_identifiers=(host,)).compile()
