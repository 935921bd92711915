"""``omnicx demo``: the shipped payloads through the hub into a real SQLite file, and the story printed."""

from __future__ import annotations

import io
from pathlib import Path

from omnicx import Identifier
from omnicx.cli import main
from omnicx.cli._demo import run_demo
from omnicx.hub import Hub


def test_demo_tells_the_seed_story(tmp_path: Path) -> None:
    db = tmp_path / "omnicx-demo.db"
    out = io.StringIO()
    seed = run_demo(db, out)
    text = out.getvalue()
    assert db.exists()
    # the seed story: chat → email → WhatsApp → call, one customer, all in the timeline
    timeline = text.split("══ Agent context ══")[0]
    for channel in ("webchat", "email", "whatsapp", "voice"):
        assert f"  {channel:<9} →" in timeline, channel
    assert "Lucía Fernández — customer since 2026-11-09" in text
    assert "OPEN 'Torn sole - order NW-48213'" in text
    # what the summary promises, worked out from the manifest by hand:
    # 60 deliveries on 8 channels: 3 retries are duplicates, 1 forged + 1 malformed are rejected
    assert "requests: 60 on 8 channels" in text
    assert "55 accepted, 3 duplicate, 2 rejected" in text
    assert "rejected twilio (401)" in text
    assert "rejected webform (400)" in text
    assert "identity: 1 manual merge, 1 split" in text
    # Marcus (example.net), Elena (example.org) and Noah (example.com) write from reserved domains
    assert "3 accepted events name no customer" in text
    with Hub.open(f"sqlite:///{db}") as hub:
        customer = hub.customer(seed)
        keys = {ci.identifier.kind for ci in customer.identifiers}
        assert {"chat_visitor", "email", "phone"} <= keys
        # the wrong merge was undone: the two Daniel Kims are two customers again
        messenger = hub.customer_of(Identifier.parse("messenger_psid@682498302938465:8937380561781478"))
        toronto = hub.customer_of(Identifier.parse("email:dkim.toronto@example.ca"))
        assert messenger is not None
        assert toronto is not None
        assert messenger != toronto
        with hub.store.snapshot() as view:
            assert len(view.customer_ids()) >= 20


def test_demo_command_rebuilds_the_file_each_run(tmp_path: Path, capsys: object) -> None:
    db = tmp_path / "demo.db"
    assert main(["demo", "--db", str(db)]) == 0
    first = db.stat().st_size
    assert main(["demo", "--db", str(db)]) == 0
    assert db.stat().st_size == first  # a fresh file, not a second copy of everything
