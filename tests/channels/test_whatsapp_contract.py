"""The WhatsApp adapter passes the channel adapter contract on every WhatsApp fixture.

Expected events are written by hand from the payloads (times converted from the
Unix seconds in each ``timestamp``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from omnicx.channels import AdapterConfig
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig
from omnicx.errors import UnsupportedEvent
from omnicx.models import Identifier, InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures"
JSON = {"content-type": "application/json"}

PHONE = "phone:+972987654321"
USER = "US.13491208655302741918"
PARENT = "whatsapp_bsuid:US.ENT.11815799212886844830 (verified)"
WABA_A = "1234567890987654321"
WABA_B = "5467539754836534"
BUSINESS_A = {"waba_id": WABA_A, "phone_number_id": "1122334455667", "display_phone_number": "972123456789"}
BUSINESS_B = {"waba_id": WABA_B, "phone_number_id": "1122334455667", "display_phone_number": "972123456789"}
DOCS_BUSINESS = {
    "waba_id": "102290129340398",
    "phone_number_id": "106540352242922",
    "display_phone_number": "15550783881",
}
DOCS_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="


def pywa_ids(waba: str) -> list[str]:
    """The identifiers of pywa's test user, whose contact has wa_id, user_id and parent_user_id."""
    return [f"{PHONE} (verified)", f"whatsapp_bsuid@{waba}:{USER} (verified)", PARENT]


PLAIN = [f"{PHONE} (verified)"]  # pywa fixtures whose contact has only a wa_id


def inbound(**fields: Any) -> dict[str, Any]:
    return {"type": "message", "direction": "inbound", "author": "customer", "endpoint": PHONE, **fields}


def case(name: str, expected: list[dict[str, Any]], **kwargs: Any) -> GoldenCase:
    return GoldenCase.from_file(name, FIXTURES / f"whatsapp_{name}.json", expected, headers=JSON, **kwargs)


