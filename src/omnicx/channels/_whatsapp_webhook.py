"""The WhatsApp Cloud API webhook walked into events: ``entry[] x changes[] x messages[] / statuses[]``.

Private to :mod:`omnicx.channels.whatsapp`; :func:`parse_webhook` is its one entry point.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from omnicx.channels._meta import Reader, observe
from omnicx.errors import NormalizationError, UnsupportedEvent
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContactPart,
    ContentPart,
    Deletion,
    DeliveryError,
    DeliveryStatus,
    Direction,
    Edit,
    Identifier,
    IdentifierKind,
    InboundEvent,
    InteractiveReplyPart,
    LocationPart,
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

__all__ = ["CHANNEL", "parse_webhook"]

CHANNEL = "whatsapp"
_MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
_REFERRAL_KEYS = ("source_type", "source_id", "source_url", "headline", "ctwa_clid")


def parse_webhook(body: bytes, received_at: datetime, *, business_id: str | None) -> list[InboundEvent]:
    """Every message, status and echo of a WhatsApp webhook body, in payload order.

    ``business_id`` scopes BSUIDs (default: each entry's WABA id). Raises
    :class:`~omnicx.errors.PayloadError` for a malformed payload and
    :class:`~omnicx.errors.UnsupportedEvent` for one with nothing omnicx records.
    """
    return _Parser(business_id, received_at).parse(body)


class _Sender:
    """Who a message came from (or a status went to): identifiers, endpoint, name."""

    def __init__(
        self,
        identifiers: list[ObservedIdentifier],
        name: str | None,
        username: str | None,
        problems: list[str],
    ) -> None:
        self.identifiers = identifiers
        self.name = name
        self.username = username
        self.problems = problems

    @property
    def endpoint(self) -> Identifier:
        return self.identifiers[0].identifier


class _Parser:
    """One webhook body walked into events."""

    def __init__(self, business_id: str | None, received_at: datetime) -> None:
        self.business_id = business_id
        self.received_at = received_at
        self.read = Reader(CHANNEL)

    def parse(self, body: bytes) -> list[InboundEvent]:
        return self.read.built("the top level", lambda: self._walk(body))

    def _walk(self, body: bytes) -> list[InboundEvent]:
        read = self.read
        payload = read.document(body)
        kind = read.required_text(payload, "object", "")
        if kind != "whatsapp_business_account":
            raise UnsupportedEvent(
                f"a webhook for object {kind[:60]!r} reached the WhatsApp adapter; "
                "point that subscription at the adapter for its channel",
                channel=CHANNEL,
            )
        events: list[InboundEvent] = []
        skipped: list[str] = []
        for i, entry in enumerate(read.mappings(payload.get("entry"), "entry", optional=False)):
            where = f"entry[{i}]"
            waba_id = read.required_ident(entry, "id", where)
            for j, change in enumerate(read.mappings(entry.get("changes"), f"{where}.changes")):
                here = f"{where}.changes[{j}]"
                field = read.required_text(change, "field", here)
                value = read.mapping(change.get("value"), f"{here}.value")
                if field == "messages":
                    events.extend(self._messages_value(value, waba_id, f"{here}.value", skipped))
                elif field == "smb_message_echoes":
                    events.extend(self._echoes_value(value, waba_id, f"{here}.value"))
                else:
                    skipped.append(field[:60])
        if not events and skipped:
            raise UnsupportedEvent(
                f"the WhatsApp webhook holds only {', '.join(sorted(set(skipped)))} "
                "notifications, which omnicx does not record; acknowledge it",
                channel=CHANNEL,
            )
        return events

    # --- business side ------------------------------------------------------

    def _business(self, value: Mapping[str, Any], waba_id: str, where: str) -> dict[str, Any]:
        metadata = self.read.mapping(value.get("metadata"), f"{where}.metadata")
        out: dict[str, Any] = {
            "waba_id": waba_id,
            "phone_number_id": self.read.required_ident(metadata, "phone_number_id", f"{where}.metadata"),
        }
        display = self.read.text(metadata, "display_phone_number", f"{where}.metadata", max_length=64)
        if display is not None:
            out["display_phone_number"] = display
        return out

    def _scope(self, waba_id: str) -> str:
        return self.business_id or waba_id

    # --- who ----------------------------------------------------------------

    def _person(
        self,
        phone: str | None,
        bsuid: str | None,
        parent: str | None,
        contacts: list[Mapping[str, Any]],
        waba_id: str,
        where: str,
    ) -> _Sender:
        """Identifiers of the user a message came from or a status is about."""
        read = self.read
        contact = _matching_contact(contacts, phone, bsuid)
        name = None
        username = None
        if contact is not None:
            cwhere = f"{where}.contacts"
            phone = phone or read.ident(contact, "wa_id", cwhere)
            bsuid = bsuid or read.ident(contact, "user_id", cwhere)
            parent = parent or read.ident(contact, "parent_user_id", cwhere)
            profile = contact.get("profile")
            if isinstance(profile, Mapping):
                name = read.text(profile, "name", f"{cwhere}.profile")
                username = read.text(profile, "username", f"{cwhere}.profile")
        found: list[ObservedIdentifier] = []
        problems: list[str] = []
        display = name or username
        candidates = (
            (IdentifierKind.PHONE, None if phone is None else "+" + phone.lstrip("+"), None),
            (IdentifierKind.WHATSAPP_BSUID, bsuid, self._scope(waba_id)),
            (IdentifierKind.WHATSAPP_BSUID, parent, None),
        )
        for kind, raw, scope in candidates:
            if raw is None:
                continue
            try:
                seen = observe(kind, raw, scope=scope, assurance=Assurance.VERIFIED, display_name=display)
            except NormalizationError as exc:
                problems.append(exc.message[:200])
                continue
            if all(o.identifier != seen.identifier for o in found):
                found.append(seen)
        if not found:
            detail = f" ({'; '.join(problems)})" if problems else ""
            raise read.error(f"at {where} names no usable WhatsApp user (no wa_id, from or user_id){detail}")
        return _Sender(found, name or username, username, problems)

    # --- messages -----------------------------------------------------------

    def _messages_value(
        self, value: Mapping[str, Any], waba_id: str, where: str, skipped: list[str]
    ) -> list[InboundEvent]:
        read = self.read
        business = self._business(value, waba_id, where)
        contacts = read.mappings(value.get("contacts"), f"{where}.contacts")
        value_errors = _error_detail(read, value.get("errors"), f"{where}.errors")
        events: list[InboundEvent] = []
        for k, msg in enumerate(read.mappings(value.get("messages"), f"{where}.messages")):
            events.append(
                self._message(msg, contacts, business, waba_id, f"{where}.messages[{k}]", value_errors)
            )
        for k, status in enumerate(read.mappings(value.get("statuses"), f"{where}.statuses")):
            event = self._status(status, contacts, business, waba_id, f"{where}.statuses[{k}]")
            if event is None:
                skipped.append(f"status {str(status.get('status'))[:30]}")
            else:
                events.append(event)
        return events

    def _message(
        self,
        msg: Mapping[str, Any],
        contacts: list[Mapping[str, Any]],
        business: dict[str, Any],
        waba_id: str,
        where: str,
        value_errors: str | None,
    ) -> InboundEvent:
        read = self.read
        wamid = read.required_ident(msg, "id", where)
        kind = read.required_text(msg, "type", where, max_length=64)
        occurred_at = read.moment(msg, "timestamp", where)
        sender = self._person(
            read.ident(msg, "from", where),
            read.ident(msg, "from_user_id", where),
            read.ident(msg, "from_parent_user_id", where),
            contacts,
            waba_id,
            where,
        )
        metadata: dict[str, Any] = dict(business)
        thread = ThreadHints()
        context = msg.get("context")
        if context is not None:
            ctx = read.mapping(context, f"{where}.context")
            reply_to = read.ident(ctx, "id", f"{where}.context")
            if reply_to is not None:
                thread = ThreadHints(reply_to=reply_to)
            if read.flag(ctx, "forwarded") or read.flag(ctx, "frequently_forwarded"):
                metadata["forwarded"] = True
            product = ctx.get("referred_product")
            if isinstance(product, Mapping):
                metadata["referred_product"] = {
                    k: v
                    for k in ("catalog_id", "product_retailer_id")
                    if (v := read.ident(product, k, f"{where}.context.referred_product")) is not None
                }
        referral = msg.get("referral")
        if referral is not None:
            ref = read.mapping(referral, f"{where}.referral")
            metadata["referral"] = {
                k: v[:512]
                for k in _REFERRAL_KEYS
                if (v := read.text(ref, k, f"{where}.referral", max_length=4096))
            }
        if sender.username is not None:
            metadata["username"] = sender.username
        if sender.problems:
            metadata["identifier_problems"] = sender.problems
        common: dict[str, Any] = {
            "id": interaction_id(CHANNEL, wamid),
            "channel": CHANNEL,
            "adapter": CHANNEL,
            "dedupe_key": wamid,
            "occurred_at": occurred_at,
            "received_at": self.received_at,
            "direction": Direction.INBOUND,
            "author": Author(role=AuthorRole.CUSTOMER, id=sender.endpoint.value, name=_short(sender.name)),
            "endpoint": sender.endpoint,
            "thread": thread,
            "metadata": metadata,
        }
        identifiers = list(sender.identifiers)

        def build() -> InboundEvent:
            interaction: Message | Edit | Deletion
            if kind == "edit":
                edit = read.mapping(msg.get("edit"), f"{where}.edit")
                target = read.required_ident(edit, "original_message_id", f"{where}.edit")
                inner = read.mapping(edit.get("message"), f"{where}.edit.message")
                parts = self._parts(inner, f"{where}.edit.message", value_errors)
                interaction = Edit(target_message_id=target, parts=parts, **common)
            elif kind == "revoke":
                revoke = read.mapping(msg.get("revoke"), f"{where}.revoke")
                target = read.required_ident(revoke, "original_message_id", f"{where}.revoke")
                interaction = Deletion(target_message_id=target, **common)
            elif kind == "system":
                interaction, extra = self._system(msg, common, where)
                identifiers.extend(o for o in extra if all(o.identifier != s.identifier for s in identifiers))
            else:
                origin = read.text(msg, "origin", where, max_length=64)
                if origin is not None:
                    metadata["origin"] = origin
                parts = self._parts(msg, where, value_errors)
                if kind == "contacts" and origin == "contact_request":
                    identifiers.extend(self._shared_own_contact(parts, identifiers))
                interaction = Message(parts=parts, platform_message_id=wamid, **common)
            return InboundEvent(interaction=interaction, identifiers=tuple(identifiers), raw_type=kind)

        return read.built(where, build)

    def _system(
        self, msg: Mapping[str, Any], common: dict[str, Any], where: str
    ) -> tuple[Message, list[ObservedIdentifier]]:
        """``type: system`` (the user changed number): a system message; the new number is asserted."""
        read = self.read
        system = read.mapping(msg.get("system"), f"{where}.system")
        body = read.text(system, "body", f"{where}.system", max_length=4096)
        system_type = read.text(system, "type", f"{where}.system", max_length=64)
        new_wa_id = read.ident(system, "wa_id", f"{where}.system")
        extra: list[ObservedIdentifier] = []
        if new_wa_id is not None:
            try:
                extra.append(
                    observe(IdentifierKind.PHONE, "+" + new_wa_id.lstrip("+"), assurance=Assurance.ASSERTED)
                )
            except NormalizationError as exc:
                common["metadata"].setdefault("identifier_problems", []).append(exc.message[:200])
        if system_type is not None:
            common["metadata"]["system_type"] = system_type
        parts: tuple[ContentPart, ...] = (
            (TextPart(text=body),)
            if body
            else (UnsupportedPart(raw_type=f"system.{system_type or 'unknown'}"),)
        )
        fields = {**common, "author": Author(role=AuthorRole.SYSTEM)}
        return Message(parts=parts, automated=True, **fields), extra

    @staticmethod
    def _shared_own_contact(
        parts: tuple[ContentPart, ...], known: list[ObservedIdentifier]
    ) -> list[ObservedIdentifier]:
        """Phones a user shared about themselves answering a contact request: asserted."""
        out: list[ObservedIdentifier] = []
        for part in parts:
            if not isinstance(part, ContactPart):
                continue
            for phone in part.phones:
                try:
                    seen = observe(IdentifierKind.PHONE, phone, assurance=Assurance.ASSERTED)
                except NormalizationError:
                    continue
                if all(o.identifier != seen.identifier for o in [*known, *out]):
                    out.append(seen)
        return out

    def _parts(
        self, body: Mapping[str, Any], where: str, value_errors: str | None
    ) -> tuple[ContentPart, ...]:
        """The content of a message object (``type`` and the object of that name)."""
        read = self.read
        kind = read.required_text(body, "type", where, max_length=64)
        content = body.get(kind)
        problem = _error_detail(read, body.get("errors"), f"{where}.errors") or value_errors
        here = f"{where}.{kind}"
        if kind == "unsupported":
            inner = content if isinstance(content, Mapping) else {}
            raw = read.text(inner, "type", here, max_length=64) or "unsupported"
            return (UnsupportedPart(raw_type=raw, description=_short(problem)),)
        if content is None:
            return (UnsupportedPart(raw_type=kind, description=_short(problem or f"no {kind} object")),)
        if kind == "text":
            text = read.mapping(content, here)
            return (TextPart(text=read.text(text, "body", here, max_length=1_000_000) or ""),)
        if kind in _MEDIA_KINDS:
            return (self._media(kind, read.mapping(content, here), here),)
        if kind == "location":
            loc = read.mapping(content, here)
            return (
                LocationPart(
                    latitude=read.number(loc, "latitude", here),
                    longitude=read.number(loc, "longitude", here),
                    name=read.text(loc, "name", here),
                    address=read.text(loc, "address", here),
                    url=read.text(loc, "url", here),
                ),
            )
        if kind == "contacts":
            return tuple(self._contact(c, f"{here}[{i}]") for i, c in enumerate(read.mappings(content, here)))
        if kind == "interactive":
            return (self._interactive(read.mapping(content, here), here),)
        if kind == "button":
            button = read.mapping(content, here)
            return (
                InteractiveReplyPart(
                    reply_kind="quick_reply",
                    reply_id=read.text(button, "payload", here),
                    title=read.text(button, "text", here),
                ),
            )
        if kind == "reaction":
            reaction = read.mapping(content, here)
            emoji = read.text(reaction, "emoji", here, max_length=64)
            return (
                ReactionPart(
                    action="add" if emoji else "remove",
                    emoji=emoji or None,
                    target_message_id=read.required_ident(reaction, "message_id", here),
                ),
            )
        return (UnsupportedPart(raw_type=kind, description=_short(problem)),)

    def _media(self, kind: str, media: Mapping[str, Any], where: str) -> MediaPart:
        read = self.read
        media_kind: Literal["image", "audio", "voice", "video", "document", "sticker"] = (
            "voice" if kind == "audio" and read.flag(media, "voice") else kind  # type: ignore[assignment]
        )
        return MediaPart(
            media_kind=media_kind,
            platform_media_id=read.ident(media, "id", where),
            url=read.text(media, "url", where, max_length=4096),
            mime_type=read.text(media, "mime_type", where),
            sha256=read.text(media, "sha256", where),
            caption=read.text(media, "caption", where, max_length=1_000_000),
            filename=read.text(media, "filename", where),
        )

    def _contact(self, card: Mapping[str, Any], where: str) -> ContactPart:
        read = self.read
        name_obj = card.get("name")
        name = None
        if isinstance(name_obj, Mapping):
            name = read.text(name_obj, "formatted_name", f"{where}.name")
        phones = [
            read.text(p, "phone", f"{where}.phones")
            for p in read.mappings(card.get("phones"), f"{where}.phones")
        ]
        emails = [
            read.text(e, "email", f"{where}.emails")
            for e in read.mappings(card.get("emails"), f"{where}.emails")
        ]
        return ContactPart(
            name=name,
            phones=tuple(p for p in phones if p),
            emails=tuple(e for e in emails if e),
        )

    def _interactive(self, interactive: Mapping[str, Any], where: str) -> ContentPart:
        read = self.read
        kind = read.required_text(interactive, "type", where, max_length=64)
        reply = interactive.get(kind)
        if kind in ("button_reply", "list_reply") and reply is not None:
            choice = read.mapping(reply, f"{where}.{kind}")
            return InteractiveReplyPart(
                reply_kind="button" if kind == "button_reply" else "list",
                reply_id=read.text(choice, "id", f"{where}.{kind}"),
                title=read.text(choice, "title", f"{where}.{kind}"),
                description=read.text(choice, "description", f"{where}.{kind}"),
            )
        description = None
        if isinstance(reply, Mapping):  # nfm_reply (a completed Flow): its body, such as "Sent"
            description = _short(read.text(reply, "body", f"{where}.{kind}", max_length=4096))
        return UnsupportedPart(raw_type=f"interactive.{kind}", description=description)

    # --- statuses -----------------------------------------------------------

    def _status(
        self,
        status: Mapping[str, Any],
        contacts: list[Mapping[str, Any]],
        business: dict[str, Any],
        waba_id: str,
        where: str,
    ) -> InboundEvent | None:
        read = self.read
        wamid = read.required_ident(status, "id", where)
        raw_status = read.required_text(status, "status", where, max_length=64)
        state = _STATUSES.get(raw_status)
        if state is None:
            return None
        occurred_at = read.moment(status, "timestamp", where)
        recipient = self._person(
            read.ident(status, "recipient_id", where),
            read.ident(status, "recipient_user_id", where),
            read.ident(status, "recipient_parent_user_id", where),
            contacts,
            waba_id,
            where,
        )
        metadata: dict[str, Any] = dict(business)
        conversation = status.get("conversation")
        if isinstance(conversation, Mapping):
            conversation_id = read.ident(conversation, "id", f"{where}.conversation")
            if conversation_id is not None:
                metadata["conversation_id"] = conversation_id
        pricing = status.get("pricing")
        if isinstance(pricing, Mapping):
            category = read.text(pricing, "category", f"{where}.pricing", max_length=64)
            if category is not None:
                metadata["pricing_category"] = category
        if recipient.problems:
            metadata["identifier_problems"] = recipient.problems
        error = None
        errors = read.mappings(status.get("errors"), f"{where}.errors")
        if errors:
            first = errors[0]
            code = first.get("code")
            detail = None
            data = first.get("error_data")
            if isinstance(data, Mapping):
                detail = read.text(data, "details", f"{where}.errors[0].error_data", max_length=4096)
            error = DeliveryError(
                code=None if code is None or isinstance(code, bool) else str(code)[:64],
                title=_short(read.text(first, "title", f"{where}.errors[0]", max_length=4096)),
                detail=_short(detail or read.text(first, "message", f"{where}.errors[0]", max_length=4096)),
            )

        def build() -> InboundEvent:
            update = StatusUpdate(
                id=interaction_id(CHANNEL, f"{wamid}:{raw_status}"),
                channel=CHANNEL,
                adapter=CHANNEL,
                dedupe_key=f"{wamid}:{raw_status}",
                occurred_at=occurred_at,
                received_at=self.received_at,
                direction=Direction.OUTBOUND,
                author=Author(role=AuthorRole.SYSTEM),
                endpoint=recipient.endpoint,
                metadata=metadata,
                target_message_id=wamid,
                status=state,
                error=error,
            )
            return InboundEvent(
                interaction=update, identifiers=tuple(recipient.identifiers), raw_type=f"status.{raw_status}"
            )

        return read.built(where, build)

    # --- Coexistence echoes -------------------------------------------------

    def _echoes_value(self, value: Mapping[str, Any], waba_id: str, where: str) -> list[InboundEvent]:
        """``smb_message_echoes``: messages the business sent from the WhatsApp Business app."""
        read = self.read
        business = self._business(value, waba_id, where)
        events: list[InboundEvent] = []
        for k, echo in enumerate(read.mappings(value.get("message_echoes"), f"{where}.message_echoes")):
            here = f"{where}.message_echoes[{k}]"
            wamid = read.required_ident(echo, "id", here)
            to = read.required_ident(echo, "to", here)
            recipient = self._person(to, None, None, [], waba_id, here)
            message = Message(
                id=interaction_id(CHANNEL, wamid),
                channel=CHANNEL,
                adapter=CHANNEL,
                dedupe_key=wamid,
                occurred_at=read.moment(echo, "timestamp", here),
                received_at=self.received_at,
                direction=Direction.OUTBOUND,
                author=Author(role=AuthorRole.AGENT),
                endpoint=recipient.endpoint,
                metadata=business,
                parts=self._parts(echo, here, None),
                platform_message_id=wamid,
            )
            events.append(
                InboundEvent(
                    interaction=message,
                    identifiers=tuple(recipient.identifiers),
                    raw_type="smb_message_echo",
                )
            )
        return events


def _matching_contact(
    contacts: list[Mapping[str, Any]], phone: str | None, bsuid: str | None
) -> Mapping[str, Any] | None:
    """The ``contacts[]`` entry about this user: by wa_id or user_id, else the only one."""
    for contact in contacts:
        if phone is not None and contact.get("wa_id") == phone:
            return contact
        if bsuid is not None and contact.get("user_id") == bsuid:
            return contact
    return contacts[0] if len(contacts) == 1 else None


def _error_detail(read: Reader, errors: object, where: str) -> str | None:
    """The most specific description of the first error in a WhatsApp ``errors`` array."""
    for error in read.mappings(errors, where):
        data = error.get("error_data")
        if isinstance(data, Mapping):
            detail = read.text(data, "details", f"{where}.error_data", max_length=4096)
            if detail:
                return detail
        return read.text(error, "title", where, max_length=4096) or read.text(
            error, "message", where, max_length=4096
        )
    return None


def _short(text: str | None) -> str | None:
    return None if text is None else text[:1024]
