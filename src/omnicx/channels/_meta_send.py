"""Send API requests (Messenger and Instagram): ``POST /{id}/messages`` with a Bearer token."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from omnicx.channels._base import OutboundMessage, window_text
from omnicx.errors import ConfigurationError, ValidationError
from omnicx.models import Identifier, OutboundRequest

__all__ = [
    "INSTAGRAM_TAGS",
    "MESSAGE_TAGS",
    "STANDARD_WINDOW",
    "TAG_WINDOWS",
    "bearer_token",
    "scoped_recipient",
    "send_api_refusal",
    "send_api_request",
]

MESSAGE_TAGS = frozenset(
    {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "CUSTOMER_FEEDBACK", "HUMAN_AGENT", "POST_PURCHASE_UPDATE"}
)
"""The message tags Messenger's Send API accepts for messages outside the 24-hour window."""
INSTAGRAM_TAGS = frozenset({"HUMAN_AGENT"})
"""The message tag Instagram's Send API accepts."""
STANDARD_WINDOW = timedelta(hours=24)
"""Meta's standard messaging window: a message without a tag only within 24 hours of the
person's last message (the policy's "most user actions")."""
TAG_WINDOWS: dict[str, timedelta] = {"HUMAN_AGENT": timedelta(days=7), "CUSTOMER_FEEDBACK": timedelta(days=7)}
"""Tags that carry a message only so long after the person's last message. The other tags
(account, event and purchase updates) are not replies and have no window."""


def send_api_refusal(display_name: str, message: OutboundMessage, elapsed: timedelta) -> str | None:
    """Why Messenger or Instagram would not deliver ``message`` ``elapsed`` after the person's
    last message (``ChannelAdapter.reply_refusal``); None when it would."""
    if message.tag is None:
        if elapsed <= STANDARD_WINDOW:
            return None
        return (
            f"{display_name} delivers a message without a tag only within {window_text(STANDARD_WINDOW)} of "
            "the customer's last message; a person's reply may go up to 7 days after it with "
            "OutboundMessage(tag='HUMAN_AGENT')"
        )
    window = TAG_WINDOWS.get(message.tag)
    if window is None or elapsed <= window:
        return None
    return f"{display_name} delivers a {message.tag} message only within {window_text(window)} of the customer's last message"


def bearer_token(token: SecretStr | None, *, channel: str, setting: str) -> str:
    """The token's value for an ``Authorization: Bearer`` header.

    Raises :class:`~omnicx.errors.ConfigurationError` when it is not configured
    or holds blanks or control characters (which would break the header).
    """
    if token is None:
        raise ConfigurationError(f"set {setting} in the {channel} config to send messages", channel=channel)
    value = token.get_secret_value()
    if not value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise ConfigurationError(
            f"the {channel} {setting} is empty or holds blanks or control characters", channel=channel
        )
    return value


def send_api_request(
    *,
    url: str,
    token: str,
    recipient: dict[str, str],
    message: OutboundMessage,
    max_text: int,
    messaging_type: str | None,
    correlate: bool = False,
) -> OutboundRequest:
    """A Send API request carrying ``message.text`` to ``recipient``.

    ``messaging_type`` is omitted when ``None``; ``message.tag`` (which the adapter's
    ``check_tag`` has checked) sets ``messaging_type: MESSAGE_TAG`` and ``tag``. Raises
    :class:`~omnicx.errors.ValidationError` for a message without text or text
    longer than ``max_text``. ``correlate``: send
    ``message.correlation_id`` as ``message.metadata``, which the echo carries back (Messenger).
    """
    tag = message.tag
    if message.media_url is not None:
        raise ValidationError(
            "the Send API adapters build text messages, not media; send the link in text",
            value=message.media_url[:80],
        )
    if not message.text:
        raise ValidationError("nothing to send: the Send API adapters send text; set text", value="")
    if len(message.text) > max_text:
        raise ValidationError(
            f"the text is {len(message.text)} characters, more than the {max_text} the Send API takes; split it",
            value=message.text[:80],
        )
    body: dict[str, Any] = {"recipient": recipient}
    if tag is not None:
        body.update(messaging_type="MESSAGE_TAG", tag=tag)
    elif messaging_type is not None:
        body["messaging_type"] = messaging_type
    body["message"] = {"text": message.text}
    if correlate and message.correlation_id:
        body["message"]["metadata"] = message.correlation_id  # comes back on the echo
    return OutboundRequest(
        method="POST",
        url=url,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
    )


def scoped_recipient(
    endpoint: Identifier, kinds: tuple[str, ...], *, channel: str
) -> tuple[str, dict[str, str]]:
    """The page or account id and the ``recipient`` object for ``endpoint``.

    Raises :class:`~omnicx.errors.ValidationError` for an identifier of another
    kind or without a numeric scope.
    """
    if endpoint.kind not in kinds:
        raise ValidationError(
            f"the {channel} adapter sends to {' or '.join(kinds)} identifiers, not {endpoint.kind}",
            value=str(endpoint),
        )
    scope = endpoint.scope
    if scope is None or not scope.isdigit():
        raise ValidationError(
            f"a {endpoint.kind} endpoint needs the numeric page or account id as its scope",
            value=str(endpoint),
        )
    key = "id" if endpoint.kind != "messenger_user_ref" else "user_ref"
    return scope, {key: endpoint.value}
