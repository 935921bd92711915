"""Real-format payloads for the hub tests, built on the documented shapes of each channel.

WhatsApp: the Cloud API ``messages`` webhook (tests/fixtures/whatsapp_text.json's shape);
Twilio Voice: the documented status-callback parameters; email: RFC 5322; webchat and
webform: omnicx's own documented formats (docs/reference/). Signed with the test secrets.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlencode

from omnicx.channels import default_registry
from omnicx.channels._meta import SIGNATURE_HEADER as META_HEADER
from omnicx.channels._signatures import hmac_hex as hmac_hex
from omnicx.channels._twilio_signature import sign_request
from omnicx.channels.webchat import sign_webchat
from omnicx.models import InboundRequest

WEBCHAT_SECRET = "webchat-test-secret-0123456789"
META_SECRET = "meta-app-secret-test"
TWILIO_TOKEN = "twilio-auth-token-test"
SUPPORT = "support@shopdemo.io"


def adapters() -> list[object]:
    registry = default_registry()
    return [
        registry.create("webchat", {"secret": WEBCHAT_SECRET}),
        registry.create("email", {"business_addresses": (SUPPORT,), "from_address": SUPPORT}),
        registry.create(
            "whatsapp",
            {"app_secret": META_SECRET, "access_token": "EAAG-test", "phone_number_id": "106540352242922"},
        ),
        registry.create("twilio_voice", {"auth_token": TWILIO_TOKEN}),
        registry.create("twilio", {"auth_token": TWILIO_TOKEN, "account_sid": "AC" + "0" * 32}),
    ]


PAGE_ID = "682498302938465"


def messenger_adapter() -> object:
    return default_registry().create(
        "messenger", {"app_secret": META_SECRET, "page_access_token": "EAAP-test"}
    )


def messenger(at: datetime, psid: str, text: str, *, mid: str) -> InboundRequest:
    """A signed ``page`` webhook holding one message event (tests/fixtures/messenger_text_event_docs.json's
    shape, in the documented ``{"object": "page", "entry": [...]}`` envelope)."""
    ms = int(at.timestamp() * 1000)
    event = {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": ms,
        "message": {"mid": mid, "text": text},
    }
    body = json.dumps(
        {"object": "page", "entry": [{"id": PAGE_ID, "time": ms, "messaging": [event]}]}
    ).encode()
    return InboundRequest(
        url="https://shop.example/hooks/messenger",
        headers={"Content-Type": "application/json", META_HEADER: "sha256=" + hmac_hex(META_SECRET, body)},
        body=body,
        received_at=at,
    )


def webchat(
    at: datetime,
    session: str,
    visitor: str,
    text: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
    event_id: str,
) -> InboundRequest:
    person: dict[str, str] = {"id": visitor}
    if email:
        person["email"] = email
    if phone:
        person["phone"] = phone
    if name:
        person["name"] = name
    body = json.dumps(
        {
            "version": 1,
            "site_id": "shop-site",
            "events": [
                {
                    "id": event_id,
                    "type": "message",
                    "occurred_at": at.isoformat().replace("+00:00", "Z"),
                    "session_id": session,
                    "visitor": person,
                    "message": {"id": f"m_{event_id}", "author": {"role": "visitor"}, "text": text},
                }
            ],
        }
    ).encode()
    return InboundRequest(
        url="https://shop.example/hooks/webchat",
        headers=sign_webchat(WEBCHAT_SECRET, body, at),
        body=body,
        received_at=at,
    )


def email(
    at: datetime,
    sender: str,
    subject: str,
    text: str,
    *,
    message_id: str,
    in_reply_to: str | None = None,
    reply_to: str | None = None,
    extra_headers: tuple[str, ...] = (),
) -> InboundRequest:
    lines = [
        f"From: {sender}",
        *([f"Reply-To: {reply_to}"] if reply_to else []),
        f"To: {SUPPORT}",
        f"Subject: {subject}",
        f"Date: {at.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"Message-ID: <{message_id}>",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    lines += [*extra_headers, "MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"', "", text, ""]
    return InboundRequest(
        url="smtp://support@shopdemo.io",
        headers={"Content-Type": "message/rfc822"},
        body="\r\n".join(lines).encode(),
        received_at=at,
    )


def whatsapp(at: datetime, wa_id: str, name: str, text: str, *, wamid: str) -> InboundRequest:
    return whatsapp_batch(at, [(wa_id, name, text, wamid)])


def _cloud_api(at: datetime, value: dict[str, object]) -> InboundRequest:
    """A signed WhatsApp Cloud API webhook call whose one change carries ``value`` beside the
    business number's metadata."""
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550783881",
                                    "phone_number_id": "106540352242922",
                                },
                                **value,
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = "sha256=" + hmac_hex(META_SECRET, body)
    return InboundRequest(
        url="https://shop.example/hooks/whatsapp",
        headers={"Content-Type": "application/json", META_HEADER: signature},
        body=body,
        received_at=at,
    )


def whatsapp_batch(at: datetime, messages: list[tuple[str, str, str, str]]) -> InboundRequest:
    """One Cloud API delivery holding several messages, each ``(wa_id, name, text, wamid)``
    (Meta batches messages of several senders into one webhook call)."""
    return _cloud_api(
        at,
        {
            "contacts": [{"profile": {"name": name}, "wa_id": wa_id} for wa_id, name, _, _ in messages],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(int(at.timestamp())),
                    "type": "text",
                    "text": {"body": text},
                }
                for wa_id, _, text, wamid in messages
            ],
        },
    )


def whatsapp_status(at: datetime, wa_id: str, wamid: str, status: str) -> InboundRequest:
    """A Cloud API status callback for our outbound ``wamid`` (the shape of pywa's
    ``tests/data/updates/message_status.json``, see tests/fixtures/SOURCES.md)."""
    return _cloud_api(
        at,
        {
            "statuses": [
                {
                    "id": wamid,
                    "status": status,
                    "timestamp": str(int(at.timestamp())),
                    "recipient_id": wa_id,
                    "conversation": {"id": "7270432eae37498234f4444b35ffc5", "origin": {"type": "service"}},
                    "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
                }
            ]
        },
    )


def twilio_call(
    at: datetime, caller: str, call_sid: str, *, status: str = "completed", duration: int = 180
) -> InboundRequest:
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "CallDuration": str(duration),
        "Direction": "inbound",
        "From": caller,
        "To": "+15550783881",
        "Timestamp": at.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "SequenceNumber": "0",
    }
    request = InboundRequest(
        url="https://shop.example/hooks/voice",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode(params).encode(),
        received_at=at + timedelta(seconds=1),
    )
    return sign_request(request, TWILIO_TOKEN)
