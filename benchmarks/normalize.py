"""Per-value cost of omnicx's email and phone normalization, cold and warm.

Self-contained: a seeded generator makes realistic raw values (the forms real
channels send: E.164, spaced, dashed, trunk prefix "(0)", US national, WhatsApp
digits without "+"; emails in mixed case with stray white space), with repeats
as in real traffic (a customer writes many times). In the same run, the peer is
plain phonenumbers parse + format (and plain email-validator) of the same values.

    python benchmarks/normalize.py [N]        # N values of each kind, default 200000
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

import email_validator
import phonenumbers

from omnicx.normalize import normalize_email, normalize_phone
from omnicx.normalize._email import _normalize as _email_cache
from omnicx.normalize._phone import _cached as _phone_cache

COUNTRIES = {"US": 0.45, "GB": 0.15, "DE": 0.1, "FR": 0.1, "BR": 0.1, "IN": 0.1}
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "acme.io", "example.org"]


def make_phones(rng: random.Random, n: int) -> list[str]:
    distinct: list[tuple[phonenumbers.PhoneNumber, str]] = []
    regions = list(COUNTRIES)
    weights = list(COUNTRIES.values())
    while len(distinct) < max(1, n // 3):
        region = rng.choices(regions, weights)[0]
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None
        national = str(example.national_number)
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(national[:-5] + f"{rng.randrange(100000):05d}"),
        )
        if phonenumbers.is_valid_number(number):
            distinct.append((number, region))
    values = []
    fmt = phonenumbers.PhoneNumberFormat
    for _ in range(n):
        number, region = distinct[
            min(int(rng.paretovariate(1.2)) - 1, len(distinct) - 1)
            if rng.random() < 0.5
            else rng.randrange(len(distinct))
        ]
        e164 = phonenumbers.format_number(number, fmt.E164)
        intl = phonenumbers.format_number(number, fmt.INTERNATIONAL)
        style = rng.random()
        if style < 0.30:
            values.append(e164)
        elif style < 0.45:
            values.append(intl)
        elif style < 0.55:
            values.append(intl.replace(" ", "-"))
        elif style < 0.70:
            values.append(e164[1:])  # WhatsApp wa_id
        elif style < 0.80 and region != "US":
            cc = str(number.country_code)
            values.append(f"+{cc} (0) {intl.split(' ', 1)[1]}")  # trunk prefix
        elif region == "US":
            values.append(phonenumbers.format_number(number, fmt.NATIONAL))  # (415) 555-0123
        else:
            values.append(e164)
    return values


def make_emails(rng: random.Random, n: int) -> list[str]:
    first = ["ana", "li", "john", "maria", "wei", "fatima", "olga", "sam", "noah", "emma", "yuki", "omar"]
    distinct = [
        f"{rng.choice(first)}{rng.choice(['.', '_', ''])}{rng.randrange(10**6)}@{rng.choice(DOMAINS)}"
        for _ in range(max(1, n // 3))
    ]
    values = []
    for _ in range(n):
        address = distinct[rng.randrange(len(distinct))]
        style = rng.random()
        if style < 0.2:
            address = address.upper()
        elif style < 0.4:
            address = address.title()
        elif style < 0.5:
            address = f"  {address} "
        values.append(address)
    return values


def per_value_us(fn: Callable[[str], object], values: list[str]) -> float:
    start = time.perf_counter()
    for value in values:
        fn(value)
    return (time.perf_counter() - start) / len(values) * 1e6


def plain_phonenumbers(value: str) -> str:
    number = phonenumbers.parse(value if value[:1] in "+(" or not value.isdigit() else "+" + value, "US")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def plain_email_validator(value: str) -> str:
    return email_validator.validate_email(value.strip(), check_deliverability=False).normalized


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rng = random.Random(20261124)
    phones, emails = make_phones(rng, n), make_emails(rng, n)
    distinct_phones, distinct_emails = len(set(phones)), len(set(emails))

    def omnicx_phone(value: str) -> str:
        return normalize_phone(value, region="US")

    rows = []
    for label, fn, values, cache in [
        ("phone: omnicx normalize_phone", omnicx_phone, phones, _phone_cache),
        ("phone: plain phonenumbers parse+format", plain_phonenumbers, phones, None),
        ("email: omnicx normalize_email", normalize_email, emails, _email_cache),
        ("email: plain email-validator", plain_email_validator, emails, None),
    ]:
        unique = list(dict.fromkeys(values))
        if cache is not None:
            cache.cache_clear()
        distinct = per_value_us(fn, unique)
        if cache is not None:
            cache.cache_clear()
        cold = per_value_us(fn, values)
        warm = per_value_us(fn, values)
        rows.append((label, distinct, cold, warm))

    # agreement check: omnicx and the peer give the same E.164 on every value both accept
    disagree = 0
    for value in phones:
        try:
            peer = plain_phonenumbers(value)
        except phonenumbers.NumberParseException:
            continue
        if omnicx_phone(value) != peer:
            disagree += 1

    print(
        f"normalization benchmark: {n} phones ({distinct_phones} distinct raw forms), "
        f"{n} emails ({distinct_emails} distinct), Python {sys.version.split()[0]}"
    )
    print()
    print(
        f"| {'contender':<40} | {'distinct µs':>11} | {'cold µs/value':>13} | {'warm µs/value':>13} | {'values/s warm':>13} |"
    )
    print(f"|{'-' * 42}|{'-' * 12}:|{'-' * 14}:|{'-' * 14}:|{'-' * 14}:|")
    for label, distinct, cold, warm in rows:
        print(f"| {label:<40} | {distinct:>11.2f} | {cold:>13.2f} | {warm:>13.2f} | {1e6 / warm:>13,.0f} |")
    print()
    print(f"phones where omnicx and plain phonenumbers disagree: {disagree}")
    print("distinct: each distinct raw value once, caches cleared (the worst case);")
    print("cold: the realistic stream (with repeats) with caches cleared; warm: the same stream again.")


if __name__ == "__main__":
    main()
