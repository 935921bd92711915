"""The extension point for channels: one small abstract base class.

A channel adapter turns the raw requests a channel sends into omnicx models, and
omnicx replies into the requests that channel expects. It never touches the
network, a database or the clock: ``verify`` and ``parse`` are pure functions of
the :class:`~omnicx.models.InboundRequest` (its ``received_at`` is the only
clock), and ``build_outbound`` a pure function of its arguments.

An adapter is checked when it is registered (:func:`validate_adapter_class`,
used by :class:`~omnicx.channels.ChannelRegistry`): a missing method or class
attribute fails there with a sentence saying what to implement, never later in
the middle of a webhook.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import timedelta
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from omnicx.errors import ConfigurationError, PayloadError, ValidationError
from omnicx.models import Identifier, InboundEvent, InboundRequest, OutboundRequest
from omnicx.models._base import NAME_PATTERN

__all__ = [
    "AdapterConfig",
    "Capability",
    "ChannelAdapter",
    "HandshakeResponse",
    "OutboundMessage",
    "adapter_problems",
]


class Capability(StrEnum):
    """What an adapter can do; hosts and the conformance kit read these."""

    INBOUND = "inbound"
    """Parses inbound payloads."""
    SIGNATURES = "signatures"
    """Verifies a signature or shared secret on inbound requests."""
    OUTBOUND = "outbound"
    """Builds outbound requests for replies."""
    STATUS = "status"
    """Parses delivery status callbacks."""
    MEDIA = "media"
    """Parses media attachments."""
    CALLS = "calls"
    """Parses call records."""
    THREADING = "threading"
    """Gives thread hints that tie replies to their parents."""


class AdapterConfig(BaseModel):
    """Base of every adapter's ``Config``: frozen, unknown keys refused.

    Declare secrets as :class:`pydantic.SecretStr` so they never print.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=1_048_576, gt=0)
    """Requests with a larger body are refused with PayloadError before parsing."""


