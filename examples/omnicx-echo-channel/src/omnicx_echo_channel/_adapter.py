"""The Echo adapter: signed JSON webhooks in, JSON API requests out."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

from pydantic import SecretStr

from omnicx.channels import AdapterConfig, Capability, ChannelAdapter, OutboundMessage
from omnicx.errors import ConfigurationError, NormalizationError, PayloadError, SignatureError
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    Message,
    ObservedIdentifier,
    OutboundRequest,
    TextPart,
)
from omnicx.normalize import normalize_identifier, normalize_timestamp

__all__ = ["EchoAdapter", "EchoConfig", "sign_echo"]

SIGNATURE_HEADER = "x-echo-signature"
API_URL = "https://api.echo.example/v1/messages"


def sign_echo(secret: str, body: bytes) -> str:
    """The ``X-Echo-Signature`` value for ``body``: ``sha256=`` + hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class EchoConfig(AdapterConfig):
    """Echo needs its app secret (webhook signatures) and an API token (replies)."""

    app_secret: SecretStr
    api_token: SecretStr | None = None


class EchoAdapter(ChannelAdapter[EchoConfig]):
    """The Echo chat service."""

    name: ClassVar[str] = "echo"
    display_name: ClassVar[str] = "Echo chat"
    api_version: ClassVar[str] = "v1"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INBOUND, Capability.SIGNATURES, Capability.OUTBOUND}
    )
    Config: ClassVar[type[AdapterConfig]] = EchoConfig

    def verify(self, request: InboundRequest) -> None:
        """Raise SignatureError unless ``X-Echo-Signature`` matches the body under the app secret."""
        expected = sign_echo(self.config.app_secret.get_secret_value(), request.body)
        given = request.header(SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise SignatureError("the X-Echo-Signature header does not match the body", channel=self.name)

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """One inbound message per webhook; PayloadError for anything malformed."""
        body = self.checked_body(request)
        try:
            doc: Any = json.loads(body)
            user = doc["user"]
            user_id = normalize_identifier("echo_user", user["id"])
            identifiers = [ObservedIdentifier(identifier=user_id, assurance=Assurance.VERIFIED)]
            if user.get("email"):
                email = normalize_identifier("email", user["email"])
                identifiers.append(ObservedIdentifier(identifier=email, assurance=Assurance.ASSERTED))
            message = Message(
                channel="echo",
                adapter=self.name,
                dedupe_key=str(doc["message_id"]),
                occurred_at=normalize_timestamp(doc["sent_at"]),
                received_at=request.received_at,
                direction=Direction.INBOUND,
                author=Author(role=AuthorRole.CUSTOMER, name=user.get("name")),
                endpoint=user_id,
                parts=(TextPart(text=doc["text"]),),
                platform_message_id=str(doc["message_id"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError, NormalizationError) as exc:
            # json, missing keys, wrong types, pydantic (a ValueError): all mean a malformed payload
            raise PayloadError(f"malformed Echo webhook: {type(exc).__name__}", channel=self.name) from None
        return [InboundEvent(interaction=message, identifiers=tuple(identifiers), raw_type="message")]

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """``POST /v1/messages`` with the API token; ConfigurationError without a token or text."""
        self.check_tag(message)  # Echo takes no message tags: refuse one rather than drop it
        if self.config.api_token is None or not message.text or endpoint.kind != "echo_user":
            raise ConfigurationError(
                "Echo replies need EchoConfig.api_token, message text and an echo_user endpoint",
                channel=self.name,
            )
        return OutboundRequest(
            method="POST",
            url=API_URL,
            headers={
                "authorization": f"Bearer {self.config.api_token.get_secret_value()}",
                "content-type": "application/json",
            },
            body=json.dumps({"to": endpoint.value, "text": message.text}).encode(),
        )
