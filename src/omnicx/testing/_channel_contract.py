"""``ChannelAdapterContract``: the conformance suite every channel adapter passes.

Subclass it in a test module, name the subclass ``Test…`` and fill in a few
class attributes; pytest collects every check below for your adapter::

    class TestAcmeChat(ChannelAdapterContract):
        adapter_class = AcmeChatAdapter
        config = AcmeChatConfig(secret="s3cret")
        wrong_config = AcmeChatConfig(secret="not-the-secret")
        signature_headers = ("x-acme-signature",)
        golden_cases = (GoldenCase.from_file("text", FIXTURES / "acme_text.json", [{...}]),)

        def sign(self, request, config, sent_at):
            ...  # return the request with the signature headers the channel would send

The checks: metadata; signatures (good, tampered body, wrong secret, missing
header, stale timestamp → :class:`~omnicx.errors.SignatureError` and nothing
else); every golden case parses to its expected events; dedupe keys are stable
across redelivery; timestamps are aware UTC; identifiers are normalized;
hypothesis mutations of every golden payload raise only
:class:`~omnicx.errors.OmnicxError` subclasses; the body size limit is
enforced; outbound requests (where declared) cannot carry injected headers;
and none of it touches the network.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    ChannelAdapter,
    OutboundMessage,
    adapter_problems,
)
from omnicx.errors import OmnicxError, PayloadError, SignatureError, ValidationError
from omnicx.models import Identifier, InboundEvent, InboundRequest, OutboundRequest
from omnicx.normalize import normalize_identifier
from omnicx.testing._golden import SUMMARY_KEYS, GoldenCase, summarize
from omnicx.testing._network import block_network

__all__ = ["ChannelAdapterContract"]

_SECRET_NAME = re.compile(r"secret|token|password|api_key|signing_key", re.IGNORECASE)
_INJECTION = "hello\r\nBcc: victim@example.org\r\nX-Injected: 1\n\rX: 2"


class ChannelAdapterContract:
    """Contract tests for a :class:`~omnicx.channels.ChannelAdapter`; subclass as ``Test…``.

    Class attributes to set:

    * ``adapter_class`` (required): the adapter under test;
    * ``config``: its configuration (a ``Config`` instance or a mapping) with the
      secret the golden requests are signed with; ``None`` for the defaults;
    * ``wrong_config``: the same configuration with a different secret (required
      when the adapter declares :attr:`Capability.SIGNATURES`);
    * ``golden_cases``: :class:`~omnicx.testing.GoldenCase` objects (at least one);
    * ``signature_headers``: the headers that carry the signature; the
      missing-header check removes them;
    * ``signs_body``: ``False`` for schemes that authenticate the sender but not
      the body (a shared-secret header); skips the tampered-body check;
    * ``replay_window``: the channel's tolerance for its timestamp, ``None`` when
      requests carry no timestamp;
    * ``outbound_endpoint``: an identifier to send to, required with
      :attr:`Capability.OUTBOUND`;
    * ``mutation_examples``: hypothesis examples per golden case (default 40).

    Override :meth:`sign` to sign requests as the channel does, and
    :meth:`tamper` if changing one character of the body does not suit the
    channel.
    """

    adapter_class: ClassVar[type[ChannelAdapter[Any]]]
    config: ClassVar[AdapterConfig | Mapping[str, Any] | None] = None
    wrong_config: ClassVar[AdapterConfig | Mapping[str, Any] | None] = None
    golden_cases: ClassVar[Sequence[GoldenCase]] = ()
    signature_headers: ClassVar[tuple[str, ...]] = ()
    signs_body: ClassVar[bool] = True
    replay_window: ClassVar[timedelta | None] = None
    outbound_endpoint: ClassVar[Identifier | None] = None
    mutation_examples: ClassVar[int] = 40

    # --- hooks for adapter authors ----------------------------------------------

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        """Return ``request`` signed with ``config``'s secret as if the channel sent it at ``sent_at``.

        The default returns the request unchanged (channels without signatures).
        Use ``request.model_copy(update={"headers": {...}})`` to add headers.
        """
        return request

    def tamper(self, request: InboundRequest) -> InboundRequest:
        """Return ``request`` with its body changed after signing (default: one character changed)."""
        body = bytearray(request.body)
        for index in range(len(body) - 1, -1, -1):
            char = chr(body[index])
            if char.isdigit():
                body[index] = ord("0" if char == "9" else chr(ord(char) + 1))
                break
            if char.isascii() and char.isalpha():
                body[index] = ord("a" if char in "zZ" else chr(ord(char) + 1))
                break
        else:
            body.extend(b" ")
        return request.model_copy(update={"body": bytes(body)})

    # --- plumbing ---------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize ``golden_case`` with every golden case, named by its ``name``."""
        if "golden_case" in metafunc.fixturenames:
            cases = self._cases()
            metafunc.parametrize("golden_case", cases, ids=[case.name for case in cases])

    @pytest.fixture(autouse=True)
    def _omnicx_no_network(self, monkeypatch: pytest.MonkeyPatch) -> None:
        block_network(monkeypatch)

    def _cases(self) -> list[GoldenCase]:
        cases = list(self.golden_cases)
        if not cases and hasattr(self, "adapter_class"):
            cases = [c for c in self.adapter_class.golden_cases() if isinstance(c, GoldenCase)]
        return cases

    def make_adapter(self, config: AdapterConfig | Mapping[str, Any] | None = None) -> ChannelAdapter[Any]:
        """An adapter built with ``config`` (default: :attr:`config`)."""
        return self.adapter_class(self.config if config is None else config)

    def _good_config(self) -> AdapterConfig:
        config: AdapterConfig = self.make_adapter().config
        return config

    def _signed(self, case: GoldenCase, *, received_at: datetime | None = None) -> InboundRequest:
        request = case.request
        if received_at is not None:
            request = request.model_copy(update={"received_at": received_at})
        return self.sign(request, self._good_config(), request.received_at)

    def _has(self, capability: Capability) -> bool:
        return capability in self.adapter_class.capabilities

    def _need_signatures(self) -> None:
        if not self._has(Capability.SIGNATURES):
            pytest.skip(f"{self.adapter_class.name} does not declare Capability.SIGNATURES")

    def _parse_ok(self, case: GoldenCase, **kwargs: Any) -> list[InboundEvent]:
        if case.raises is not None:
            pytest.skip(f"golden case {case.name!r} is refused with {case.raises.__name__}")
        return self.make_adapter().parse(self._signed(case, **kwargs))

    # --- metadata ---------------------------------------------------------------

    def test_metadata(self) -> None:
        """The class passes registration checks and declares sensible metadata."""
        problems = adapter_problems(self.adapter_class)
        assert not problems, " ".join(problems)
        assert Capability.INBOUND in self.adapter_class.capabilities, "declare Capability.INBOUND"
        adapter = self.make_adapter()
        assert isinstance(adapter.config, self.adapter_class.Config)

    def test_secrets_are_secretstr(self) -> None:
        """Config fields that hold secrets are SecretStr so they never print."""
        config_class = self.adapter_class.Config
        hints = typing.get_type_hints(config_class)
        for field in config_class.model_fields:
            if _SECRET_NAME.search(field):
                annotation = hints[field]
                allowed = {SecretStr, SecretStr | None}
                assert annotation in allowed, (
                    f"{config_class.__name__}.{field} looks like a secret: declare it as SecretStr"
                )

    def test_has_golden_cases(self) -> None:
        """Every adapter ships at least one golden case taken from a real payload."""
        assert self._cases(), "set golden_cases to at least one GoldenCase built from a real payload"

    # --- signatures -------------------------------------------------------------

    def test_good_signature_verifies(self, golden_case: GoldenCase) -> None:
        assert self.make_adapter().verify(self._signed(golden_case)) is None

    def test_tampered_body_is_refused(self, golden_case: GoldenCase) -> None:
        self._need_signatures()
        if not self.signs_body:
            pytest.skip("the signature scheme does not cover the body (signs_body = False)")
        tampered = self.tamper(self._signed(golden_case))
        assert tampered.body != golden_case.request.body, "tamper() must change the body"
        with pytest.raises(SignatureError):
            self.make_adapter().verify(tampered)

    def test_wrong_secret_is_refused(self, golden_case: GoldenCase) -> None:
        self._need_signatures()
        assert self.wrong_config is not None, "set wrong_config: the config with a different secret"
        wrong = self.make_adapter(self.wrong_config).config
        request = self.sign(golden_case.request, wrong, golden_case.request.received_at)
        with pytest.raises(SignatureError):
            self.make_adapter().verify(request)

    def test_missing_signature_header_is_refused(self, golden_case: GoldenCase) -> None:
        self._need_signatures()
        assert self.signature_headers, "set signature_headers: the headers that carry the signature"
        signed = self._signed(golden_case)
        dropped = {h.lower() for h in self.signature_headers}
        headers = {k: v for k, v in signed.headers.items() if k not in dropped}
        assert headers != signed.headers, f"sign() did not set any of {self.signature_headers}"
        with pytest.raises(SignatureError):
            self.make_adapter().verify(signed.model_copy(update={"headers": headers}))

    def test_stale_timestamp_is_refused(self, golden_case: GoldenCase) -> None:
        self._need_signatures()
        if self.replay_window is None:
            pytest.skip("the channel sends no timestamp (replay_window = None)")
        request = golden_case.request
        adapter, config = self.make_adapter(), self._good_config()
        margin = timedelta(minutes=1)
        for sent_at in (
            request.received_at - self.replay_window - margin,
            request.received_at + self.replay_window + margin,
        ):
            with pytest.raises(SignatureError):
                adapter.verify(self.sign(request, config, sent_at))
        within = self.sign(request, config, request.received_at - self.replay_window / 2)
        assert adapter.verify(within) is None

    def test_unsigned_adapter_accepts_golden_requests(self, golden_case: GoldenCase) -> None:
        if self._has(Capability.SIGNATURES):
            pytest.skip("covered by the signature checks")
        assert self.make_adapter().verify(golden_case.request) is None

    # --- parsing ----------------------------------------------------------------

    def test_golden_case_parses_to_expected_events(self, golden_case: GoldenCase) -> None:
        adapter = self.make_adapter()
        request = self._signed(golden_case)
        assert adapter.handshake(request) is None, "a golden event request is not a handshake"
        if golden_case.raises is not None:
            with pytest.raises(golden_case.raises):
                adapter.parse(request)
            return
        events = adapter.parse(request)
        assert isinstance(events, list)
        assert all(isinstance(e, InboundEvent) for e in events)
        summaries = [summarize(e) for e in events]
        assert len(summaries) == len(golden_case.expected), (
            f"{golden_case.name}: {len(summaries)} events parsed, {len(golden_case.expected)} expected: "
            f"{summaries}"
        )
        for index, (got, want) in enumerate(zip(summaries, golden_case.expected, strict=True)):
            unknown = sorted(set(want) - set(SUMMARY_KEYS))
            assert not unknown, f"unknown summary keys {unknown}; use keys from {SUMMARY_KEYS}"
            missing = sorted(set(want) - set(got))
            assert not missing, f"event {index} is a {got['type']}, which has no {missing}"
            wrong = {
                key: {"parsed": got[key], "expected": want[key]} for key in want if got[key] != want[key]
            }
            assert not wrong, f"{golden_case.name} event {index} differs: {wrong}"

    def test_events_name_this_adapter(self, golden_case: GoldenCase) -> None:
        for event in self._parse_ok(golden_case):
            assert event.interaction.adapter == self.adapter_class.name

    def test_parse_is_deterministic(self, golden_case: GoldenCase) -> None:
        """Parsing the same request twice gives equal events: no clock, no randomness, no state."""
        adapter = self.make_adapter()
        request = self._signed(golden_case)
        if golden_case.raises is not None:
            pytest.skip(f"golden case {golden_case.name!r} is refused with {golden_case.raises.__name__}")
        first = adapter.parse(request)
        assert self.make_adapter().parse(request) == first
        assert adapter.parse(request) == first

    def test_dedupe_keys_are_stable_across_redelivery(self, golden_case: GoldenCase) -> None:
        first = self._parse_ok(golden_case)
        later = golden_case.request.received_at + timedelta(hours=6, seconds=17)
        again = self._parse_ok(golden_case, received_at=later)
        keys = [e.interaction.dedupe_key for e in first]
        assert keys == [e.interaction.dedupe_key for e in again]
        assert [e.interaction.id for e in first] == [e.interaction.id for e in again]
        assert len(set(keys)) == len(keys), f"two events of one payload share a dedupe key: {keys}"

    def test_timestamps_are_aware_utc(self, golden_case: GoldenCase) -> None:
        for event in self._parse_ok(golden_case):
            for moment in (event.interaction.occurred_at, event.interaction.received_at):
                assert moment.tzinfo is not None
                assert moment.utcoffset() == timedelta(0)

    def test_identifiers_are_normalized(self, golden_case: GoldenCase) -> None:
        for event in self._parse_ok(golden_case):
            endpoint = event.interaction.endpoint
            observed = [o.identifier for o in event.identifiers]
            assert endpoint in observed, f"the endpoint {endpoint} is not among the event's identifiers"
            for ident in [endpoint, *observed]:
                assert normalize_identifier(ident.kind, ident.value, ident.scope) == ident, (
                    f"{ident} is not in canonical form"
                )

    # --- hostile input ----------------------------------------------------------

    def test_oversized_body_is_refused(self, golden_case: GoldenCase) -> None:
        size = len(golden_case.request.body)
        if size < 2:
            pytest.skip("the golden request has no body to shrink the limit under")
        config = self._good_config().model_copy(update={"max_body_bytes": size - 1})
        with pytest.raises(PayloadError):
            self.make_adapter(config).parse(self._signed(golden_case))

    def test_mutations_raise_only_omnicx_errors(self, golden_case: GoldenCase) -> None:
        from hypothesis import HealthCheck, given, settings

        from omnicx.testing._mutations import body_mutations

        adapter = self.make_adapter()
        config = self._good_config()
        request = golden_case.request
        strategy = body_mutations(request.body, request.header("content-type"))

        @settings(
            max_examples=self.mutation_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(body=strategy)
        def check(body: bytes) -> None:
            damaged = self.sign(request.model_copy(update={"body": body}), config, request.received_at)
            try:
                adapter.verify(damaged)
                events = adapter.parse(damaged)
            except OmnicxError:
                return
            assert isinstance(events, list)
            assert all(isinstance(e, InboundEvent) for e in events)

        check()

    # --- outbound ---------------------------------------------------------------

    def test_outbound_refuses_a_tag_the_channel_does_not_take(self) -> None:
        """A message tag outside ``message_tags`` is refused with ValidationError, not dropped:
        ``build_outbound`` calls ``self.check_tag(message)`` first."""
        if not self._has(Capability.OUTBOUND):
            pytest.skip(f"{self.adapter_class.name} does not declare Capability.OUTBOUND")
        assert self.outbound_endpoint is not None, "set outbound_endpoint to build outbound requests"
        tag = "OMNICX_NO_SUCH_TAG"
        assert tag not in self.adapter_class.message_tags
        with pytest.raises(ValidationError, match="tag"):
            self.make_adapter().build_outbound(OutboundMessage(text="hello", tag=tag), self.outbound_endpoint)

    def test_outbound_cannot_inject_headers(self) -> None:
        if not self._has(Capability.OUTBOUND):
            pytest.skip(f"{self.adapter_class.name} does not declare Capability.OUTBOUND")
        assert self.outbound_endpoint is not None, "set outbound_endpoint to build outbound requests"
        message = OutboundMessage(text=_INJECTION, subject=_INJECTION, reply_to="<a@b>\r\nBcc: x@y.z")
        try:
            built = self.make_adapter().build_outbound(message, self.outbound_endpoint)
        except OmnicxError:
            return
        assert isinstance(built, OutboundRequest)
        for name, value in built.headers.items():
            assert not re.search(r"[\r\n]", name + value), f"header {name!r} carries a line break"
        assert not re.search(r"[\r\n]", built.url), "the outbound URL carries a line break"
