"""Shared building blocks of every omnicx model."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, JsonValue, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from omnicx.errors import ValidationError

__all__ = [
    "METADATA_MAX_BYTES",
    "METADATA_MAX_DEPTH",
    "Metadata",
    "Name",
    "OmnicxModel",
    "UnionAdapter",
    "UtcDatetime",
    "invalid",
    "member",
]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 8

_NAME_RE = r"^[a-z][a-z0-9_]{0,39}$"


def invalid(what: str, exc: PydanticValidationError) -> ValidationError:
    """An omnicx ValidationError that says which fields of ``what`` were wrong, and why.

    ``errors`` in its context is pydantic's structured list (``loc``, ``msg``, ``type``),
    with the errors of nested omnicx models flattened into it.
    """
    details = _flatten(exc.errors(include_url=False, include_input=False))
    shown = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}" for error in details[:5]
    )
    more = f" (and {len(details) - 5} more)" if len(details) > 5 else ""
    return ValidationError(f"invalid {what}: {shown}{more}", model=what, errors=details)


def member(enum: type[E], value: object, name: str) -> E:
    """``value`` as a member of ``enum`` (a member, or its value); an omnicx ValidationError
    that lists the members otherwise."""
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(
            f"{name} must be one of {[m.value for m in enum]}, got {value!r}", value=repr(value)[:80]
        ) from None


def _flatten(details: list[Any]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for error in details:
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ValidationError) and "errors" in inner.context:
            for nested in inner.context["errors"]:
                flat.append({**nested, "loc": (*error["loc"], *nested["loc"])})
        else:
            error = dict(error)
            if "ctx" in error:  # keep the context JSON-friendly: exceptions become their message
                error["ctx"] = {
                    k: str(v) if isinstance(v, BaseException) else v for k, v in error["ctx"].items()
                }
            flat.append(error)
    return flat


class OmnicxModel(BaseModel):
    """Base of every public model: frozen, strict about unknown fields.

    Change a model by copy: ``model.model_copy(update={...})``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except PydanticValidationError as exc:
            raise invalid(type(self).__name__, exc) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__private_attributes__:  # private state (a lazily built cache) is not a field
            super().__setattr__(name, value)
            return
        raise ValidationError(
            f"{type(self).__name__} is frozen; change it by copy: model.model_copy(update={{{name!r}: ...}})",
            model=type(self).__name__,
        )

    @classmethod
    def model_validate(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate a Python object; bad input raises :class:`omnicx.ValidationError`."""
        try:
            return super().model_validate(*args, **kwargs)
        except PydanticValidationError as exc:
            raise invalid(cls.__name__, exc) from None

    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate JSON text; bad input raises :class:`omnicx.ValidationError`."""
        try:
            return super().model_validate_json(*args, **kwargs)
        except PydanticValidationError as exc:
            raise invalid(cls.__name__, exc) from None

    @classmethod
    def model_validate_strings(cls, *args: Any, **kwargs: Any) -> Self:
        """Validate string data; bad input raises :class:`omnicx.ValidationError`."""
        try:
            return super().model_validate_strings(*args, **kwargs)
        except PydanticValidationError as exc:
            raise invalid(cls.__name__, exc) from None


class UnionAdapter(Generic[T]):
    """Validates and serialises a union of models, raising :class:`omnicx.ValidationError`.

    A thin wrapper of :class:`pydantic.TypeAdapter` (which cannot be subclassed).
    """

    def __init__(self, type_: Any, name: str) -> None:
        self._adapter: TypeAdapter[T] = TypeAdapter(type_)
        self._name = name

    def validate_python(self, obj: Any) -> T:
        """Validate a Python object (a dict, or a model instance)."""
        try:
            return self._adapter.validate_python(obj)
        except PydanticValidationError as exc:
            raise invalid(self._name, exc) from None

    def validate_json(self, data: str | bytes) -> T:
        """Validate JSON text."""
        try:
            return self._adapter.validate_json(data)
        except PydanticValidationError as exc:
            raise invalid(self._name, exc) from None

    def dump_python(self, value: T, *, mode: Literal["json", "python"] = "python") -> Any:
        """The value as plain Python data (``mode="json"`` for JSON-compatible types)."""
        return self._adapter.dump_python(value, mode=mode)

    def dump_json(self, value: T) -> bytes:
        """The value as JSON bytes."""
        return self._adapter.dump_json(value)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the union."""
        return self._adapter.json_schema()


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            "naive datetime: omnicx stores aware UTC datetimes only; "
            "attach a zone (datetime(..., tzinfo=UTC)) or use omnicx.normalize.timestamp(value, tz=...)"
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30:00+01:00: before the first UTC instant Python has
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


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
