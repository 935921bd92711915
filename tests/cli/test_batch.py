"""The batch path of ``omnicx resolve`` gives exactly what the incremental path gives."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx.cli._batch import BatchResolver, _handle, _handle_fast, fold_phone
from omnicx.cli._resolve import Resolver, json_loads, resolve_stream
from omnicx.errors import NormalizationError, ValidationError
from omnicx.identity import IdentityEngine, MergePolicy
from omnicx.models import Identifier
from omnicx.normalize import normalize_phone

# Raw spellings: several per identifier, junk, unreadable values and other kinds.
EMAILS = [
    "ana@shop.io",
    " Ana@Shop.IO",
    "ANA@shop.io ",
    "bo@mail.example.org",
    "Bo@Mail.Example.Org",
    "cy@x.org",
    "test@test.com",
    "orders@store.example.com",
    "not an email",
    "ünï@example.org",
]
PHONES = [
    "+14155238886",
    "(415) 523-8886",
    "415.523.8886",
    "14155238886",
    "+44 7911 123456",
    "447911123456",
    "+44 (0) 7911 123456",
    "+12025550147",
    "202-555-0147",
    "0000000000",
    "12",
    # extensions: spaces and dashes in them are no mere separators
    "+1 415 523 8886 ; ext=12",
    "+14155238886;ext=12",
    "+49 30 1234567 ext 1-2",
]
HANDLES = [
    "messenger:6569341800484935",
    "messenger@page2:6569341800484935",
    "chat:v_1",
    "chat:v_2",
    "telegram:99",
    "bad-handle",
]
OTHER = [("external_id", "acct-1"), ("external_id", "acct-2"), ("external_id", " acct-1 ")]

POLICIES = [
    MergePolicy(),
    MergePolicy(quarantine={"email": 2, "phone": 2, "*": 3}, limits={"phone": 1, "email": 2}),
    MergePolicy(quarantine_enabled=False, limits={"email": 1}),
    MergePolicy(use_default_blocklist=False, quarantine={"*": 1}),
    MergePolicy(min_assurance="verified"),
]


def _item() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.sampled_from(EMAILS).map(lambda v: {"type": "email", "value": v}),
        st.sampled_from(PHONES).map(lambda v: {"type": "phone", "value": v}),
        st.sampled_from(HANDLES).map(lambda v: {"type": "handle", "value": v}),
        st.sampled_from(OTHER).map(lambda kv: {"type": kv[0], "value": kv[1]}),
        st.sampled_from([{"type": "email"}, {"type": "phone", "value": 5}, {"value": "x"}, "junk"]),
    )


def _record() -> st.SearchStrategy[Any]:
    # Few distinct times and record ids, so that equal times (ties broken by entry ids)
    # and repeated records are common.
    good = st.fixed_dictionaries(
        {
            "record_id": st.sampled_from([f"r{i}" for i in range(12)]),
            "ts": st.sampled_from(
                ["2024-01-01T09:00:00Z", "2024-01-01T09:00:00+00:00", "2024-01-01T11:00:00+02:00"]
                + [f"2024-01-0{d}T10:00:00Z" for d in range(2, 6)]
            ),
            "channel": st.sampled_from(["email", "whatsapp", "sms", None, 7]),
            "identifiers": st.lists(_item(), max_size=4),
        }
    )
    bad = st.sampled_from(
        [{"record_id": "x"}, {"record_id": 1, "ts": "2024-01-01T00:00:00Z", "identifiers": []}]
    )
    return st.one_of(good, good, good, bad)


def _run(resolver: Any, records: list[Any], loads: Any = None) -> list[tuple[str, str]]:
    lines = [json.dumps(r) for r in records]
    resolve_stream(lines, resolver, loads=loads)
    return list(resolver.labels())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_record(), max_size=30),
    policy=st.sampled_from(POLICIES),
    fast_json=st.booleans(),
)
def test_batch_resolver_equals_the_incremental_resolver(
    records: list[Any], policy: MergePolicy, fast_json: bool
) -> None:
    slow, fast = Resolver(policy), BatchResolver(policy)
    assert _run(fast, records, json_loads() if fast_json else json.loads) == _run(slow, records, json.loads)
    assert fast.bad_identifiers == slow.bad_identifiers
    assert fast.bad_lines == slow.bad_lines
    assert fast.shared_count() == slow.shared_count()
    # BatchResolver.add (one decoded record at a time) reads what BatchResolver.feed reads
    one_by_one = BatchResolver(policy)
    for line_no, record in enumerate(records, 1):
        try:
            one_by_one.add(json.loads(json.dumps(record)), line_no)
        except ValidationError:
            continue
    assert list(one_by_one.labels()) == list(fast.labels())
    assert one_by_one.bad_identifiers == fast.bad_identifiers


def test_a_record_sharing_the_time_of_a_first_sighting_can_take_the_birth() -> None:
    # Same identifier, same instant, two records: the smaller sighting id is the birth,
    # whichever record came first (the customer id must not depend on input order).
    a = {"record_id": "a", "ts": "2024-01-01T09:00:00Z", "channel": "sms", "identifiers": []}
    b = {"record_id": "b", "ts": "2024-01-01T09:00:00Z", "channel": "sms", "identifiers": []}
    ident = [{"type": "phone", "value": "+14155238886"}]
    a["identifiers"] = b["identifiers"] = ident
    one = _run(BatchResolver(MergePolicy()), [a, b])
    other = _run(BatchResolver(MergePolicy()), [b, a])
    assert dict(one) == dict(other)
    assert one == _run(Resolver(MergePolicy()), [a, b])


def test_a_component_over_a_limit_is_evaluated_in_time_order() -> None:
    # one customer holds at most 2 phones (default): three phones chained through an
    # email; the phone linked last (by time, not by input order) is refused.
    recs = [
        {
            "record_id": "3",
            "ts": "2024-01-03T00:00:00Z",
            "channel": "sms",
            "identifiers": [
                {"type": "email", "value": "ana@shop.io"},
                {"type": "phone", "value": "+12069232474"},
            ],
        },
        {
            "record_id": "1",
            "ts": "2024-01-01T00:00:00Z",
            "channel": "sms",
            "identifiers": [
                {"type": "email", "value": "ana@shop.io"},
                {"type": "phone", "value": "+14155238886"},
            ],
        },
        {
            "record_id": "2",
            "ts": "2024-01-02T00:00:00Z",
            "channel": "sms",
            "identifiers": [
                {"type": "email", "value": "ana@shop.io"},
                {"type": "phone", "value": "+447911123456"},
            ],
        },
    ]
    got = dict(_run(BatchResolver(MergePolicy()), recs))
    assert got["1"] == got["2"] == got["3"]  # record 3's first identifier is the email
    solo = {
        "record_id": "4",
        "ts": "2024-01-04T00:00:00Z",
        "channel": "sms",
        "identifiers": [{"type": "phone", "value": "+12069232474"}],
    }
    got = dict(_run(BatchResolver(MergePolicy()), [*recs, solo]))
    assert got["4"] != got["1"]
    assert got["4"].startswith("cus_")
    assert got == dict(_run(Resolver(MergePolicy()), [*recs, solo]))


def _respelled(ts: Any, minutes: int) -> Any:
    """The instant ``ts`` names, written with a UTC offset of ``minutes`` (other values as they are)."""
    try:
        at = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return ts
    if at.tzinfo is None:
        return ts
    return at.astimezone(timezone(timedelta(minutes=minutes))).isoformat()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(_record(), max_size=25),
    offsets=st.lists(st.sampled_from([0, 120, -300, 330, -720]), min_size=25, max_size=25),
    policy=st.sampled_from(POLICIES),
)
def test_the_offset_a_time_is_written_with_changes_no_customer(
    records: list[Any], offsets: list[int], policy: MergePolicy
) -> None:
    # an instant is an instant: ties between links of one instant are broken by link ids,
    # which hold the time in UTC whatever offset the record wrote it with
    respelled = [
        {**r, "ts": _respelled(r["ts"], m)} if isinstance(r, dict) and "ts" in r else r
        for r, m in zip(records, offsets, strict=False)
    ]
    want = _run(Resolver(policy), records, json.loads)
    assert _run(Resolver(policy), respelled, json.loads) == want
    assert _run(BatchResolver(policy), respelled) == want


def _engine_labels(records: list[Any], policy: MergePolicy) -> list[tuple[str, str]]:
    """Each record's customer by :class:`IdentityEngine`, fed the records one by one: the customer of
    the record's first identifier that has one (as ``omnicx resolve`` defines it)."""
    normalized = Resolver(policy)  # for its identifier(): the command's reading of raw values
    engine = IdentityEngine(policy)
    rows: list[tuple[str, list[Identifier]]] = []
    for record in records:
        try:
            rid, items, channel = record["record_id"], record["identifiers"], record.get("channel")
            at = datetime.fromisoformat(record["ts"])
        except (TypeError, KeyError, ValueError, AttributeError):
            continue
        if not isinstance(rid, str) or not isinstance(items, list) or at.tzinfo is None:
            continue
        keys: list[str] = []
        for item in items:
            try:
                got = normalized.identifier(item["type"], item["value"], channel == "whatsapp")
            except (TypeError, KeyError):
                got = None
            if got is not None and got[0] not in keys:
                keys.append(got[0])
        idents = [Identifier.parse(key) for key in keys]
        if idents:
            engine.observe(
                idents, at=at, channel=channel if isinstance(channel, str) else None, dedupe_key=rid
            )
        rows.append((rid, idents))
    return [(rid, next((c for c in map(engine.customer_of, idents) if c), "")) for rid, idents in rows]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record(), max_size=25), policy=st.sampled_from(POLICIES))
