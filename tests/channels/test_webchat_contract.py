"""The webchat adapter passes the channel adapter contract on its documented payloads."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from omnicx.channels import AdapterConfig
from omnicx.channels.webchat import WebchatAdapter, WebchatConfig, sign_webchat
from omnicx.errors import UnsupportedEvent
from omnicx.models import InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures"
JSON = {"content-type": "application/json"}
VISITOR = "chat_visitor@acme-support:v_4d2e8a1b"


class TestWebchatContract(ChannelAdapterContract):
    adapter_class = WebchatAdapter
    config = WebchatConfig(secret="whsec_0123456789abcdef")
    wrong_config = WebchatConfig(secret="whsec_not-the-right-one")
    signature_headers = ("x-omnicx-signature", "x-omnicx-timestamp")
    replay_window = timedelta(seconds=300)
    golden_cases = (
        GoldenCase.from_file(
            "visitor_message",
            FIXTURES / "webchat_visitor_message.json",
            [
                {
                    "type": "message",
                    "dedupe_key": "acme-support:evt_01HX6Y8Q3N",
                    "occurred_at": "2024-05-01T09:59:58+00:00",
                    "direction": "inbound",
                    "author": "customer",
                    "endpoint": VISITOR,
                    "identifiers": [f"{VISITOR} (verified)", "email:ana.silva@example.com (asserted)"],
                    "text": "Hi, my order #1234 has not arrived yet.",
                    "parts": ["text", "media:image"],
                    "platform_message_id": "msg_001",
                    "thread_id": "sess_7f3a9c",
                    "automated": False,
                    "metadata": {},
                }
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "bot_and_agent_batch",
            FIXTURES / "webchat_batch.json",
            [
                {
                    "dedupe_key": "acme-support:evt_01HX6Y9A01",
                    "occurred_at": "2024-05-01T08:00:05+00:00",
                    "direction": "outbound",
                    "author": "bot",
                    "author_id": "triage-bot",
                    "automated": True,
                    "identifiers": [f"{VISITOR} (verified)", "phone:+447911123456 (asserted)"],
                    "text": "Thanks! An agent will be with you shortly.",
                },
                {
                    "dedupe_key": "acme-support:evt_01HX6Y9B02",
                    "direction": "outbound",
                    "author": "agent",
                    "author_name": "Bob",
                    "endpoint": VISITOR,
                    "identifiers": [f"{VISITOR} (verified)"],
                    "text": "Hello Ana, let me check order #1234.",
                    "automated": False,
                },
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "session_closed_with_rating",
            FIXTURES / "webchat_session_closed.json",
            [
                {
                    "type": "note",
                    "dedupe_key": "acme-support:evt_01HX6YA0ZZ",
                    "author": "system",
                    "raw_type": "session.closed",
                    "text": "Chat session sess_7f3a9c closed by the visitor.",
                    "thread_id": "sess_7f3a9c",
                },
                {
                    "type": "rating",
                    "dedupe_key": "acme-support:evt_01HX6YA0ZZ:rating",
                    "author": "customer",
                    "scale": "csat",
                    "score": 5,
                    "identifiers": [f"{VISITOR} (verified)", "email:ana.silva@example.com (asserted)"],
                },
            ],
            headers=JSON,
        ),
        GoldenCase.from_file(
            "typing_only", FIXTURES / "webchat_typing_only.json", headers=JSON, raises=UnsupportedEvent
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, WebchatConfig)
        headers = {**request.headers, **sign_webchat(config.secret.get_secret_value(), request.body, sent_at)}
        return request.model_copy(update={"headers": headers})
