"""The SQL pieces of the DuckDB engine answer exactly as the Python reference they mirror.

Normalization in SQL must be sound (every key it gives is the key Python gives) and must
answer the common shapes (or the engine would be slow, not wrong). The blocklist in SQL
must give the policy's verdict exactly. Components must be those of a union-find.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnicx.cli._batch import normalized_key, unite
from omnicx.cli._duckdb import DuckDBResolver, _blocklist_sql, _components, _text
from omnicx.identity import MergePolicy
from omnicx.identity._policy import DEFAULT_BLOCKLIST, DEFAULT_PATTERNS_RE2

from .test_batch import CUSTOM_POLICIES, POLICIES

duckdb = pytest.importorskip("duckdb")
np = pytest.importorskip("numpy")

SPACE = " \t\n\r\x0b\x0c\x1c\x1f"


def _sql_keys(values: list[tuple[str, str, bool]], region: str | None) -> list[str | None]:
    """What the engine's grouping stage answers for each ``(kind, raw, whatsapp)`` value in SQL
    (None: left to Python)."""
    with DuckDBResolver(MergePolicy(), region) as engine:
        db = engine._db
        db.execute(
            "CREATE TABLE item AS SELECT unnest($1::BIGINT[]) AS n, 1 AS pos, unnest($2::VARCHAR[]) AS kind, "
            "unnest($3::VARCHAR[]) AS raw, unnest($4::BOOLEAN[]) AS wa",
            [
                list(range(len(values))),
                [k for k, _, _ in values],
                [r for _, r, _ in values],
                [w for *_, w in values],
            ],
        )
        db.execute("ALTER TABLE item ADD COLUMN h UBIGINT")
        db.execute("UPDATE item SET h = hash(kind, raw, wa)")
        engine._group()
        got = dict(db.execute("SELECT s >> 32, key FROM dvk").fetchall())
    return [got.get(n) for n in range(len(values))]


def _python_key(kind: str, raw: str, whatsapp: bool, region: str | None) -> str | None:
    answer = normalized_key(*_text(kind, raw, whatsapp and kind == "phone"), region)
    return answer[0] if answer else None


def _phones() -> st.SearchStrategy[str]:
    digits = st.text(alphabet="0123456789", min_size=0, max_size=16)
    noise = st.text(alphabet="0123456789 -.()/+\t", max_size=20)
    formatted = st.tuples(
        st.sampled_from(["+1", "+44", "+33", "+39", "+7", "+86", "+354", "+800", "1", "44", "", "+0", "00"]),
        st.sampled_from(["", " ", "-", " (0) ", "(0)", ".", "/"]),
        digits,
        st.sampled_from(["", " ", "\t", "\n", ")", "x1"]),
    ).map("".join)
    national = st.tuples(
        st.sampled_from(["(", ""]),
        st.text("0123456789", min_size=3, max_size=3),
        st.sampled_from([") ", "-", ".", ""]),
        st.text("0123456789", min_size=7, max_size=7),
    ).map("".join)
    return st.one_of(
        noise, formatted, national, st.sampled_from([" +14155238886 ", "+1 415 523 8886", "4155238886"])
    )


def _emails() -> st.SearchStrategy[str]:
    local = st.text(alphabet="abcXYZ09._%+-!#'", min_size=0, max_size=10)
    domain = st.text(alphabet="abcXY09.-", min_size=0, max_size=12)
    tld = st.sampled_from(["com", "IO", "test", "local", "x", "co", "onion", "a1", ""])
    return st.one_of(
        st.tuples(
            st.sampled_from(["", " ", "\t"]),
            local,
            st.sampled_from(["@", "@@", ""]),
            domain,
            st.sampled_from([".", ""]),
            tld,
            st.sampled_from(["", " ", "\n"]),
        ).map("".join),
        st.sampled_from(
            ["Ana@Shop.IO", "a--b@x.io", "x@a--b.io", "x" * 65 + "@a.io", "a@" + "b" * 250 + ".io", "é@x.io"]
        ),
    )


def _handles() -> st.SearchStrategy[str]:
    platform = st.sampled_from(
        [
            "messenger",
            "Messenger",
            "instagram",
            "chat",
            "webchat",
            "telegram",
            "whatsapp",
            "acme",
            "chat_visitor",
            "",
            " chat",
        ]
    )
    scope = st.sampled_from(["", "@", "@page2", "@ page2 ", "@pa ge", "@a@b", "@" + "p" * 130])
    value = st.one_of(
        st.text(alphabet="0123456789abcAB._:-@ \n", max_size=12),
        st.sampled_from(["1234", "v_c57085738ce6", "US.13491208655302741918", "0", " 12 "]),
    )
    return st.tuples(platform, scope, st.sampled_from([":", "", "::"]), value).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(
        st.one_of(
            st.tuples(st.just("phone"), _phones(), st.booleans()),
            st.tuples(st.just("email"), _emails(), st.booleans()),
            st.tuples(st.just("handle"), _handles(), st.booleans()),
        ),
        min_size=1,
        max_size=40,
    ),
    region=st.sampled_from(["US", "GB", None, "us", "ZZ"]),
)
def test_every_key_sql_gives_is_the_key_python_gives(
    values: list[tuple[str, str, bool]], region: str | None
) -> None:
    values = list(dict.fromkeys(values))
    for (kind, raw, whatsapp), key in zip(values, _sql_keys(values, region), strict=True):
        if key is not None:
            assert key == _python_key(kind, raw, whatsapp, region), (kind, raw, whatsapp, region)


def test_sql_answers_the_common_shapes_itself() -> None:
    values = [
        ("phone", "+14155238886", False),
        ("phone", " +1 415-523.8886 ", False),
        ("phone", "(415) 523-8886", False),
        ("phone", "447911123456", True),
        ("phone", "+33 6 85 89 45 46", False),
        ("email", " Ana.Lopez@Example.CO ", False),
        ("handle", "messenger:6569341800484935", False),
        ("handle", "Messenger@page2:6569341800484935", False),
        ("handle", "chat:v_c57085738ce6", False),
        ("handle", "telegram:99", False),
    ]
    keys = _sql_keys(values, "US")
    assert keys == [_python_key(*v, "US") for v in values]
    assert None not in keys
    # shapes only Python decides: a prefix the region transforms, a URI, non-ASCII text, another kind
    rest = [
        ("phone", "+55 (0) 319 964 413 13", False),
        ("phone", "tel:+14155238886", False),
        ("email", "zoë@example.org", False),
        ("external_id", "acct-1", False),
    ]
    assert _sql_keys(rest, "US") == [None] * len(rest)


def _trunk_phones() -> st.SearchStrategy[str]:
    """``+CC`` then a national part starting with 0 (a trunk prefix, "(0)", or zeros kept)."""
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    codes = sorted(str(c) for c in COUNTRY_CODE_TO_REGION_CODE)
    return st.tuples(
        st.sampled_from(codes),
        st.sampled_from([" (0) ", "(0)", " 0", "0", "-0", " (0)", " 00", "0 1800", "0 180020"]),
        st.text(alphabet="0123456789", min_size=0, max_size=12),
        st.sampled_from(["", " ", "-"]),
        st.text(alphabet="0123456789", min_size=0, max_size=4),
    ).map(lambda t: "+" + "".join(t))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(_trunk_phones(), min_size=1, max_size=60, unique=True),
    region=st.sampled_from(["US", None]),
)
def test_trunk_prefixes_are_answered_as_phonenumbers_parse_reads_them(
    values: list[str], region: str | None
) -> None:
    items = [("phone", v, False) for v in values]
    for (_, raw, _), key in zip(items, _sql_keys(items, region), strict=True):
        if key is not None:
            assert key == _python_key("phone", raw, False, region), raw


def test_sql_answers_trunk_prefixes_of_the_common_countries() -> None:
    values = [
        ("phone", "+44 (0) 7911 123456", False),
        ("phone", "+33 (0) 764 817 245", False),
        ("phone", "+49 (0) 30 901820", False),
        ("phone", "+39 06 6982 1234", False),  # Italy keeps its leading zero
    ]
    keys = _sql_keys(values, "US")
    assert keys == [_python_key(*v, "US") for v in values]
    assert None not in keys
    assert keys[3] == "phone:+390669821234"


@settings(max_examples=200, deadline=None)
@given(
    value=st.one_of(
        st.text(alphabet="+0123456789", max_size=16),
        st.text(alphabet="0123456789", min_size=7, max_size=12).map(lambda d: "+1" + d[0] * 8 + d),
        st.text(alphabet="abnoreplytesx@.-_/+NAUL0", max_size=14),
        st.text(alphabet=" -0xXnNaAuldefi/", max_size=10),
    )
)
def test_the_re2_forms_of_the_default_patterns_match_what_python_matches(value: str) -> None:
    con = duckdb.connect()
    for patterns in DEFAULT_BLOCKLIST.patterns.values():
        for pattern in patterns:
            expected = re.fullmatch(pattern, value, re.IGNORECASE) is not None
            sql = DEFAULT_PATTERNS_RE2.get(pattern, pattern)
            got = con.execute("SELECT regexp_full_match($1, $2, 'i')", [value, sql]).fetchall()[0][0]
            assert got == expected, (pattern, value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=st.sampled_from(POLICIES + CUSTOM_POLICIES),
    keys=st.lists(
        st.one_of(
            st.sampled_from(
                ["email", "phone", "chat_visitor", "external_id", "messenger_psid@default"]
            ).flatmap(
                lambda kind: st.text(alphabet="abqxyz1@.+_HELPnulto-0", max_size=10).map(
                    lambda v: f"{kind}:{v}"
                )
            ),
            st.sampled_from(
                [
                    "email:test@test.com",
                    "email:noreply+x@shop.io",
                    "email:help@shop.io",
                    "email:a@b.co",
                    "phone:+10000000000",
                    "phone:+11234567890",
                    "phone:+12025550147",
                    "phone:+14155550123",
                    "chat_visitor:kiosk7",
                    "chat_visitor:v_1",
                    "external_id:null",
                    "email:zoë@x.io",
                ]
            ),
        ),
        min_size=1,
        max_size=20,
        unique=True,
    ),
)
def test_the_sql_blocklist_gives_the_policys_verdict(policy: MergePolicy, keys: list[str]) -> None:
    compiled = policy.compile()
    condition, python = _blocklist_sql(compiled)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE kx AS SELECT key, regexp_extract(key, '^[a-z][a-z0-9_]*') AS kind, "
        "substr(key, strpos(key, ':') + 1) AS value FROM (SELECT unnest($1::VARCHAR[]) AS key)",
        [keys],
    )
    rows = con.execute(
        f"SELECT key, kind, value, ({condition}) FROM kx WHERE strlen(value) = length(value)"
    ).fetchall()
    decided = 0
    for key, kind, value, verdict in rows:
        if python is not None and kind not in python:
            assert verdict == compiled.is_blocked(kind, value, key), (key, policy)
            decided += 1
    if python is not None and not python:  # a policy of default patterns: SQL decides every ASCII key
        assert decided == len(rows)


def test_a_hosts_own_pattern_leaves_its_kinds_to_python() -> None:
    own = MergePolicy(blocklist={"patterns": {"email": ["(a|b)\\1@.*"]}}).compile()
    condition, python = _blocklist_sql(own)
    assert python == {"email"}
    assert "(a|b)" not in condition  # RE2 could not read it
    assert _blocklist_sql(MergePolicy(blocklist={"patterns": {"*": ["q+"]}}).compile())[1] is None
    assert _blocklist_sql(MergePolicy().compile())[1] == frozenset()


@settings(max_examples=150, deadline=None)
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 40)).filter(lambda e: e[0] != e[1]), max_size=60
    )
)
def test_components_are_those_of_a_union_find(edges: list[tuple[int, int]]) -> None:
    pairs = sorted({(min(a, b), max(a, b)) for a, b in edges})
    lo = np.array([a for a, _ in pairs], dtype=np.int64)
    hi = np.array([b for _, b in pairs], dtype=np.int64)
    nodes, roots, edge_roots = _components(lo, hi)
    _, find, expected_nodes = unite(41, [a << 32 | b for a, b in pairs])
    assert sorted(nodes.tolist()) == sorted(expected_nodes)
    got: dict[int, int] = dict(zip(nodes.tolist(), roots.tolist(), strict=True))
    for x in expected_nodes:
        for y in expected_nodes:
            assert (got[x] == got[y]) == (find(x) == find(y))
    # each component is named by its smallest node, and so is each edge's
    for x, r in got.items():
        assert r == min(y for y in got if find(y) == find(x))
    assert edge_roots.tolist() == [got[a] for a, _ in pairs]
