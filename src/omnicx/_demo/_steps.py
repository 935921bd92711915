"""The demo script's steps as typed, frozen models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from omnicx.models import Identifier, InboundRequest
from omnicx.models._base import OmnicxModel, UtcDatetime

__all__ = ["DeliverStep", "DemoStep", "Expectation", "LinkStep", "SplitStep"]

Expectation = Literal["ok", "signature_error", "payload_error"]
StepId = Annotated[str, StringConstraints(pattern=r"^s\d{3,}$")]


class DeliverStep(OmnicxModel):
    """Hand ``request`` to the adapter named ``channel`` (``hub.ingest(step.channel, step.request)``).

    ``expect`` says what the adapter makes of it: ``ok`` (verifies and parses),
    ``signature_error`` (the forged request: verify raises SignatureError) or
    ``payload_error`` (the malformed one: parse raises PayloadError); the raw
    inbox keeps both failures. ``duplicate_of`` names the step whose payload
    this one repeats byte for byte, as a webhook retry does.
    """

    step: Literal["deliver"] = "deliver"
    id: StepId
    channel: str
    file: str
    """The payload's path inside the package (``payloads/001-webchat.json``)."""
    request: InboundRequest
    expect: Expectation = "ok"
    duplicate_of: StepId | None = None
    persona: str | None = None
    """The data set's key of the person who sent it (``None`` for the anonymous malformed form)."""
    story: str | None = None
    """``seed`` for the four-channel seed story's steps."""
    note: str = ""


class LinkStep(OmnicxModel):
    """An agent links ``a`` and ``b`` by hand (the demo's wrong merge): ``hub.link(a, b, actor=, reason=)``."""

    step: Literal["link"] = "link"
    id: StepId
    a: Identifier
    b: Identifier
    actor: str
    reason: str
    at: UtcDatetime


class SplitStep(OmnicxModel):
    """An agent splits the customer ``of`` belongs to into ``groups`` (undoing the wrong merge)."""

    step: Literal["split"] = "split"
    id: StepId
    of: Identifier
    groups: tuple[tuple[Identifier, ...], ...]
    actor: str
    reason: str
    at: UtcDatetime


DemoStep = Annotated[DeliverStep | LinkStep | SplitStep, Field(discriminator="step")]
"""One step of the demo script."""