GOLDEN = (
    case(
        "text",
        [
            inbound(
                dedupe_key="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                occurred_at="2025-06-08T20:59:43+00:00",
                endpoint="phone:+16505551234",
                identifiers=["phone:+16505551234 (verified)"],
                author_id="+16505551234",
                author_name="Sheena Nelson",
                text="Does it come in another color?",
                parts=["text"],
                raw_type="text",
                metadata={
                    "waba_id": "102290129340398",
                    "phone_number_id": "106540352242922",
                    "display_phone_number": "15550783881",
                },
            )
        ],
    ),
    GoldenCase.from_file(
        "text_signed_raw",
        FIXTURES / "whatsapp_text_signed.raw.json",
        [
            inbound(
                dedupe_key="wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA",
                occurred_at="2024-10-29T19:58:23+00:00",
                endpoint="phone:+972544401243",
                identifiers=["phone:+972544401243 (verified)"],
                author_name="PyWa Tests",
                text="Hey there! I am using PyWa.",
            )
        ],
        headers=JSON,
    ),
    case(
        "image",
        [
            inbound(
                dedupe_key="wamid.xyzxyz",
                occurred_at="2023-10-11T16:56:19+00:00",
                identifiers=pywa_ids(WABA_A),
                author_id="+972987654321",
                author_name="Test Name",
                parts=["media:image"],
                text="",
                platform_message_id="wamid.xyzxyz",
                metadata=BUSINESS_A,
            )
        ],
    ),
    case(
        "interactive_button_reply",
        [
            inbound(
                dedupe_key="wamid.xyzxyz",
                occurred_at="2023-10-25T20:45:30+00:00",
                identifiers=pywa_ids(WABA_B),
                parts=["interactive_reply"],
                reply_to="wamid.xyzxyz",
                metadata=BUSINESS_B,
            )
        ],
    ),
    case(
        "interactive_list_reply",
        [
            inbound(
                dedupe_key="wamid.zyzxyz",
                occurred_at="2023-10-25T20:48:25+00:00",
                identifiers=pywa_ids(WABA_A),
                parts=["interactive_reply"],
                reply_to="wamid.xyzxyz",
            )
        ],
    ),
    case(
        "template_quick_reply_button",
        [
            inbound(
                dedupe_key="wamid.xsidjw",
                occurred_at="2023-10-25T21:23:47+00:00",
                identifiers=pywa_ids(WABA_B),
                parts=["interactive_reply"],
                reply_to="wamid.xyzxyz==",
                raw_type="button",
            )
        ],
    ),
    case(
        "location",
        [
            inbound(
                dedupe_key="wamid.xyzxyz",
                occurred_at="2023-10-11T17:15:57+00:00",
                parts=["location"],
                metadata={**BUSINESS_A, "forwarded": True},
            )
        ],
    ),
    case(
        "location_current",
        [inbound(dedupe_key="wamid.xyzxyz", parts=["location"], identifiers=pywa_ids(WABA_A))],
    ),
    case(
        "reaction",
        [inbound(dedupe_key="wamid.xyzxyz", occurred_at="2023-10-11T17:14:16+00:00", parts=["reaction"])],
    ),
    case("reaction_removed", [inbound(dedupe_key="wamid.xyzxyz", parts=["reaction"], raw_type="reaction")]),
    case(
        "reply_context",
        [
            inbound(
                dedupe_key="wamid.xyzxyz",
                occurred_at="2023-10-11T17:19:06+00:00",
                text="replied text",
                reply_to="wamid.xyzxyz==",
            )
        ],
    ),
    case(
        "status_sent",
        [
            {
                "type": "status",
                "dedupe_key": "wamid.xyzxyz:sent",
                "occurred_at": "2023-10-25T20:49:05+00:00",
                "direction": "outbound",
                "author": "system",
                "endpoint": PHONE,
                "identifiers": pywa_ids(WABA_B),
                "target_message_id": "wamid.xyzxyz",
                "status": "sent",
                "raw_type": "status.sent",
                "metadata": {
                    **BUSINESS_B,
                    "conversation_id": "7270432eae37498234f4444b35ffc5",
                    "pricing_category": "service",
                },
            }
        ],
    ),
    case(
        "status_delivered",
        [
            {
                "type": "status",
                "dedupe_key": "wamid.xyzxyz:delivered",
                "status": "delivered",
                "target_message_id": "wamid.xyzxyz",
            }
        ],
    ),
    case(
        "status_read",
        [
            {
                "type": "status",
                "dedupe_key": "wamid.xyzxyz:read",
                "occurred_at": "2023-07-15T00:20:58+00:00",
                "status": "read",
            }
        ],
    ),
    case(
        "status_failed",
        [
            {
                "type": "status",
                "dedupe_key": "wamid.xyzxyz:failed",
                "status": "failed",
                "endpoint": PHONE,
                "metadata": BUSINESS_B,
            }
        ],
    ),
    case(
        "video",
        [
            inbound(
                dedupe_key="wamid.xyzxyz",
                occurred_at="2023-10-11T17:12:42+00:00",
                identifiers=PLAIN,
                parts=["media:video"],
                text="caption",
                metadata={**BUSINESS_A, "forwarded": True},
            )
        ],
    ),
    case(
        "document",
        [inbound(parts=["media:document"], text="caption", occurred_at="2023-10-11T17:01:06+00:00")],
    ),
    case("audio", [inbound(parts=["media:audio"], text="", occurred_at="2023-10-11T16:58:29+00:00")]),
    case(
        "voice", [inbound(parts=["media:voice"], occurred_at="2023-10-11T16:57:53+00:00", raw_type="audio")]
    ),
    case("sticker_animated", [inbound(parts=["media:sticker"], occurred_at="2023-10-11T17:03:05+00:00")]),
    case("image_with_url", [inbound(parts=["media:image"], identifiers=PLAIN)]),
    case(
        "contacts",
        [
            inbound(
                parts=["contact", "contact", "contact"],
                identifiers=PLAIN,
                occurred_at="2023-10-11T17:17:01+00:00",
            )
        ],
    ),
    case(
        "order", [inbound(parts=["unsupported"], raw_type="order", occurred_at="2023-10-11T17:17:48+00:00")]
    ),
    case(
        "unsupported",
        [inbound(parts=["unsupported"], raw_type="unsupported", occurred_at="2023-10-11T17:18:26+00:00")],
    ),
    case(
        "interactive_with_error",
        [
            inbound(
                dedupe_key="wamid.wegrchytvwcggt=",
                occurred_at="2023-11-20T18:38:14+00:00",
                parts=["unsupported"],
                reply_to="wamid.gvwegfretge==",
            )
        ],
    ),
    case(
        "flow_nfm_reply",
        [
            inbound(
                dedupe_key="wamid.wegrchytvwcggt==",
                occurred_at="2023-12-13T21:21:13+00:00",
                identifiers=pywa_ids(WABA_A),
                parts=["unsupported"],
                reply_to="wamid.gvwegfretge==",
                raw_type="interactive",
            )
        ],
    ),
    case(
        "referral",
        [
            inbound(
                dedupe_key="wamid.ID",
                occurred_at="2023-10-11T17:23:20+00:00",
                text="BODY",
                metadata={
                    **BUSINESS_A,
                    "referral": {
                        "source_type": "ad or post",
                        "source_id": "ADID",
                        "source_url": "AD_OR_POST_FB_URL",
                        "headline": "AD_TITLE",
                        "ctwa_clid": "CTWA_CLID",
                    },
                },
            )
        ],
    ),
    case(
        "edit_text",
        [
            {
                "type": "edit",
                "dedupe_key": "wamid.yyyyyy",
                "occurred_at": "2023-10-11T17:22:48+00:00",
                "direction": "inbound",
                "author": "customer",
                "endpoint": PHONE,
                "target_message_id": "wamid.zzzzzz",
                "parts": ["text"],
                "raw_type": "edit",
            }
        ],
    ),
    case("edit_caption", [{"type": "edit", "target_message_id": "wamid.zzzzzz", "parts": ["media:image"]}]),
    case(
        "revoke",
        [
            {
                "type": "deletion",
                "dedupe_key": DOCS_WAMID,
                "occurred_at": "2023-10-11T16:53:43+00:00",
                "direction": "inbound",
                "author": "customer",
                "endpoint": PHONE,
                "identifiers": pywa_ids("102290129340398"),
                "target_message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                "raw_type": "revoke",
            }
        ],
    ),
    case(
        "system_changed_number",
        [
            {
                "type": "message",
                "dedupe_key": DOCS_WAMID,
                "occurred_at": "2025-02-12T00:43:44+00:00",
                "direction": "inbound",
                "author": "system",
                "automated": True,
                "endpoint": "phone:+16505551234",
                "identifiers": ["phone:+16505551234 (verified)", "phone:+12195555358 (asserted)"],
                "text": "User Sheena Nelson changed from 16505551234 to 12195555358",
                "metadata": {**DOCS_BUSINESS, "system_type": "user_changed_number"},
            }
        ],
    ),
    case(
        "smb_message_echo",
        [
            {
                "type": "message",
                "dedupe_key": DOCS_WAMID,
                "occurred_at": "2025-02-12T00:43:44+00:00",
                "direction": "outbound",
                "author": "agent",
                "endpoint": "phone:+16505551234",
                "identifiers": ["phone:+16505551234 (verified)"],
                "text": "Here's the info you requested! https://www.meta.com/quest/quest-3/",
                "raw_type": "smb_message_echo",
                "metadata": DOCS_BUSINESS,
            }
        ],
    ),
    case(
        "bsuid_contact_request",
        [
            {
                "type": "message",
                "dedupe_key": DOCS_WAMID,
                "direction": "inbound",
                "author": "customer",
                "author_id": USER,
                "author_name": "Sheena Nelson",
                "endpoint": f"whatsapp_bsuid@102290129340398:{USER}",
                "identifiers": [
                    f"whatsapp_bsuid@102290129340398:{USER} (verified)",
                    "phone:+16505551234 (asserted)",
                ],
                "parts": ["contact"],
                "metadata": {**DOCS_BUSINESS, "username": "sheena.nelson", "origin": "contact_request"},
            }
        ],
    ),
    GoldenCase.from_file(
        "messenger_page_webhook_is_unsupported",
        FIXTURES / "messenger_text_botbuilder.json",
        headers=JSON,
        raises=UnsupportedEvent,
    ),
)