def test_the_command_gives_what_the_identity_engine_gives(records: list[Any], policy: MergePolicy) -> None:
    assert _run(Resolver(policy), records, json.loads) == _engine_labels(records, policy)


def test_a_tie_at_one_instant_written_with_two_offsets_is_broken_as_the_engine_breaks_it() -> None:
    # Found by review: a customer limited to one email, and two links of one instant that
    # would give it a second one; which link wins is decided by the link ids, and the
    # command wrote the offset into them, the engine UTC.
    policy = MergePolicy(limits={"email": 1}, quarantine_enabled=False)

    def rec(rid: str, ts: str, *values: tuple[str, str]) -> dict[str, Any]:
        items = [{"type": t, "value": v} for t, v in values]
        return {"record_id": rid, "ts": ts, "channel": "chat", "identifiers": items}

    base = [
        rec("rA", "2024-01-01T09:00:00Z", ("handle", "chat:v_1"), ("email", "bo@shop.io")),
        rec("rB", "2024-01-02T09:00:00Z", ("phone", "+14155238886"), ("handle", "messenger:42")),
    ]
    want = None
    for ts in ("2024-01-03T09:00:00Z", "2024-01-03T11:00:00+02:00", "2024-01-03T04:00:00-05:00"):
        records = [
            *base,
            rec("rC", ts, ("email", "ana@shop.io"), ("handle", "messenger:42"), ("handle", "chat:v_1")),
        ]
        got = _run(Resolver(policy), records, json.loads)
        assert got == _run(BatchResolver(policy), records) == _engine_labels(records, policy)
        want = want or got
        assert got == want


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(alphabet="0123456789+ .-()/;xet=\t", max_size=22)
    | st.lists(st.from_regex(r"[0-9]{1,4}", fullmatch=True), min_size=1, max_size=5)
    .flatmap(
        lambda groups: st.lists(
            st.sampled_from([" ", ".", "-", " - ", "  "]), min_size=len(groups), max_size=len(groups)
        ).map(lambda seps: "".join(g + s for g, s in zip(groups, seps, strict=True)).rstrip(" .-"))
    )
    .flatmap(lambda body: st.sampled_from(["", "+", " +", "00"]).map(lambda head: head + body)),
    region=st.sampled_from(["US", "GB", "DE", "IN", None]),
)
def test_a_folded_phone_normalizes_as_its_spelling_does(text: str, region: str | None) -> None:
    # spellings that share a cache entry must normalize alike: normalize(v) == normalize(fold(v))
    # for every v, so any two spellings with one fold normalize alike
    def read(value: str) -> str | None:
        try:
            return normalize_phone(value, region=region)
        except NormalizationError:
            return None

    assert read(fold_phone(text)) == read(text)


