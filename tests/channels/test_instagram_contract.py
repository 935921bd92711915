"""The Instagram adapter passes the channel adapter contract on Instagram payloads from Meta's docs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from omnicx.channels import AdapterConfig
from omnicx.channels.instagram import InstagramAdapter, InstagramConfig
from omnicx.errors import UnsupportedEvent
from omnicx.models import Identifier, InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures"
JSON = {"content-type": "application/json"}
IG_ID = "17841405309211844"
IGSID = "1914016008698472"
ENDPOINT = f"instagram_igsid@{IG_ID}:{IGSID}"
MID = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1MzA5MjExODQ0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjA1MjMyOTI4MjY0MzAy"


def case(name: str, expected: list[dict[str, Any]], **kwargs: Any) -> GoldenCase:
    return GoldenCase.from_file(name, FIXTURES / f"instagram_{name}.json", expected, headers=JSON, **kwargs)


GOLDEN = (
    case(
        "text_docs",
        [
            {
                "type": "message",
                "dedupe_key": MID + "Nw",
                "occurred_at": "2019-09-23T18:14:45.349000+00:00",
                "direction": "inbound",
                "author": "customer",
                "author_id": IGSID,
                "endpoint": ENDPOINT,
                "identifiers": [f"{ENDPOINT} (verified)"],
                "text": "MESSAGE-TEXT",
                "parts": ["text"],
                "metadata": {"account_id": IG_ID},
            }
        ],
    ),
    case(
        "share_docs",
        [
            {
                "type": "message",
                "dedupe_key": MID + "OA",
                "occurred_at": "2025-10-24T06:28:14.014000+00:00",
                "endpoint": ENDPOINT,
                "parts": ["unsupported"],
                "text": "",
            }
        ],
    ),
    case(
        "deleted",
        [
            {
                "type": "deletion",
                "dedupe_key": f"deleted:{MID}Nw",
                "direction": "inbound",
                "author": "customer",
                "endpoint": ENDPOINT,
                "target_message_id": MID + "Nw",
                "raw_type": "message_deleted",
            }
        ],
    ),
    case(
        "echo",
        [
            {
                "type": "message",
                "dedupe_key": MID + "OQ",
                "direction": "outbound",
                "author": "agent",
                "author_id": None,
                "endpoint": ENDPOINT,
                "identifiers": [f"{ENDPOINT} (verified)"],
                "text": "Thanks! Your order ships tomorrow.",
                "raw_type": "message_echo",
            }
        ],
    ),
    GoldenCase.from_file(
        "whatsapp_webhook_is_unsupported",
        FIXTURES / "whatsapp_text.json",
        headers=JSON,
        raises=UnsupportedEvent,
    ),
)


class TestInstagramContract(ChannelAdapterContract):
    adapter_class = InstagramAdapter
    config = InstagramConfig(app_secret=SecretStr("instagram-app-secret"), access_token=SecretStr("IGAAT"))
    wrong_config = InstagramConfig(app_secret=SecretStr("not-the-app-secret"))
    signature_headers = ("x-hub-signature-256", "x-hub-signature")
    outbound_endpoint = Identifier(kind="instagram_igsid", value=IGSID, scope=IG_ID)
    golden_cases = GOLDEN

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, InstagramConfig)
        digest = hmac.new(
            config.app_secret.get_secret_value().encode(), request.body, hashlib.sha256
        ).hexdigest()
        return request.model_copy(
            update={"headers": {**request.headers, "x-hub-signature-256": f"sha256={digest}"}}
        )