class TestWhatsAppContract(ChannelAdapterContract):
    adapter_class = WhatsAppAdapter
    config = WhatsAppConfig(
        app_secret=SecretStr("1222e786b144d0e85b9f365372d93676"),
        access_token=SecretStr("EAAJB-test"),
        phone_number_id="106540352242922",
    )
    wrong_config = WhatsAppConfig(app_secret=SecretStr("not-the-app-secret"))
    signature_headers = ("x-hub-signature-256", "x-hub-signature")
    outbound_endpoint = Identifier(kind="phone", value="+16505551234")
    golden_cases = GOLDEN
    mutation_examples = 25

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, WhatsAppConfig)
        digest = hmac.new(
            config.app_secret.get_secret_value().encode(), request.body, hashlib.sha256
        ).hexdigest()
        return request.model_copy(
            update={"headers": {**request.headers, "x-hub-signature-256": f"sha256={digest}"}}
        )


def test_every_whatsapp_fixture_is_a_golden_case() -> None:
    files = {p.name for p in FIXTURES.glob("whatsapp_*")}
    used = {
        Path(name).name
        for name in (
            f"whatsapp_{c.name}.json" for c in GOLDEN if c.raises is None and c.name != "text_signed_raw"
        )
    }
    assert files - used == {"whatsapp_text_signed.raw.json"}
