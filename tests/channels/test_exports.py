"""omnicx.channels and omnicx.testing export exactly their curated names."""

from __future__ import annotations

import omnicx.channels
import omnicx.testing


def test_channels_exports() -> None:
    assert omnicx.channels.__all__ == sorted(omnicx.channels.__all__, key=lambda n: (not n.isupper(), n))
    for name in omnicx.channels.__all__:
        assert getattr(omnicx.channels, name) is not None
        assert not name.startswith("_")


def test_testing_exports_channel_kit() -> None:
    assert {"ChannelAdapterContract", "GoldenCase", "SUMMARY_KEYS", "inbound_request", "summarize"} <= set(
        omnicx.testing.__all__
    )
    for name in omnicx.testing.__all__:
        assert hasattr(omnicx.testing, name)
