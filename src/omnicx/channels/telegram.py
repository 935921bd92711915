"""Telegram Bot API webhooks: messages, edits, callback queries, shared contacts, media.

One webhook request carries one ``Update``. ``message`` becomes a
:class:`~omnicx.models.Message`, ``edited_message`` an
:class:`~omnicx.models.Edit`, ``callback_query`` a message holding an
:class:`~omnicx.models.InteractiveReplyPart` of kind ``callback``; other update
types are unsupported. Shapes from https://core.telegram.org/bots/api#update
and https://core.telegram.org/bots/webhooks. See docs/channels/telegram.md.

Ids: a Telegram ``message_id`` is unique within its chat only, so omnicx's
platform message id is ``"<chat.id>:<message_id>"``; ``chat.id`` is the
thread hint.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import SecretStr, field_validator

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter, OutboundMessage
from omnicx.channels._payload import json_object
from omnicx.channels._signatures import constant_time_equals
from omnicx.errors import (
    ConfigurationError,
    NormalizationError,
    PayloadError,
    SignatureError,
    UnsupportedEvent,
    ValidationError,
)
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    Channel,
    ContactPart,
    ContentPart,
    Direction,
    Edit,
    Identifier,
    InboundEvent,
    InboundRequest,
    InteractiveReplyPart,
    LocationPart,
    MediaPart,
    Message,
    ObservedIdentifier,
    OutboundRequest,
    TextPart,
    ThreadHints,
    UnsupportedPart,
    interaction_id,
)
from omnicx.normalize import normalize_phone, normalize_platform_id, normalize_timestamp

__all__ = ["TelegramAdapter", "TelegramConfig"]

API_BASE = "https://api.telegram.org"
SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_TEXT = 4096
"""sendMessage takes 1-4096 characters of text."""
MAX_CAPTION = 1024
"""Media captions take 0-1024 characters."""

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,128}$")
_HANDLED = ("message", "edited_message", "callback_query")
_OTHER_CONTENT = (
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
    "successful_payment",
    "web_app_data",
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "pinned_message",
)

MediaKind = Literal["image", "audio", "voice", "video", "document", "sticker", "file"]
# Telegram field → media kind, in the order they are looked for (animation before
# document: an animation message carries both, the document being a copy).
_MEDIA_FIELDS: tuple[tuple[str, MediaKind], ...] = (
    ("photo", "image"),
    ("animation", "video"),
    ("video", "video"),
    ("video_note", "video"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("sticker", "sticker"),
    ("document", "document"),
)


class TelegramConfig(AdapterConfig):
    """Settings of the Telegram adapter.

    ``secret_token`` is the ``secret_token`` given to ``setWebhook`` (1-256
    characters of ``A-Z a-z 0-9 _ -``); it is required: without it anyone who
    guesses the webhook URL could post updates. ``bot_token`` (``123456:ABC…``)
    is needed only to build outbound requests.
    """

    secret_token: SecretStr
    bot_token: SecretStr | None = None

    @field_validator("secret_token")
    @classmethod
    def _secret_shape(cls, value: SecretStr) -> SecretStr:
        if not _SECRET_RE.match(value.get_secret_value()):
            raise ValueError(
                "secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and - (as setWebhook)"
            )
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("bot_token must look like '123456789:AAE…' as @BotFather gives it")
        return value


class TelegramAdapter(ChannelAdapter[TelegramConfig]):
    """Telegram Bot API updates (webhook delivery) and sendMessage."""

    name: ClassVar[str] = "telegram"
    display_name: ClassVar[str] = "Telegram Bot API"
    api_version: ClassVar[str] = "Bot API 7.0"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.INBOUND,
            Capability.SIGNATURES,
            Capability.OUTBOUND,
            Capability.MEDIA,
            Capability.THREADING,
        }
    )
    Config: ClassVar[type[AdapterConfig]] = TelegramConfig

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Telegram-Bot-Api-Secret-Token`` against the configured secret in constant time.

        Returns ``None`` when it matches; raises :class:`~omnicx.errors.SignatureError`
        when the header is missing or differs. The secret covers neither the
        body nor a time: Telegram gives no integrity or replay protection.
        """
        given = request.header(SECRET_HEADER)
        if given is None:
            raise SignatureError(
                "the request has no X-Telegram-Bot-Api-Secret-Token header: it did not come from "
                "Telegram, or setWebhook was called without secret_token; refused",
                channel=self.name,
            )
        if not constant_time_equals(self.config.secret_token.get_secret_value(), given):
            raise SignatureError(
                "the X-Telegram-Bot-Api-Secret-Token does not match the configured secret_token; refused",
                channel=self.name,
            )

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """Return the one event of a Telegram ``Update``.

        Raises :class:`~omnicx.errors.PayloadError` when the body is not a
        Telegram update (not JSON, no integer ``update_id``, a field of the
        wrong type) and :class:`~omnicx.errors.UnsupportedEvent` for update
        types other than ``message``, ``edited_message`` and ``callback_query``
        and for messages without a sending user (channel posts, anonymous admins).
        """
        update = self._load(request)
        try:
            return [self._event(update, request)]
        except ValidationError as exc:  # a model refused a value (too long, out of range)
            raise PayloadError(
                f"the Telegram update holds a value omnicx cannot store: {exc}"[:500],
                channel=self.name,
            ) from exc

    # --- decoding --------------------------------------------------------------

    def _load(self, request: InboundRequest) -> dict[str, Any]:
        return json_object(self.checked_body(request), channel=self.name)  # refuses lone surrogates

    def _event(self, update: dict[str, Any], request: InboundRequest) -> InboundEvent:
        update_id = _int(update, "update_id", "the update", self.name)
        kind = next((key for key in _HANDLED if key in update), None)
        if kind is None:
            other = next((key for key in update if key != "update_id"), "nothing")
            raise UnsupportedEvent(
                f"Telegram update {update_id} is a {other!r} update; omnicx handles "
                f"{', '.join(_HANDLED)} (set allowed_updates in setWebhook to receive only those)",
                channel=self.name,
            )
        body = _obj(update, kind, "the update", self.name)
        if kind == "callback_query":
            return self._callback(update_id, body, request)
        return self._message(update_id, kind, body, request)

    # --- events ----------------------------------------------------------------

    def _message(
        self, update_id: int, kind: str, message: dict[str, Any], request: InboundRequest
    ) -> InboundEvent:
        where = kind
        chat_id = _int(_obj(message, "chat", where, self.name), "id", f"{where}.chat", self.name)
        message_id = _int(message, "message_id", where, self.name)
        sender = self._sender(message.get("from"), where)
        sent_at = self._time(message, "date", where)
        platform_id = f"{chat_id}:{message_id}"
        parts = self._parts(message, where)
        identifiers = [sender.observed]
        contact = message.get("contact")
        if isinstance(contact, dict) and contact.get("user_id") == sender.user_id:
            # The user shared their own contact card: an asserted phone for them. A card of
            # someone else (another user_id, or none) says nothing about the sender.
            phone = _contact_phone(contact)
            if phone is not None:
                identifiers.append(ObservedIdentifier(identifier=phone, assurance=Assurance.ASSERTED))
        reply_to = None
        parent = message.get("reply_to_message")
        if isinstance(parent, dict):
            parent_chat = parent.get("chat")
            parent_chat_id = (
                _int(parent_chat, "id", f"{where}.reply_to_message.chat", self.name)
                if isinstance(parent_chat, dict)
                else chat_id
            )
            reply_to = (
                f"{parent_chat_id}:{_int(parent, 'message_id', f'{where}.reply_to_message', self.name)}"
            )
        common: dict[str, Any] = {
            "channel": Channel.TELEGRAM,
            "adapter": self.name,
            "received_at": request.received_at,
            "direction": Direction.INBOUND,
            "author": sender.author,
            "endpoint": sender.identifier,
            "thread": ThreadHints(thread_id=str(chat_id), reply_to=reply_to),
            "metadata": _metadata(message, sender),
        }
        if kind == "edited_message":
            edited_at = self._time(message, "edit_date", where) if "edit_date" in message else sent_at
            key = f"update:{update_id}:edit:{platform_id}:{int(edited_at.timestamp())}"
            edit = Edit(
                id=interaction_id(self.name, key),
                dedupe_key=key,
                occurred_at=edited_at,
                target_message_id=platform_id,
                parts=tuple(parts),
                **common,
            )
            return InboundEvent(interaction=edit, identifiers=tuple(identifiers), raw_type=kind)
        key = f"update:{update_id}:message:{platform_id}"
        msg = Message(
            id=interaction_id(self.name, key),
            dedupe_key=key,
            occurred_at=sent_at,
            parts=tuple(parts),
            platform_message_id=platform_id,
            **common,
        )
        return InboundEvent(interaction=msg, identifiers=tuple(identifiers), raw_type=kind)

    def _callback(self, update_id: int, query: dict[str, Any], request: InboundRequest) -> InboundEvent:
        where = "callback_query"
        query_id = _str(query, "id", where, self.name)
        sender = self._sender(query.get("from"), where)
        data = _opt_str(query, "data", where, self.name)
        game = _opt_str(query, "game_short_name", where, self.name)
        thread = ThreadHints()
        origin = query.get("message")
        if isinstance(origin, dict):
            chat_id = _int(
                _obj(origin, "chat", f"{where}.message", self.name), "id", f"{where}.message.chat", self.name
            )
            origin_id = _int(origin, "message_id", f"{where}.message", self.name)
            thread = ThreadHints(thread_id=str(chat_id), reply_to=f"{chat_id}:{origin_id}")
        metadata = _metadata(query, sender)
        metadata["callback_query_id"] = query_id[:256]
        inline_id = _opt_str(query, "inline_message_id", where, self.name)
        if inline_id is not None:
            metadata["inline_message_id"] = inline_id[:256]
        key = f"update:{update_id}:callback:{query_id}"
        message = Message(
            id=interaction_id(self.name, key),
            channel=Channel.TELEGRAM,
            adapter=self.name,
            dedupe_key=key,
            occurred_at=request.received_at,
            received_at=request.received_at,
            direction=Direction.INBOUND,
            author=sender.author,
            endpoint=sender.identifier,
            thread=thread,
            parts=(InteractiveReplyPart(reply_kind="callback", reply_id=data if data is not None else game),),
            metadata=metadata,
        )
        return InboundEvent(interaction=message, identifiers=(sender.observed,), raw_type=where)

    # --- pieces ----------------------------------------------------------------

    def _sender(self, user: object, where: str) -> _Sender:
        if user is None:
            raise UnsupportedEvent(
                f"the {where} has no 'from' user (a channel post or an anonymous group admin): "
                "there is no customer to record",
                channel=self.name,
            )
        if not isinstance(user, dict):
            raise PayloadError(f"{where}.from is not an object", channel=self.name)
        user_id = _int(user, "id", f"{where}.from", self.name)
        try:
            identifier = normalize_platform_id("telegram_user_id", user_id)
        except NormalizationError as exc:
            raise PayloadError(f"{where}.from.id: {exc}", channel=self.name) from exc
        first = _opt_str(user, "first_name", f"{where}.from", self.name)
        last = _opt_str(user, "last_name", f"{where}.from", self.name)
        name = " ".join(p for p in (first, last) if p)[:256] or None
        role = AuthorRole.BOT if user.get("is_bot") is True else AuthorRole.CUSTOMER
        username = _opt_str(user, "username", f"{where}.from", self.name)
        return _Sender(identifier, user_id, name, role, username)

    def _time(self, body: dict[str, Any], key: str, where: str) -> datetime:
        seconds = _int(body, key, where, self.name)
        try:
            return normalize_timestamp(seconds)
        except NormalizationError as exc:
            raise PayloadError(f"{where}.{key}: {exc}", channel=self.name) from exc

    def _parts(self, message: dict[str, Any], where: str) -> list[ContentPart]:
        parts: list[ContentPart] = []
        text = _opt_str(message, "text", where, self.name)
        if text is not None:
            parts.append(TextPart(text=text))
        caption = _opt_str(message, "caption", where, self.name)
        media = self._media(message, where, caption)
        if media is not None:
            parts.append(media)
        elif caption is not None:
            parts.append(TextPart(text=caption))
        contact = message.get("contact")
        if contact is not None:
            parts.append(self._contact(contact, where))
        location = self._location(message, where)
        if location is not None:
            parts.append(location)
        if not parts:
            raw = next((key for key in _OTHER_CONTENT if key in message), "unknown")
            parts.append(UnsupportedPart(raw_type=raw, description=f"a Telegram {raw} message"))
        return parts

    def _media(self, message: dict[str, Any], where: str, caption: str | None) -> MediaPart | None:
        for field, kind in _MEDIA_FIELDS:
            if field not in message:
                continue
            value = message[field]
            if field == "photo":  # PhotoSize[], smallest first: keep the largest
                if not isinstance(value, list) or not value or not isinstance(value[-1], dict):
                    raise PayloadError(f"{where}.photo is not a list of PhotoSize objects", channel=self.name)
                value = value[-1]
            if not isinstance(value, dict):
                raise PayloadError(f"{where}.{field} is not an object", channel=self.name)
            inner = f"{where}.{field}"
            return MediaPart(
                media_kind=kind,
                platform_media_id=_str(value, "file_id", inner, self.name),
                mime_type=_opt_str(value, "mime_type", inner, self.name),
                size=_opt_int(value, "file_size", inner, self.name),
                filename=_opt_str(value, "file_name", inner, self.name),
                caption=caption,
            )
        return None

    def _contact(self, contact: object, where: str) -> ContactPart:
        if not isinstance(contact, dict):
            raise PayloadError(f"{where}.contact is not an object", channel=self.name)
        inner = f"{where}.contact"
        phone = _str(contact, "phone_number", inner, self.name)
        first = _opt_str(contact, "first_name", inner, self.name)
        last = _opt_str(contact, "last_name", inner, self.name)
        name = " ".join(p for p in (first, last) if p) or None
        return ContactPart(name=name, phones=(phone,))

    def _location(self, message: dict[str, Any], where: str) -> LocationPart | None:
        venue = message.get("venue")
        if isinstance(venue, dict):
            point = _obj(venue, "location", f"{where}.venue", self.name)
            return LocationPart(
                latitude=_float(point, "latitude", f"{where}.venue.location", self.name),
                longitude=_float(point, "longitude", f"{where}.venue.location", self.name),
                name=_opt_str(venue, "title", f"{where}.venue", self.name),
                address=_opt_str(venue, "address", f"{where}.venue", self.name),
            )
        if "location" in message:
            point = _obj(message, "location", where, self.name)
            return LocationPart(
                latitude=_float(point, "latitude", f"{where}.location", self.name),
                longitude=_float(point, "longitude", f"{where}.location", self.name),
            )
        return None

    # --- outbound --------------------------------------------------------------

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """Build ``POST https://api.telegram.org/bot<token>/sendMessage`` for ``message``.

        The JSON body is ``chat_id`` (the endpoint's user id: the private chat
        with that user), ``text`` and, when ``message.reply_to`` is a platform
        message id ``"<chat.id>:<message_id>"``, ``reply_parameters`` with that
        ``message_id`` (and ``chat_id`` when the parent is in another chat).
        With ``media_url`` it builds ``sendDocument`` with ``document`` (the
        URL) and ``caption`` instead.

        Raises :class:`~omnicx.errors.ConfigurationError` without a bot token;
        :class:`~omnicx.errors.ValidationError` when the endpoint is not a
        ``telegram_user_id``, the message has no text, the text is longer
        than Telegram allows, a template is asked for or ``reply_to`` is not
        of the form above.
        """
        self.check_tag(message)
        token = self.config.bot_token
        if token is None:
            raise ConfigurationError(
                "set bot_token in the telegram adapter's config to send messages", channel=self.name
            )
        if endpoint.kind != "telegram_user_id" or not endpoint.value.isdigit():
            raise ValidationError(
                f"Telegram sends to a telegram_user_id identifier, not {endpoint.kind}", channel=self.name
            )
        if message.template_name is not None:
            raise ValidationError("Telegram has no message templates; send text", channel=self.name)
        chat_id = int(endpoint.value)
        body: dict[str, Any] = {"chat_id": chat_id}
        if message.media_url is not None:
            method = "sendDocument"
            body["document"] = message.media_url
            if message.text:
                if len(message.text) > MAX_CAPTION:
                    raise ValidationError(
                        f"a caption is at most {MAX_CAPTION} characters; send the text separately",
                        channel=self.name,
                    )
                body["caption"] = message.text
        else:
            method = "sendMessage"
            if not message.text:
                raise ValidationError("the message has no text: nothing to send", channel=self.name)
            if len(message.text) > MAX_TEXT:
                raise ValidationError(
                    f"Telegram takes at most {MAX_TEXT} characters per message; split the text",
                    channel=self.name,
                )
            body["text"] = message.text
        if message.reply_to is not None:
            body["reply_parameters"] = _reply_parameters(message.reply_to, chat_id, self.name)
        return OutboundRequest(
            method="POST",
            url=f"{API_BASE}/bot{token.get_secret_value()}/{method}",
            headers={"content-type": "application/json"},
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        )


