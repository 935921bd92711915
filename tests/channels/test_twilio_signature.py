"""X-Twilio-Signature: every vector of SIGNATURES.md, the port variants, bodySHA256, refusals.

Vectors: twilio/twilio-python tests/unit/test_request_validator.py (MIT), as listed in
/work/shared/fixtures/channels/SIGNATURES.md. Expected signatures are the documented strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx.channels._twilio_signature import compute_signature, url_variants
from omnicx.channels.twilio import TwilioAdapter, TwilioConfig
from omnicx.channels.twilio_voice import TwilioVoiceAdapter, TwilioVoiceConfig
from omnicx.errors import SignatureError
from omnicx.models import InboundRequest

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
REPEATED = [
    ("Sid", "CA123"),
    ("SidAccount", "AC123"),
    ("Digits", "5678"),
    ("Digits", "1234"),
    ("Digits", "1234"),
]
JSON_BODY = b'{"property": "value", "boolean": true}'
JSON_SHA256 = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
RECEIVED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def as_mapping(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def request(url: str, body: bytes, signature: str | None, method: str = "POST") -> InboundRequest:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return InboundRequest(method=method, url=url, headers=headers, body=body, received_at=RECEIVED)


@pytest.fixture
def adapter() -> TwilioAdapter:
    return TwilioAdapter(TwilioConfig(auth_token=TOKEN))


# --- the documented vectors ----------------------------------------------------------


def test_vector_form_params() -> None:
    assert compute_signature(URL, as_mapping(PARAMS), TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_vector_https_with_default_port() -> None:
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert compute_signature(url, as_mapping(PARAMS), TOKEN) == "kvajT1Ptam85bY51eRf/AJRuM3w="


def test_vector_http_with_default_port() -> None:
    url = "http://mycompany.com:80/myapp.php?foo=1&bar=2"
    assert compute_signature(url, as_mapping(PARAMS), TOKEN) == "0ZXoZLH/DfblKGATFgpif+LLRf4="


def test_vector_repeated_names_sign_each_distinct_value_sorted() -> None:
    assert compute_signature(URL, as_mapping(REPEATED), TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_vector_json_body_signs_url_with_body_hash() -> None:
    url = f"{URL}&bodySHA256={JSON_SHA256}"
    assert compute_signature(url, {}, TOKEN) == "a9nBmqA0ju/hNViExpshrM61xv4="


# --- verify() on whole requests -------------------------------------------------------


def test_form_request_verifies(adapter: TwilioAdapter) -> None:
    assert adapter.verify(request(URL, urlencode(PARAMS).encode(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")) is None


def test_signature_made_with_port_verifies_on_url_without_port(adapter: TwilioAdapter) -> None:
    req = request(URL, urlencode(PARAMS).encode(), "kvajT1Ptam85bY51eRf/AJRuM3w=")
    assert adapter.verify(req) is None


def test_signature_made_without_port_verifies_on_url_with_port(adapter: TwilioAdapter) -> None:
    url = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert adapter.verify(request(url, urlencode(PARAMS).encode(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")) is None


def test_http_signature_made_with_port_80_verifies_without_it(adapter: TwilioAdapter) -> None:
    url = "http://mycompany.com/myapp.php?foo=1&bar=2"
    assert adapter.verify(request(url, urlencode(PARAMS).encode(), "0ZXoZLH/DfblKGATFgpif+LLRf4=")) is None


def test_repeated_names_verify_in_wire_order(adapter: TwilioAdapter) -> None:
    body = b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"
    assert adapter.verify(request(URL, body, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")) is None


def test_json_body_with_matching_hash_verifies(adapter: TwilioAdapter) -> None:
    url = f"{URL}&bodySHA256={JSON_SHA256}"
    assert adapter.verify(request(url, JSON_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=")) is None


def test_voice_adapter_shares_the_scheme() -> None:
    voice = TwilioVoiceAdapter(TwilioVoiceConfig(auth_token=TOKEN))
    assert voice.verify(request(URL, urlencode(PARAMS).encode(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")) is None
    with pytest.raises(SignatureError):
        voice.verify(request(URL, urlencode(PARAMS).encode(), "IK+Dwps556ElfBT0I3Rgjkr1wJU="))


def test_get_request_signs_the_url_alone(adapter: TwilioAdapter) -> None:
    url = "https://mycompany.com/myapp.php?" + urlencode(PARAMS)
    signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8="  # computed over URL+params: must not match a GET
    with pytest.raises(SignatureError):
        adapter.verify(request(url, b"", signature, method="GET"))
    assert compute_signature(url, {}, TOKEN) != signature


# --- refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "signature"),
    [
        pytest.param(
            URL,
            urlencode([*PARAMS[:-1], ("To", "+18005551213")]).encode(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="tampered-param",
        ),
        pytest.param(
            URL,
            urlencode([*PARAMS, ("Extra", "1")]).encode(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="added-param",
        ),
        pytest.param(
            URL.replace("foo=1", "foo=2"),
            urlencode(PARAMS).encode(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="tampered-url",
        ),
        pytest.param(
            URL.replace("https", "http"),
            urlencode(PARAMS).encode(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="other-scheme",
        ),
        pytest.param(
            "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
            urlencode(PARAMS).encode(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            id="non-default-port",
        ),
        pytest.param(URL, urlencode(PARAMS).encode(), "rsoydt4t1cutdk1pdd93/vvr8b8=", id="case-changed"),
        pytest.param(URL, urlencode(PARAMS).encode(), "", id="empty-header"),
        pytest.param(
            f"{URL}&bodySHA256={JSON_SHA256}",
            JSON_BODY.replace(b"true", b"false"),
            "a9nBmqA0ju/hNViExpshrM61xv4=",
            id="json-body-tampered",
        ),
        pytest.param(
            f"{URL}&bodySHA256={'0' * 64}", JSON_BODY, "a9nBmqA0ju/hNViExpshrM61xv4=", id="json-hash-tampered"
        ),
        pytest.param(URL, b"CallSid=\xff\xfe", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="invalid-utf8"),
        pytest.param(URL, b"CallSid=%ff%fe", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="invalid-utf8-escape"),
        pytest.param("https://mycompany.com:notaport/x", b"", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", id="bad-port"),
    ],
)
def test_refused(adapter: TwilioAdapter, url: str, body: bytes, signature: str) -> None:
    with pytest.raises(SignatureError):
        adapter.verify(request(url, body, signature))


def test_missing_header_is_refused(adapter: TwilioAdapter) -> None:
    with pytest.raises(SignatureError, match="no X-Twilio-Signature"):
        adapter.verify(request(URL, urlencode(PARAMS).encode(), None))


def test_wrong_token_is_refused() -> None:
    wrong = TwilioAdapter(TwilioConfig(auth_token="54321"))
    with pytest.raises(SignatureError, match="does not match"):
        wrong.verify(request(URL, urlencode(PARAMS).encode(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="))


def test_url_variants() -> None:
    assert url_variants("https://a.example/x?y=1") == (
        "https://a.example/x?y=1",
        "https://a.example:443/x?y=1",
    )
    assert url_variants("http://a.example:80/x") == ("http://a.example:80/x", "http://a.example/x")
    assert url_variants("https://u:p@a.example/x") == (
        "https://u:p@a.example/x",
        "https://u:p@a.example:443/x",
    )
    assert url_variants("https://a.example:8443/x") == ("https://a.example:8443/x",)
    assert url_variants("ftp://a.example/x") == ("ftp://a.example/x",)


# --- invariants ------------------------------------------------------------------------

_names = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12
)
_values = st.text(max_size=20)


@settings(max_examples=100)
@given(pairs=st.lists(st.tuples(_names, _values), max_size=12), data=st.data())
def test_signature_ignores_parameter_order(pairs: list[tuple[str, str]], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(pairs))
    assert compute_signature(URL, as_mapping(pairs), TOKEN) == compute_signature(
        URL, as_mapping(shuffled), TOKEN
    )


@settings(max_examples=100)
@given(pairs=st.lists(st.tuples(_names, _values), min_size=1, max_size=12), data=st.data())
def test_signed_request_verifies_whatever_the_wire_order(
    pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    adapter = TwilioAdapter(TwilioConfig(auth_token=TOKEN))
    signature = compute_signature(URL, as_mapping(pairs), TOKEN)
    body = urlencode(data.draw(st.permutations(pairs))).encode()
    assert adapter.verify(request(URL, body, signature)) is None


def test_sign_request_reproduces_the_vectors() -> None:
    from omnicx.channels._twilio_signature import sign_request

    form = sign_request(request(URL, urlencode(PARAMS).encode(), None), TOKEN)
    assert form.header("x-twilio-signature") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    json_url = f"{URL}&bodySHA256={JSON_SHA256}"
    signed_json = sign_request(request(json_url, JSON_BODY, None), TOKEN)
    assert signed_json.header("x-twilio-signature") == "a9nBmqA0ju/hNViExpshrM61xv4="


# --- SharedKey signatures (Webhook Rules, HMAC-SHA256) ----------------------------------
# Expected value: base64(HMAC-SHA256(b"sharedkeysecret", URL + "CallSidCA1234567890ABCDE"
# "Caller+14158675309Digits1234From+14158675309To+18005551212")), computed by hand with
# hmac/hashlib and equal to twilio-python 9.13's RequestValidator.compute_signature(…, "HMAC_SHA256").
SHARED_SIGNATURE = "QsKJXLjAP7rZRhGn7tOtNJtGlp+/hMWVh+iOK4ahLG4="
SHARED_KEY_ID = "webhooks_sharedkey_0123"


def shared_request(settings: str | None, signature: str = SHARED_SIGNATURE) -> InboundRequest:
    req = request(URL, urlencode(PARAMS).encode(), signature)
    if settings is None:
        return req
    return req.model_copy(
        update={"headers": {**req.headers, "x-twilio-webhooks-signature-settings": settings}}
    )


def shared_adapter(keys: dict[str, str]) -> TwilioAdapter:
    return TwilioAdapter(TwilioConfig(auth_token=TOKEN, shared_keys=keys))  # type: ignore[arg-type]


def test_vector_shared_key_sha256() -> None:
    assert compute_signature(URL, as_mapping(PARAMS), "sharedkeysecret", "HMAC_SHA256") == SHARED_SIGNATURE


def test_shared_key_signature_verifies() -> None:
    adapter = shared_adapter({SHARED_KEY_ID: "sharedkeysecret", "webhooks_sharedkey_old": "oldsecret"})
    settings = f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256"
    assert adapter.verify(shared_request(settings)) is None
    assert adapter.verify(shared_request(f" algorithm=HMAC_SHA256 , key={SHARED_KEY_ID} ")) is None


def test_shared_key_without_key_id_uses_the_only_configured_key() -> None:
    assert (
        shared_adapter({SHARED_KEY_ID: "sharedkeysecret"}).verify(shared_request("algorithm=HMAC_SHA256"))
        is None
    )


def test_shared_key_sha1() -> None:
    signature = compute_signature(URL, as_mapping(PARAMS), "sharedkeysecret")
    adapter = shared_adapter({SHARED_KEY_ID: "sharedkeysecret"})
    assert adapter.verify(shared_request(f"key={SHARED_KEY_ID},algorithm=HMAC_SHA1", signature)) is None


@pytest.mark.parametrize(
    ("keys", "settings", "match"),
    [
        pytest.param({}, f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256", "add that key's secret", id="no-keys"),
        pytest.param(
            {"other": "sharedkeysecret"},
            f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256",
            "add that",
            id="unknown-key",
        ),
        pytest.param(
            {SHARED_KEY_ID: "wrong"},
            f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256",
            "does not match",
            id="wrong-secret",
        ),
        pytest.param(
            {SHARED_KEY_ID: "sharedkeysecret"},
            f"key={SHARED_KEY_ID},algorithm=HMAC_SHA512",
            "does not know",
            id="unknown-algorithm",
        ),
        pytest.param(
            {SHARED_KEY_ID: "sharedkeysecret"},
            f"key={SHARED_KEY_ID},algorithm=HMAC_SHA1",
            "does not match",
            id="sha256-sent-as-sha1",
        ),
        pytest.param(
            {SHARED_KEY_ID: "sharedkeysecret", "k2": "x"},
            "algorithm=HMAC_SHA256",
            "add that",
            id="no-key-id-two-keys",
        ),
    ],
)
def test_shared_key_refusals(keys: dict[str, str], settings: str, match: str) -> None:
    with pytest.raises(SignatureError, match=match):
        shared_adapter(keys).verify(shared_request(settings))


def test_shared_key_signature_is_refused_without_the_settings_header() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        shared_adapter({SHARED_KEY_ID: "sharedkeysecret"}).verify(shared_request(None))


# --- the peer: twilio-python's RequestValidator agrees on random requests ---------------

_url_st = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}/{path}{query}",
    st.sampled_from(["https", "http"]),
    st.sampled_from(["example.com", "api.example.org", "u:p@hooks.example.net"]),
    st.sampled_from(["", ":443", ":80", ":8443"]),
    st.text(alphabet="abcxyz/_-.", max_size=12),
    st.sampled_from(["", "?a=1", "?tenant=acme&x=%2B1", "?q=%C3%A9"]),
)


@settings(max_examples=200)
@given(
    url=_url_st,
    pairs=st.lists(st.tuples(_names, _values), max_size=10),
    algorithm=st.sampled_from(["HMAC_SHA1", "HMAC_SHA256"]),
    secret=st.text(alphabet="abcdef0123456789", min_size=1, max_size=32),
)
def test_agrees_with_twilio_python(
    url: str, pairs: list[tuple[str, str]], algorithm: str, secret: str
) -> None:
    from twilio.request_validator import RequestValidator

    class MultiDict(dict[str, list[str]]):
        def getall(self, name: str) -> list[str]:
            return self[name]

    peer = RequestValidator(secret)
    params = MultiDict(as_mapping(pairs))
    ours = compute_signature(url, params, secret, algorithm)
    assert ours == peer.compute_signature(url, params, algorithm)
    # a request signed so verifies both with the reference library and with us
    config = TwilioConfig(auth_token=secret, shared_keys={"k": secret})  # type: ignore[dict-item]
    req = request(url, urlencode(pairs).encode(), ours)
    if algorithm != "HMAC_SHA1":  # a Webhook Rule's SharedKey: Twilio names it in this header
        settings = f"key=k,algorithm={algorithm}"
        req = req.model_copy(
            update={"headers": {**req.headers, "x-twilio-webhooks-signature-settings": settings}}
        )
    assert peer.validate(url, params, ours, algorithm) is True
    assert TwilioAdapter(config).verify(req) is None
