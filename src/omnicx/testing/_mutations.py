"""Hypothesis strategies that damage a real payload in the ways senders and attackers do.

Byte level (any body): truncation, invalid UTF-8, huge runs, deleted ranges.
JSON bodies: a key removed, a value replaced by one of the wrong type or by a
huge string. Form-encoded bodies: a field removed or given a huge or
undecodable value.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from hypothesis import strategies as st

__all__ = ["HUGE", "MutatedBody", "body_mutations"]

HUGE = 200_000
"""Length of the huge strings the mutations insert."""

_INVALID_UTF8 = (
    b"\xff",
    b"\xfe\xfe",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xf0\x28\x8c\xbc",
    b"\xed\xa0\x80",
    b"\x00",
)
_WRONG_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    1.5e308,
    "",
    "\ud800",
    [],
    {},
    [None],
    {"": None},
    "x" * HUGE,
)


def _paths(value: Any, prefix: tuple[Any, ...] = (), limit: int = 5000) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [(prefix, value)]
    while stack and len(out) < limit:
        path, node = stack.pop()
        if path:
            out.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
    out.sort(key=repr)
    return out


def _replace(document: Any, path: tuple[Any, ...], op: str, new: Any) -> Any:
    clone = json.loads(json.dumps(document))
    parent = clone
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "huge" and isinstance(parent[last], str):
        parent[last] = parent[last] + "\u00e9" * HUGE
    else:
        parent[last] = new
    return clone


def _json_mutations(document: Any) -> st.SearchStrategy[bytes]:
    paths = _paths(document)
    if not paths:
        return st.just(json.dumps(_WRONG_VALUES).encode())

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(("delete", "wrong_type", "huge")))
        new = draw(st.sampled_from(_WRONG_VALUES))
        changed = _replace(document, path, op, new)
        if draw(st.booleans()):  # sometimes damage a second place too
            second = _paths(changed)
            if second:
                other = draw(st.sampled_from(second))
                changed = _replace(changed, other, draw(st.sampled_from(("delete", "wrong_type"))), new)
        return json.dumps(changed, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")

    return mutate()


def _form_mutations(fields: list[tuple[str, str]]) -> st.SearchStrategy[bytes]:
    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        index = draw(st.integers(0, len(fields) - 1))
        op = draw(st.sampled_from(("delete", "huge", "empty", "undecodable", "duplicate")))
        changed = list(fields)
        name, value = changed[index]
        if op == "delete":
            del changed[index]
        elif op == "huge":
            changed[index] = (name, value + "x" * HUGE)
        elif op == "empty":
            changed[index] = (name, "")
        elif op == "duplicate":
            changed.append((name, value + "-again"))
        else:
            body = urlencode(changed).encode()
            return body + b"&" + name.encode() + b"=%FF%FE%C3%28"
        return urlencode(changed).encode()

    return mutate()


def _byte_mutations(body: bytes) -> st.SearchStrategy[bytes]:
    size = len(body)

    @st.composite
    def mutate(draw: st.DrawFn) -> bytes:
        op = draw(st.sampled_from(("truncate", "invalid_utf8", "huge", "cut_range", "empty")))
        at = draw(st.integers(0, size))
        if op == "truncate":
            return body[:at]
        if op == "invalid_utf8":
            return body[:at] + draw(st.sampled_from(_INVALID_UTF8)) + body[at:]
        if op == "huge":
            return (
                body[:at] + draw(st.sampled_from((b"A", b"\xc3\xa9", b"\n", b"<", b"0"))) * HUGE + body[at:]
            )
        if op == "cut_range":
            end = draw(st.integers(at, size))
            return body[:at] + body[end:]
        return b""

    return mutate()


class MutatedBody(bytes):
    """Bytes whose repr stays short, so a failing example prints readably."""

    def __repr__(self) -> str:
        head = bytes(self[:300])
        more = f" … ({len(self)} bytes in all)" if len(self) > 300 else ""
        return f"{head!r}{more}"


def body_mutations(body: bytes, content_type: str | None) -> st.SearchStrategy[bytes]:
    """Damaged variants of ``body``: byte-level always, structural for JSON and form bodies.

    The examples are :class:`MutatedBody` (bytes with a short repr).
    """
    strategies: list[st.SearchStrategy[bytes]] = [_byte_mutations(body)]
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    document: Any = None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict | list):
        strategies.append(_json_mutations(document))
    elif kind == "application/x-www-form-urlencoded" or (not kind and b"=" in body and b"\n" not in body):
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            fields = []
        if fields:
            strategies.append(_form_mutations(fields))
    return st.one_of(*strategies).map(MutatedBody)
