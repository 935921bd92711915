"""JSON payloads with an unpaired surrogate escape are refused at the edge; paired ones are emoji."""

from __future__ import annotations

import pytest

from omnicx import PayloadError
from omnicx.channels._payload import json_object


def test_paired_surrogate_escapes_are_text() -> None:
    assert json_object(b'{"text": "\\ud83d\\ude00"}', channel="webchat") == {"text": "\U0001f600"}


@pytest.mark.parametrize("escape", [b"\\ud800", b"\\uDFFF", b"\\ude00 alone", b"x\\ud83d"])
def test_unpaired_surrogate_escapes_are_a_payload_error(escape: bytes) -> None:
    with pytest.raises(PayloadError, match="unpaired surrogate"):
        json_object(b'{"text": "' + escape + b'"}', channel="webchat")
