"""normalize_identifier: the one entry point from a raw value to an Identifier."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnicx import Identifier, NormalizationError, normalize_identifier


@pytest.mark.parametrize(
    ("kind", "raw", "scope", "expected"),
    [
        ("email", "Ana@Example.com", None, "email:ana@example.com"),
        ("phone", "+44 (0) 7911 123456", None, "phone:+447911123456"),
        ("phone", 447911123456, None, "phone:+447911123456"),
        ("messenger_psid", 2468013579, 1029384756, "messenger_psid@1029384756:2468013579"),
        (
            "instagram_igsid",
            " 17841400000 ",
            "17841405822304914",
            "instagram_igsid@17841405822304914:17841400000",
        ),
        ("whatsapp_bsuid", "US.13491208655302741918", None, "whatsapp_bsuid:US.13491208655302741918"),
        (
            "whatsapp_bsuid",
            "US.ENT.11815799212886844830",
            "1234",
            "whatsapp_bsuid@1234:US.ENT.11815799212886844830",
        ),
        ("telegram_user_id", "1111111", None, "telegram_user_id:1111111"),
        ("chat_visitor", "v_9f8e7d", "site-1", "chat_visitor@site-1:v_9f8e7d"),
        ("external_id", "CRM-00042", None, "external_id:CRM-00042"),
        ("acme_loyalty", "LOY 77", None, "acme_loyalty:LOY 77"),  # a plugin kind
    ],
)
def test_kinds(kind: str, raw: str | int, scope: str | int | None, expected: str) -> None:
    result = normalize_identifier(kind, raw, scope)
    assert str(result) == expected
    assert Identifier.parse(expected) == result


def test_national_phone_with_region() -> None:
    assert normalize_identifier("phone", "(415) 555-0123", region="US").value == "+14155550123"


@pytest.mark.parametrize(
    ("kind", "raw", "scope", "message"),
    [
        ("messenger_psid", "123", None, "pass scope="),
        ("messenger_psid", "12ab", "9", "digits of a page-scoped id"),
        ("whatsapp_bsuid", "13491208655302741918", None, "business-scoped user id"),
        ("telegram_user_id", "-100123", None, "positive integer"),
        ("chat_visitor", "has space", None, "letters, digits"),
        ("Bad Kind", "x", None, "not an identifier kind"),
        ("external_id", "", None, "cannot be empty"),
        ("external_id", "a\x00b", None, "control characters"),
        ("external_id", True, None, "string or an int"),
        ("email", "ana@example.com", "bad scope!", "scope"),
    ],
)
def test_refused(kind: str, raw: object, scope: str | None, message: str) -> None:
    with pytest.raises(NormalizationError, match=message):
        normalize_identifier(kind, raw, scope)  # type: ignore[arg-type]


@given(
    st.sampled_from(["external_id", "chat_visitor", "telegram_user_id", "acme_id"]),
    st.text(max_size=30),
)
def test_idempotent_or_refused(kind: str, raw: str) -> None:
    try:
        once = normalize_identifier(kind, raw)
    except NormalizationError:
        return
    assert normalize_identifier(once.kind, once.value, once.scope) == once
