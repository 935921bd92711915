"""How fast the core channel adapters parse real payloads, beside the bare decoding they build on.

Run: ``python benchmarks/channels.py``. For each golden payload the table shows
messages per second for omnicx's ``parse`` and for the "peer": the standard
library doing only the decoding (``email`` with ``policy.default`` for email,
``json.loads`` / ``parse_qsl`` for webchat and webform). The ratio is what
verification-free parsing into validated omnicx models costs on top.
"""

from __future__ import annotations

import email
import email.policy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from omnicx.channels.email import EmailAdapter  # noqa: E402
from omnicx.channels.webchat import WebchatAdapter  # noqa: E402
from omnicx.channels.webform import WebformAdapter  # noqa: E402
from omnicx.testing import inbound_request  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"


def rate(fn: Callable[[], object], seconds: float = 0.5) -> float:
    """Calls per second of ``fn``, measured for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        count += 20
    return count / elapsed


def main() -> None:
    email_adapter = EmailAdapter()
    webchat = WebchatAdapter({"secret": "0123456789abcdef"})
    webform = WebformAdapter()
    rows: list[tuple[str, float, float, str]] = []
    for path in sorted(FIXTURES.glob("email_*.eml")):
        raw = path.read_bytes()
        request = inbound_request(raw)
        ours = rate(lambda request=request: email_adapter.parse(request))
        peer = rate(lambda raw=raw: email.message_from_bytes(raw, policy=email.policy.default).get_body())
        rows.append((path.name, ours, peer, "email.message_from_bytes + get_body"))
    for path in sorted(FIXTURES.glob("webchat_*.json")):
        if "typing_only" in path.name:
            continue
        raw = path.read_bytes()
        request = inbound_request(raw)
        rows.append(
            (
                path.name,
                rate(lambda request=request: webchat.parse(request)),
                rate(lambda raw=raw: json.loads(raw)),
                "json.loads",
            )
        )
    form = (FIXTURES / "webform_contact.form.txt").read_bytes()
    form_request = inbound_request(form, headers={"content-type": "application/x-www-form-urlencoded"})
    rows.append(
        (
            "webform_contact.form.txt",
            rate(lambda: webform.parse(form_request)),
            rate(lambda: parse_qsl(form.decode())),
            "urllib.parse.parse_qsl",
        )
    )
    print(f"{'payload':40} {'omnicx parse/s':>15} {'peer/s':>12} {'ratio':>6}  peer")
    for name, ours, peer, what in rows:
        print(f"{name:40} {ours:15,.0f} {peer:12,.0f} {peer / ours:6.1f}  {what}")


if __name__ == "__main__":
    main()
