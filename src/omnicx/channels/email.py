"""The ``email`` adapter: raw RFC 5322 messages in, MIME replies out.

Inbound, the request body is the message exactly as received (from an MTA
pipe, an IMAP fetch, a provider's "raw MIME" webhook or an mbox file: see
:func:`iter_mbox`), parsed with the standard library's ``email`` package and
``policy.default``. One :class:`~omnicx.models.Message` per email:

* identities: ``From`` is the endpoint, unless it writes for someone else (a contact form, a
  marketplace: ``EmailConfig.relay_senders``, or any ``noreply@`` sender) and names them in
  ``Reply-To``: then the Reply-To person is the endpoint and the relay links to nobody.
  Otherwise ``Reply-To`` (when it differs) is a second identifier of the same person, *asserted* when From is verified and
  only *inferred* otherwise (with a forged From it would tie the victim's
  address to the forger's, and inferred links never merge); ``To`` and ``Cc`` are other
  people or the business's own mailboxes, so they are recorded in
  ``metadata["to"]`` / ``metadata["cc"]`` and never linked to the sender;
* **assurance of From**: a ``From`` header is trivially forged, so it is
  *asserted* by default. It becomes *verified* only when the message carries an
  ``Authentication-Results`` header written by your own border MTA (its
  authserv-id is ``EmailConfig.trusted_authserv_id``) that reports
  ``dmarc=pass`` for the From domain. Your MTA must strip such headers
  arriving from outside (RFC 8601 §5), which Postfix, Exim and the big
  providers do;
* subject, the plain text and HTML bodies in full, and ``new_text``: the plain
  text (or the HTML's visible text) with quoted replies and signatures stripped;
* attachments as metadata only (file name, type, decoded size, SHA-256):
  never decompressed, opened or executed;
* threading: ``Message-ID``, ``In-Reply-To`` and ``References`` with the angle
  brackets stripped;
* time: the ``Date`` header, unless it is later than the request's ``received_at``
  (a sender's clock running ahead, or a spammer's): then ``received_at``, with the
  header's time kept in ``metadata["date_header"]``; no usable ``Date``: ``received_at``;
* automated mail flagged (``automated=True``, ``metadata["automation"]``):
  ``Auto-Submitted`` other than ``no``, ``Precedence: bulk/junk/list/auto_reply``,
  ``X-Autoreply`` / ``X-Autorespond``, and delivery status notifications
  (``multipart/report; report-type=delivery-status``, whose failed recipient
  becomes the endpoint).

The dedupe key is the Message-ID with the From address (``mid:<Message-ID> <from>``):
a redelivery or an IMAP re-sync gives the same key even when transport headers
differ, and a message from someone else that reuses a Message-ID (a sender picks
its own ids; a broken mailer repeats them) is not taken for a copy. Without a
Message-ID, the key is the SHA-256 of the bytes.
Email carries no webhook signature: ``verify`` accepts every request, so accept
raw messages only from your own MTA or mailbox poller.

Outbound, :meth:`EmailAdapter.build_outbound` returns an
:class:`~omnicx.models.OutboundRequest` with ``url = "mailto:<recipient>"``,
``content-type: message/rfc822`` and the complete RFC 5322 message (CRLF line
ends) as the body: hand the bytes to ``smtplib.SMTP.sendmail`` or your
provider's raw-MIME API. It sets ``In-Reply-To`` and ``References`` so the
customer's mail client threads the reply, and a ``Message-ID`` derived from the
content (a retried send keeps its id). It sets no ``Date`` (it reads no clock):
add one with ``email.utils.formatdate()`` or let your MTA add it.
"""

from __future__ import annotations

import contextlib
import hashlib
import mailbox
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.headerregistry import BaseHeader
from email.message import EmailMessage
from email.message import Message as StdMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter, OutboundMessage
from omnicx.channels._email_reply import extract_new_text, html_to_text
from omnicx.errors import ConfigurationError, NormalizationError, PayloadError, UnsupportedEvent
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContentPart,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    MediaPart,
    Message,
    ObservedIdentifier,
    OutboundRequest,
    TextPart,
    ThreadHints,
    interaction_id,
)
from omnicx.models._interactions import MAX_TEXT
from omnicx.normalize import normalize_email, normalize_identifier

__all__ = ["EmailAdapter", "EmailConfig", "iter_mbox", "message_ids"]

