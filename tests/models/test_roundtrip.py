"""Every model survives a JSON round trip unchanged, and exports a JSON Schema."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from omnicx import models as m
from tests.models import strategies as s


@settings(max_examples=150)
@given(s.interactions)
def test_interactions_round_trip(interaction: m.Interaction) -> None:
    text = m.interaction_adapter.dump_json(interaction)
    assert m.interaction_adapter.validate_json(text) == interaction
    assert type(m.interaction_adapter.validate_json(text)) is type(interaction)


@settings(max_examples=100)
@given(st.one_of(s.identifiers, s.observed, s.requests, s.customers, s.conversations(), s.inbound_events))
def test_models_round_trip(model: m.OmnicxModel) -> None:
    assert type(model).model_validate_json(model.model_dump_json()) == model


@given(s.identifiers)
def test_identifier_string_form_round_trips(identifier: m.Identifier) -> None:
    assert m.Identifier.parse(str(identifier)) == identifier


def test_request_body_bytes_survive_json_even_when_not_utf8() -> None:
    from datetime import UTC, datetime

    request = m.InboundRequest(
        url="https://x/", body=b"\xff\xfe\x00raw", received_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    data = json.loads(request.model_dump_json())
    assert (
        data["body"] == "__4AcmF3"
    )  # URL-safe base64 of the raw bytes ("//4AcmF3" in the standard alphabet)
    assert m.InboundRequest.model_validate_json(request.model_dump_json()).body == b"\xff\xfe\x00raw"


def test_json_schemas_cover_every_public_model() -> None:
    schemas = m.json_schemas()
    assert set(schemas) == {
        "Conversation",
        "Customer",
        "Identifier",
        "InboundEvent",
        "InboundRequest",
        "Interaction",
        "ObservedIdentifier",
        "OutboundRequest",
    }
    interaction = schemas["Interaction"]
    assert interaction["discriminator"]["propertyName"] == "type"
    assert set(interaction["discriminator"]["mapping"]) == {
        "message",
        "call",
        "status",
        "note",
        "rating",
        "edit",
        "deletion",
    }
    json.dumps(schemas)  # serialisable as a whole
