"""Phone numbers: every style of a number gives one E.164; impossible numbers are refused."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from omnicx import NormalizationError, normalize_phone
from omnicx.normalize._phone import _normalize

REGIONS = [
    "US",
    "CA",
    "GB",
    "DE",
    "FR",
    "IT",
    "ES",
    "NL",
    "BR",
    "MX",
    "IN",
    "AU",
    "JP",
    "NG",
    "ZA",
    "SE",
    "CH",
    "AR",
]
PNF = phonenumbers.PhoneNumberFormat


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A real-looking number: a region's example with its last digits varied, kept only if valid."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(national[:-4] + tail),
        italian_leading_zero=example.italian_leading_zero,
    )
    assume(phonenumbers.is_valid_number(number))
    return region, number


@settings(max_examples=200)
@given(valid_numbers())
def test_five_styles_give_one_e164(case: tuple[str, phonenumbers.PhoneNumber]) -> None:
    region, number = case
    e164 = phonenumbers.format_number(number, PNF.E164)
    international = phonenumbers.format_number(number, PNF.INTERNATIONAL)
    styles = [
        e164,
        international,  # +44 7400 123456
        international.replace(" ", "-"),  # +44-7400-123456
        phonenumbers.format_number(number, PNF.RFC3966),  # tel:+44-7400-123456
        "00" + e164[1:],  # international call prefix
        e164[1:],  # WhatsApp's wa_id: digits without "+"
        "whatsapp:" + e164,  # Twilio's WhatsApp addresses
        f"  {international}\u00a0",  # stray white space
    ]
    results = {normalize_phone(style) for style in styles}
    national = phonenumbers.format_number(number, PNF.NATIONAL)  # (415) 555-0123, 07400 123456
    results.add(normalize_phone(national, region=region))
    assert results == {e164}


@settings(max_examples=200)
@given(valid_numbers())
def test_normalization_is_idempotent(case: tuple[str, phonenumbers.PhoneNumber]) -> None:
    region, number = case
    once = normalize_phone(phonenumbers.format_number(number, PNF.NATIONAL), region=region)
    assert normalize_phone(once) == once
    assert normalize_phone(once, region="US") == once


@settings(max_examples=200)
@given(valid_numbers(), st.sampled_from([None, "US", "GB", "CA"]))
def test_fast_path_agrees_with_the_full_parser(
    case: tuple[str, phonenumbers.PhoneNumber], region: str | None
) -> None:
    _, number = case
    for text in (
        phonenumbers.format_number(number, PNF.E164),
        phonenumbers.format_number(number, PNF.INTERNATIONAL),
        phonenumbers.format_number(number, PNF.NATIONAL),
    ):
        try:
            full = _normalize(text, region)
        except NormalizationError:
            with pytest.raises(NormalizationError):
                normalize_phone(text, region=region)
            continue
        assert normalize_phone(text, region=region) == full


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 (0) 7911 123456", None, "+447911123456"),  # trunk prefix inside an international number
        ("+44 (0)7911-123-456", None, "+447911123456"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "us", "+14155550123"),
        ("1 (415) 555-0123", "US", "+14155550123"),  # national with trunk "1"
        ("447911123456", "US", "+447911123456"),  # not a US number: tried as international digits
        ("tel:+1-415-555-0123;ext=22", None, "+14155550123"),
        ("00 44 7911 123456", None, "+447911123456"),
        ("+39 06 1234 5678", None, "+390612345678"),  # Italian leading zero kept
        ("07911 123456", "GB", "+447911123456"),
    ],
)
def test_known_forms(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("+1 555", None, "wrong length"),
        ("+999 1234567", None, "not a phone number"),
        ("call me maybe", None, "not a phone number"),
        ("", None, "not a phone number"),
        ("(415) 555-0123", None, "region="),  # national without a region: say how to fix it
        ("123", "XX", "not a region"),
    ],
)
def test_refused_with_a_clear_error(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(NormalizationError, match=message) as info:
        normalize_phone(raw, region=region)
    assert info.value.kind == "phone"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("raw", [None, 14155550123, b"+14155550123"])
def test_non_strings_are_refused(raw: object) -> None:
    with pytest.raises(NormalizationError, match="must be a string"):
        normalize_phone(raw)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_any_text_gives_e164_or_a_normalization_error(text: str) -> None:
    try:
        result = normalize_phone(text)
    except NormalizationError:
        return
    assert result.startswith("+")
    assert result[1:].isdigit()
    assert phonenumbers.is_possible_number(phonenumbers.parse(result))


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from([1, 7, 20, 33, 39, 44, 49, 55, 86, 290, 380, 599, 882, 979]),
    national=st.integers(1, 10**15),
)
def test_the_possible_length_memo_answers_as_phonenumbers(code: int, national: int) -> None:
    from omnicx.normalize._phone import _possible

    number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
    assert _possible(code, national) == phonenumbers.is_possible_number(number)
