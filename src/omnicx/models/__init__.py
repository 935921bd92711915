"""omnicx's data models: pydantic v2, frozen, ``extra="forbid"``, aware UTC datetimes.

Every model round-trips through JSON (``model_dump_json`` / ``model_validate_json``);
:func:`json_schemas` exports their JSON Schemas.
"""

from __future__ import annotations

from typing import Any

from omnicx.models._base import Metadata, OmnicxModel, UtcDatetime
from omnicx.models._base import UnionAdapter as _UnionAdapter
from omnicx.models._customers import Conversation, ConversationStatus, Customer, CustomerIdentifier
from omnicx.models._identifiers import (
    SCOPED_KINDS,
    Assurance,
    Identifier,
    IdentifierKind,
    ObservedIdentifier,
)
from omnicx.models._interactions import (
    Author,
    AuthorRole,
    CallRecord,
    CallStatus,
    Channel,
    ContactPart,
    ContentPart,
    Deletion,
    DeliveryError,
    DeliveryStatus,
    Direction,
    Edit,
    Interaction,
    InteractiveReplyPart,
    LocationPart,
    MediaPart,
    Message,
    Note,
    Rating,
    RatingScale,
    ReactionPart,
    RecordingRef,
    StatusUpdate,
    TextPart,
    ThreadHints,
    UnsupportedPart,
    interaction_id,
)
from omnicx.models._requests import InboundEvent, InboundRequest, OutboundRequest

__all__ = [
    "Assurance",
    "Author",
    "AuthorRole",
    "CallRecord",
    "CallStatus",
    "Channel",
    "ContactPart",
    "ContentPart",
    "Conversation",
    "ConversationStatus",
    "Customer",
    "CustomerIdentifier",
    "Deletion",
    "DeliveryError",
    "DeliveryStatus",
    "Direction",
    "Edit",
    "Identifier",
    "IdentifierKind",
    "InboundEvent",
    "InboundRequest",
    "Interaction",
    "InteractiveReplyPart",
    "LocationPart",
    "MediaPart",
    "Message",
    "Metadata",
    "Note",
    "ObservedIdentifier",
    "OmnicxModel",
    "OutboundRequest",
    "Rating",
    "RatingScale",
    "ReactionPart",
    "RecordingRef",
    "SCOPED_KINDS",
    "StatusUpdate",
    "TextPart",
    "ThreadHints",
    "UnsupportedPart",
    "UtcDatetime",
    "interaction_adapter",
    "interaction_id",
    "json_schemas",
]

interaction_adapter: _UnionAdapter[Interaction] = _UnionAdapter(Interaction, "Interaction")
"""Validates and serialises any :data:`Interaction` by its ``type``."""

_SCHEMA_MODELS: tuple[type[OmnicxModel], ...] = (
    Identifier,
    ObservedIdentifier,
    Customer,
    Conversation,
    InboundRequest,
    OutboundRequest,
    InboundEvent,
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every public model, by name (``Interaction`` is the union)."""
    schemas = {model.__name__: model.model_json_schema() for model in _SCHEMA_MODELS}
    schemas["Interaction"] = interaction_adapter.json_schema()
    return dict(sorted(schemas.items()))
