"""Twilio's ``X-Twilio-Signature`` scheme, shared by the messaging and voice adapters.

The signature is ``base64(HMAC-SHA1(auth token, url + sorted params))``:

1. start from the full URL Twilio requested, scheme through query string;
2. for a form-encoded POST append ``name + value`` for every parameter, names
   in sorted order, a repeated name once per distinct value, values sorted;
3. a JSON body is not signed as parameters: the URL carries
   ``bodySHA256=<hex sha256 of the raw body>`` and the URL alone is signed;
4. Twilio may have computed it with or without the default port (``:443`` for
   https, ``:80`` for http), so both spellings of the URL are accepted.

Source: twilio/twilio-python ``twilio/request_validator.py`` (MIT), and the
vectors in its ``tests/unit/test_request_validator.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from omnicx.channels._signatures import constant_time_equals, hmac_base64
from omnicx.errors import SignatureError
from omnicx.models import InboundRequest

__all__ = ["SIGNATURE_HEADER", "compute_signature", "sign_request", "url_variants", "verify_twilio_request"]

SIGNATURE_HEADER = "x-twilio-signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(url: str, params: Mapping[str, Sequence[str]], auth_token: str) -> str:
    """Return the base64 signature Twilio sends for ``url`` and form ``params``.

    ``params`` maps each name to all its values in any order (a repeated name
    keeps every value); an empty mapping signs the URL alone.
    """
    parts = [url]
    for name in sorted(params):
        for value in sorted(set(params[name])):
            parts.append(name + value)
    return hmac_base64(auth_token, "".join(parts).encode("utf-8"), "sha1")


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


def verify_twilio_request(request: InboundRequest, auth_token: str, *, channel: str) -> None:
    """Check a Twilio webhook's ``X-Twilio-Signature``; return ``None`` when it verifies.

    Form-encoded POST bodies are signed with their parameters; a GET request
    (parameters in the URL) and a JSON body announced by ``bodySHA256`` in the
    URL are signed by the URL alone, the latter after checking the body's hash.

    Raises :class:`~omnicx.errors.SignatureError` (and nothing else) when the
    header is missing, the body hash or the signature does not match, or the
    URL or body cannot be read.
    """
    given = request.header(SIGNATURE_HEADER)
    if not given:
        raise SignatureError(
            "the request has no X-Twilio-Signature header: it did not come from Twilio "
            "(or a proxy dropped the header); refused",
            channel=channel,
        )
    try:
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
        if constant_time_equals(compute_signature(url, params, auth_token), given):
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


def sign_request(request: InboundRequest, auth_token: str) -> InboundRequest:
    """Return a copy of ``request`` carrying the ``X-Twilio-Signature`` Twilio would send.

    For tests and local tools: a form POST is signed with its parameters, a GET
    or a request whose URL carries ``bodySHA256`` by the URL alone. A body that
    is not form-encoded UTF-8 is signed as if it had no parameters (Twilio never
    sends one; :func:`verify_twilio_request` refuses it).
    """
    json_body = any(name == "bodySHA256" for name, _ in parse_qsl(urlsplit(request.url).query))
    try:
        params = _signed_params(request, json_body=json_body)
    except ValueError:
        params = {}
    signature = compute_signature(request.url, params, auth_token)
    return request.model_copy(update={"headers": {**request.headers, SIGNATURE_HEADER: signature}})
