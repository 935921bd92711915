"""Webchat details beyond the contract: the documented signature vector, rotation, bad visitor input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from omnicx.channels.webchat import WebchatAdapter, WebchatConfig, sign_webchat, webchat_signature
from omnicx.errors import PayloadError, SignatureError
from omnicx.testing import inbound_request

# docs/reference/webchat-protocol.md, computed with `openssl dgst -sha256 -hmac`
VECTOR_BODY = (
    b'{"version":1,"site_id":"acme-support","events":[{"id":"evt_1","type":"message",'
    b'"occurred_at":"2024-05-01T10:00:00Z","session_id":"sess_1","visitor":{"id":"v_1",'
    b'"email":"ana@example.com","name":"Ana"},"message":{"id":"msg_1","author":{"role":"visitor"},'
    b'"text":"Hello"}}]}'
)
VECTOR_SIGNATURE = "v1=a66b751069142fbc0690f1154bb3b83ae1ee87f0a905506e2e736a6ae375a8d8"
SECRET = "whsec_0123456789abcdef"
SENT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # 1714557600


def test_documented_vector() -> None:
    assert len(VECTOR_BODY) == 270
    assert webchat_signature(SECRET, 1714557600, VECTOR_BODY) == VECTOR_SIGNATURE
    request = inbound_request(
        VECTOR_BODY,
        headers={"X-Omnicx-Timestamp": "1714557600", "X-Omnicx-Signature": VECTOR_SIGNATURE},
        received_at=SENT + timedelta(seconds=3),
    )
    WebchatAdapter(WebchatConfig(secret=SECRET)).verify(request)


def test_previous_secret_is_accepted_during_rotation() -> None:
    request = inbound_request(VECTOR_BODY, headers=sign_webchat(SECRET, VECTOR_BODY, SENT), received_at=SENT)
    rotated = WebchatAdapter(WebchatConfig(secret="whsec_brand_new_secret", previous_secret=SECRET))
    rotated.verify(request)
    with pytest.raises(SignatureError):
        WebchatAdapter(WebchatConfig(secret="whsec_brand_new_secret")).verify(request)


def test_one_of_several_signatures_may_match() -> None:
    headers = sign_webchat(SECRET, VECTOR_BODY, SENT)
    headers["x-omnicx-signature"] = "v1=" + "0" * 64 + ", " + headers["x-omnicx-signature"]
    WebchatAdapter(WebchatConfig(secret=SECRET)).verify(
        inbound_request(VECTOR_BODY, headers=headers, received_at=SENT)
    )


@pytest.mark.parametrize("stamp", ["", "abc", "-5", "1714557600.5", "99999999999999"])
def test_a_malformed_timestamp_is_a_signature_error(stamp: str) -> None:
    headers = {"x-omnicx-timestamp": stamp, "x-omnicx-signature": VECTOR_SIGNATURE}
    with pytest.raises(SignatureError):
        WebchatAdapter(WebchatConfig(secret=SECRET)).verify(
            inbound_request(VECTOR_BODY, headers=headers, received_at=SENT)
        )


def test_typed_garbage_is_kept_out_of_identifiers_but_noted() -> None:
    doc = json.loads(VECTOR_BODY)
    doc["events"][0]["visitor"]["email"] = "ana at example dot com"
    events = WebchatAdapter(WebchatConfig(secret=SECRET)).parse(inbound_request(json.dumps(doc)))
    assert [str(o.identifier) for o in events[0].identifiers] == ["chat_visitor@acme-support:v_1"]
    rejected = events[0].interaction.metadata["rejected_identifiers"]
    assert isinstance(rejected, list)
    assert rejected[0].startswith("email: ")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "version 2 is not supported"),
        (lambda d: d.update(events=[]), "non-empty list 'events'"),
        (lambda d: d["events"][0]["message"].update(author={"role": "admin"}), "must be one of"),
        (lambda d: d["events"][0].update(occurred_at="2024-05-01 10:00"), "occurred_at"),
        (lambda d: d["events"][0]["message"].update(text=None), "neither text nor attachments"),
    ],
    ids=["version", "no-events", "role", "naive-time", "empty-message"],
)
def test_malformed_batches_say_what_is_wrong(change: object, message: str) -> None:
    doc = json.loads(VECTOR_BODY)
    assert callable(change)
    change(doc)
    with pytest.raises(PayloadError, match=message):
        WebchatAdapter(WebchatConfig(secret=SECRET)).parse(inbound_request(json.dumps(doc)))


def test_the_visitors_typed_name_names_their_unnamed_messages_only() -> None:
    adapter = WebchatAdapter(WebchatConfig(secret=SECRET))
    doc = json.loads(VECTOR_BODY)
    (event,) = adapter.parse(inbound_request(json.dumps(doc)))
    assert event.interaction.author.name == "Ana"  # visitor.name: the author names nobody
    doc["events"][0]["message"]["author"] = {"role": "visitor", "name": "Ana S."}
    (event,) = adapter.parse(inbound_request(json.dumps(doc)))
    assert event.interaction.author.name == "Ana S."  # the author's own name wins
    doc["events"][0]["message"]["author"] = {"role": "agent", "id": "agent-7"}
    (event,) = adapter.parse(inbound_request(json.dumps(doc)))
    assert event.interaction.author.name is None  # an agent's message is not the visitor's
    del doc["events"][0]["visitor"]["name"]
    doc["events"][0]["message"]["author"] = {"role": "visitor"}
    (event,) = adapter.parse(inbound_request(json.dumps(doc)))
    assert event.interaction.author.name is None