def test_a_phone_with_an_extension_is_read_as_written_in_any_order() -> None:
    # Found by review: "+1 415 523 8886 ; ext=12" (no number) and "+14155238886;ext=12" (a
    # number) shared a cache entry, so whichever came first decided for both.
    def rec(rid: str, phone: str) -> dict[str, Any]:
        items = [{"type": "phone", "value": phone}, {"type": "email", "value": f"{rid}@shop.io"}]
        return {"record_id": rid, "ts": "2024-01-01T09:00:00Z", "channel": "sms", "identifiers": items}

    a, b, c = (
        rec("r1", "+1 415 523 8886 ; ext=12"),
        rec("r2", "+14155238886;ext=12"),
        rec("r3", "+14155238886"),
    )
    for records in ([a, b, c], [b, a, c]):
        got = dict(_run(BatchResolver(MergePolicy()), records))
        assert (
            got
            == dict(_run(Resolver(MergePolicy()), records))
            == dict(_engine_labels(records, MergePolicy()))
        )
        assert got["r2"] == got["r3"] != got["r1"]


LINES = [
    b'{"a": NaN}',
    b'{"a": "\\ud800"}',
    b"\xef\xbb\xbf{}",
    b'{"a": 1, "a": 2}',
    b'{"a": 1} x',
    b"\xff\xfe",
    '{"a": "é"}'.encode("utf-16"),
    b'{"a": "\xc3\xa9"}',
    "[1, 2.5, true, null]",
]


