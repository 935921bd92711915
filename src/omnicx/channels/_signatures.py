"""Helpers every signature scheme needs: HMAC digests, constant-time compare, replay windows."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from omnicx.errors import SignatureError

__all__ = ["check_replay_window", "constant_time_equals", "hmac_base64", "hmac_hex"]


def hmac_hex(key: str | bytes, message: bytes, digest: str = "sha256") -> str:
    """Lowercase hex HMAC of ``message``."""
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, message, getattr(hashlib, digest)).hexdigest()


def hmac_base64(key: str | bytes, message: bytes, digest: str = "sha1") -> str:
    """Base64 HMAC of ``message`` (Twilio's form)."""
    raw_key = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hmac.new(raw_key, message, getattr(hashlib, digest)).digest()).decode()


def constant_time_equals(expected: str, given: str | None) -> bool:
    """Compare two signatures without leaking where they differ."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def check_replay_window(
    sent_at: datetime, received_at: datetime, tolerance: timedelta, *, channel: str
) -> None:
    """Raise :class:`SignatureError` when ``sent_at`` is further than ``tolerance`` from receipt."""
    if abs(received_at - sent_at) > tolerance:
        raise SignatureError(
            f"the request's timestamp {sent_at.isoformat()} is more than "
            f"{int(tolerance.total_seconds())} s from its receipt at {received_at.isoformat()}: "
            "a replayed or delayed request, refused",
            channel=channel,
        )
