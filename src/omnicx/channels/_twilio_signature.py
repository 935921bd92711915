"""Twilio's ``X-Twilio-Signature`` scheme, shared by the messaging and voice adapters.

The signature is ``base64(HMAC(secret, url + sorted params))``:

1. start from the full URL Twilio requested, scheme through query string;
2. for a form-encoded POST append ``name + value`` for every parameter, names
   in sorted order, a repeated name once per distinct value, values sorted;
3. a JSON body is not signed as parameters: the URL carries
   ``bodySHA256=<hex sha256 of the raw body>`` and the URL alone is signed;
4. Twilio may have computed it with or without the default port (``:443`` for
   https, ``:80`` for http), so both spellings of the URL are accepted.

The secret and hash are the account's auth token and SHA-1, unless a Webhook
Rule signs the webhook with a SharedKey: Twilio then adds
``X-Twilio-Webhooks-Signature-Settings: key=<SharedKey id>,algorithm=HMAC_SHA256``
(or ``HMAC_SHA1``) and signs with that key's secret; only the hash changes.

Sources: twilio/twilio-python ``twilio/request_validator.py`` (MIT) and the
vectors of its ``tests/unit/test_request_validator.py``;
https://www.twilio.com/docs/usage/webhooks/webhook-shared-keys (Public Beta).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from pydantic import Field, SecretStr

from omnicx.channels._base import AdapterConfig
from omnicx.channels._signatures import constant_time_equals, hmac_base64
from omnicx.errors import SignatureError
from omnicx.models import InboundRequest

__all__ = [
    "ALGORITHMS",
    "SETTINGS_HEADER",
    "SIGNATURE_HEADER",
    "TwilioSigningConfig",
    "compute_signature",
    "sign_request",
    "url_variants",
    "verify_twilio_request",
]

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
ALGORITHMS: dict[str, str] = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
"""The ``algorithm=`` values of the settings header and the hash each names."""
_DEFAULT_PORTS = {"https": 443, "http": 80}


class TwilioSigningConfig(AdapterConfig):
    """What verifies Twilio webhooks: the auth token, and SharedKey secrets if Webhook Rules use them.

    ``shared_keys`` maps a SharedKey's id (the ``key=`` of the
    ``X-Twilio-Webhooks-Signature-Settings`` header) to its secret; keep the old
    and the new key while you rotate.
    """

    auth_token: SecretStr
    shared_keys: dict[str, SecretStr] = Field(default_factory=dict)


def compute_signature(
    url: str, params: Mapping[str, Sequence[str]], secret: str, algorithm: str = "HMAC_SHA1"
) -> str:
    """Return the base64 signature Twilio sends for ``url`` and form ``params``.

    ``params`` maps each name to all its values in any order (a repeated name
    keeps every value); an empty mapping signs the URL alone. ``algorithm`` is
    ``HMAC_SHA1`` (auth-token signatures) or ``HMAC_SHA256``; another value
    raises :class:`KeyError`.
    """
    digest = ALGORITHMS[algorithm]
    parts = [url]
    for name in sorted(params):
        for value in sorted(set(params[name])):
            parts.append(name + value)
    return hmac_base64(secret, "".join(parts).encode("utf-8"), digest)


def url_variants(url: str) -> tuple[str, ...]:
    """Return ``url`` as given plus its spelling with or without the default port.

    ``https://a.example/x`` gives also ``https://a.example:443/x``; a URL that
    names its scheme's default port gives also the spelling without it. Other
    ports and other schemes give the URL alone. Raises :class:`ValueError`
    for a URL whose port is not a number.
    """
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default is None or not parts.hostname:
        return (url,)
    port = parts.port  # ValueError for a port that is not a number
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    if port is None:
        return (url, _with_netloc(parts, f"{userinfo}{host}:{default}"))
    if port == default:
        bare = host.rsplit(":", 1)[0]
        return (url, _with_netloc(parts, f"{userinfo}{bare}"))
    return (url,)


def _with_netloc(parts: SplitResult, netloc: str) -> str:
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _settings(header: str) -> dict[str, str]:
    """``key=…,algorithm=…`` as a dict (names stripped; unknown parts kept)."""
    out: dict[str, str] = {}
    for part in header.split(","):
        name, sep, value = part.partition("=")
        if sep:
            out[name.strip()] = value.strip()
    return out


def _secret_and_algorithm(
    request: InboundRequest, config: TwilioSigningConfig, channel: str
) -> tuple[str, str]:
    """The secret and algorithm this request was signed with; SignatureError when unknowable."""
    header = request.header(SETTINGS_HEADER)
    if header is None or not header.strip():
        return config.auth_token.get_secret_value(), "HMAC_SHA1"
    settings = _settings(header)
    algorithm = settings.get("algorithm") or "HMAC_SHA1"
    if algorithm not in ALGORITHMS:
        raise SignatureError(
            f"the webhook was signed with {algorithm[:40]!r}, which omnicx does not know "
            f"({', '.join(ALGORITHMS)}); refused",
            channel=channel,
        )
    key = settings.get("key")
    if key is not None and key in config.shared_keys:
        return config.shared_keys[key].get_secret_value(), algorithm
    if key is None and len(config.shared_keys) == 1:
        return next(iter(config.shared_keys.values())).get_secret_value(), algorithm
    raise SignatureError(
        f"the webhook was signed with SharedKey {str(key)[:80]!r} by a Twilio Webhook Rule; add that "
        "key's secret to shared_keys in the adapter's config",
        channel=channel,
    )


def verify_twilio_request(request: InboundRequest, config: TwilioSigningConfig, *, channel: str) -> None:
    """Check a Twilio webhook's ``X-Twilio-Signature``; return ``None`` when it verifies.

    Form-encoded POST bodies are signed with their parameters; a GET request
    (parameters in the URL) and a JSON body announced by ``bodySHA256`` in the
    URL are signed by the URL alone, the latter after checking the body's hash.
    The auth token signs, unless ``X-Twilio-Webhooks-Signature-Settings`` names a
    SharedKey and algorithm.

    Raises :class:`~omnicx.errors.SignatureError` (and nothing else) when the
    header is missing, the body hash or the signature does not match, the
    SharedKey or algorithm is unknown, or the URL or body cannot be read.
    """
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise SignatureError(
            "the request has no X-Twilio-Signature header: it did not come from Twilio "
            "(or a proxy dropped the header); refused",
            channel=channel,
        )
    secret, algorithm = _secret_and_algorithm(request, config, channel)
    try:
        request.url.encode("utf-8")  # lone surrogates cannot be what Twilio signed
        query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        variants = url_variants(request.url)
    except ValueError as exc:
        raise SignatureError(
            f"the request URL cannot be read ({exc}); pass the exact URL Twilio requested",
            channel=channel,
        ) from exc
    body_hashes = [value for name, value in query if name == "bodySHA256"]
    if body_hashes:
        actual = hashlib.sha256(request.body).hexdigest()
        if not constant_time_equals(actual, body_hashes[0]):
            raise SignatureError(
                "the body's SHA-256 does not match the bodySHA256 in the URL: the body was "
                "altered after Twilio signed it; refused",
                channel=channel,
            )
    try:
        params = _signed_params(request, json_body=bool(body_hashes))
    except ValueError as exc:  # UnicodeDecodeError included
        raise SignatureError(
            "the body is not form-encoded UTF-8, so its Twilio signature cannot match; refused",
            channel=channel,
        ) from exc
    for url in variants:
        if constant_time_equals(compute_signature(url, params, secret, algorithm), given):
            return
    raise SignatureError(
        "the X-Twilio-Signature does not match: a wrong auth token, a URL that differs from "
        "the one Twilio requested (check proxies rewriting scheme, host or port), or an "
        "altered body; refused",
        channel=channel,
    )


def _signed_params(request: InboundRequest, *, json_body: bool) -> dict[str, list[str]]:
    """The parameters Twilio signs: a form POST's body parameters, else none.

    Raises :class:`ValueError` (or :class:`UnicodeDecodeError`) for a body that is
    not form-encoded UTF-8.
    """
    params: dict[str, list[str]] = {}
    if json_body or request.method != "POST" or not request.body:
        return params
    for name, value in parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, errors="strict"):
        params.setdefault(name, []).append(value)
    return params


def sign_request(request: InboundRequest, secret: str, algorithm: str = "HMAC_SHA1") -> InboundRequest:
    """Return a copy of ``request`` carrying the ``X-Twilio-Signature`` Twilio would send.

    For tests and local tools: a form POST is signed with its parameters, a GET
    or a request whose URL carries ``bodySHA256`` by the URL alone. A body that
    is not form-encoded UTF-8 is signed as if it had no parameters (Twilio never
    sends one; :func:`verify_twilio_request` refuses it). Pass a SharedKey's
    secret and ``HMAC_SHA256`` to sign as a Webhook Rule would (the settings
    header is the caller's to add).
    """
    json_body = any(name == "bodySHA256" for name, _ in parse_qsl(urlsplit(request.url).query))
    try:
        params = _signed_params(request, json_body=json_body)
    except ValueError:
        params = {}
    signature = compute_signature(request.url, params, secret, algorithm)
    return request.model_copy(update={"headers": {**request.headers, SIGNATURE_HEADER: signature}})
