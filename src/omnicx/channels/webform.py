"""The ``webform`` adapter: contact-form and self-service portal submissions.

A submission is a flat JSON object or an ``application/x-www-form-urlencoded``
body (what an HTML ``<form method="post">`` sends). Known fields, each under a
few common spellings (``your-email`` is Contact Form 7's):

=================  ==========================================================
``submission_id``  the form tool's id for the submission: the dedupe key
``form_id``        which form (``contact``, ``returns``); scopes the dedupe key
``email``          the address the person typed: an *asserted* identifier
``phone``          the number the person typed: *asserted*; national numbers
                   need ``default_region``
``name``           display name
``subject``        subject line
``message``        the text
``submitted_at``   ISO-8601 or Unix time with a zone; else the time of receipt
=================  ==========================================================

Any other scalar field is kept in ``metadata["fields"]``. Without a
``submission_id`` the dedupe key is the SHA-256 of the body, so a re-posted
identical submission is recognised. The endpoint is the email when valid, else
the phone; a submission with neither is refused (nobody could be answered).

Authentication is optional: with ``secret`` set, requests must carry it in the
``X-Omnicx-Form-Secret`` header (compared in constant time). Without it, post to
the adapter only from your own server.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import phonenumbers
from pydantic import SecretStr, field_validator

from omnicx.channels._base import AdapterConfig, Capability, ChannelAdapter
from omnicx.channels._payload import decode_text, form_fields, json_object
from omnicx.errors import NormalizationError, PayloadError, SignatureError
from omnicx.models import (
    Assurance,
    Author,
    AuthorRole,
    ContentPart,
    Direction,
    Identifier,
    InboundEvent,
    InboundRequest,
    Message,
    ObservedIdentifier,
    TextPart,
    interaction_id,
)
from omnicx.normalize import normalize_identifier, normalize_timestamp

__all__ = ["SECRET_HEADER", "WebformAdapter", "WebformConfig"]

SECRET_HEADER = "x-omnicx-form-secret"
_CHANNEL = "webform"
MAX_FIELDS = 100
MAX_FIELD_CHARS = 1000

ALIASES: dict[str, tuple[str, ...]] = {
    "submission_id": ("submission_id", "submissionid", "id", "entry_id"),
    "form_id": ("form_id", "formid", "form"),
    "email": ("email", "your-email", "e-mail", "email_address", "emailaddress"),
    "phone": ("phone", "your-phone", "tel", "telephone", "phone_number", "mobile"),
    "name": ("name", "your-name", "full_name", "fullname"),
    "subject": ("subject", "your-subject", "topic"),
    "message": ("message", "your-message", "body", "comments", "description", "text"),
    "submitted_at": ("submitted_at", "submitted", "created_at", "timestamp"),
}


class WebformConfig(AdapterConfig):
    """Configuration of the webform adapter."""

    secret: SecretStr | None = None
    """When set, every request must carry it in ``X-Omnicx-Form-Secret``."""
    default_region: str | None = None
    """ISO 3166 region for phone numbers typed without a country code (``"US"``)."""

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not an ISO 3166 region phonenumbers knows, such as 'US'")
        return None if value is None else value.upper()


class WebformAdapter(ChannelAdapter[WebformConfig]):
    """Contact-form and portal submissions, JSON or form-encoded."""

    name: ClassVar[str] = "webform"
    display_name: ClassVar[str] = "Web form"
    api_version: ClassVar[str] = "1"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INBOUND, Capability.SIGNATURES})
    Config: ClassVar[type[AdapterConfig]] = WebformConfig

    def verify(self, request: InboundRequest) -> None:
        """Check ``X-Omnicx-Form-Secret`` when a secret is configured; accept everything otherwise.

        Raises :class:`~omnicx.errors.SignatureError` when the header is missing or wrong.
        """
        secret = self.config.secret
        if secret is None:
            return
        given = request.header(SECRET_HEADER)
        if given is None:
            raise SignatureError(
                f"the form submission lacks the {SECRET_HEADER} header the configuration requires",
                channel=_CHANNEL,
            )
        if not hmac.compare_digest(secret.get_secret_value().encode(), given.encode("utf-8", "replace")):
            raise SignatureError(f"the {SECRET_HEADER} header does not match the secret", channel=_CHANNEL)

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        """One inbound :class:`~omnicx.models.Message` for the submission.

        Raises :class:`~omnicx.errors.PayloadError` for a body that is neither a
        flat JSON object nor a form, a field of the wrong type, a bad
        ``submitted_at``, or a submission without a usable email or phone.
        """
        body = self.checked_body(request)
        fields = self._fields(body, request.header("content-type"))
        known = {canonical: self._pick(fields, names) for canonical, names in ALIASES.items()}
        taken = {name for names in ALIASES.values() for name in names}
        extra = {k: v for k, v in fields.items() if k.lower() not in taken}
        name = _clip(known["name"], 256)
        identifiers: list[ObservedIdentifier] = []
        rejected: list[str] = []
        for kind in ("email", "phone"):
            typed = known[kind]
            if not typed or not typed.strip():
                continue
            try:
                ident = normalize_identifier(kind, typed, region=self.config.default_region)
            except NormalizationError as exc:
                rejected.append(f"{kind}: {exc.message[:160]}")
                continue
            identifiers.append(
                ObservedIdentifier(identifier=ident, assurance=Assurance.ASSERTED, display_name=name)
            )
        if not identifiers:
            raise PayloadError(
                "the form submission has no valid email or phone, so nobody could be answered"
                + (f" ({'; '.join(rejected)})" if rejected else "; add an 'email' or 'phone' field"),
                channel=_CHANNEL,
            )
        endpoint: Identifier = identifiers[0].identifier
        form = _clip(known["form_id"], 128) or "-"
        submission = known["submission_id"]
        key = (
            f"{form}:{submission[:256]}"
            if submission
            else f"{form}:sha256:{hashlib.sha256(body).hexdigest()}"
        )
        occurred = self._when(known["submitted_at"], request.received_at)
        metadata: dict[str, Any] = {"form_id": form} if form != "-" else {}
        if extra:
            metadata["fields"] = {k[:100]: _clip(v, MAX_FIELD_CHARS) for k, v in sorted(extra.items())}
        if rejected:
            metadata["rejected_identifiers"] = rejected
        parts: list[ContentPart] = []
        if known["message"] and known["message"].strip():
            parts.append(TextPart(text=known["message"]))
        try:
            message = Message(
                id=interaction_id(self.name, key),
                channel="webform",
                adapter=self.name,
                dedupe_key=key,
                occurred_at=occurred,
                received_at=request.received_at,
                direction=Direction.INBOUND,
                author=Author(role=AuthorRole.CUSTOMER, name=name),
                endpoint=endpoint,
                parts=tuple(parts),
                subject=_clip(known["subject"], 1024),
                metadata=metadata,
            )
        except ValueError as exc:  # pydantic: a field over its bound (metadata size, text length)
            raise PayloadError(
                f"the form submission is too large or malformed: {exc}", channel=_CHANNEL
            ) from None
        return [InboundEvent(interaction=message, identifiers=tuple(identifiers), raw_type="submission")]

    def _fields(self, body: bytes, content_type: str | None) -> dict[str, str]:
        kind = (content_type or "").split(";", 1)[0].strip().lower()
        if kind == "application/json" or (
            not kind and decode_text(body, channel=_CHANNEL).lstrip()[:1] == "{"
        ):
            return self._flatten_json(json_object(body, channel=_CHANNEL))
        if kind not in ("", "application/x-www-form-urlencoded"):
            raise PayloadError(
                f"a form submission must be application/json or application/x-www-form-urlencoded, "
                f"got {kind[:80]!r}",
                channel=_CHANNEL,
            )
        raw = form_fields(body, channel=_CHANNEL)
        if len(raw) > MAX_FIELDS:
            raise PayloadError(f"a form submission holds at most {MAX_FIELDS} fields", channel=_CHANNEL)
        return {name: ", ".join(values) for name, values in raw.items()}

    def _flatten_json(self, doc: Mapping[str, Any]) -> dict[str, str]:
        if len(doc) > MAX_FIELDS:
            raise PayloadError(f"a form submission holds at most {MAX_FIELDS} fields", channel=_CHANNEL)
        out: dict[str, str] = {}
        for name, value in doc.items():
            if value is None:
                continue
            if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
                value = ", ".join(str(v) for v in value)
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, int | float):
                value = str(value)
            if not isinstance(value, str):
                raise PayloadError(
                    f"form field {name[:80]!r} must be a string, number, boolean or list of them, "
                    f"got {type(value).__name__}",
                    channel=_CHANNEL,
                )
            try:
                value.encode("utf-8")
                name.encode("utf-8")
            except UnicodeEncodeError:
                raise PayloadError(
                    f"form field {name[:80]!r} holds an unpaired surrogate", channel=_CHANNEL
                ) from None
            out[name] = value
        return out

    @staticmethod
    def _pick(fields: Mapping[str, str], names: tuple[str, ...]) -> str | None:
        lowered = {k.lower(): v for k, v in fields.items()}
        for name in names:
            if name in lowered:
                return lowered[name]
        return None

    @staticmethod
    def _when(value: str | None, received_at: datetime) -> datetime:
        if value is None or not value.strip():
            return received_at
        try:
            return normalize_timestamp(value)
        except NormalizationError as exc:
            raise PayloadError(f"the form's submitted_at is unusable: {exc}", channel=_CHANNEL) from None


def _clip(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] or None
