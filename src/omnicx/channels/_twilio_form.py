"""Reading the parameters of a Twilio webhook, shared by the messaging and voice adapters.

Twilio sends ``application/x-www-form-urlencoded`` POST bodies (or, when a
number is set to GET, the same parameters in the query string). Parameters a
host appended to its callback URL (``…/twilio?tenant=acme``) arrive in the
query string of a POST; they are covered by the signature too, and are read
as well: a body parameter wins over a query parameter of the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlsplit

from omnicx.channels._payload import decode_text
from omnicx.errors import NormalizationError, PayloadError
from omnicx.models import InboundRequest
from omnicx.normalize import normalize_phone

__all__ = ["MAX_FIELDS", "TwilioParams", "read_params"]

MAX_FIELDS = 1000
"""More parameters than this is not a Twilio webhook (Twilio sends a few dozen)."""


class TwilioParams:
    """The decoded parameters of one Twilio webhook, with typed accessors.

    Every accessor raises :class:`~omnicx.errors.PayloadError` naming the
    parameter when its value is unusable.
    """

    def __init__(self, values: Mapping[str, str], *, channel: str) -> None:
        self._values = dict(values)
        self.channel = channel

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def get(self, name: str) -> str | None:
        """The value of ``name``; ``None`` when absent or empty."""
        value = self._values.get(name)
        return value if value else None

    def require(self, name: str, what: str) -> str:
        """The value of ``name``; raise PayloadError when absent or empty."""
        value = self.get(name)
        if value is None:
            raise PayloadError(
                f"the Twilio {what} has no {name} parameter; is this webhook URL configured for "
                f"the right kind of callback?",
                channel=self.channel,
                parameter=name,
            )
        return value

    def integer(self, name: str, *, limit: int = 1_000_000_000) -> int | None:
        """``name`` as a non-negative int; ``None`` when absent."""
        value = self.get(name)
        if value is None:
            return None
        if not value.isascii() or not value.isdigit() or len(value) > 12 or int(value) > limit:
            raise PayloadError(
                f"the Twilio parameter {name}={value[:40]!r} is not a whole number from 0 to {limit}",
                channel=self.channel,
                parameter=name,
            )
        return int(value)

    def timestamp(self, name: str) -> datetime | None:
        """``name`` (an RFC 2822 date, as Twilio sends) as aware UTC; ``None`` when absent.

        Only RFC 2822 is accepted (``Tue, 24 Nov 2026 10:15:42 +0000``); a date
        without a zone (``-0000``) is UTC, as Twilio's are.
        """
        value = self.get(name)
        if value is None:
            return None
        try:
            moment = parsedate_to_datetime(value) if len(value) <= 64 else None
        except (TypeError, ValueError, IndexError, OverflowError):
            moment = None
        if moment is None:
            raise PayloadError(
                f"the Twilio parameter {name}={value[:60]!r} is not an RFC 2822 date "
                "such as 'Tue, 24 Nov 2026 10:15:42 +0000'",
                channel=self.channel,
                parameter=name,
            )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def phone(self, name: str, raw: str) -> str:
        """``raw`` (the value of ``name``, channel prefix removed) in E.164."""
        try:
            return normalize_phone(raw)
        except NormalizationError as exc:
            raise PayloadError(
                f"the Twilio parameter {name}={raw[:60]!r} is not a phone number omnicx can "
                f"normalize to E.164 ({exc}); short codes and alphanumeric senders are not customers",
                channel=self.channel,
                parameter=name,
            ) from exc


def read_params(request: InboundRequest, body: bytes, *, channel: str) -> TwilioParams:
    """Decode the query string of ``request`` and the form ``body`` (already size-checked).

    Raises :class:`~omnicx.errors.PayloadError` when the body is JSON or
    otherwise not form-encoded UTF-8, or holds more than :data:`MAX_FIELDS`
    parameters.
    """
    text = decode_text(body, channel=channel)
    if text.lstrip().startswith(("{", "[")):
        raise PayloadError(
            "the body is JSON; Twilio messaging and voice webhooks are form-encoded "
            "(application/x-www-form-urlencoded): check the webhook URL's product",
            channel=channel,
        )
    values = _decode(urlsplit(request.url).query, "URL's query string", channel)
    values.update(_decode(text, "body", channel))
    return TwilioParams(values, channel=channel)


def _decode(text: str, where: str, channel: str) -> dict[str, str]:
    """Form-decode ``text``; the first value of a repeated name wins."""
    out: dict[str, str] = {}
    try:
        text.encode("utf-8")  # a URL handed in as text may hold lone surrogates
        for name, value in parse_qsl(
            text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        ):
            out.setdefault(name, value)
    except ValueError as exc:  # UnicodeDecodeError (bad %-escapes) and too many fields
        raise PayloadError(
            f"the {where} is not form-encoded UTF-8 with at most {MAX_FIELDS} fields "
            f"({type(exc).__name__}: {exc})"[:300],
            channel=channel,
        ) from exc
    return out