@pytest.mark.parametrize("line", LINES)
def test_json_loads_decodes_every_line_as_the_standard_library_does(line: str | bytes) -> None:
    loads = json_loads()
    try:
        want: Any = json.loads(line)
    except ValueError as exc:
        with pytest.raises(type(exc), match=re.escape(str(exc))):
            loads(line)
        return
    assert repr(loads(line)) == repr(want)


def test_a_malformed_record_is_refused_by_both_paths() -> None:
    # no zone; a time before the first UTC instant (IdentityEngine.observe refuses it too)
    for ts in ("2024-01-01T00:00:00", "0001-01-01T00:30:00+01:00"):
        for resolver in (Resolver(MergePolicy()), BatchResolver(MergePolicy())):
            with pytest.raises(ValidationError, match="line 3"):
                resolver.add({"record_id": "r", "ts": ts, "identifiers": []}, 3)
        lines = [
            json.dumps({"record_id": "r", "ts": ts, "identifiers": [{"type": "email", "value": "a@b.io"}]})
        ]
        fed = BatchResolver(MergePolicy())
        assert resolve_stream(lines, fed) == 0
        assert fed.bad_lines == 1


def test_a_number_too_big_for_orjson_is_an_unreadable_identifier_either_way() -> None:
    # orjson reads integers beyond 64 bits as floats (the one difference from json.loads);
    # resolve reads only strings, lists and objects, so the record resolves alike.
    line = (
        '{"record_id": "r", "ts": "2024-01-01T00:00:00Z", "channel": "sms", "identifiers": '
        '[{"type": "phone", "value": 123456789012345678901234567890}, {"type": "email", "value": "ana@shop.io"}]}'
    )
    for loads in (json.loads, json_loads()):
        for resolver in (Resolver(MergePolicy()), BatchResolver(MergePolicy())):
            resolve_stream([line], resolver, loads=loads)
            assert resolver.bad_identifiers == 1
            assert [rid for rid, label in resolver.labels() if label] == ["r"]


# --------------------------------------------------------------------------- fast paths, one by one

HANDLE_TEXT = st.one_of(
    st.sampled_from(
        [*HANDLES, "Messenger:123", " chat : v_9 ", "messenger@:1", "instagram@acct.1:42", "x:y"]
    ),
    st.builds(
        lambda p, at, scope, v: f"{p}{'@' if at else ''}{scope}:{v}",
        st.sampled_from(
            ["messenger", "instagram", "chat", "webchat", "telegram", "whatsapp", "acme", "Chat"]
        ),
        st.booleans(),
        st.text(alphabet="ab.-_ 1\n", max_size=5),
        st.text(alphabet="0123456789AZUS.az:_- \u0663\t", min_size=0, max_size=12),
    ),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None)
@given(raw=HANDLE_TEXT)
def test_the_fast_handle_gives_the_key_of_the_slow_one(raw: str) -> None:
    try:
        want: Any = _handle(raw)
    except (NormalizationError, ValidationError) as exc:
        want = type(exc)
    try:
        got: Any = _handle_fast(raw)
    except (NormalizationError, ValidationError) as exc:
        got = type(exc)
    assert got == want


CUSTOM_POLICIES = [
    MergePolicy(),
    MergePolicy(
        blocklist={
            "exact": {"email": ["a@b.co"], "*": ["x1"]},
            "patterns": {"email": ["(a|b)\\1@.*", "(?i)help@.*", "z.*"], "*": ["q+", "(?P<n>y)(?P=n)"]},
        },
        host_identifiers=("email:help@shop.io",),
    ),
    MergePolicy(
        use_default_blocklist=False, blocklist={"patterns": {"chat_visitor": ["kiosk.*", "v_(1|2)"]}}
    ),
]


@settings(max_examples=200, deadline=None)
@given(
    policy=st.sampled_from(CUSTOM_POLICIES),
    kind=st.sampled_from(["email", "phone", "chat_visitor", "external_id"]),
    value=st.one_of(
        st.sampled_from(
            ["a@b.co", "aa@x.io", "help@shop.io", "HELP@x", "zed", "qq", "yy", "x1", "kiosk7", "v_1"]
        ),
        st.sampled_from(["noreply@x.com", "+14155550123", "+11111111111", "+12345678901", "test@test.com"]),
        st.text(alphabet="abqxyz1@.+_HELP", max_size=8),
    ),
)
def test_the_joined_blocklist_patterns_block_what_the_policy_blocks(
    policy: MergePolicy, kind: str, value: str
) -> None:
    compiled = policy.compile()
    key = f"{kind}:{value}"
    want = compiled.blocked(kind, value, key) is not None
    assert compiled.is_blocked(kind, value, key) == want
