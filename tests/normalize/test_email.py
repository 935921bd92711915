"""Email addresses: one canonical spelling, syntax checked by email-validator."""

from __future__ import annotations

import email_validator
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx import NormalizationError, normalize_email
from omnicx.normalize._email import _validate


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ana.Maria@ExAmple.COM", "ana.maria@example.com"),
        ("  ana@example.com\n", "ana@example.com"),
        ("Ana Maria <Ana@Example.com>", "ana@example.com"),
        ("mailto:ana@example.com?subject=hi", "ana@example.com"),
        ("ana@Bücher.de", "ana@xn--bcher-kva.de"),
        ("ANA@XN--BCHER-KVA.DE", "ana@xn--bcher-kva.de"),
        ("Jürgen@example.de", "jürgen@example.de"),
        ("a.b+news@gmail.com", "a.b+news@gmail.com"),  # provider rules are off by default
    ],
)
def test_canonical_forms(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


def test_local_part_case_can_be_kept() -> None:
    assert normalize_email("Ana@Example.COM", fold_local_case=False) == "Ana@example.com"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("A.B+news@gmail.com", "ab@gmail.com"),
        ("a.b@googlemail.com", "ab@gmail.com"),
        ("a.b+x@example.com", "a.b+x@example.com"),  # not Gmail: dots and tags stay
    ],
)
def test_gmail_rules_when_asked(raw: str, expected: str) -> None:
    assert normalize_email(raw, provider_rules=True) == expected


def test_plus_tags_folded_for_every_domain_when_asked() -> None:
    assert normalize_email("ana+shop@example.com", fold_plus_tags=True) == "ana@example.com"
    assert (
        normalize_email("+shop@example.com", fold_plus_tags=True) == "+shop@example.com"
    )  # no tag: all local
    with pytest.raises(NormalizationError, match="nothing before its"):
        normalize_email("+shop@gmail.com", provider_rules=True)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@@example.com",
        "a..b@example.com",
        "ana@localhost",
        "ana@example.test",
        "ana@-x.com",
    ],
)
def test_refused(raw: str) -> None:
    with pytest.raises(NormalizationError, match="not an email address") as info:
        normalize_email(raw)
    assert info.value.kind == "email"


def test_non_string_refused() -> None:
    with pytest.raises(NormalizationError, match="must be a string"):
        normalize_email(42)  # type: ignore[arg-type]


_atom = st.text("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
_label = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?\Z")
addresses = st.builds(
    lambda locals_, labels, tld, upper: (
        (".".join(locals_) + "@" + ".".join([*labels, tld])).upper()
        if upper
        else ".".join(locals_) + "@" + ".".join([*labels, tld])
    ),
    st.lists(_atom, min_size=1, max_size=3),
    st.lists(_label, min_size=1, max_size=3),
    st.from_regex(r"\A[a-z]{2,6}\Z"),
    st.booleans(),
)


@settings(max_examples=300)
@given(addresses)
def test_fast_path_agrees_with_email_validator(address: str) -> None:
    try:
        local, domain = _validate(address)
    except NormalizationError:
        with pytest.raises(NormalizationError):
            normalize_email(address)
        return
    assert normalize_email(address) == f"{local.casefold()}@{domain}"


@given(addresses)
def test_idempotent(address: str) -> None:
    try:
        once = normalize_email(address)
    except NormalizationError:
        return
    assert normalize_email(once) == once
    assert normalize_email(once, provider_rules=True) == normalize_email(
        once, provider_rules=True, fold_plus_tags=False
    )


@given(st.text(max_size=60))
def test_any_text_gives_an_address_or_a_normalization_error(text: str) -> None:
    try:
        result = normalize_email(text)
    except NormalizationError:
        return
    email_validator.validate_email(result, check_deliverability=False)
