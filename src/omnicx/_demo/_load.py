"""Read the shipped manifest and payloads, and sign each request as its channel would."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from omnicx._demo._channels import (
    DEMO_FORGED_SECRET,
    DEMO_META_APP_SECRET,
    DEMO_TELEGRAM_SECRET_TOKEN,
    DEMO_TWILIO_AUTH_TOKEN,
    DEMO_WEBCHAT_SECRET,
    DEMO_WEBFORM_SECRET,
)
from omnicx._demo._steps import DeliverStep, DemoStep, LinkStep, SplitStep
from omnicx.channels._signatures import hmac_hex
from omnicx.channels._twilio_signature import sign_request
from omnicx.channels.webchat import sign_webchat
from omnicx.errors import ConfigurationError, OmnicxError
from omnicx.models import Identifier, InboundRequest

__all__ = ["demo_payload", "demo_steps", "sign"]

_PACKAGE = "omnicx._demo"
_SECRETS = {
    "webchat": DEMO_WEBCHAT_SECRET,
    "whatsapp": DEMO_META_APP_SECRET,
    "messenger": DEMO_META_APP_SECRET,
    "twilio": DEMO_TWILIO_AUTH_TOKEN,
    "twilio_voice": DEMO_TWILIO_AUTH_TOKEN,
    "telegram": DEMO_TELEGRAM_SECRET_TOKEN,
    "webform": DEMO_WEBFORM_SECRET,
}
_WEBCHAT_SIGNING_DELAY = timedelta(seconds=1)
"""The chat backend signs a batch this long before it reaches omnicx."""


def sign(channel: str, request: InboundRequest, secret: str) -> InboundRequest:
    """Return ``request`` with the signature headers ``channel`` sends, made with ``secret``.

    webchat: ``X-Omnicx-Timestamp`` / ``X-Omnicx-Signature`` (signed one second
    before ``received_at``); whatsapp and messenger: ``X-Hub-Signature-256``;
    twilio and twilio_voice: ``X-Twilio-Signature``; telegram:
    ``X-Telegram-Bot-Api-Secret-Token``; webform: ``X-Omnicx-Form-Secret``;
    email carries none and comes back unchanged. Raises
    :class:`~omnicx.errors.ConfigurationError` for another channel name.
    """
    if channel == "email":
        return request
    if channel == "webchat":
        extra = sign_webchat(secret, request.body, request.received_at - _WEBCHAT_SIGNING_DELAY)
    elif channel in ("whatsapp", "messenger"):
        extra = {"x-hub-signature-256": "sha256=" + hmac_hex(secret, request.body)}
    elif channel in ("twilio", "twilio_voice"):
        return sign_request(request, secret)
    elif channel == "telegram":
        extra = {"x-telegram-bot-api-secret-token": secret}
    elif channel == "webform":
        extra = {"x-omnicx-form-secret": secret}
    else:
        raise ConfigurationError(
            f"the demo data set has no signing scheme for channel {channel!r}; "
            "use one of email, messenger, telegram, twilio, twilio_voice, webchat, webform, whatsapp"
        )
    return request.model_copy(update={"headers": {**request.headers, **extra}})


def demo_payload(file: str) -> bytes:
    """Return the bytes of a shipped payload file (``payloads/001-webchat.json``).

    Raises :class:`~omnicx.errors.ConfigurationError` when no such file ships with omnicx.
    """
    try:
        return resources.files(_PACKAGE).joinpath(file).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"the demo payload {file!r} is missing from the omnicx package ({exc}); "
            "reinstall omnicx or regenerate it with scripts/make_demo_payloads.py"
        ) from None


def _manifest() -> dict[str, Any]:
    try:
        doc = json.loads(demo_payload("manifest.json"))
    except ValueError as exc:  # json and Unicode errors
        raise ConfigurationError(
            f"the demo manifest is not JSON ({exc}); regenerate it with scripts/make_demo_payloads.py"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise ConfigurationError(
            "the demo manifest has no 'steps' list; regenerate it with scripts/make_demo_payloads.py"
        )
    return doc


def _deliver(raw: dict[str, Any]) -> DeliverStep:
    channel = raw["channel"]
    request = InboundRequest(
        method=raw["method"],
        url=raw["url"],
        headers=raw["headers"],
        body=demo_payload(raw["file"]),
        received_at=datetime.fromisoformat(raw["received_at"]),
    )
    secret = DEMO_FORGED_SECRET if raw["sign_with"] == "forged" else _SECRETS.get(channel, "")
    return DeliverStep(
        id=raw["id"],
        channel=channel,
        file=raw["file"],
        request=sign(channel, request, secret),
        expect=raw["expect"],
        duplicate_of=raw["duplicate_of"],
        persona=raw["persona"],
        story=raw["story"],
        note=raw["note"],
    )


def _step(raw: dict[str, Any]) -> DemoStep:
    kind = raw["step"]
    if kind == "deliver":
        return _deliver(raw)
    if kind == "link":
        return LinkStep(
            id=raw["id"],
            a=Identifier.parse(raw["a"]),
            b=Identifier.parse(raw["b"]),
            actor=raw["actor"],
            reason=raw["reason"],
            at=datetime.fromisoformat(raw["at"]),
        )
    if kind == "split":
        return SplitStep(
            id=raw["id"],
            of=Identifier.parse(raw["of"]),
            groups=tuple(tuple(Identifier.parse(i) for i in group) for group in raw["groups"]),
            actor=raw["actor"],
            reason=raw["reason"],
            at=datetime.fromisoformat(raw["at"]),
        )
    raise ConfigurationError(f"unknown demo step kind {str(kind)[:40]!r}; expected deliver, link or split")


def demo_steps() -> list[DemoStep]:
    """Return the demo script in delivery order: deliver, link and split steps.

    Deliver steps carry a ready :class:`~omnicx.models.InboundRequest`, signed
    with the demo secrets of :func:`demo_channels` (the one forged request with
    a wrong secret). Raises :class:`~omnicx.errors.ConfigurationError` when the
    shipped manifest or a payload file is missing or unreadable.
    """
    steps: list[DemoStep] = []
    for raw in _manifest()["steps"]:
        try:
            steps.append(_step(raw))
        except OmnicxError as exc:
            if isinstance(exc, ConfigurationError):
                raise
            raise ConfigurationError(f"demo manifest step {raw.get('id')!r} is invalid: {exc}") from None
        except (KeyError, TypeError, ValueError, PydanticValidationError) as exc:
            raise ConfigurationError(
                f"demo manifest step {raw.get('id') if isinstance(raw, dict) else raw!r} is invalid "
                f"({type(exc).__name__}: {exc}); regenerate it with scripts/make_demo_payloads.py"
            ) from None
    return steps
