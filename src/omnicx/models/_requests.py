"""What crosses the boundary with a host's web framework: requests in and out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from omnicx.models._base import OmnicxModel, UtcDatetime
from omnicx.models._identifiers import ObservedIdentifier
from omnicx.models._interactions import Interaction

__all__ = ["InboundEvent", "InboundRequest", "OutboundRequest"]

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Url = Annotated[str, StringConstraints(max_length=8192)]


def _lower_headers(value: Any) -> Any:
    if isinstance(value, Mapping):
        merged: dict[str, str] = {}
        for name, item in value.items():
            key = str(name).lower()
            merged[key] = f"{merged[key]}, {item}" if key in merged else item
        return merged
    if isinstance(value, list | tuple):  # [(name, value), ...] as ASGI / WSGI give them
        return _lower_headers(_pairs_to_dict(value))
    return value


def _pairs_to_dict(pairs: list[Any] | tuple[Any, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, item = pair
        name = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        item = item.decode("latin-1") if isinstance(item, bytes) else str(item)
        key = name.lower()
        out[key] = f"{out[key]}, {item}" if key in out else item
    return out


class _HttpMessage(OmnicxModel):
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    method: HttpMethod = "POST"
    url: Url
    headers: dict[str, str] = Field(default_factory=dict)
    """Header names are lower-cased; repeated headers are joined with ``", "``."""
    body: bytes = b""
    """The raw body bytes; in JSON they are URL-safe base64."""

    @field_validator("headers", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return _lower_headers(value)

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower(), default)


class InboundRequest(_HttpMessage):
    """A webhook request as the host's web framework received it.

    Framework-agnostic: the exact URL (scheme through query string, as the
    sender requested it; some signatures cover it), the headers, the raw body
    bytes before any parsing, and when it arrived.
    """

    received_at: UtcDatetime

    @property
    def query(self) -> dict[str, list[str]]:
        """The URL's query parameters; a repeated name keeps every value in order."""
        out: dict[str, list[str]] = {}
        for name, value in parse_qsl(urlsplit(self.url).query, keep_blank_values=True):
            out.setdefault(name, []).append(value)
        return out


class OutboundRequest(_HttpMessage):
    """An HTTP request an adapter built for the host to send with its own client.

    ``message_id`` is the id the message will carry on the channel when the adapter gives it
    one itself (an email's ``Message-ID``, without brackets): the hub records it on the reply,
    so that the customer's answer to it threads into the conversation. ``None`` when the
    channel assigns its id on receipt (the host reports it with ``Hub.record_sent``).
    """

    message_id: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None


class InboundEvent(OmnicxModel):
    """What an adapter's ``parse`` returns for one event in a payload.

    ``identifiers`` are the identifiers observed together in this event (the
    interaction's endpoint among them), each with the assurance the channel
    gives it; the identity engine links them.
    """

    interaction: Interaction
    identifiers: tuple[ObservedIdentifier, ...] = ()
    raw_type: Annotated[str, StringConstraints(max_length=256)] | None = None
    """The channel's own name for the event (``messages``, ``message_echo`` …)."""
