"""Shared building blocks of every omnicx model."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, JsonValue, StringConstraints

__all__ = [
    "METADATA_MAX_BYTES",
    "METADATA_MAX_DEPTH",
    "Metadata",
    "Name",
    "OmnicxModel",
    "UtcDatetime",
]

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 8

_NAME_RE = r"^[a-z][a-z0-9_]{0,39}$"


class OmnicxModel(BaseModel):
    """Base of every public model: frozen, strict about unknown fields.

    Change a model by copy: ``model.model_copy(update={...})``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            "naive datetime: omnicx stores aware UTC datetimes only; "
            "attach a zone (datetime(..., tzinfo=UTC)) or use omnicx.normalize.timestamp(value, tz=...)"
        )
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
"""A datetime that must be timezone-aware; it is converted to UTC."""

Name = Annotated[str, StringConstraints(pattern=_NAME_RE)]
"""A lowercase identifier-like name: channel ids, identifier kinds, plugin names."""

NAME_PATTERN = re.compile(_NAME_RE)


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _bounded(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    if not value:  # the common case, on the storage read path: nothing to measure
        return value
    if _depth(value) > METADATA_MAX_DEPTH:
        raise ValueError(f"metadata nests deeper than {METADATA_MAX_DEPTH} levels")
    size = len(json.dumps(value, ensure_ascii=False, default=str).encode())
    if size > METADATA_MAX_BYTES:
        raise ValueError(
            f"metadata is {size} bytes of JSON, more than the {METADATA_MAX_BYTES} allowed; "
            "keep large data in the raw inbox, not on the interaction"
        )
    return value


Metadata = Annotated[dict[str, JsonValue], AfterValidator(_bounded)]
"""Free-form JSON metadata, bounded in size and depth."""