class OutboundMessage(BaseModel):
    """What a host wants to send; adapters turn it into an :class:`OutboundRequest`.

    ``text`` is the message. ``template`` (name, language, components) is for
    channels that require pre-approved templates outside a service window.
    ``reply_to`` is the platform id (or email Message-ID) of the message being
    answered; ``references`` the email thread so far; ``subject`` for email.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None
    subject: str | None = None
    reply_to: str | None = None
    references: tuple[str, ...] = ()
    template_name: str | None = None
    template_language: str | None = None
    template_parameters: tuple[str, ...] = ()
    media_url: str | None = None
    sender: Identifier | None = None
    """The business endpoint to send from (email From, a Twilio number), where the channel needs one."""
    correlation_id: str | None = Field(default=None, max_length=1000)
    """An id the channel carries back on its echo of this message (Messenger's ``metadata``), so
    the echo is known for this message; ``Hub.reply`` sets it to the reply's interaction id."""
    tag: str | None = None
    """A message tag, on channels that take one (:attr:`ChannelAdapter.message_tags`): Messenger's
    and Instagram's ``HUMAN_AGENT`` carries a person's reply up to 7 days after the customer's
    last message, past the 24-hour window."""


class HandshakeResponse(BaseModel):
    """The HTTP response a host sends back for a subscription handshake.

    Meta's ``GET ?hub.mode=subscribe&hub.challenge=…`` is answered with status
    200 and the challenge as a plain-text body.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: int = Field(default=200, ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=lambda: {"content-type": "text/plain"})
    body: bytes = b""


ConfigT = TypeVar("ConfigT", bound=AdapterConfig)


def window_text(window: timedelta) -> str:
    """``24 hours``, ``7 days``: a window as a person reads it."""
    hours = window.total_seconds() / 3600
    if hours >= 48 and hours % 24 == 0:
        return f"{hours / 24:g} days"
    return f"{hours:g} hours"


# name -> what to write, for the sentences registration failures print
_REQUIRED_ATTRIBUTES: dict[str, str] = {
    "name": 'name = "acme_chat"  (lowercase, unique in the registry)',
    "display_name": 'display_name = "Acme Chat"',
    "api_version": 'api_version = "2024-01"  (the channel API version you wrote against)',
    "capabilities": "capabilities = frozenset({Capability.INBOUND, ...})",
}
_METHOD_HELP: dict[str, str] = {
    "verify": "verify(self, request) -> None, raising SignatureError when the request is not authentic",
    "parse": "parse(self, request) -> list[InboundEvent], raising PayloadError on a malformed payload",
}


class ChannelAdapter(ABC, Generic[ConfigT]):
    """Base class of every channel adapter.

    Subclasses declare the class attributes and implement the abstract methods::

        class AcmeChatAdapter(ChannelAdapter[AcmeChatConfig]):
            name = "acme_chat"
            display_name = "Acme Chat"
            api_version = "2024-01"
            capabilities = frozenset({Capability.INBOUND, Capability.SIGNATURES})
            Config = AcmeChatConfig

            def verify(self, request): ...
            def parse(self, request): ...

    An adapter instance holds only its frozen ``config``; it is safe to share
    between threads.
    """

    name: ClassVar[str]
    """Lowercase name, unique in a registry: ``whatsapp``, ``acme_chat``."""
    display_name: ClassVar[str]
    """What a person reads: ``WhatsApp Cloud API``."""
    api_version: ClassVar[str]
    """The version of the channel's API the adapter was written against."""
    capabilities: ClassVar[frozenset[Capability]]
    Config: ClassVar[type[AdapterConfig]] = AdapterConfig
    reply_window: ClassVar[timedelta | None] = None
    """How long after the customer's last inbound message the channel delivers a free-form
    reply (WhatsApp, Messenger, Instagram: 24 hours). ``None``: no such window. What goes past it
    (a template, a message tag) is :meth:`reply_refusal`'s to say."""
    message_tags: ClassVar[frozenset[str]] = frozenset()
    """The values :attr:`OutboundMessage.tag` may take on this channel (none by default)."""

    config: ConfigT

    def __init__(self, config: ConfigT | Mapping[str, Any] | None = None) -> None:
        """Build the adapter from its ``Config`` (an instance, a mapping, or nothing for the defaults).

        Raises :class:`~omnicx.errors.ConfigurationError` when the configuration
        is missing a required value (a secret) or has a wrong or unknown one.
        """
        self.config = self._coerce_config(config)

    @classmethod
    def _coerce_config(cls, config: object) -> ConfigT:
        config_class = cls.Config
        if isinstance(config, config_class):
            return config  # type: ignore[return-value]
        if isinstance(config, AdapterConfig):
            raise ConfigurationError(
                f"the {cls.name} adapter takes a {config_class.__name__}, got a {type(config).__name__}",
                channel=getattr(cls, "name", cls.__name__),
            )
        data: Mapping[str, Any]
        if config is None:
            data = {}
        elif isinstance(config, Mapping):
            data = config
        else:
            raise ConfigurationError(
                f"the {cls.name} adapter's config must be a {config_class.__name__} or a mapping, "
                f"got {type(config).__name__}",
                channel=cls.name,
            )
        try:
            return config_class.model_validate(dict(data))  # type: ignore[return-value]
        except PydanticValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigurationError(
                f"the {cls.name} adapter's configuration is invalid ({problems}); "
                f"see {config_class.__module__}.{config_class.__qualname__}",
                channel=cls.name,
            ) from None

    @abstractmethod
    def verify(self, request: InboundRequest) -> None:
        """Check the request's signature or shared secret.

        Return ``None`` when it verifies. Raise :class:`~omnicx.errors.SignatureError`
        (and nothing else) when the signature is missing, wrong, or outside the
        channel's replay window measured from ``request.received_at``.
        """

    @abstractmethod
    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Turn a verified request into events, in the order the payload lists them.

        Return one :class:`~omnicx.models.InboundEvent` per event in the payload
        (a batched webhook gives several; a handshake or ping gives none). Every
        event has a stable ``dedupe_key`` (a redelivery gives the same keys),
        aware UTC times, and normalized identifiers. Raise
        :class:`~omnicx.errors.PayloadError` for a malformed payload (including
        one larger than ``config.max_body_bytes``: call :meth:`checked_body`)
        and :class:`~omnicx.errors.UnsupportedEvent` for a well-formed one the
        adapter does not handle; never another exception.
        """

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """Build the HTTP request that sends ``message`` to ``endpoint``.

        Pure: the host sends the returned request with its own HTTP client.
        Adapters without :attr:`Capability.OUTBOUND` keep this default, which
        raises :class:`~omnicx.errors.ConfigurationError`.
        """
        raise ConfigurationError(
            f"the {self.name} adapter cannot send messages; implement build_outbound() "
            "and declare Capability.OUTBOUND to add it",
            channel=self.name,
        )

    def check_tag(self, message: OutboundMessage) -> None:
        """Raise :class:`~omnicx.errors.ValidationError` when ``message.tag`` is not one of
        :attr:`message_tags`: a channel without tags must not send a tagged message as an
        untagged one. ``build_outbound`` implementations call it."""
        tag = message.tag
        if tag is not None and tag not in self.message_tags:
            tags = f"; use one of {sorted(self.message_tags)}" if self.message_tags else ""
            raise ValidationError(
                f"{self.display_name} takes no message tag {tag[:40]!r}{tags}",
                channel=self.name,
                value=tag[:80],
            )

    def reply_refusal(self, message: OutboundMessage, elapsed: timedelta) -> str | None:
        """Why the channel would not deliver ``message`` sent ``elapsed`` after the customer's
        last inbound message; ``None`` when it would. The hub refuses such a reply with
        :class:`~omnicx.errors.ValidationError` before recording it.

        Default: refused past :attr:`reply_window`. Adapters whose channel lets something past
        the window (a template, a message tag) override this.
        """
        window = self.reply_window
        if window is None or elapsed <= window:
            return None
        return f"{self.display_name} delivers a reply only within {window_text(window)} of the customer's last message"

    def handshake(self, request: InboundRequest) -> HandshakeResponse | None:
        """Answer a subscription handshake (Meta's ``hub.challenge``), if this request is one.

        Return the :class:`HandshakeResponse` to send, or ``None`` when the
        request is not a handshake (then verify and parse it as usual). Raise
        :class:`~omnicx.errors.SignatureError` when it is a handshake whose
        token does not match. Default: ``None``.
        """
        return None

    def checked_body(self, request: InboundRequest) -> bytes:
        """Return ``request.body``, refusing bodies larger than ``config.max_body_bytes``.

        Raises :class:`~omnicx.errors.PayloadError` for an oversized body, so a
        hostile sender cannot make the parser chew on gigabytes.
        """
        size = len(request.body)
        limit = self.config.max_body_bytes
        if size > limit:
            raise PayloadError(
                f"the {self.name} request body is {size} bytes, more than the {limit} allowed; "
                "raise max_body_bytes in the adapter's config if such payloads are legitimate",
                channel=self.name,
                size=size,
                limit=limit,
            )
        return request.body

    @classmethod
    def golden_cases(cls) -> Sequence[object]:
        """Optional golden cases shipped with the adapter; ``ChannelAdapterContract`` reads them
        when its own ``golden_cases`` is empty (see :mod:`omnicx.testing`)."""
        return ()


def adapter_problems(candidate: object) -> list[str]:
    """Everything that keeps ``candidate`` from being a usable adapter class, as sentences.

    An empty list means the class can be registered. Each sentence names what to
    implement or fix.
    """
    if not isinstance(candidate, type) or not issubclass(candidate, ChannelAdapter):
        return [
            f"{candidate!r} is not a ChannelAdapter subclass; subclass "
            "omnicx.channels.ChannelAdapter and point the entry point at that class"
        ]
    problems: list[str] = []
    label = f"{candidate.__module__}.{candidate.__qualname__}"
    for attribute, example in _REQUIRED_ATTRIBUTES.items():
        if not hasattr(candidate, attribute):
            problems.append(f"{label} has no class attribute {attribute!r}; add `{example}`")
    name = getattr(candidate, "name", None)
    if hasattr(candidate, "name") and not (isinstance(name, str) and NAME_PATTERN.match(name)):
        problems.append(
            f"{label}.name is {name!r}; it must be a lowercase name of 1-40 letters, digits or _ "
            "starting with a letter, such as 'acme_chat'"
        )
    for attribute in ("display_name", "api_version"):
        value = getattr(candidate, attribute, None)
        if hasattr(candidate, attribute) and not (isinstance(value, str) and value.strip()):
            problems.append(f"{label}.{attribute} is {value!r}; set it to a non-empty string")
    capabilities = getattr(candidate, "capabilities", None)
    if hasattr(candidate, "capabilities") and not (
        isinstance(capabilities, frozenset) and all(isinstance(c, Capability) for c in capabilities)
    ):
        problems.append(
            f"{label}.capabilities is {capabilities!r}; it must be a frozenset of omnicx.channels.Capability"
        )
    config = getattr(candidate, "Config", None)
    if not (isinstance(config, type) and issubclass(config, AdapterConfig)):
        problems.append(
            f"{label}.Config is {config!r}; it must be a subclass of omnicx.channels.AdapterConfig"
        )
    for method in sorted(getattr(candidate, "__abstractmethods__", ())):
        needed = _METHOD_HELP.get(method, f"{method}()")
        problems.append(f"{label} does not implement {method}(); define {needed}")
    if (
        isinstance(capabilities, frozenset)
        and Capability.OUTBOUND in capabilities
        and candidate.build_outbound is ChannelAdapter.build_outbound
    ):
        problems.append(
            f"{label} declares Capability.OUTBOUND but does not implement build_outbound(); "
            "define build_outbound(self, message, endpoint) -> OutboundRequest or drop the capability"
        )
    if inspect.isabstract(candidate) and not getattr(candidate, "__abstractmethods__", ()):
        problems.append(f"{label} is abstract; implement its abstract methods")
    return problems
