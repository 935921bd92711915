"""The Messenger Platform envelope that Messenger and Instagram share.

A webhook is ``{"object": "page" | "instagram", "entry": [...]}``; each entry
(one Page or Instagram professional account, ``entry.id``) holds
``messaging[]`` (and ``standby[]`` when another app owns the thread) event
objects with ``sender``, ``recipient`` and ``timestamp`` (ms) and one of
``message`` (``is_echo`` for our own outbound, ``is_deleted`` on Instagram),
``message_edit``, ``postback``, ``reaction``, ``delivery`` or ``read``. The
App Dashboard's test button sends the same event objects as
``entry.changes[] = {"field": ..., "value": event}``; those are read too.

The customer's id is page-scoped (PSID) or account-scoped (IGSID): the same
number under two pages is two people, so identifiers carry the page or account
id as their scope (``recipient.id`` for inbound events, ``sender.id`` for
echoes, ``entry.id`` when those are absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from omnicx.channels._meta import Reader, observe
from omnicx.errors import NormalizationError, UnsupportedEvent
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContentPart,
    Deletion,
    DeliveryStatus,
    Direction,
    Edit,
    InboundEvent,
    InteractiveReplyPart,
    MediaPart,
    Message,
    ObservedIdentifier,
    ReactionPart,
    TextPart,
    ThreadHints,
    UnsupportedPart,
    interaction_id,
)
from omnicx.models._interactions import StatusUpdate

__all__ = ["USER_REF_KIND", "MessagingSpec", "parse_messaging"]

USER_REF_KIND = "messenger_user_ref"
"""Identifier kind of a chat-plugin / checkbox ``user_ref`` (a sender without a PSID)."""

_MEDIA: dict[str, Literal["image", "video", "audio", "file"]] = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "file",
    "reel": "video",
    "ig_reel": "video",
}
_REFERRAL_KEYS = ("ref", "source", "type", "ad_id", "referer_uri")


@dataclass(frozen=True)
class MessagingSpec:
    """What tells Messenger and Instagram apart when parsing."""

    channel: str
    object_name: str
    id_kind: str
    bot_app_ids: frozenset[str]


def parse_messaging(spec: MessagingSpec, body: bytes, received_at: datetime) -> list[InboundEvent]:
    """Every event of a Messenger Platform webhook body, in payload order.

    Raises :class:`~omnicx.errors.PayloadError` for a malformed payload and
    :class:`~omnicx.errors.UnsupportedEvent` when it holds only events omnicx
    does not record (opt-ins, handovers, referrals without a message …).
    """
    parser = _Parser(spec, received_at)
    return parser.read.built("the top level", lambda: parser.parse(body))


@dataclass
class _Who:
    """The customer an event is about, and the page or account it is scoped by."""

    identifier: ObservedIdentifier
    scope: str
    raw_id: str


class _Parser:
    def __init__(self, spec: MessagingSpec, received_at: datetime) -> None:
        self.spec = spec
        self.received_at = received_at
        self.read = Reader(spec.channel)

    def parse(self, body: bytes) -> list[InboundEvent]:
        read = self.read
        payload = read.document(body)
        kind = read.required_text(payload, "object", "")
        if kind != self.spec.object_name:
            raise UnsupportedEvent(
                f"a webhook for object {kind[:60]!r} reached the {self.spec.channel} adapter, which reads "
                f"object {self.spec.object_name!r}; point that subscription at the right adapter",
                channel=self.spec.channel,
            )
        events: list[InboundEvent] = []
        skipped: list[str] = []
        for i, entry in enumerate(read.mappings(payload.get("entry"), "entry", optional=False)):
            where = f"entry[{i}]"
            account = read.required_ident(entry, "id", where)
            for array in ("messaging", "standby"):
                for j, event in enumerate(read.mappings(entry.get(array), f"{where}.{array}")):
                    self._event(event, account, f"{where}.{array}[{j}]", array == "standby", events, skipped)
            for j, change in enumerate(read.mappings(entry.get("changes"), f"{where}.changes")):
                here = f"{where}.changes[{j}]"
                field = read.required_text(change, "field", here, max_length=64)
                value = change.get("value")
                if field.startswith("messag") and isinstance(value, Mapping):
                    self._event(value, account, f"{here}.value", False, events, skipped)
                else:
                    skipped.append(field)
        if not events and skipped:
            raise UnsupportedEvent(
                f"the {self.spec.channel} webhook holds only {', '.join(sorted(set(skipped)))} events, "
                "which omnicx does not record; acknowledge it",
                channel=self.spec.channel,
            )
        return events

    # --- one messaging event ------------------------------------------------

    def _event(
        self,
        event: Mapping[str, Any],
        account: str,
        where: str,
        standby: bool,
        events: list[InboundEvent],
        skipped: list[str],
    ) -> None:
        read = self.read
        handled = ("message", "message_edit", "postback", "reaction", "delivery", "read")
        kind = next((k for k in handled if event.get(k) is not None), None)
        if kind is None:
            known = [k for k in event if k not in ("sender", "recipient", "timestamp")]
            skipped.append(known[0][:60] if known else "empty event")
            return
        message = event.get("message")
        echo = isinstance(message, Mapping) and read.flag(message, "is_echo")
        who = self._who(event, account, where, echo=echo)
        metadata: dict[str, Any] = {"account_id": who.scope}
        if standby:
            metadata["standby"] = True
        if kind == "message":
            events.append(
                self._message(read.mapping(message, f"{where}.message"), event, who, metadata, where, echo)
            )
        elif kind == "message_edit":
            events.append(self._edit(event, who, metadata, where))
        elif kind == "postback":
            events.append(self._postback(event, who, metadata, where))
        elif kind == "reaction":
            events.append(self._reaction(event, who, metadata, where))
        elif kind == "delivery":
            events.extend(self._delivery(event, who, metadata, where))
        else:
            events.append(self._read(event, who, metadata, where))

    def _who(self, event: Mapping[str, Any], account: str, where: str, *, echo: bool) -> _Who:
        """The customer: the sender of inbound events, the recipient of echoes; scoped by the other side."""
        read = self.read
        customer_side, business_side = ("recipient", "sender") if echo else ("sender", "recipient")
        customer = read.mapping(event.get(customer_side), f"{where}.{customer_side}")
        business = event.get(business_side)
        scope = account
        if isinstance(business, Mapping):
            scope = read.ident(business, "id", f"{where}.{business_side}") or account
        raw = read.ident(customer, "id", f"{where}.{customer_side}")
        kind = self.spec.id_kind
        assurance = Assurance.VERIFIED
        if raw is None:
            raw = read.ident(customer, "user_ref", f"{where}.{customer_side}")
            kind, assurance = USER_REF_KIND, Assurance.ASSERTED
        if raw is None:
            raise read.error(f"at {where}.{customer_side} has neither an id nor a user_ref")
        try:
            seen = observe(kind, raw, scope=scope, assurance=assurance)
        except NormalizationError as exc:
            raise read.error(f"at {where}.{customer_side}: {exc.message}") from None
        return _Who(identifier=seen, scope=scope, raw_id=raw)

    def _base(
        self,
        who: _Who,
        key: str,
        occurred_at: datetime,
        metadata: dict[str, Any],
        *,
        direction: Direction = Direction.INBOUND,
        author: Author | None = None,
        thread: ThreadHints | None = None,
    ) -> dict[str, Any]:
        return {
            "id": interaction_id(self.spec.channel, key),
            "channel": self.spec.channel,
            "adapter": self.spec.channel,
            "dedupe_key": key,
            "occurred_at": occurred_at,
            "received_at": self.received_at,
            "direction": direction,
            "author": author or Author(role=AuthorRole.CUSTOMER, id=who.raw_id),
            "endpoint": who.identifier.identifier,
            "thread": thread or ThreadHints(),
            "metadata": metadata,
        }

    def _event_of(self, interaction: Any, who: _Who, raw_type: str) -> InboundEvent:
        return InboundEvent(interaction=interaction, identifiers=(who.identifier,), raw_type=raw_type)

    # --- messages, echoes, deletions ----------------------------------------

    def _message(
        self,
        message: Mapping[str, Any],
        event: Mapping[str, Any],
        who: _Who,
        metadata: dict[str, Any],
        where: str,
        echo: bool,
    ) -> InboundEvent:
        read = self.read
        here = f"{where}.message"
        mid = read.required_ident(message, "mid", here)
        occurred_at = read.moment(event, "timestamp", where)
        if read.flag(message, "is_deleted"):
            fields = self._base(who, f"deleted:{mid}", occurred_at, metadata)
            return self._event_of(Deletion(target_message_id=mid, **fields), who, "message_deleted")
        thread = ThreadHints()
        reply = message.get("reply_to")
        if isinstance(reply, Mapping):
            parent = read.ident(reply, "mid", f"{here}.reply_to")
            if parent is not None:
                thread = ThreadHints(reply_to=parent)
        referral = message.get("referral") or event.get("referral")
        if isinstance(referral, Mapping):
            metadata["referral"] = self._referral(referral, f"{here}.referral")
        author = None
        direction = Direction.INBOUND
        raw_type = "message"
        if echo:
            app_id = read.ident(message, "app_id", here)
            role = (
                AuthorRole.BOT if app_id is not None and app_id in self.spec.bot_app_ids else AuthorRole.AGENT
            )
            author = Author(role=role, id=app_id)
            direction = Direction.OUTBOUND
            raw_type = "message_echo"
            if app_id is not None:
                metadata["app_id"] = app_id
            # what the Send API request carried in message.metadata (OutboundMessage.correlation_id)
            correlation = read.text(message, "metadata", here, max_length=1000)
            if correlation:
                metadata["correlation_id"] = correlation
        parts = self._parts(message, here)
        fields = self._base(
            who, mid, occurred_at, metadata, direction=direction, author=author, thread=thread
        )
        return self._event_of(Message(parts=parts, platform_message_id=mid, **fields), who, raw_type)

    def _parts(self, message: Mapping[str, Any], where: str) -> tuple[ContentPart, ...]:
        read = self.read
        parts: list[ContentPart] = []
        text = read.text(message, "text", where, max_length=1_000_000)
        if text:
            parts.append(TextPart(text=text))
        quick = message.get("quick_reply")
        if isinstance(quick, Mapping):
            parts.append(
                InteractiveReplyPart(
                    reply_kind="quick_reply",
                    reply_id=read.text(quick, "payload", f"{where}.quick_reply"),
                    title=text[:1024] if text else None,
                )
            )
        for k, attachment in enumerate(read.mappings(message.get("attachments"), f"{where}.attachments")):
            parts.append(self._attachment(attachment, f"{where}.attachments[{k}]"))
        if not parts:
            parts.append(
                UnsupportedPart(raw_type="empty", description="a message without text or attachments")
            )
        return tuple(parts)

    def _attachment(self, attachment: Mapping[str, Any], where: str) -> ContentPart:
        read = self.read
        kind = read.required_text(attachment, "type", where, max_length=64)
        payload = attachment.get("payload")
        data: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
        url = read.text(data, "url", f"{where}.payload", max_length=4096)
        media_kind = _MEDIA.get(kind)
        if media_kind is not None and url:
            sticker = read.ident(data, "sticker_id", f"{where}.payload")
            return MediaPart(media_kind="sticker" if sticker else media_kind, url=url)
        title = read.text(data, "title", f"{where}.payload", max_length=4096)
        title = title or read.text(attachment, "title", where, max_length=4096)
        description = title or url
        return UnsupportedPart(raw_type=kind, description=description[:1024] if description else None)

    def _referral(self, referral: Mapping[str, Any], where: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for key in _REFERRAL_KEYS:
            value = (
                self.read.ident(referral, key, where)
                if key == "ad_id"
                else self.read.text(referral, key, where, max_length=4096)
            )
            if value:
                out[key] = value[:512]
        return out

    # --- edits, postbacks, reactions ----------------------------------------

    def _edit(
        self, event: Mapping[str, Any], who: _Who, metadata: dict[str, Any], where: str
    ) -> InboundEvent:
        read = self.read
        here = f"{where}.message_edit"
        edit = read.mapping(event.get("message_edit"), here)
        mid = read.required_ident(edit, "mid", here)
        count = edit.get("num_edit")
        number = str(count) if isinstance(count, int | str) and not isinstance(count, bool) else "0"
        text = read.text(edit, "text", here, max_length=1_000_000) or ""
        fields = self._base(
            who, f"edit:{mid}:{number[:12]}", read.moment(event, "timestamp", where), metadata
        )
        return self._event_of(
            Edit(target_message_id=mid, parts=(TextPart(text=text),), **fields), who, "message_edit"
        )

    def _postback(
        self, event: Mapping[str, Any], who: _Who, metadata: dict[str, Any], where: str
    ) -> InboundEvent:
        read = self.read
        here = f"{where}.postback"
        postback = read.mapping(event.get("postback"), here)
        occurred_at = read.moment(event, "timestamp", where)
        mid = read.ident(postback, "mid", here)
        key = mid or f"postback:{who.scope}:{who.raw_id}:{int(occurred_at.timestamp() * 1000)}"
        referral = postback.get("referral")
        if isinstance(referral, Mapping):
            metadata["referral"] = self._referral(referral, f"{here}.referral")
        part = InteractiveReplyPart(
            reply_kind="postback",
            reply_id=read.text(postback, "payload", here),
            title=read.text(postback, "title", here),
        )
        fields = self._base(who, key, occurred_at, metadata)
        return self._event_of(Message(parts=(part,), platform_message_id=mid, **fields), who, "postback")

    def _reaction(
        self, event: Mapping[str, Any], who: _Who, metadata: dict[str, Any], where: str
    ) -> InboundEvent:
        read = self.read
        here = f"{where}.reaction"
        reaction = read.mapping(event.get("reaction"), here)
        mid = read.required_ident(reaction, "mid", here)
        action = read.required_text(reaction, "action", here, max_length=32)
        emoji = read.text(reaction, "emoji", here, max_length=64)
        name = read.text(reaction, "reaction", here, max_length=64)
        if name:
            metadata["reaction"] = name
        occurred_at = read.moment(event, "timestamp", where)
        key = f"reaction:{mid}:{who.raw_id}:{action}:{int(occurred_at.timestamp() * 1000)}"
        part = ReactionPart(
            action="remove" if action == "unreact" else "add", emoji=emoji or None, target_message_id=mid
        )
        fields = self._base(who, key, occurred_at, metadata)
        return self._event_of(Message(parts=(part,), **fields), who, "reaction")

    # --- delivery and read receipts -----------------------------------------

    def _status(
        self,
        who: _Who,
        key: str,
        occurred_at: datetime,
        metadata: dict[str, Any],
        target: str,
        status: DeliveryStatus,
    ) -> StatusUpdate:
        fields = self._base(
            who,
            key,
            occurred_at,
            metadata,
            direction=Direction.OUTBOUND,
            author=Author(role=AuthorRole.SYSTEM),
        )
        return StatusUpdate(target_message_id=target, status=status, **fields)

    def _watermark(self, receipt: Mapping[str, Any], where: str) -> tuple[int, datetime] | None:
        value = receipt.get("watermark")
        if value is None:
            return None
        moment = self.read.moment(receipt, "watermark", where)
        return int(moment.timestamp() * 1000), moment

    def _delivery(
        self, event: Mapping[str, Any], who: _Who, metadata: dict[str, Any], where: str
    ) -> list[InboundEvent]:
        """One ``delivered`` status per listed mid, or one watermark status when no mid is listed."""
        read = self.read
        here = f"{where}.delivery"
        delivery = read.mapping(event.get("delivery"), here)
        mark = self._watermark(delivery, here)
        occurred_at = read.moment(event, "timestamp", where) if event.get("timestamp") is not None else None
        when = occurred_at or (mark[1] if mark else None)
        if when is None:
            raise read.error(f"at {where} has neither a timestamp nor a delivery watermark")
        mids = list(read.items(delivery.get("mids"), f"{here}.mids"))
        out: list[InboundEvent] = []
        for k, mid in enumerate(mids):
            if not isinstance(mid, str) or not mid or len(mid) > 512:
                raise read.error(f"field {here}.mids[{k}] must be a message id string")
            status = self._status(
                who, f"{mid}:delivered", when, dict(metadata), mid, DeliveryStatus.DELIVERED
            )
            out.append(self._event_of(status, who, "delivery"))
        if not out:
            if mark is None:
                raise read.error(f"at {here} lists no mids and no watermark")
            out.append(
                self._watermark_status(who, mark, when, metadata, DeliveryStatus.DELIVERED, "delivery")
            )
        return out

    def _read(
        self, event: Mapping[str, Any], who: _Who, metadata: dict[str, Any], where: str
    ) -> InboundEvent:
        """Messenger's ``read.watermark`` or Instagram's ``read.mid``."""
        read = self.read
        here = f"{where}.read"
        receipt = read.mapping(event.get("read"), here)
        occurred_at = read.moment(event, "timestamp", where)
        mid = read.ident(receipt, "mid", here)
        if mid is not None:
            status = self._status(who, f"{mid}:read", occurred_at, metadata, mid, DeliveryStatus.READ)
            return self._event_of(status, who, "read")
        mark = self._watermark(receipt, here)
        if mark is None:
            raise read.error(f"at {here} has neither a mid nor a watermark")
        return self._watermark_status(who, mark, occurred_at, metadata, DeliveryStatus.READ, "read")

    def _watermark_status(
        self,
        who: _Who,
        mark: tuple[int, datetime],
        when: datetime,
        metadata: dict[str, Any],
        status: DeliveryStatus,
        raw_type: str,
    ) -> InboundEvent:
        """A receipt for every outbound message to ``who`` sent at or before the watermark.

        ``target_message_id`` is ``watermark:<ms>``; ``metadata["watermark"]`` holds
        the watermark as ISO-8601 so a store can apply it to all earlier messages.
        """
        millis, moment = mark
        data = {**metadata, "watermark": moment.isoformat()}
        key = f"{status.value}:{who.scope}:{who.raw_id}:{millis}"
        update = self._status(who, key, when, data, f"watermark:{millis}", status)
        return self._event_of(update, who, raw_type)
