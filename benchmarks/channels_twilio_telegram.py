"""Cost per webhook of the Twilio and Telegram adapters, with the peer side by side.

Self-contained: the requests are the golden payloads of tests/fixtures/channels (a
Twilio SMS, a Twilio MMS with two media, a WhatsApp button reply through Twilio, a
Twilio voice status callback, a Telegram text update), signed as the channel signs
them. Peers, measured in the same run on the same requests:

* signatures: twilio-python's ``RequestValidator.validate`` (the reference
  implementation) against ``TwilioAdapter.verify``;
* parsing: the bare decoding every parser has to do (``urllib.parse.parse_qsl`` of
  the form body, ``json.loads`` of the update) against ``parse`` (decode, validate,
  normalize identifiers, build frozen models).

    python benchmarks/channels_twilio_telegram.py [N]     # N rounds per request, default 20000
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from omnicx.channels._twilio_signature import sign_request
from omnicx.channels.telegram import TelegramAdapter, TelegramConfig
from omnicx.channels.twilio import TwilioAdapter, TwilioConfig
from omnicx.channels.twilio_voice import TwilioVoiceAdapter, TwilioVoiceConfig
from omnicx.models import InboundRequest

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "channels"
TOKEN = "0123456789abcdef0123456789abcdef"
URL = "https://example.com/twilio/sms"
RECEIVED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def form(name: str) -> InboundRequest:
    request = InboundRequest(
        url=URL,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=(FIXTURES / name).read_bytes(),
        received_at=RECEIVED,
    )
    return sign_request(request, TOKEN)


def per_call(fn: Callable[[], object], rounds: int) -> float:
    """Microseconds per call, best of three runs."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / rounds * 1e6


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    sms = TwilioAdapter(TwilioConfig(auth_token=TOKEN))  # type: ignore[arg-type]
    voice = TwilioVoiceAdapter(TwilioVoiceConfig(auth_token=TOKEN))  # type: ignore[arg-type]
    telegram = TelegramAdapter(TelegramConfig(secret_token="tg-secret"))  # type: ignore[arg-type]
    validator = RequestValidator(TOKEN)
    rows: list[tuple[str, float, str, float]] = []

    twilio_cases = [
        ("Twilio SMS", "twilio_sms_botbuilder.form.txt", sms),
        ("Twilio MMS, 2 media", "twilio_mms_docs.form.txt", sms),
        ("Twilio WhatsApp button", "twilio_whatsapp_button_docs.form.txt", sms),
        ("Twilio voice status", "twilio_voice_status_completed_docs.form.txt", voice),
    ]
    for label, name, adapter in twilio_cases:
        request = form(name)
        signature = request.header("x-twilio-signature") or ""
        params = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        assert validator.validate(URL, params, signature)
        rows.append(
            (
                f"{label}: verify",
                per_call(lambda a=adapter, r=request: a.verify(r), rounds),
                "twilio-python validate",
                per_call(lambda p=params, s=signature: validator.validate(URL, p, s), rounds),
            )
        )
        rows.append(
            (
                f"{label}: parse",
                per_call(lambda a=adapter, r=request: a.parse(r), rounds),
                "parse_qsl only",
                per_call(lambda b=request.body: parse_qsl(b.decode(), keep_blank_values=True), rounds),
            )
        )

    update = InboundRequest(
        url="https://example.com/telegram",
        headers={"x-telegram-bot-api-secret-token": "tg-secret"},
        body=(FIXTURES / "telegram_text.json").read_bytes(),
        received_at=RECEIVED,
    )
    rows.append(
        (
            "Telegram text: verify + parse",
            per_call(lambda: (telegram.verify(update), telegram.parse(update)), rounds),
            "json.loads only",
            per_call(lambda: json.loads(update.body), rounds),
        )
    )

    print(f"{rounds} rounds per request, best of 3; µs per webhook")
    print()
    print(f"| {'omnicx':<34} | {'µs':>8} | {'webhooks/s':>11} | {'peer':<24} | {'µs':>8} |")
    print(f"|{'-' * 36}|{'-' * 9}:|{'-' * 12}:|{'-' * 26}|{'-' * 9}:|")
    for label, ours, peer, theirs in rows:
        print(f"| {label:<34} | {ours:>8.2f} | {1e6 / ours:>11,.0f} | {peer:<24} | {theirs:>8.2f} |")


if __name__ == "__main__":
    main()
