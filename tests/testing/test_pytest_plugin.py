"""The pytest11 plugin's fixtures, as a plugin author's test suite sees them."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USES_FIXTURES = """
import socket

import pytest

from omnicx.channels import ChannelRegistry
from omnicx.testing import NetworkBlockedError


def test_request_factory(omnicx_inbound_request):
    request = omnicx_inbound_request(b"{}", headers={"X-A": "1"})
    assert request.header("x-a") == "1"
    assert request.received_at.isoformat() == "2024-01-01T00:00:00+00:00"


def test_registry_is_fresh_and_without_discovery(omnicx_channel_registry):
    assert isinstance(omnicx_channel_registry, ChannelRegistry)
    assert "webchat" in omnicx_channel_registry.names()


def test_network_is_blocked(omnicx_no_network):
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("example.com", 80))
"""


def test_fixtures_work_through_the_plugin(pytester: pytest.Pytester) -> None:
    from importlib.metadata import entry_points

    pytester.makepyfile(test_plugin_user=USES_FIXTURES)
    installed = any(ep.value == "omnicx.testing._pytest_plugin" for ep in entry_points(group="pytest11"))
    # installed: the pytest11 entry point loads it; a source checkout: -p loads it the same way
    load = [] if installed else ["-p", "omnicx.testing._pytest_plugin"]
    result = pytester.runpytest_inprocess("-q", *load, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_plugin_is_declared_as_a_pytest11_entry_point() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["pytest11"] == {"omnicx": "omnicx.testing._pytest_plugin"}
