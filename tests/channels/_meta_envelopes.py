"""The documented Messenger Platform envelope around the single events Meta's pages show.

Meta's event pages show one ``messaging[]`` event with ``<PSID>`` / ``<PAGE_ID>``
placeholders; a delivery wraps it as ``{"object": "page", "entry": [{"id", "time",
"messaging": [event]}]}``. These helpers do that wrapping, filling the placeholders
with ids of the documented form; the event objects are used unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures"
PAGE_ID = "682498302938465"  # the entry id of Meta's "message with attachment" example
PSID = "1254459154682919"
PLACEHOLDERS = {
    "<PSID>": PSID,
    "<PAGE_ID>": PAGE_ID,
    "<image|video|audio|file|reel|ig_reel>": "image",
    "<ATTACHMENT_URL>": "https://scontent.xx.fbcdn.net/v/t1.15752-9/123_n.jpg",
    "<DEVELOPER_DEFINED_PAYLOAD>": "DEVELOPER_DEFINED_PAYLOAD",
    "<DEVELOPER_DEFINED_METADATA_STRING>": "DEVELOPER_DEFINED_METADATA_STRING",
    "<MESSAGE_ID>": "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU",
    "<TEXT>": "hello, world! (edited)",
}


def filled(name: str) -> Any:
    """The fixture ``name`` with its placeholders filled."""
    text = (FIXTURES / name).read_text()
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def page_envelope(name: str) -> bytes:
    """The fixture as a delivered ``page`` webhook body."""
    doc = filled(name)
    if "object" in doc:
        envelope = doc
    elif "messaging" in doc:
        envelope = {"object": "page", "entry": [doc]}
    elif "field" in doc:
        envelope = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1527459824000, "changes": [doc]}]}
    else:
        envelope = {"object": "page", "entry": [{"id": PAGE_ID, "time": 1458692752478, "messaging": [doc]}]}
    return json.dumps(envelope, indent=1).encode()
