"""The conformance kit catches what it promises to catch.

A small correct adapter passes every check; each deliberately broken copy of it
fails the check that guards against that mistake (run in a nested pytest).
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

ADAPTER = """
import hashlib, hmac, json
from datetime import datetime
from typing import ClassVar
from pydantic import SecretStr
from omnicx.channels import AdapterConfig, Capability, ChannelAdapter
from omnicx.errors import NormalizationError, PayloadError, SignatureError
from omnicx.models import Author, AuthorRole, Direction, InboundEvent, Message, ObservedIdentifier, TextPart
from omnicx.normalize import normalize_identifier, normalize_timestamp


class TinyConfig(AdapterConfig):
    secret: SecretStr


class TinyAdapter(ChannelAdapter[TinyConfig]):
    name = "tiny"
    display_name = "Tiny"
    api_version = "1"
    capabilities = frozenset({Capability.INBOUND, Capability.SIGNATURES})
    Config = TinyConfig

    def verify(self, request):
        given = request.header("x-tiny-signature") or ""
        key = self.config.secret.get_secret_value().encode()
        if not hmac.compare_digest(hmac.new(key, request.body, hashlib.sha256).hexdigest(), given):
            raise SignatureError("bad signature", channel=self.name)

    def parse(self, request):
        body = self.checked_body(request)
        try:
            doc = json.loads(body)
            sender = normalize_identifier("email", doc["from"])
            when = normalize_timestamp(doc["ts"])
            text, key = str(doc["text"]), str(doc["id"])
            message = Message(
                channel="tiny", adapter=self.name, dedupe_key=key, occurred_at=when,
                received_at=request.received_at, direction=Direction.INBOUND,
                author=Author(role=AuthorRole.CUSTOMER), endpoint=sender, parts=(TextPart(text=text),),
            )
        except (ValueError, KeyError, TypeError, NormalizationError) as exc:  # pydantic's error is a ValueError
            raise PayloadError(f"bad tiny payload: {exc!r}"[:300], channel=self.name) from None
        return [InboundEvent(interaction=message, identifiers=(ObservedIdentifier(identifier=sender),))]
"""

TEST = """
import hashlib, hmac
from tiny_adapter import TinyAdapter, TinyConfig
from omnicx.testing import ChannelAdapterContract, GoldenCase, inbound_request

BODY = b'{"id": "m1", "from": "Ana@Example.com", "text": "hello", "ts": "2024-05-01T10:00:00+02:00"}'


class TestTiny(ChannelAdapterContract):
    adapter_class = TinyAdapter
    config = TinyConfig(secret="s3cret-s3cret")
    wrong_config = TinyConfig(secret="other-secret")
    signature_headers = ("x-tiny-signature",)
    mutation_examples = 25
    golden_cases = (
        GoldenCase(
            name="text",
            request=inbound_request(BODY),
            expected=({"dedupe_key": "m1", "endpoint": "email:ana@example.com", "text": "hello",
                       "occurred_at": "2024-05-01T08:00:00+00:00"},),
        ),
    )

    def sign(self, request, config, sent_at):
        key = config.secret.get_secret_value().encode()
        digest = hmac.new(key, request.body, hashlib.sha256).hexdigest()
        return request.model_copy(update={"headers": {**request.headers, "x-tiny-signature": digest}})
"""


def run(pytester: pytest.Pytester, adapter: str) -> pytest.RunResult:
    pytester.makepyfile(tiny_adapter=adapter, test_tiny=TEST)
    pytester.syspathinsert()
    return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning")


def failed_checks(result: pytest.RunResult) -> set[str]:
    names = set()
    for line in result.outlines:
        if line.startswith("FAILED "):
            names.add(line.split("::")[2].split("[")[0].split(" ")[0])
    return names


def test_a_correct_adapter_passes_every_check(pytester: pytest.Pytester) -> None:
    result = run(pytester, ADAPTER)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 12


@pytest.mark.parametrize(
    ("bug", "original", "replacement", "caught_by"),
    [
        (
            "verify accepts anything",
            'raise SignatureError("bad signature", channel=self.name)',
            "pass",
            {
                "test_tampered_body_is_refused",
                "test_wrong_secret_is_refused",
                "test_missing_signature_header_is_refused",
            },
        ),
        (
            "verify raises ValueError",
            'raise SignatureError("bad signature", channel=self.name)',
            "raise ValueError('bad signature')",
            {
                "test_tampered_body_is_refused",
                "test_wrong_secret_is_refused",
                "test_missing_signature_header_is_refused",
            },
        ),
        (
            "a bare KeyError escapes on garbage",
            "except (ValueError, KeyError, TypeError, NormalizationError)",
            "except (ValueError, TypeError, NormalizationError)",
            {"test_mutations_raise_only_omnicx_errors"},
        ),
        (
            "dedupe key depends on the time of receipt",
            "dedupe_key=key,",
            "dedupe_key=key + request.received_at.isoformat(),",
            {"test_dedupe_keys_are_stable_across_redelivery", "test_golden_case_parses_to_expected_events"},
        ),
        (
            "identifier not normalized",
            'sender = normalize_identifier("email", doc["from"])',
            'from omnicx.models import Identifier; sender = Identifier(kind="email", value=doc["from"])',
            {"test_identifiers_are_normalized", "test_golden_case_parses_to_expected_events"},
        ),
        (
            "endpoint missing from identifiers",
            "identifiers=(ObservedIdentifier(identifier=sender),)",
            "identifiers=()",
            {"test_identifiers_are_normalized"},
        ),
        (
            "size limit ignored",
            "body = self.checked_body(request)",
            "body = request.body",
            {"test_oversized_body_is_refused"},
        ),
        (
            "network used while parsing",
            "body = self.checked_body(request)",
            "import socket; socket.create_connection(('example.com', 80)); body = self.checked_body(request)",
            {"test_golden_case_parses_to_expected_events", "test_mutations_raise_only_omnicx_errors"},
        ),
        (
            "a random id in every parse",
            "dedupe_key=key,",
            "dedupe_key=key, metadata={'nonce': __import__('uuid').uuid4().hex},",
            {"test_parse_is_deterministic"},
        ),
        (
            "secret declared as plain str",
            "secret: SecretStr",
            "secret: str",
            {"test_secrets_are_secretstr"},
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_a_broken_adapter_fails_the_check_that_guards_against_it(
    pytester: pytest.Pytester, bug: str, original: str, replacement: str, caught_by: set[str]
) -> None:
    assert original in ADAPTER
    result = run(pytester, ADAPTER.replace(original, replacement))
    assert caught_by <= failed_checks(result), f"{bug}: {result.stdout.str()[-3000:]}"


def test_an_adapter_missing_parse_fails_metadata_with_a_sentence(pytester: pytest.Pytester) -> None:
    broken = ADAPTER.replace("    def parse(self, request):", "    def parse_it(self, request):")
    result = run(pytester, broken)
    assert "test_metadata" in failed_checks(result)
    result.stdout.fnmatch_lines(
        ["*does not implement parse(); define parse(self, request) -> list?InboundEvent?*"]
    )
