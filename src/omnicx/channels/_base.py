"""The extension point for channels: one small abstract base class.

A channel adapter turns the raw requests a channel sends into omnicx models, and
omnicx replies into the requests that channel expects. It never touches the
network, a database or the clock: ``verify`` and ``parse`` are pure functions of
the :class:`~omnicx.models.InboundRequest` (its ``received_at`` is the only
clock), and ``build_outbound`` a pure function of its arguments.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from omnicx.models import Identifier, InboundEvent, InboundRequest, OutboundRequest

__all__ = ["AdapterConfig", "Capability", "ChannelAdapter", "OutboundMessage"]


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

    max_body_bytes: int = 1_048_576
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


ConfigT = TypeVar("ConfigT", bound=AdapterConfig)


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
    """

    name: ClassVar[str]
    """Lowercase name, unique in a registry: ``whatsapp``, ``acme_chat``."""
    display_name: ClassVar[str]
    """What a person reads: ``WhatsApp Cloud API``."""
    api_version: ClassVar[str]
    """The version of the channel's API the adapter was written against."""
    capabilities: ClassVar[frozenset[Capability]]
    Config: ClassVar[type[AdapterConfig]] = AdapterConfig

    def __init__(self, config: ConfigT) -> None:
        self.config = config

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
        :class:`~omnicx.errors.PayloadError` for a malformed payload and
        :class:`~omnicx.errors.UnsupportedEvent` for a well-formed one the adapter
        does not handle; never another exception.
        """

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """Build the HTTP request that sends ``message`` to ``endpoint``.

        Pure: the host sends the returned request with its own HTTP client.
        Adapters without :attr:`Capability.OUTBOUND` keep this default, which
        raises :class:`~omnicx.errors.ConfigurationError`.
        """
        from omnicx.errors import ConfigurationError

        raise ConfigurationError(
            f"the {self.name} adapter cannot send messages; implement build_outbound() "
            "and declare Capability.OUTBOUND to add it",
            channel=self.name,
        )

    def handshake(self, request: InboundRequest) -> OutboundRequest | None:
        """Answer a subscription handshake (Meta's ``hub.challenge``), if this request is one.

        Return the response to send (status in ``headers[':status']`` is not used:
        the body is what the channel reads), or ``None`` when the request is not
        a handshake. Default: ``None``.
        """
        return None

    @classmethod
    def golden_cases(cls) -> Sequence[object]:
        """Optional golden cases for the conformance kit (see omnicx.testing)."""
        return ()
