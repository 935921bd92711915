"""Golden cases: a real request and a hand-written summary of the events it must give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, JsonValue

from omnicx.errors import ChannelError
from omnicx.models import (
    CallRecord,
    Deletion,
    Edit,
    InboundEvent,
    InboundRequest,
    MediaPart,
    Message,
    Note,
    Rating,
)
from omnicx.models._interactions import StatusUpdate

__all__ = ["SUMMARY_KEYS", "GoldenCase", "inbound_request", "summarize"]

DEFAULT_RECEIVED_AT = datetime(2024, 1, 1, tzinfo=UTC)

SUMMARY_KEYS: tuple[str, ...] = (
    "adapter",
    "author",
    "author_id",
    "author_name",
    "automated",
    "call_id",
    "channel",
    "dedupe_key",
    "direction",
    "duration_seconds",
    "endpoint",
    "identifiers",
    "in_reply_to",
    "message_id",
    "metadata",
    "new_text",
    "occurred_at",
    "parts",
    "platform_message_id",
    "raw_type",
    "recordings",
    "references",
    "reply_to",
    "scale",
    "score",
    "status",
    "subject",
    "target_message_id",
    "text",
    "thread_id",
    "transcript",
    "type",
)
"""Every key :func:`summarize` can give; a golden case's expectations use a subset."""


def inbound_request(
    body: bytes | str = b"",
    *,
    url: str = "https://example.com/webhooks",
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    received_at: datetime = DEFAULT_RECEIVED_AT,
) -> InboundRequest:
    """An :class:`~omnicx.models.InboundRequest` with test-friendly defaults (received 2024-01-01 UTC)."""
    raw = body.encode() if isinstance(body, str) else body
    return InboundRequest.model_validate(
        {
            "method": method,
            "url": url,
            "headers": dict(headers or {}),
            "body": raw,
            "received_at": received_at,
        }
    )


class GoldenCase(BaseModel):
    """One real payload and what parsing it must give.

    ``request`` is the request as the channel sends it, *unsigned*: the
    contract signs it with :meth:`ChannelAdapterContract.sign`. ``expected``
    holds one summary per event, in order; each summary lists only the keys
    that matter (see :data:`SUMMARY_KEYS` and :func:`summarize`), written by
    hand from the payload. ``raises`` names an error class instead, for a
    payload the adapter must refuse (``UnsupportedEvent``, ``PayloadError``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    request: InboundRequest
    expected: tuple[dict[str, JsonValue], ...] = ()
    raises: type[ChannelError] | None = None

    @classmethod
    def from_file(
        cls,
        name: str,
        path: str | Path,
        expected: Sequence[Mapping[str, Any]] = (),
        *,
        url: str = "https://example.com/webhooks",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
        received_at: datetime = DEFAULT_RECEIVED_AT,
        raises: type[ChannelError] | None = None,
    ) -> GoldenCase:
        """A case whose body is the exact bytes of the file at ``path``."""
        request = inbound_request(
            Path(path).read_bytes(), url=url, headers=headers, method=method, received_at=received_at
        )
        return cls(name=name, request=request, expected=tuple(dict(e) for e in expected), raises=raises)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def summarize(event: InboundEvent) -> dict[str, JsonValue]:
    """A flat, JSON-like summary of ``event`` to compare golden expectations with.

    Common keys: ``type``, ``adapter``, ``channel``, ``dedupe_key``, ``occurred_at``
    (ISO-8601 in UTC, ``2024-05-01T10:00:00+00:00``), ``direction``, ``author``
    (the role), ``author_id``, ``author_name``, ``endpoint`` (``kind:value`` or
    ``kind@scope:value``), ``identifiers`` (``"<identifier> (<assurance>)"`` in
    order), ``raw_type``, ``metadata`` and the thread keys ``message_id``,
    ``in_reply_to``, ``references``, ``thread_id``, ``reply_to``. Messages add
    ``text``, ``subject``, ``new_text``, ``automated``, ``platform_message_id``
    and ``parts`` (part types, media as ``media:<kind>``); status updates,
    edits and deletions ``target_message_id`` (and ``status``); calls
    ``call_id``, ``status``, ``duration_seconds``, ``transcript``,
    ``recordings`` (their count); ratings ``scale`` and ``score``.
    """
    ix = event.interaction
    out: dict[str, JsonValue] = {
        "type": ix.type,
        "adapter": ix.adapter,
        "channel": ix.channel,
        "dedupe_key": ix.dedupe_key,
        "occurred_at": _iso(ix.occurred_at),
        "direction": ix.direction.value,
        "author": ix.author.role.value,
        "author_id": ix.author.id,
        "author_name": ix.author.name,
        "endpoint": str(ix.endpoint),
        "identifiers": [f"{o.identifier} ({o.assurance.value})" for o in event.identifiers],
        "raw_type": event.raw_type,
        "metadata": ix.metadata,
        "message_id": ix.thread.message_id,
        "in_reply_to": ix.thread.in_reply_to,
        "references": list(ix.thread.references),
        "thread_id": ix.thread.thread_id,
        "reply_to": ix.thread.reply_to,
    }
    if isinstance(ix, Message):
        out.update(
            text=ix.text,
            subject=ix.subject,
            new_text=ix.new_text,
            automated=ix.automated,
            platform_message_id=ix.platform_message_id,
            parts=[f"media:{p.media_kind}" if isinstance(p, MediaPart) else p.type for p in ix.parts],
        )
    elif isinstance(ix, StatusUpdate):
        out.update(target_message_id=ix.target_message_id, status=ix.status.value)
    elif isinstance(ix, Edit):
        out.update(
            target_message_id=ix.target_message_id,
            parts=[f"media:{p.media_kind}" if isinstance(p, MediaPart) else p.type for p in ix.parts],
        )
    elif isinstance(ix, Deletion):
        out.update(target_message_id=ix.target_message_id)
    elif isinstance(ix, CallRecord):
        out.update(
            call_id=ix.call_id,
            status=ix.status.value,
            duration_seconds=ix.duration_seconds,
            transcript=ix.transcript,
            recordings=len(ix.recordings),
        )
    elif isinstance(ix, Rating):
        out.update(scale=ix.scale.value, score=ix.score)
    elif isinstance(ix, Note):
        out.update(text=ix.text)
    return out