_CHANNEL = "email"
# What the standard library's email package raises on hostile input, beyond MessageError.
_STDLIB_ERRORS = (
    MessageError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    UnicodeError,
    AssertionError,
    # CPython 3.11's _get_ptext_to_endchars reads an unset local on a header ending in "@["
    # (Message-Id: <a@[), which raises this instead of a HeaderParseError
    UnboundLocalError,
)


@lru_cache(maxsize=4096)
def _parsed_header(name: str, value: str) -> BaseHeader:
    """``policy.default``'s structured header for ``name: value``, parsed once per distinct pair.

    The stdlib parses a header again on every access (``get_content_type()`` alone
    reads Content-Type several times per part); the header objects are immutable
    strings, so one parse can serve every access and every message that repeats it.
    """
    header: BaseHeader = policy.default.header_fetch_parse(name, value)
    return header


class _ParseOncePolicy(EmailPolicy):
    """``policy.default`` whose header parses are cached (see :func:`_parsed_header`)."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):
            return value
        return _parsed_header(name, value)


_POLICY = _ParseOncePolicy()
_MSG_ID = re.compile(r"<([^<>\s]{1,900})>")
_MSG_ID_BARE = re.compile(r"^[!-;=?-~]{1,900}$")  # printable ASCII without < > and white space
_NO_REPLY = re.compile(r"(no[-_.]?reply|do[-_.]?not[-_.]?reply)([+.\-_].*)?", re.IGNORECASE)
"""The local part of a sender that says replies do not go to it (the identity policy's default
email blocklist holds these among its automated senders)."""
_SAFE_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\[\]]+$")
_AUTOMATED_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_MAX_LISTED = 50
_MAX_ATTACHMENTS = 100


class EmailConfig(AdapterConfig):
    """Configuration of the email adapter."""

    max_body_bytes: int = Field(default=26_214_400, gt=0)
    """Raw messages above this size (default 25 MiB) are refused."""
    business_addresses: tuple[str, ...] = ()
    """Your own mailboxes (``support@acme.example``): mail *from* them is an agent reply
    (outbound, to the first other recipient); they never become customer identifiers."""
    trusted_authserv_id: str | None = None
    """The authserv-id your border MTA writes in ``Authentication-Results``; with it,
    ``dmarc=pass`` for the From domain makes From *verified*. ``None``: From is asserted."""
    from_address: str | None = None
    """Default sender of outbound replies when the OutboundMessage has no ``sender``."""
    relay_senders: tuple[str, ...] = ()
    """Senders that write on someone else's behalf and name that person in ``Reply-To``: a
    contact form or a marketplace (``mailer@shopify.com``, or a whole domain as
    ``@forms.example``). A message from one, with a Reply-To, is the Reply-To person's: that
    address is the endpoint (replies go there) and the relay's address is linked to nobody
    (``metadata["relay"]``). A ``noreply@`` / ``do-not-reply@`` sender with a Reply-To is
    treated so without being listed."""


def message_ids(value: str | None) -> list[str]:
    """The message ids in a ``Message-ID`` / ``In-Reply-To`` / ``References`` value, brackets stripped.

    Ids are read from ``<…>``; a value without brackets counts as one bare id
    when it is printable ASCII without spaces. Returns ``[]`` for nothing usable.
    """
    if not value:
        return []
    found = _MSG_ID.findall(value)
    if found:
        return found
    bare = value.strip()
    return [bare] if _MSG_ID_BARE.match(bare) else []


def _lf(text: str) -> str:
    """Line ends as ``\n`` whatever the transport used (SMTP and IMAP give CRLF)."""
    return text.replace("\r\n", "\n")


def _clean(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    flat = flat.encode("utf-8", "replace").decode("utf-8")
    return flat[:limit] or None


class EmailAdapter(ChannelAdapter[EmailConfig]):
    """Raw RFC 5322 email."""

    name: ClassVar[str] = "email"
    display_name: ClassVar[str] = "Email (RFC 5322)"
    api_version: ClassVar[str] = "RFC 5322"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.INBOUND, Capability.OUTBOUND, Capability.MEDIA, Capability.THREADING}
    )
    Config: ClassVar[type[AdapterConfig]] = EmailConfig

    def __init__(self, config: EmailConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__(config)
        try:
            self._business = frozenset(normalize_email(a) for a in self.config.business_addresses)
        except NormalizationError as exc:
            raise ConfigurationError(
                f"EmailConfig.business_addresses holds a value that is not an address: {exc}",
                channel=_CHANNEL,
            ) from None
        self._relay_addresses: set[str] = set()
        self._relay_domains: set[str] = set()
        for value in self.config.relay_senders:
            text = value.strip()
            try:
                if text.startswith("@"):
                    self._relay_domains.add(normalize_email("relay" + text).split("@", 1)[1])
                else:
                    self._relay_addresses.add(normalize_email(text))
            except NormalizationError as exc:
                raise ConfigurationError(
                    f"EmailConfig.relay_senders holds {text[:80]!r}, neither an address nor an @domain: {exc}",
                    channel=_CHANNEL,
                ) from None

    # --- inbound ----------------------------------------------------------------

    def verify(self, request: InboundRequest) -> None:
        """Accept every request: email has no webhook signature (see the module docstring)."""

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """One :class:`~omnicx.models.Message` for the raw email in ``request.body``.

        Raises :class:`~omnicx.errors.PayloadError` when the bytes are not an
        email with a usable From address (or, for a bounce, a failed recipient),
        and :class:`~omnicx.errors.UnsupportedEvent` for an outbound copy with no
        customer among its recipients.
        """
        raw = self.checked_body(request)
        if not raw.strip():
            raise PayloadError("the email is empty", channel=_CHANNEL)
        try:
            msg = BytesParser(policy=_POLICY).parsebytes(raw)
            return [self._event(msg, raw, request)]
        except (PayloadError, UnsupportedEvent):
            raise
        except RecursionError:
            raise PayloadError("the email nests MIME parts too deeply", channel=_CHANNEL) from None
        except _STDLIB_ERRORS as exc:
            raise PayloadError(
                f"the email could not be parsed: {type(exc).__name__}: {str(exc)[:200]}", channel=_CHANNEL
            ) from None

    def _event(self, msg: StdMessage, raw: bytes, request: InboundRequest) -> InboundEvent:
        if not any(msg.keys()):
            raise PayloadError("the bytes hold no email headers", channel=_CHANNEL)
        senders = self._addresses(msg, "from")
        subject = _clean(self._header(msg, "subject"), 1024)
        thread = self._thread(msg)
        metadata: dict[str, Any] = {}
        automation, bounce = self._automation(msg)
        recipients = {field: self._addresses(msg, field) for field in ("to", "cc")}
        for field, found in recipients.items():
            if found:
                metadata[field] = [address for address, _ in found[:_MAX_LISTED]]
        list_id = _clean(self._header(msg, "list-id"), 256)
        if list_id:
            metadata["list_id"] = list_id
        if automation:
            metadata["automation"] = automation
        identifiers: list[ObservedIdentifier]
        if bounce is not None:
            metadata["bounce"] = bounce
            original = bounce.get("original_message_id")
            if original and thread.in_reply_to is None and original != thread.message_id:
                thread = thread.model_copy(update={"in_reply_to": original})
        if bounce is not None and bounce["recipients"]:
            endpoint, identifiers, direction, author = self._bounce_identity(bounce, senders)
        else:
            endpoint, identifiers, direction, author = self._identity(msg, senders, recipients, metadata)
            if automation is not None:
                author = author.model_copy(update={"role": AuthorRole.SYSTEM})
        plain, html, attachments, truncated = self._bodies(msg)
        if truncated:
            metadata["truncated"] = True
        parts: list[ContentPart] = []
        if plain is not None:
            parts.append(TextPart(text=plain))
        if html is not None:
            parts.append(TextPart(text=html, format="html"))
        parts.extend(attachments)
        source = plain if plain is not None else (html_to_text(html) if html is not None else "")
        new_text = extract_new_text(source)[:MAX_TEXT]
        key = self._dedupe_key(thread.message_id, senders[0][0] if senders else "", raw)
        dated = self._date(msg)
        occurred = request.received_at if dated is None else min(dated, request.received_at)
        if dated is not None and dated > request.received_at:
            # The mail cannot have been written after it arrived: a Date ahead of receipt is the
            # sender's clock (or a spammer's), and would sort the mail above all that came after.
            metadata["date_header"] = dated.isoformat()
        try:
            message = Message(
                id=interaction_id(self.name, key),
                channel="email",
                adapter=self.name,
                dedupe_key=key,
                occurred_at=occurred,
                received_at=request.received_at,
                direction=direction,
                author=author,
                endpoint=endpoint,
                thread=thread,
                parts=tuple(parts),
                subject=subject,
                new_text=new_text or None,
                platform_message_id=thread.message_id,
                automated=automation is not None,
                metadata=metadata,
            )
        except ValueError as exc:  # pydantic refused a bound (metadata size, field length)
            raise PayloadError(f"the email does not fit omnicx's limits: {exc}", channel=_CHANNEL) from None
        return InboundEvent(
            interaction=message, identifiers=tuple(identifiers), raw_type=automation or "email"
        )

    # --- pieces -------------------------------------------------------------------

    @staticmethod
    def _header(msg: StdMessage, name: str) -> str | None:
        try:
            value = msg.get(name)
        except _STDLIB_ERRORS:
            return None
        if value is None:
            return None
        return str(value)

    def _addresses(self, msg: StdMessage, name: str) -> list[tuple[str, str | None]]:
        """Normalized ``(address, display name)`` pairs of an address header; bad entries skipped."""
        try:
            values = msg.get_all(name) or []
            pairs = getaddresses([str(v) for v in values])
        except _STDLIB_ERRORS:
            return []
        out: list[tuple[str, str | None]] = []
        for display, address in pairs:
            if not address:
                continue
            try:
                canonical = normalize_email(address)
            except NormalizationError:
                continue
            if all(canonical != seen for seen, _ in out):
                out.append((canonical, _clean(display, 256)))
        return out

    def _is_relay(self, address: str) -> bool:
        """True when ``address`` writes for others: listed in ``relay_senders``, or a no-reply sender."""
        local, _, domain = address.rpartition("@")
        return (
            address in self._relay_addresses
            or domain in self._relay_domains
            or bool(_NO_REPLY.fullmatch(local))
        )

    def _from_assurance(self, msg: StdMessage, address: str) -> Assurance:
        authserv = self.config.trusted_authserv_id
        if authserv is None:
            return Assurance.ASSERTED
        domain = address.rsplit("@", 1)[-1]
        try:
            results = [str(v) for v in msg.get_all("authentication-results") or []]
        except _STDLIB_ERRORS:
            return Assurance.ASSERTED
        for result in results:
            head, _, rest = result.partition(";")
            if head.strip().split()[:1] != [authserv]:
                continue
            for clause in rest.split(";"):
                words = clause.strip().lower()
                match = re.match(r"dmarc\s*=\s*pass\b.*?header\.from\s*=\s*([^\s;()]+)", words)
                if match and match.group(1).strip('"') == domain:
                    return Assurance.VERIFIED
        return Assurance.ASSERTED

    def _identity(
        self,
        msg: StdMessage,
        senders: list[tuple[str, str | None]],
        recipients: dict[str, list[tuple[str, str | None]]],
        metadata: dict[str, Any],
    ) -> tuple[Identifier, list[ObservedIdentifier], Direction, Author]:
        if not senders:
            raise PayloadError(
                "the email has no usable From address; omnicx needs one to know who wrote it",
                channel=_CHANNEL,
            )
        address, display = senders[0]
        if address in self._business:
            customers = [
                pair for field in ("to", "cc") for pair in recipients[field] if pair[0] not in self._business
            ]
            if not customers:
                raise UnsupportedEvent(
                    "the email is from one of your business addresses to no customer; nothing to record",
                    channel=_CHANNEL,
                )
            to_address, to_display = customers[0]
            endpoint = normalize_identifier("email", to_address)
            observed = [
                ObservedIdentifier(identifier=endpoint, assurance=Assurance.ASSERTED, display_name=to_display)
            ]
            return (
                endpoint,
                observed,
                Direction.OUTBOUND,
                Author(role=AuthorRole.AGENT, id=address, name=display),
            )
        reply_to = [
            pair
            for pair in self._addresses(msg, "reply-to")[:1]
            if pair[0] != address and pair[0] not in self._business
        ]
        if reply_to and self._is_relay(address):
            # a contact form or a marketplace writing for the person named in Reply-To: that person
            # is the customer, asserted as a From is; the relay's own address is nobody's
            person, person_display = reply_to[0]
            metadata["relay"] = address
            endpoint = normalize_identifier("email", person)
            observed = [
                ObservedIdentifier(
                    identifier=endpoint, assurance=Assurance.ASSERTED, display_name=person_display
                )
            ]
            return (
                endpoint,
                observed,
                Direction.INBOUND,
                Author(role=AuthorRole.CUSTOMER, name=person_display),
            )
        endpoint = normalize_identifier("email", address)
        assurance = self._from_assurance(msg, address)
        if assurance is Assurance.VERIFIED:
            metadata["authentication"] = "dmarc=pass"
        observed = [ObservedIdentifier(identifier=endpoint, assurance=assurance, display_name=display)]
        # Reply-To is only as trustworthy as the From it comes with: with a forged From it would
        # tie the victim's address to the forger's, so it stays a mere inference unless From verified.
        reply_assurance = Assurance.ASSERTED if assurance is Assurance.VERIFIED else Assurance.INFERRED
        for reply_address, reply_display in reply_to:
            observed.append(
                ObservedIdentifier(
                    identifier=normalize_identifier("email", reply_address),
                    assurance=reply_assurance,
                    display_name=reply_display or display,
                )
            )
        return endpoint, observed, Direction.INBOUND, Author(role=AuthorRole.CUSTOMER, name=display)

    def _bounce_identity(
        self, bounce: dict[str, Any], senders: list[tuple[str, str | None]]
    ) -> tuple[Identifier, list[ObservedIdentifier], Direction, Author]:
        recipients = bounce["recipients"]
        endpoint = normalize_identifier("email", recipients[0])
        observed = [ObservedIdentifier(identifier=endpoint, assurance=Assurance.INFERRED)]
        reporter = senders[0][0] if senders else None
        return endpoint, observed, Direction.INBOUND, Author(role=AuthorRole.SYSTEM, id=reporter)

    def _thread(self, msg: StdMessage) -> ThreadHints:
        own = message_ids(self._header(msg, "message-id"))
        parent = message_ids(self._header(msg, "in-reply-to"))
        references = message_ids(self._header(msg, "references"))
        return ThreadHints(
            message_id=own[0][:1024] if own else None,
            in_reply_to=parent[0][:1024] if parent else None,
            references=tuple(r[:1024] for r in references[-100:]),
        )

    def _automation(self, msg: StdMessage) -> tuple[str | None, dict[str, Any] | None]:
        content_type = msg.get_content_type()
        report_type = str(msg.get_param("report-type", "") or "").lower()
        if content_type == "multipart/report" and (
            report_type == "delivery-status"
            or any(p.get_content_type() == "message/delivery-status" for p in msg.walk())
        ):
            return "bounce", self._dsn(msg)
        auto_submitted = (self._header(msg, "auto-submitted") or "").strip().lower()
        if auto_submitted and not auto_submitted.startswith("no"):
            return "auto_reply", None
        if self._header(msg, "x-autoreply") or self._header(msg, "x-autorespond"):
            return "auto_reply", None
        precedence = (self._header(msg, "precedence") or "").strip().lower()
        if precedence in _AUTOMATED_PRECEDENCE:
            return ("auto_reply" if precedence == "auto_reply" else "bulk"), None
        return None, None

    def _dsn(self, msg: StdMessage) -> dict[str, Any]:
        """Recipients, action and status of a delivery status notification (RFC 3464)."""
        recipients: list[str] = []
        actions: list[str] = []
        statuses: list[str] = []
        original: str | None = None
        for part in msg.walk():
            kind = part.get_content_type()
            if kind in ("message/delivery-status", "message/global-delivery-status"):
                for block in part.get_payload() if part.is_multipart() else []:
                    if not isinstance(block, StdMessage):
                        continue
                    final = self._header(block, "final-recipient") or self._header(
                        block, "original-recipient"
                    )
                    if final and ";" in final:
                        with contextlib.suppress(NormalizationError):
                            recipients.append(normalize_email(final.split(";", 1)[1].strip()))
                    for field, bucket in (("action", actions), ("status", statuses)):
                        value = _clean(self._header(block, field), 64)
                        if value:
                            bucket.append(value.lower())
            elif kind in ("text/rfc822-headers", "message/rfc822") and original is None:
                text = part.as_string() if kind == "text/rfc822-headers" else ""
                inner = part.get_payload()
                if (
                    kind == "message/rfc822"
                    and isinstance(inner, list)
                    and inner
                    and isinstance(inner[0], StdMessage)
                ):
                    ids = message_ids(self._header(inner[0], "message-id"))
                else:
                    found = re.search(r"(?im)^message-id:\s*(.+)$", text)
                    ids = message_ids(found.group(1)) if found else []
                original = ids[0][:1024] if ids else None
        out: dict[str, Any] = {"recipients": recipients[:_MAX_LISTED]}
        if actions:
            out["action"] = actions[0]
        if statuses:
            out["status"] = statuses[0]
        if original:
            out["original_message_id"] = original
        return out

    def _bodies(self, msg: StdMessage) -> tuple[str | None, str | None, list[MediaPart], bool]:
        plain_part = html_part = None
        try:
            plain_part = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
            html_part = msg.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
        except _STDLIB_ERRORS:
            pass
        truncated = False
        texts: list[str | None] = []
        for part in (plain_part, html_part):
            text = self._text_of(part) if part is not None else None
            if text is not None and len(text) > MAX_TEXT:
                text, truncated = text[:MAX_TEXT], True
            texts.append(text)
        attachments: list[MediaPart] = []
        for path, part in self._leaves(msg, ""):
            if part is plain_part or part is html_part or len(attachments) >= _MAX_ATTACHMENTS:
                continue
            media = self._attachment(path, part)
            if media is not None:
                attachments.append(media)
        return texts[0], texts[1], attachments, truncated

    def _leaves(self, part: StdMessage, path: str, depth: int = 0) -> Iterator[tuple[str, StdMessage]]:
        if depth > 20:
            return
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                for number, child in enumerate(payload, start=1):
                    if isinstance(child, StdMessage) and part.get_content_type() != "message/rfc822":
                        yield from self._leaves(child, f"{path}.{number}" if path else str(number), depth + 1)
                    elif isinstance(child, StdMessage):
                        yield (path or "1"), part
                        break
        else:
            yield (path or "1"), part

    @staticmethod
    def _text_of(part: StdMessage) -> str | None:
        try:
            content = part.get_content()  # type: ignore[attr-defined]
            if isinstance(content, str):
                return _lf(content.encode("utf-8", "replace").decode("utf-8"))
        except _STDLIB_ERRORS:
            pass
        try:
            payload = part.get_payload(decode=True)
        except _STDLIB_ERRORS:
            return None
        if not isinstance(payload, bytes):
            return None
        charset = part.get_content_charset() or "utf-8"
        try:
            return _lf(payload.decode(charset, errors="replace"))
        except LookupError:
            return _lf(payload.decode("utf-8", errors="replace"))

    def _attachment(self, path: str, part: StdMessage) -> MediaPart | None:
        kind = part.get_content_type()
        try:
            disposition = part.get_content_disposition()
            filename = part.get_filename()
        except _STDLIB_ERRORS:
            disposition, filename = None, None
        if kind.startswith("multipart/") or (
            kind in ("text/plain", "text/html") and disposition != "attachment" and not filename
        ):
            return None  # alternative bodies the preference list did not pick
        size: int | None = None
        digest: str | None = None
        if kind != "message/rfc822":
            try:
                data = part.get_payload(decode=True)
            except _STDLIB_ERRORS:
                data = None
            if isinstance(data, bytes):
                size, digest = len(data), hashlib.sha256(data).hexdigest()
        major = kind.split("/", 1)[0]
        media_kind = major if major in ("image", "audio", "video") else "file"
        return MediaPart(
            media_kind=media_kind,
            platform_media_id=f"mime-part:{path}"[:512],
            mime_type=kind[:1024],
            size=size,
            sha256=digest,
            filename=_clean(filename, 1024),
        )

    def _date(self, msg: StdMessage) -> datetime | None:
        value = self._header(msg, "date")
        if not value:
            return None
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None  # "-0000": the zone is unknown, RFC 5322 §3.3
        return moment

    @staticmethod
    def _dedupe_key(message_id: str | None, sender: str, raw: bytes) -> str:
        """``mid:<Message-ID> <From address>`` (a Message-ID holds no white space), hashed
        when longer than 400 characters; the SHA-256 of the bytes without a Message-ID."""
        if message_id:
            scoped = f"{message_id} {sender}" if sender else message_id
            if len(scoped) <= 400:
                return f"mid:{scoped}"
            return "mid-sha256:" + hashlib.sha256(scoped.encode("utf-8", "replace")).hexdigest()
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    # --- outbound ---------------------------------------------------------------

    def build_outbound(self, message: OutboundMessage, endpoint: Identifier) -> OutboundRequest:
        """A MIME reply to ``endpoint`` as ``mailto:`` request whose body is the RFC 5322 message.

        The sender is ``message.sender`` (an email identifier) or
        ``EmailConfig.from_address``. ``message.reply_to`` (a Message-ID) becomes
        ``In-Reply-To`` and the last entry of ``References`` (after
        ``message.references``), and the subject gets a ``Re:`` prefix when
        replying. Header injection is impossible: CR and LF in the subject are
        folded to spaces and message ids must be plain ``local@domain`` tokens.

        Raises :class:`~omnicx.errors.ConfigurationError` when the endpoint is not
        an email, no sender is configured, a message id is malformed, or there
        is no text to send.
        """
        self.check_tag(message)
        if endpoint.kind != "email":
            raise ConfigurationError(
                f"the email adapter sends to email identifiers, got a {endpoint.kind}", channel=_CHANNEL
            )
        sender = message.sender.value if message.sender is not None else self.config.from_address
        if message.sender is not None and message.sender.kind != "email":
            raise ConfigurationError("OutboundMessage.sender must be an email identifier", channel=_CHANNEL)
        if not sender:
            raise ConfigurationError(
                "no sender for the email: set OutboundMessage.sender or EmailConfig.from_address",
                channel=_CHANNEL,
            )
        try:
            sender = normalize_email(sender)
        except NormalizationError as exc:
            raise ConfigurationError(f"the email sender is not an address: {exc}", channel=_CHANNEL) from None
        if not message.text:
            raise ConfigurationError("an email reply needs OutboundMessage.text", channel=_CHANNEL)
        parent = self._checked_id(message.reply_to) if message.reply_to else None
        references = [self._checked_id(r) for r in message.references]
        if parent and parent not in references:
            references.append(parent)
        subject = _clean(message.subject, 900) or ""
        if parent and not re.match(r"(?i)^(re|aw|sv|antw)\s*:", subject):
            subject = f"Re: {subject}".strip()
        out = EmailMessage(policy=policy.SMTP)
        out["From"] = sender
        out["To"] = endpoint.value
        if subject:
            out["Subject"] = subject
        digest = hashlib.sha256(
            "\x1f".join([sender, endpoint.value, subject, parent or "", message.text]).encode(
                "utf-8", "replace"
            )
        ).hexdigest()
        message_id = f"omnicx.{digest[:40]}@{sender.rsplit('@', 1)[1]}"
        out["Message-ID"] = f"<{message_id}>"
        if parent:
            out["In-Reply-To"] = f"<{parent}>"
        if references:
            out["References"] = " ".join(f"<{r}>" for r in references[-20:])
        out.set_content(message.text.encode("utf-8", "replace").decode("utf-8"))
        return OutboundRequest(
            method="POST",
            url=f"mailto:{endpoint.value}",
            headers={"content-type": "message/rfc822"},
            body=out.as_bytes(),
            message_id=message_id,
        )

    @staticmethod
    def _checked_id(value: str) -> str:
        text = value.strip()
        bare = text[1:-1] if text.startswith("<") and text.endswith(">") else text
        if not _SAFE_ID.match(bare) or len(bare) > 900:
            raise ConfigurationError(
                f"{value[:80]!r} is not a single message id like 'abc123@mail.example.com'; "
                "pass the Message-ID of the message being answered",
                channel=_CHANNEL,
            )
        return bare


def iter_mbox(path: str | Path, *, received_at: datetime) -> Iterator[InboundRequest]:
    """One :class:`~omnicx.models.InboundRequest` per message of the mbox file at ``path``, in file order.

    For bulk imports: feed each request through the usual pipeline (raw inbox,
    then ``EmailAdapter.parse``). ``received_at`` stamps every request (the
    import time); each request's url is ``mbox:<path>#<index>``. Raises
    :class:`~omnicx.errors.ConfigurationError` when the file does not exist.
    """
    location = Path(path)
    if not location.is_file():
        raise ConfigurationError(f"{str(location)[:200]!r} is not an mbox file", channel=_CHANNEL)
    box = mailbox.mbox(location, create=False)
    try:
        for index, key in enumerate(box.iterkeys()):
            yield InboundRequest(
                url=f"mbox:{location}#{index}",
                headers={"content-type": "message/rfc822"},
                body=box.get_bytes(key),
                received_at=received_at,
            )
    finally:
        box.close()
