"""What the three Meta channels (WhatsApp, Messenger, Instagram) share.

* :func:`verify_hub_signature`: ``X-Hub-Signature-256: sha256=<hex>`` (and the
  legacy ``X-Hub-Signature: sha1=<hex>``), an HMAC of the raw body bytes keyed
  with the app secret, compared in constant time;
* :func:`hub_challenge`: the ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``
  subscription handshake;
* :class:`Reader`: typed access to the decoded JSON envelope, where every
  wrong type, missing key or oversized value is a :class:`~omnicx.errors.PayloadError`
  naming the path (``entry[0].changes[1].value.messages[0].id``);
* :func:`observe`: a raw id, phone or BSUID turned into a normalized
  :class:`~omnicx.models.ObservedIdentifier`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from omnicx.channels._signatures import constant_time_equals, hmac_hex
from omnicx.errors import (
    ConfigurationError,
    NormalizationError,
    PayloadError,
    SignatureError,
    ValidationError,
)
from omnicx.models import Assurance, InboundRequest, ObservedIdentifier
from omnicx.normalize import normalize_identifier, normalize_timestamp

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_HEADER_SHA1",
    "Reader",
    "hub_challenge",
    "observe",
    "verify_hub_signature",
]

SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_HEADER_SHA1 = "x-hub-signature"
T = TypeVar("T")
_MAX_CHALLENGE = 1024
_MAX_ID = 512
_MAX_SHORT = 1024


def verify_hub_signature(
    request: InboundRequest, app_secret: SecretStr, *, channel: str, accept_sha1: bool
) -> None:
    """Check Meta's HMAC of the raw body against the request's signature header.

    ``X-Hub-Signature-256`` is checked when present; the legacy SHA-1
    ``X-Hub-Signature`` only when it is absent and ``accept_sha1`` is true.
    Returns ``None`` when the signature matches; raises
    :class:`~omnicx.errors.SignatureError` when it is missing, malformed or wrong.
    """
    secret = app_secret.get_secret_value()
    given = request.header(SIGNATURE_HEADER)
    digest = "sha256"
    if given is None and accept_sha1:
        given = request.header(SIGNATURE_HEADER_SHA1)
        digest = "sha1"
    if given is None:
        wanted = "X-Hub-Signature-256" + (" or X-Hub-Signature" if accept_sha1 else "")
        raise SignatureError(
            f"the {channel} request has no {wanted} header: it was not sent by Meta, "
            "or a proxy dropped the header; refuse it",
            channel=channel,
        )
    prefix = f"{digest}="
    if not given.startswith(prefix):
        raise SignatureError(
            f"the {channel} signature header must start with {prefix!r}; refuse the request",
            channel=channel,
        )
    expected = hmac_hex(secret, request.body, digest)
    if not constant_time_equals(expected, given[len(prefix) :].strip().lower()):
        raise SignatureError(
            f"the {channel} signature does not match the body: a forged or altered request, "
            "or the app secret in the config is not this app's secret",
            channel=channel,
        )


def hub_challenge(request: InboundRequest, verify_token: SecretStr | None, *, channel: str) -> str | None:
    """The challenge to echo for Meta's subscription handshake, or ``None`` when this is not one.

    A handshake is a ``GET`` whose query has ``hub.mode``. Raises
    :class:`~omnicx.errors.SignatureError` when the mode is not ``subscribe`` or
    the verify token does not match, :class:`~omnicx.errors.ConfigurationError`
    when no ``verify_token`` is configured, and :class:`~omnicx.errors.PayloadError`
    when the challenge is missing or unreasonably long.
    """
    if request.method != "GET":
        return None
    query = request.query
    if "hub.mode" not in query:
        return None
    if query["hub.mode"] != ["subscribe"]:
        raise SignatureError(
            f"the {channel} handshake has hub.mode={query['hub.mode']!r}; only 'subscribe' is answered",
            channel=channel,
        )
    if verify_token is None:
        raise ConfigurationError(
            f"a {channel} subscription handshake arrived but the adapter has no verify_token; "
            "set verify_token to the value typed in the App Dashboard's webhook settings",
            channel=channel,
        )
    tokens = query.get("hub.verify_token", [])
    if len(tokens) != 1 or not constant_time_equals(verify_token.get_secret_value(), tokens[0]):
        raise SignatureError(
            f"the {channel} handshake's hub.verify_token does not match the configured verify_token",
            channel=channel,
        )
    challenges = query.get("hub.challenge", [])
    if len(challenges) != 1 or not challenges[0] or len(challenges[0]) > _MAX_CHALLENGE:
        raise PayloadError(
            f"the {channel} handshake needs exactly one non-empty hub.challenge of at most "
            f"{_MAX_CHALLENGE} characters",
            channel=channel,
        )
    return challenges[0]


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


class Reader:
    """Typed reads from a decoded Meta envelope; every refusal is a PayloadError naming the path."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def error(self, message: str) -> PayloadError:
        """A :class:`PayloadError` for this channel."""
        return PayloadError(f"the {self.channel} payload {message}", channel=self.channel)

    def built(self, where: str, build: Callable[[], T]) -> T:
        """``build()``, with a model that refuses a payload value turned into a PayloadError.

        omnicx models raise :class:`~omnicx.errors.ValidationError` (text too
        long for a part, a latitude out of range …); in a webhook that is a
        malformed payload.
        """
        try:
            return build()
        except (ValidationError, PydanticValidationError) as exc:
            raise self.error(f"at {where} does not fit omnicx's models: {str(exc)[:300]}") from None

    def document(self, body: bytes) -> dict[str, Any]:
        """``body`` as a JSON object; refused when it is not UTF-8 JSON holding an object.

        The adapters size-check the body first (``ChannelAdapter.checked_body``).
        """
        try:
            value = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self.error(f"is not valid UTF-8 (byte {exc.start})") from None
        except (ValueError, RecursionError) as exc:
            raise self.error(f"is not JSON: {str(exc)[:120]}") from None
        if not isinstance(value, dict):
            raise self.error(f"must be a JSON object, got a {_kind(value)}")
        return value

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        """``value`` when it is a JSON object."""
        if not isinstance(value, Mapping):
            raise self.error(f"field {where} must be an object, got {_kind(value)}")
        return value

    def items(self, value: object, where: str, *, optional: bool = True) -> Sequence[Any]:
        """``value`` when it is a JSON array; ``[]`` for a missing optional array."""
        if value is None and optional:
            return []
        if not isinstance(value, list):
            raise self.error(f"field {where} must be an array, got {_kind(value)}")
        return value

    def mappings(self, value: object, where: str, *, optional: bool = True) -> list[Mapping[str, Any]]:
        """``value`` as an array of objects."""
        return [
            self.mapping(item, f"{where}[{i}]")
            for i, item in enumerate(self.items(value, where, optional=optional))
        ]

    def text(
        self, data: Mapping[str, Any], key: str, where: str, *, max_length: int = _MAX_SHORT
    ) -> str | None:
        """``data[key]`` as a string of valid Unicode, ``None`` when absent or null."""
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"field {where}.{key} must be a string, got {_kind(value)}")
        if len(value) > max_length:
            raise self.error(f"field {where}.{key} is {len(value)} characters, more than {max_length}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise self.error(f"field {where}.{key} holds an unpaired surrogate") from None
        return value

    def required_text(
        self, data: Mapping[str, Any], key: str, where: str, *, max_length: int = _MAX_SHORT
    ) -> str:
        """``data[key]`` as a non-empty string."""
        value = self.text(data, key, where, max_length=max_length)
        if value is None or not value.strip():
            raise self.error(f"needs a non-empty string at {where}.{key}")
        return value

    def ident(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        """``data[key]`` as an id: a string or an integer (Meta sends both), ``None`` when absent."""
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        text = self.text(data, key, where, max_length=_MAX_ID)
        if text is not None and (not text.strip() or text != text.strip()):
            raise self.error(f"field {where}.{key} must be an id without surrounding blanks")
        return text

    def required_ident(self, data: Mapping[str, Any], key: str, where: str) -> str:
        """``data[key]`` as a present id."""
        value = self.ident(data, key, where)
        if value is None:
            raise self.error(f"needs an id at {where}.{key}")
        return value

    def number(self, data: Mapping[str, Any], key: str, where: str) -> float:
        """``data[key]`` as a finite number."""
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"field {where}.{key} must be a number, got {_kind(value)}")
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise self.error(f"field {where}.{key} must be a finite number")
        return number

    def flag(self, data: Mapping[str, Any], key: str) -> bool:
        """True only when ``data[key]`` is the JSON value ``true``."""
        return data.get(key) is True

    def moment(self, data: Mapping[str, Any], key: str, where: str) -> datetime:
        """``data[key]`` (Unix seconds or milliseconds, as a number or a digit string) as aware UTC."""
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
            raise self.error(f"needs a Unix timestamp at {where}.{key}, got {_kind(value)}")
        if isinstance(value, str) and (len(value) > 20 or not value.isdigit()):
            raise self.error(f"field {where}.{key} must be Unix time in digits, got {value[:40]!r}")
        try:
            return normalize_timestamp(value)
        except NormalizationError as exc:
            raise self.error(f"field {where}.{key}: {exc.message}") from None


def observe(
    kind: str,
    raw: str,
    *,
    scope: str | None = None,
    assurance: Assurance,
    display_name: str | None = None,
) -> ObservedIdentifier:
    """A normalized identifier of ``kind`` seen with ``assurance``.

    Raises :class:`~omnicx.errors.NormalizationError` when ``raw`` (or ``scope``)
    is not a valid value of that kind; callers decide whether that refuses the
    payload or only drops the identifier.
    """
    identifier = normalize_identifier(kind, raw, scope)
    name = display_name[:256] if display_name else None
    return ObservedIdentifier(identifier=identifier, assurance=assurance, display_name=name)
