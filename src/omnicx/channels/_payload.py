"""Decoding helpers every adapter needs: bodies to JSON or form fields, typed field access.

Each raises :class:`~omnicx.errors.PayloadError` naming the channel and the
field, never a bare ``KeyError``, ``TypeError``, ``UnicodeDecodeError`` or JSON error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from omnicx.errors import PayloadError

__all__ = [
    "decode_text",
    "form_fields",
    "json_object",
    "optional_str",
    "require_mapping",
    "require_str",
]


def decode_text(body: bytes, *, channel: str) -> str:
    """``body`` decoded as UTF-8; raises PayloadError when it is not valid UTF-8."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(
            f"the {channel} payload is not valid UTF-8 (byte {exc.start}); senders must encode it as UTF-8",
            channel=channel,
        ) from None


def json_object(body: bytes, *, channel: str) -> dict[str, Any]:
    """``body`` parsed as a JSON object; raises PayloadError for anything else."""
    text = decode_text(body, channel=channel)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(f"the {channel} payload is not JSON: {exc}", channel=channel) from None
    if not isinstance(value, dict):
        raise PayloadError(
            f"the {channel} payload must be a JSON object, got a {type(value).__name__}", channel=channel
        )
    return value


def form_fields(body: bytes, *, channel: str) -> dict[str, list[str]]:
    """``body`` parsed as ``application/x-www-form-urlencoded``; repeated names keep every value.

    Raises PayloadError when the body or a percent-escape is not UTF-8.
    """
    text = decode_text(body, channel=channel)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise PayloadError(
            f"the {channel} form body has a percent-escape that is not UTF-8", channel=channel
        ) from None
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def require_mapping(data: Mapping[str, Any], key: str, *, channel: str, where: str) -> Mapping[str, Any]:
    """``data[key]`` when it is a JSON object; raises PayloadError naming ``where.key`` otherwise."""
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise PayloadError(
            f"the {channel} payload's {where}{key} must be an object, got {_kind(value)}", channel=channel
        )
    return value


def require_str(
    data: Mapping[str, Any], key: str, *, channel: str, where: str = "", max_length: int = 1024
) -> str:
    """``data[key]`` as a non-empty string of at most ``max_length`` characters, else PayloadError."""
    value = optional_str(data, key, channel=channel, where=where, max_length=max_length)
    if value is None or not value.strip():
        raise PayloadError(f"the {channel} payload needs a non-empty string {where}{key}", channel=channel)
    return value


def optional_str(
    data: Mapping[str, Any], key: str, *, channel: str, where: str = "", max_length: int = 1_000_000
) -> str | None:
    """``data[key]`` as a string, ``None`` when absent or null; PayloadError for another type or size."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(
            f"the {channel} payload's {where}{key} must be a string, got {_kind(value)}", channel=channel
        )
    if len(value) > max_length:
        raise PayloadError(
            f"the {channel} payload's {where}{key} is {len(value)} characters, more than {max_length}",
            channel=channel,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(
            f"the {channel} payload's {where}{key} holds an unpaired surrogate (\\ud800-\\udfff)",
            channel=channel,
        ) from None
    return value


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
