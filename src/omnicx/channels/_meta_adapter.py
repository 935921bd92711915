"""What the three Meta adapters (WhatsApp, Messenger, Instagram) share: config, verify, handshake."""

from __future__ import annotations

from typing import TypeVar

from pydantic import SecretStr

from omnicx.channels._base import AdapterConfig, ChannelAdapter, HandshakeResponse
from omnicx.channels._meta import hub_challenge, verify_hub_signature
from omnicx.models import InboundRequest

__all__ = ["MetaAdapter", "MetaConfig"]


class MetaConfig(AdapterConfig):
    """Settings every Meta webhook needs.

    ``app_secret`` (the Meta app's secret) checks webhook signatures;
    ``verify_token`` answers the subscription handshake.
    """

    app_secret: SecretStr
    verify_token: SecretStr | None = None
    accept_sha1: bool = True
    """Accept the legacy ``X-Hub-Signature`` (SHA-1) when ``X-Hub-Signature-256`` is absent."""


MetaConfigT = TypeVar("MetaConfigT", bound=MetaConfig)


class MetaAdapter(ChannelAdapter[MetaConfigT]):
    """Meta's webhook signature check and subscription handshake, for every Meta channel."""

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Hub-Signature-256`` (or the legacy SHA-1 header) against the app secret.

        Returns ``None``; raises :class:`~omnicx.errors.SignatureError` when it is missing or wrong.
        """
        verify_hub_signature(
            request, self.config.app_secret, channel=self.name, accept_sha1=self.config.accept_sha1
        )

    def handshake(self, request: InboundRequest) -> HandshakeResponse | None:
        """Answer Meta's ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``.

        Returns a 200 response whose plain-text body is the challenge, or
        ``None`` when the request is not a handshake. Raises
        :class:`~omnicx.errors.SignatureError` for a wrong verify token and
        :class:`~omnicx.errors.ConfigurationError` when no ``verify_token`` is set.
        """
        challenge = hub_challenge(request, self.config.verify_token, channel=self.name)
        return None if challenge is None else HandshakeResponse(body=challenge.encode())
