"""Cost per webhook of the WhatsApp, Messenger and Instagram adapters, with the bare work beside it.

Self-contained: the requests are golden payloads of tests/fixtures (Meta's own
examples and pywa's recorded deliveries), signed as Meta signs them, plus one
WhatsApp webhook batching 50 of them. Peers, measured in the same run on the
same requests:

* signatures: ``hmac.new(secret, body, sha256)`` + ``hmac.compare_digest``, the
  whole of what any X-Hub-Signature check has to do, against ``verify``;
* parsing: ``json.loads`` of the body, the decoding every parser has to do,
  against ``parse`` (walk the envelope, validate every field, normalize phones,
  BSUIDs, PSIDs and times, build frozen models).

    python benchmarks/channels_meta.py [seconds per measurement, default 0.5]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pydantic import SecretStr  # noqa: E402

from omnicx.channels import ChannelAdapter  # noqa: E402
from omnicx.channels.instagram import InstagramAdapter, InstagramConfig  # noqa: E402
from omnicx.channels.messenger import MessengerAdapter, MessengerConfig  # noqa: E402
from omnicx.channels.whatsapp import WhatsAppAdapter, WhatsAppConfig  # noqa: E402
from omnicx.models import InboundRequest  # noqa: E402
from omnicx.testing import inbound_request  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
SECRET = "1222e786b144d0e85b9f365372d93676"


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn``, measured for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        count += 20
    return count / elapsed


def signed(body: bytes) -> InboundRequest:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return inbound_request(body, headers={"x-hub-signature-256": f"sha256={digest}"})


def whatsapp_batch(size: int) -> bytes:
    """One webhook whose entries are ``size`` real single-message webhooks."""
    names = sorted(p.name for p in FIXTURES.glob("whatsapp_*.json"))
    entries = []
    for index in range(size):
        entries.extend(json.loads((FIXTURES / names[index % len(names)]).read_text())["entry"])
    return json.dumps({"object": "whatsapp_business_account", "entry": entries}).encode()


def messenger_text() -> bytes:
    event = json.loads((FIXTURES / "messenger_reply_event_docs.json").read_text())
    event["sender"]["id"], event["recipient"]["id"] = "1254459154682919", "682498302938465"
    return json.dumps(
        {"object": "page", "entry": [{"id": "682498302938465", "time": 1, "messaging": [event]}]}
    ).encode()


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    whatsapp = WhatsAppAdapter(WhatsAppConfig(app_secret=SecretStr(SECRET)))
    messenger = MessengerAdapter(MessengerConfig(app_secret=SecretStr(SECRET)))
    instagram = InstagramAdapter(InstagramConfig(app_secret=SecretStr(SECRET)))
    cases: list[tuple[str, ChannelAdapter[Any], bytes]] = [
        (
            "whatsapp text (Meta's signed delivery)",
            whatsapp,
            (FIXTURES / "whatsapp_text_signed.raw.json").read_bytes(),
        ),
        ("whatsapp image + BSUIDs (pywa)", whatsapp, (FIXTURES / "whatsapp_image.json").read_bytes()),
        ("whatsapp status failed (pywa)", whatsapp, (FIXTURES / "whatsapp_status_failed.json").read_bytes()),
        ("whatsapp batch of 50 webhooks", whatsapp, whatsapp_batch(50)),
        ("messenger reply (Meta docs)", messenger, messenger_text()),
        ("instagram text (Meta docs)", instagram, (FIXTURES / "instagram_text_docs.json").read_bytes()),
    ]
    header = (
        f"{'payload':40} {'bytes':>6} {'events':>6} | {'verify/s':>9} {'hmac/s':>9} | "
        f"{'parse/s':>8} {'json/s':>8} {'events/s':>9} {'parse/json':>10}"
    )
    print(header)
    print("-" * len(header))
    for label, adapter, body in cases:
        print(row(label, adapter, body, seconds))


def row(label: str, adapter: ChannelAdapter[Any], body: bytes, seconds: float) -> str:
    """One table row: the adapter's verify and parse rates beside the bare HMAC and json.loads."""
    request = signed(body)
    events = len(adapter.parse(request))
    digest = (request.header("x-hub-signature-256") or "")[len("sha256=") :]
    verify = rate(lambda: adapter.verify(request), seconds)
    bare_hmac = rate(
        lambda: hmac.compare_digest(hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(), digest),
        seconds,
    )
    parse = rate(lambda: adapter.parse(request), seconds)
    bare_json = rate(lambda: json.loads(body), seconds)
    return (
        f"{label:40} {len(body):>6} {events:>6} | {verify:>9,.0f} {bare_hmac:>9,.0f} | "
        f"{parse:>8,.0f} {bare_json:>8,.0f} {parse * events:>9,.0f} {bare_json / parse:>9.1f}x"
    )


if __name__ == "__main__":
    main()
