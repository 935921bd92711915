"""Encodings shared by every backend: times as integer microseconds, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json

from omnicx._micros import from_us, to_us
from omnicx.errors import ValidationError

__all__ = ["decode_cursor", "encode_cursor", "from_us", "to_us"]


def encode_cursor(kind: str, position: int, row_id: str) -> str:
    """An opaque cursor for keyset paging after ``(position, row_id)`` in ordering ``kind``."""
    raw = json.dumps([kind, position, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[int, str]:
    """The ``(position, row_id)`` in ``cursor``.

    Raises :class:`~omnicx.errors.ValidationError` when ``cursor`` is not one this
    store made, or was made for another ordering than ``kind``.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        got_kind, position, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"{str(cursor)[:40]!r} is not a cursor: pass a page's next_cursor unchanged",
            cursor=str(cursor)[:80],
        ) from exc
    if got_kind != kind or not isinstance(position, int) or not isinstance(row_id, str):
        raise ValidationError(
            f"this cursor belongs to another query ({got_kind!r}, not {kind!r}): "
            "pass the next_cursor of a page of the same query",
            cursor=cursor[:80],
        )
    return position, row_id