# --- helpers --------------------------------------------------------------------


class _Sender:
    """The user who sent an update: identifier, raw id, name, role."""

    def __init__(
        self, identifier: Identifier, user_id: int, name: str | None, role: AuthorRole, username: str | None
    ) -> None:
        self.identifier = identifier
        self.user_id = user_id
        self.name = name
        self.role = role
        self.username = username

    @property
    def author(self) -> Author:
        return Author(role=self.role, id=self.identifier.value, name=self.name)

    @property
    def observed(self) -> ObservedIdentifier:
        return ObservedIdentifier(
            identifier=self.identifier, assurance=Assurance.VERIFIED, display_name=self.name
        )


def _metadata(body: dict[str, Any], sender: _Sender) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if sender.username is not None:
        meta["username"] = sender.username[:256]
    if "forward_from" in body or "forward_origin" in body or "forward_date" in body:
        meta["forwarded"] = True
    return meta


def _contact_phone(contact: dict[str, Any]) -> Identifier | None:
    raw = contact.get("phone_number")
    if not isinstance(raw, str):
        return None
    try:
        return Identifier(kind="phone", value=normalize_phone(raw))
    except NormalizationError:
        return None


def _reply_parameters(reply_to: str, chat_id: int, channel: str) -> dict[str, int]:
    parent_chat, colon, parent_id = reply_to.rpartition(":")
    if not colon or not parent_id.isdigit() or not re.fullmatch(r"-?\d{1,20}", parent_chat):
        raise ValidationError(
            f"reply_to {reply_to[:60]!r} is not a Telegram platform message id '<chat.id>:<message_id>'",
            channel=channel,
        )
    params = {"message_id": int(parent_id)}
    if int(parent_chat) != chat_id:
        params["chat_id"] = int(parent_chat)
    return params


def _obj(body: dict[str, Any], key: str, where: str, channel: str) -> dict[str, Any]:
    value = body.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"{where} has no object {key!r}", channel=channel)
    return value


def _int(body: object, key: str, where: str, channel: str) -> int:
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{where} has no integer {key!r}", channel=channel)
    return value


def _opt_int(body: dict[str, Any], key: str, where: str, channel: str) -> int | None:
    if body.get(key) is None:
        return None
    value = _int(body, key, where, channel)
    if value < 0:
        raise PayloadError(f"{where}.{key} is negative", channel=channel)
    return value


def _float(body: dict[str, Any], key: str, where: str, channel: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where} has no number {key!r}", channel=channel)
    return float(value)


def _str(body: dict[str, Any], key: str, where: str, channel: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where} has no string {key!r}", channel=channel)
    return value


def _opt_str(body: dict[str, Any], key: str, where: str, channel: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} is not a string", channel=channel)
    return value
