"""Instagram messaging: ``instagram`` webhooks in, Send API requests out.

Customers are Instagram-scoped ids (IGSIDs), recorded as verified
``instagram_igsid`` identifiers scoped by the professional account id. The
webhook envelope is the Messenger Platform's; Instagram adds ``is_deleted`` for
unsent messages and reports reads as ``read.mid``. Replies go through the
Instagram API with Instagram Login (``graph.instagram.com/{ig-id}/messages``)
or, for accounts linked to a Facebook Page, ``graph.facebook.com/{page-id}/messages``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr

from omnicx.channels._base import (
    AdapterConfig,
    Capability,
    OutboundMessage,
)
from omnicx.channels._meta_adapter import MetaAdapter, MetaConfig
from omnicx.channels._meta_messaging import MessagingSpec, parse_messaging
from omnicx.channels._meta_send import (
    INSTAGRAM_TAGS,
    STANDARD_WINDOW,
    bearer_token,
    scoped_recipient,
    send_api_refusal,
    send_api_request,
)
from omnicx.errors import ConfigurationError
from omnicx.models import Identifier, IdentifierKind, InboundEvent, InboundRequest, OutboundRequest

__all__ = ["InstagramAdapter", "InstagramConfig"]

CHANNEL = "instagram"
_MAX_TEXT = 999  # "Text message must be less than 1000 characters"


class InstagramConfig(MetaConfig):
    """Settings of the Instagram adapter.

    ``app_secret`` checks webhook signatures and ``verify_token`` answers the
    subscription handshake. To send: ``login="instagram"`` (default) posts to
    ``graph.instagram.com/{ig-id}/messages`` with an Instagram user
    ``access_token``; ``login="facebook"`` posts to
    ``graph.facebook.com/{page_id}/messages`` with a Page access token.
    """

    access_token: SecretStr | None = None
    login: Literal["instagram", "facebook"] = "instagram"
    page_id: Annotated[str, Field(pattern=r"^\d{1,32}$")] | None = None
    """The Facebook Page linked to the account; needed with ``login="facebook"``."""
    graph_api_version: Annotated[str, Field(pattern=r"^v\d{1,3}\.\d{1,2}$")] = "v25.0"
    bot_app_ids: frozenset[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = frozenset()


class InstagramAdapter(MetaAdapter[InstagramConfig]):
    """Instagram direct messages through Meta's messaging webhooks and Send API."""

    name: ClassVar[str] = "instagram"
    display_name: ClassVar[str] = "Instagram Messaging"
    reply_window: ClassVar[timedelta | None] = STANDARD_WINDOW
    """Meta's standard messaging window; a ``HUMAN_AGENT`` tag carries a person's reply up to 7 days."""
    message_tags: ClassVar[frozenset[str]] = INSTAGRAM_TAGS
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
    Config: ClassVar[type[AdapterConfig]] = InstagramConfig

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Every event of an ``instagram`` webhook, in payload order.

        Raises :class:`~omnicx.errors.PayloadError` for a malformed payload (or
        one over ``max_body_bytes``) and :class:`~omnicx.errors.UnsupportedEvent`
        for one holding only events omnicx does not record (comments, mentions …).
        """
        spec = MessagingSpec(
            channel=CHANNEL,
            object_name="instagram",
            id_kind=IdentifierKind.INSTAGRAM_IGSID,
            bot_app_ids=self.config.bot_app_ids,
        )
        return parse_messaging(spec, self.checked_body(request), request.received_at)

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """A Send API request carrying ``message.text`` to an ``instagram_igsid`` endpoint.

        The endpoint's scope (the professional account id) is the ``{ig-id}``
        of the URL with ``login="instagram"``. Raises
        :class:`~omnicx.errors.ConfigurationError` without an ``access_token``
        (or a ``page_id`` with ``login="facebook"``) and
        :class:`~omnicx.errors.ValidationError` for another endpoint kind or a
        message without text. ``message.tag`` (``HUMAN_AGENT``, the one tag Instagram takes)
        makes it a tagged message.
        """
        return self._send(message, endpoint)

    def build_tagged(
        self, message: OutboundMessage, endpoint: Identifier, tag: str = "HUMAN_AGENT"
    ) -> OutboundRequest:
        """Like :meth:`build_outbound`, with ``messaging_type: MESSAGE_TAG`` and ``tag`` (7-day human agent replies)."""
        return self._send(message.model_copy(update={"tag": tag}), endpoint)

    def reply_refusal(self, message: OutboundMessage, elapsed: timedelta) -> str | None:
        """Past 24 hours only a ``HUMAN_AGENT`` message goes, until 7 days after the customer's
        last message."""
        return send_api_refusal(self.display_name, message, elapsed)

    def _send(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        self.check_tag(message)
        token = bearer_token(self.config.access_token, channel=CHANNEL, setting="access_token")
        account_id, recipient = scoped_recipient(endpoint, (IdentifierKind.INSTAGRAM_IGSID,), channel=CHANNEL)
        version = self.config.graph_api_version
        if self.config.login == "instagram":
            url = f"https://graph.instagram.com/{version}/{account_id}/messages"
        else:
            if self.config.page_id is None:
                raise ConfigurationError(
                    "set page_id (the Facebook Page linked to the Instagram account) to send with login='facebook'",
                    channel=CHANNEL,
                )
            url = f"https://graph.facebook.com/{version}/{self.config.page_id}/messages"
        return send_api_request(
            url=url,
            token=token,
            recipient=recipient,
            message=message,
            max_text=_MAX_TEXT,
            messaging_type=None,
        )
