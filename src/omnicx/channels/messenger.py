"""Facebook Messenger (Messenger Platform): page webhooks in, Send API requests out.

Customers are page-scoped ids (PSIDs), recorded as verified ``messenger_psid``
identifiers scoped by the page id. Messages, echoes of the page's own messages,
postbacks, quick replies, attachments, reactions, edits, and delivery and read
receipts (per message or as watermarks) become events; see
``docs/channels/messenger.md`` for the full mapping.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import Field, SecretStr

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    OutboundMessage,
)
from omnicx.channels._meta_adapter import MetaAdapter, MetaConfig
from omnicx.channels._meta_messaging import USER_REF_KIND, MessagingSpec, parse_messaging
from omnicx.channels._meta_send import (
    MESSAGE_TAGS,
    STANDARD_WINDOW,
    bearer_token,
    scoped_recipient,
    send_api_refusal,
    send_api_request,
)
from omnicx.models import Identifier, IdentifierKind, InboundEvent, InboundRequest, OutboundRequest

__all__ = ["MessengerAdapter", "MessengerConfig"]

CHANNEL = "messenger"
_MAX_TEXT = 2000


class MessengerConfig(MetaConfig):
    """Settings of the Messenger adapter.

    ``app_secret`` checks webhook signatures, ``verify_token`` answers the
    subscription handshake, ``page_access_token`` sends replies.
    ``bot_app_ids`` lists the app ids whose echoes are a bot's (the rest are
    an agent's, including replies typed in the Page inbox).
    """

    page_access_token: SecretStr | None = None
    graph_api_version: Annotated[str, Field(pattern=r"^v\d{1,3}\.\d{1,2}$")] = "v25.0"
    bot_app_ids: frozenset[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = frozenset()


class MessengerAdapter(MetaAdapter[MessengerConfig]):
    """Facebook Messenger through the Messenger Platform webhooks and Send API."""

    name: ClassVar[str] = "messenger"
    display_name: ClassVar[str] = "Facebook Messenger"
    reply_window: ClassVar[timedelta | None] = STANDARD_WINDOW
    """Meta's standard messaging window; a ``HUMAN_AGENT`` tag carries a person's reply up to 7 days."""
    message_tags: ClassVar[frozenset[str]] = MESSAGE_TAGS
    api_version: ClassVar[str] = "v25.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.INBOUND,
            Capability.SIGNATURES,
            Capability.OUTBOUND,
            Capability.STATUS,
            Capability.MEDIA,
            Capability.THREADING,
        }
    )
    Config: ClassVar[type[AdapterConfig]] = MessengerConfig

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Every event of a ``page`` webhook, in payload order.

        Raises :class:`~omnicx.errors.PayloadError` for a malformed payload (or
        one over ``max_body_bytes``) and :class:`~omnicx.errors.UnsupportedEvent`
        for one holding only events omnicx does not record.
        """
        spec = MessagingSpec(
            channel=CHANNEL,
            object_name="page",
            id_kind=IdentifierKind.MESSENGER_PSID,
            bot_app_ids=self.config.bot_app_ids,
        )
        return parse_messaging(spec, self.checked_body(request), request.received_at)

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """A Send API ``POST /{page-id}/messages`` with ``messaging_type: RESPONSE``.

        ``endpoint`` is a ``messenger_psid`` (or ``messenger_user_ref``) whose
        scope is the page id. Raises :class:`~omnicx.errors.ConfigurationError`
        without a ``page_access_token`` and :class:`~omnicx.errors.ValidationError`
        for another endpoint kind or a message without text. ``message.tag`` makes it
        ``messaging_type: MESSAGE_TAG`` with that tag.
        """
        return self._send(message, endpoint)

    def build_tagged(
        self, message: OutboundMessage, endpoint: Identifier, tag: str = "HUMAN_AGENT"
    ) -> OutboundRequest:
        """Like :meth:`build_outbound`, with ``messaging_type: MESSAGE_TAG`` and ``tag``.

        For replies outside the 24-hour window (``HUMAN_AGENT`` allows 7 days).
        """
        return self._send(message.model_copy(update={"tag": tag}), endpoint)

    def reply_refusal(self, message: OutboundMessage, elapsed: timedelta) -> str | None:
        """Past 24 hours only a tagged message goes; ``HUMAN_AGENT`` and ``CUSTOMER_FEEDBACK``
        until 7 days after the customer's last message."""
        return send_api_refusal(self.display_name, message, elapsed)

    def _send(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        self.check_tag(message)
        token = bearer_token(self.config.page_access_token, channel=CHANNEL, setting="page_access_token")
        page_id, recipient = scoped_recipient(
            endpoint, (IdentifierKind.MESSENGER_PSID, USER_REF_KIND), channel=CHANNEL
        )
        return send_api_request(
            url=f"https://graph.facebook.com/{self.config.graph_api_version}/{page_id}/messages",
            token=token,
            recipient=recipient,
            message=message,
            max_text=_MAX_TEXT,
            messaging_type="RESPONSE",
            correlate=True,
        )
