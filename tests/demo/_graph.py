"""What the tests read off the parsed demo data: endpoints observed together, grouped.

A *customer* here is a connected component of identifiers, joined only by what
the channels themselves observed together in one event (a chat visitor id and
the email and phone typed in the same pre-chat form; a Telegram user and the
phone they shared; a form's email and phone). That is the most any merge
policy can join from the payloads alone (a stricter policy only splits), so it
is the honest count of distinct people the data set shows: the agent's manual
link (the wrong merge) is not evidence of the data and is left out.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from omnicx._demo import DeliverStep, demo_channels, demo_steps
from omnicx.models import InboundEvent


@cache
def parsed() -> tuple[tuple[DeliverStep, tuple[InboundEvent, ...]], ...]:
    """Every deliver step expected to succeed, with the events its adapter parses from it."""
    channels = demo_channels()
    out = []
    for step in demo_steps():
        if isinstance(step, DeliverStep) and step.expect == "ok":
            adapter = channels[step.channel]
            adapter.verify(step.request)
            out.append((step, tuple(adapter.parse(step.request))))
    return tuple(out)


class Components:
    """Union-find over identifier strings (written here, independent of omnicx.identity)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


@cache
def customers() -> tuple[Components, dict[str, set[str]]]:
    """The components, and component root -> the adapters it was seen on."""
    comps = Components()
    for _, events in parsed():
        for event in events:
            ids = [str(o.identifier) for o in event.identifiers]
            for other in ids[1:]:
                comps.union(ids[0], other)
            comps.find(ids[0])
    seen: dict[str, set[str]] = defaultdict(set)
    for step, events in parsed():
        for event in events:
            seen[comps.find(str(event.identifiers[0].identifier))].add(step.channel)
    return comps, dict(seen)
