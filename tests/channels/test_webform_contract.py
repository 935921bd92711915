"""The webform adapter passes the channel adapter contract."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from omnicx.channels import AdapterConfig
from omnicx.channels.webform import SECRET_HEADER, WebformAdapter, WebformConfig
from omnicx.models import InboundRequest
from omnicx.testing import ChannelAdapterContract, GoldenCase

FIXTURES = Path(__file__).parent.parent / "fixtures"
FORM = {"content-type": "application/x-www-form-urlencoded"}


class TestWebformContract(ChannelAdapterContract):
    adapter_class = WebformAdapter
    config = WebformConfig(secret="form-secret-0123456789", default_region="US")
    wrong_config = WebformConfig(secret="another-secret-9876543210", default_region="US")
    signature_headers = (SECRET_HEADER,)
    signs_body = False
    golden_cases = (
        GoldenCase.from_file(
            "contact_form_7_fields",
            FIXTURES / "webform_contact.form.txt",
            [
                {
                    "type": "message",
                    # no submission_id: the key is the SHA-256 of the body bytes
                    # (computed with `sha256sum tests/fixtures/webform_contact.form.txt`)
                    "dedupe_key": "-:sha256:53f7f710d0f8ff9d4be71b029f74bdfd300c445917b19c25570460baca2420ff",
                    "occurred_at": "2024-01-01T00:00:00+00:00",
                    "endpoint": "email:ana.silva@example.com",
                    "identifiers": [
                        "email:ana.silva@example.com (asserted)",
                        "phone:+14155550123 (asserted)",
                    ],
                    "author": "customer",
                    "author_name": "Ana Silva",
                    "subject": "Order #1234 missing",
                    "text": "Hello,\r\nmy order #1234 never arrived. Can you help?",
                    "metadata": {"fields": {"newsletter": "yes"}},
                }
            ],
            headers=FORM,
        ),
        GoldenCase.from_file(
            "portal_json_with_bad_email",
            FIXTURES / "webform_portal.json",
            [
                {
                    "dedupe_key": "returns:sub_8842",
                    "occurred_at": "2024-03-10T13:22:05+00:00",
                    "endpoint": "phone:+442079460958",
                    "identifiers": ["phone:+442079460958 (asserted)"],
                    "author_name": "Tom Baker",
                    "subject": "Return request",
                    "text": "I would like to return the blue kettle (order 5521).",
                }
            ],
            headers={"content-type": "application/json"},
        ),
    )

    def sign(self, request: InboundRequest, config: AdapterConfig, sent_at: datetime) -> InboundRequest:
        assert isinstance(config, WebformConfig)
        assert config.secret is not None
        headers = {**request.headers, SECRET_HEADER: config.secret.get_secret_value()}
        return request.model_copy(update={"headers": headers})
