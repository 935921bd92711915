"""The Messenger adapter passes the channel adapter contract on every Messenger fixture.

Meta's event pages show single ``messaging[]`` events; :mod:`._meta_envelopes`
wraps them in the documented ``page`` envelope. Expectations are hand-written
(times from the millisecond ``timestamp`` of each event).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from omnicx.channels import AdapterConfig
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig
from omnicx.models import Identifier, InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase, inbound_request

from ._meta_envelopes import PAGE_ID, PSID, page_envelope

JSON = {"content-type": "application/json"}
ENDPOINT = f"messenger_psid@{PAGE_ID}:{PSID}"
VERIFIED = [f"{ENDPOINT} (verified)"]


def case(name: str, expected: list[dict[str, Any]]) -> GoldenCase:
    body = page_envelope(f"messenger_{name}.json")
    return GoldenCase(name=name, request=inbound_request(body, headers=JSON), expected=tuple(expected))


GOLDEN = (
    case(
        "text_event_docs",
        [
            {
                "type": "message",
                "dedupe_key": "mid.1457764197618:41d102a3e1ae206a38",
                "occurred_at": "2016-03-23T00:25:52.478000+00:00",
                "direction": "inbound",
                "author": "customer",
                "author_id": PSID,
                "endpoint": ENDPOINT,
                "identifiers": VERIFIED,
                "text": "hello, world!",
                "parts": ["text", "interactive_reply"],
                "platform_message_id": "mid.1457764197618:41d102a3e1ae206a38",
                "raw_type": "message",
                "metadata": {"account_id": PAGE_ID},
            }
        ],
    ),
    case(
        "reply_event_docs",
        [
            {
                "type": "message",
                "dedupe_key": "m_1457764197618:41d102a3e1ae206a38",
                "text": "hello, world!",
                "parts": ["text"],
                "reply_to": "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU",
            }
        ],
    ),
    case(
        "attachment_entry_docs",
        [
            {
                "type": "message",
                "dedupe_key": "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c",
                "occurred_at": "2018-02-12T23:46:35.308000+00:00",
                "endpoint": ENDPOINT,
                "parts": ["media:image"],
            }
        ],
    ),
    case(
        "text_botbuilder",
        [
            {
                "type": "message",
                "dedupe_key": "AAAA-BBBB-CCCC",
                "endpoint": "messenger_psid@0:0",
                "identifiers": ["messenger_psid@0:0 (verified)"],
                "text": "text",
                # botbuilder's fake timestamp 2222222 is below the millisecond range: read as seconds
                "occurred_at": "1970-01-26T17:17:02+00:00",
            }
        ],
    ),
    case(
        "delivery_event_docs",
        [
            {
                "type": "status",
                "dedupe_key": "mid.1458668856218:ed81099e15d3f4f233:delivered",
                "occurred_at": "2016-03-22T17:47:36.253000+00:00",
                "direction": "outbound",
                "author": "system",
                "endpoint": ENDPOINT,
                "identifiers": VERIFIED,
                "target_message_id": "mid.1458668856218:ed81099e15d3f4f233",
                "status": "delivered",
                "raw_type": "delivery",
            }
        ],
    ),
    case(
        "read_event_docs",
        [
            {
                "type": "status",
                "dedupe_key": f"read:{PAGE_ID}:{PSID}:1458668856253",
                "occurred_at": "2016-03-22T17:47:36.463000+00:00",
                "direction": "outbound",
                "target_message_id": "watermark:1458668856253",
                "status": "read",
                "metadata": {"account_id": PAGE_ID, "watermark": "2016-03-22T17:47:36.253000+00:00"},
            }
        ],
    ),
    case(
        "postback_test_sample_docs",
        [
            {
                "type": "message",
                "dedupe_key": "m_MESSAGE-ID",
                "occurred_at": "2018-05-27T22:23:44+00:00",
                "direction": "inbound",
                "author": "customer",
                "endpoint": "messenger_user_ref@PAGE-ID:USER-REF-ID",
                "identifiers": ["messenger_user_ref@PAGE-ID:USER-REF-ID (asserted)"],
                "parts": ["interactive_reply"],
                "raw_type": "postback",
                "metadata": {
                    "account_id": "PAGE-ID",
                    "referral": {
                        "ref": "USER-DEFINED-REFERRAL-PARAM",
                        "source": "SHORT-URL",
                        "type": "OPEN_THREAD",
                    },
                },
            }
        ],
    ),
    case(
        "echo_text_docs",
        [
            {
                "type": "message",
                "dedupe_key": "mid.1457764197618:41d102a3e1ae206a38",
                "occurred_at": "2016-03-12T06:29:57.627000+00:00",
                "direction": "outbound",
                "author": "agent",
                "author_id": "1517776481860111",
                "endpoint": ENDPOINT,
                "identifiers": VERIFIED,
                "text": "hello, world!",
                "raw_type": "message_echo",
                "metadata": {
                    "account_id": PAGE_ID,
                    "app_id": "1517776481860111",
                    # the fixture's message.metadata: what the Send API request carried
                    "correlation_id": "DEVELOPER_DEFINED_METADATA_STRING",
                },
            }
        ],
    ),
    case(
        "reaction_docs",
        [
            {
                "type": "message",
                "dedupe_key": f"reaction:m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU:{PSID}:react:1458668856463",
                "occurred_at": "2016-03-22T17:47:36.463000+00:00",
                "direction": "inbound",
                "author": "customer",
                "endpoint": ENDPOINT,
                "parts": ["reaction"],
                "raw_type": "reaction",
            }
        ],
    ),
    case(
        "message_edit_docs",
        [
            {
                "type": "edit",
                "dedupe_key": "edit:m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU:1",
                "occurred_at": "2016-03-22T17:47:36.463000+00:00",
                "direction": "inbound",
                "endpoint": ENDPOINT,
                "target_message_id": "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU",
                "parts": ["text"],
                "raw_type": "message_edit",
            }
        ],
    ),
)


class TestMessengerContract(ChannelAdapterContract):
    adapter_class = MessengerAdapter
    config = MessengerConfig(
        app_secret=SecretStr("messenger-app-secret"), page_access_token=SecretStr("EAAPage")
    )
    wrong_config = MessengerConfig(app_secret=SecretStr("not-the-app-secret"))
    signature_headers = ("x-hub-signature-256", "x-hub-signature")
    outbound_endpoint = Identifier(kind="messenger_psid", value=PSID, scope=PAGE_ID)
    golden_cases = GOLDEN

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, MessengerConfig)
        digest = hmac.new(
            config.app_secret.get_secret_value().encode(), request.body, hashlib.sha256
        ).hexdigest()
        return request.model_copy(
            update={"headers": {**request.headers, "x-hub-signature-256": f"sha256={digest}"}}
        )


def test_every_messenger_fixture_is_a_golden_case() -> None:
    from ._meta_envelopes import FIXTURES

    files = {p.name for p in FIXTURES.glob("messenger_*")}
    assert files == {f"messenger_{c.name}.json" for c in GOLDEN}
