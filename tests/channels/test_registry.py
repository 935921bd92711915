"""The channel registry: explicit registration, built-ins, lazy entry-point discovery.

Third-party plugins are real installed distributions: each test writes a
``*.dist-info`` directory with an ``entry_points.txt`` and a module onto a
``sys.path`` entry, which is exactly what pip leaves behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import ClassVar

import pytest

from omnicx.channels import (
    AdapterConfig,
    Capability,
    ChannelAdapter,
    ChannelPluginWarning,
    ChannelRegistry,
    adapter_problems,
    default_registry,
)
from omnicx.channels._builtin import BUILTIN_ADAPTERS
from omnicx.channels.webchat import WebchatAdapter
from omnicx.errors import ConfigurationError, PluginLoadError, PluginValidationError
from omnicx.models import InboundEvent, InboundRequest

SRC = Path(__file__).resolve().parents[2] / "src"

GOOD_PLUGIN = """
from omnicx.channels import Capability, ChannelAdapter

class AcmeAdapter(ChannelAdapter):
    name = "acme_chat"
    display_name = "Acme Chat"
    api_version = "2024-01"
    capabilities = frozenset({Capability.INBOUND})

    def verify(self, request):
        return None

    def parse(self, request):
        return []
"""


class EchoLike(ChannelAdapter[AdapterConfig]):
    name: ClassVar[str] = "echo_like"
    display_name: ClassVar[str] = "Echo-like"
    api_version: ClassVar[str] = "1"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INBOUND})

    def verify(self, request: InboundRequest) -> None:
        return None

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        return []


def install(tmp_path: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
    """Write an installed distribution (dist-info + modules) under tmp_path/site."""
    site = tmp_path / "site"
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[omnicx.channels]\n{lines}")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    return site


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.delenv("OMNICX_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return path


# --- built-ins ---------------------------------------------------------------------------


def test_every_builtin_is_known_without_entry_points() -> None:
    registry = ChannelRegistry(autoload=False)
    assert registry.names() == sorted(BUILTIN_ADAPTERS)
    assert registry.get("webchat") is WebchatAdapter
    assert registry.distribution("webchat") == "omnicx"


@pytest.mark.parametrize("name", sorted(BUILTIN_ADAPTERS))
def test_each_builtin_loads_and_validates(name: str) -> None:
    module = BUILTIN_ADAPTERS[name].split(":")[0]
    if not (SRC / (module.replace(".", "/") + ".py")).exists():
        pytest.skip(f"{module} is written on another branch and not merged here yet")
    adapter = ChannelRegistry(autoload=False).get(name)
    assert adapter.name == name
    assert adapter_problems(adapter) == []


def test_builtins_are_declared_as_entry_points_in_pyproject() -> None:
    import tomllib

    pyproject = tomllib.loads((SRC.parent / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["omnicx.channels"] == BUILTIN_ADAPTERS


def test_builtins_can_be_left_out() -> None:
    assert ChannelRegistry(autoload=False, builtins=False).names() == []
    # omnicx's own entry points (present once omnicx is installed) are built-ins, not plugins
    assert not set(BUILTIN_ADAPTERS) & set(ChannelRegistry(builtins=False).names())


# --- explicit registration -------------------------------------------------------------


def test_register_works_as_a_decorator_and_refuses_a_second_owner_of_a_name() -> None:
    registry = ChannelRegistry(autoload=False, builtins=False)
    assert registry.register(EchoLike) is EchoLike
    assert registry.get("echo_like") is EchoLike
    assert registry.register(EchoLike) is EchoLike  # the same class again is harmless

    class Other(EchoLike):
        pass

    with pytest.raises(PluginValidationError, match="already registered"):
        registry.register(Other)
    registry.register(Other, replace=True)
    assert registry.get("echo_like") is Other


def test_registering_over_a_builtin_needs_replace() -> None:
    registry = ChannelRegistry(autoload=False)

    class MyWebchat(WebchatAdapter):
        pass

    with pytest.raises(PluginValidationError, match="'webchat' is already registered"):
        registry.register(MyWebchat)
    registry.register(MyWebchat, replace=True)
    assert registry.get("webchat") is MyWebchat


class NoParse(ChannelAdapter[AdapterConfig]):
    name: ClassVar[str] = "no_parse"
    display_name: ClassVar[str] = "No parse"
    api_version: ClassVar[str] = "1"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INBOUND})

    def verify(self, request: InboundRequest) -> None:
        return None


class NoAttributes(ChannelAdapter[AdapterConfig]):
    def verify(self, request: InboundRequest) -> None:
        return None

    def parse(self, request: InboundRequest) -> list[InboundEvent]:
        return []


class BadName(EchoLike):
    name: ClassVar[str] = "Acme-Chat"


class ClaimsOutbound(EchoLike):
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.INBOUND, Capability.OUTBOUND})


@pytest.mark.parametrize(
    ("candidate", "sentence"),
    [
        (NoParse, "does not implement parse(); define parse(self, request) -> list[InboundEvent]"),
        (NoAttributes, "has no class attribute 'name'; add `name = \"acme_chat\""),
        (NoAttributes, "has no class attribute 'capabilities'"),
        (BadName, "name is 'Acme-Chat'; it must be a lowercase name"),
        (ClaimsOutbound, "declares Capability.OUTBOUND but does not implement build_outbound()"),
        (object, "is not a ChannelAdapter subclass"),
    ],
    ids=["missing-method", "missing-name", "missing-capabilities", "bad-name", "outbound", "not-a-class"],
)
def test_a_bad_class_fails_registration_with_a_sentence(candidate: type, sentence: str) -> None:
    registry = ChannelRegistry(autoload=False, builtins=False)
    with pytest.raises(PluginValidationError) as info:
        registry.register(candidate)  # type: ignore[type-var]
    assert sentence in str(info.value)


def test_unknown_name_is_a_configuration_error_listing_what_exists() -> None:
    with pytest.raises(ConfigurationError, match=r"no channel adapter is named 'fax' \(known: email, "):
        ChannelRegistry(autoload=False).get("fax")


def test_create_builds_the_adapter_and_checks_its_config() -> None:
    registry = ChannelRegistry(autoload=False)
    adapter = registry.create("webchat", {"secret": "0123456789abcdef"})
    assert isinstance(adapter, WebchatAdapter)
    with pytest.raises(ConfigurationError, match="secret"):
        registry.create("webchat", {})
    with pytest.raises(ConfigurationError, match="sekret: Extra inputs are not permitted"):
        registry.create("webchat", {"secret": "0123456789abcdef", "sekret": "typo"})


# --- discovery -------------------------------------------------------------------------


def test_a_plugin_is_discovered_lazily(site: Path) -> None:
    install(site.parent, "acme-chat", {"acme_chat": "acme_plugin:AcmeAdapter"}, {"acme_plugin": GOOD_PLUGIN})
    registry = ChannelRegistry()
    assert "acme_plugin" not in sys.modules
    assert "acme_chat" in registry.names()
    assert "acme_plugin" not in sys.modules  # listing imports nothing
    adapter = registry.get("acme_chat")
    assert adapter.__name__ == "AcmeAdapter"
    assert registry.distribution("acme_chat") == "acme-chat"
    sys.modules.pop("acme_plugin", None)


def test_autoload_can_be_turned_off_by_environment(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(
        site.parent, "acme-chat", {"acme_chat": "acme_plugin2:AcmeAdapter"}, {"acme_plugin2": GOOD_PLUGIN}
    )
    monkeypatch.setenv("OMNICX_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = ChannelRegistry()
    assert "acme_chat" not in registry.names()
    assert "webchat" in registry.names()  # built-ins are part of omnicx, not plugins
    monkeypatch.delenv("OMNICX_DISABLE_PLUGIN_AUTOLOAD")
    assert "acme_chat" in ChannelRegistry().names()


def test_a_plugin_that_fails_to_import_warns_and_names_its_distribution(site: Path) -> None:
    install(
        site.parent,
        "acme-broken",
        {"broken": "broken_plugin:Adapter"},
        {"broken_plugin": "raise RuntimeError('boom')\n"},
    )
    registry = ChannelRegistry(builtins=False)
    registry.register(EchoLike)
    with pytest.warns(
        ChannelPluginWarning, match=r"'broken' from distribution 'acme-broken'.*RuntimeError: boom"
    ):
        loaded = registry.load_all()
    assert "broken" not in loaded
    assert loaded["echo_like"] is EchoLike  # the healthy adapters still load
    assert "broken" not in registry.names()
    with pytest.raises(PluginLoadError) as info:
        registry.get("broken")
    assert info.value.distribution == "acme-broken"
    assert info.value.plugin == "broken"
    assert isinstance(registry.failures["broken"], PluginLoadError)


def test_a_plugin_that_breaks_the_contract_is_named_with_its_distribution(site: Path) -> None:
    source = GOOD_PLUGIN.replace("    def parse(self, request):\n        return []\n", "")
    install(site.parent, "acme-half", {"acme_chat": "half_plugin:AcmeAdapter"}, {"half_plugin": source})
    registry = ChannelRegistry()
    with pytest.raises(PluginValidationError) as info:
        registry.get("acme_chat")
    assert info.value.distribution == "acme-half"
    assert "from distribution 'acme-half'" in str(info.value)
    assert "does not implement parse()" in str(info.value)


def test_an_entry_point_name_must_match_the_adapter_name(site: Path) -> None:
    install(site.parent, "acme-chat", {"acme": "named_plugin:AcmeAdapter"}, {"named_plugin": GOOD_PLUGIN})
    with pytest.raises(
        PluginValidationError, match="entry point is named 'acme' but the adapter's name is 'acme_chat'"
    ):
        ChannelRegistry().get("acme")


def test_a_plugin_cannot_take_a_builtin_name(site: Path) -> None:
    install(site.parent, "evil-email", {"email": "evil_plugin:AcmeAdapter"}, {"evil_plugin": GOOD_PLUGIN})
    registry = ChannelRegistry()
    with pytest.warns(ChannelPluginWarning, match="'email' from distribution 'evil-email' has the name of"):
        names = registry.names()
    assert "email" in names
    assert registry.distribution("email") == "omnicx"


def test_two_distributions_with_one_name_warn_and_keep_one(site: Path) -> None:
    install(site.parent, "acme-a", {"acme_chat": "plugin_a:AcmeAdapter"}, {"plugin_a": GOOD_PLUGIN})
    install(site.parent, "acme-b", {"acme_chat": "plugin_b:AcmeAdapter"}, {"plugin_b": GOOD_PLUGIN})
    registry = ChannelRegistry()
    with pytest.warns(ChannelPluginWarning, match="clashes with the one from distribution 'acme-a'"):
        registry.names()
    assert registry.distribution("acme_chat") == "acme-a"


def test_import_has_no_side_effects(tmp_path: Path) -> None:
    """Importing omnicx and building registries touches no plugin; first use does."""
    site = install(
        tmp_path,
        "acme-marker",
        {"marker": "marker_plugin:Adapter"},
        {"marker_plugin": f"open({str(tmp_path / 'imported')!r}, 'w').close()\n"},
    )
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import omnicx, omnicx.channels, omnicx.channels.webchat, omnicx.testing\n"
        "from omnicx.channels import ChannelRegistry, default_registry\n"
        "ChannelRegistry(); default_registry()\n"
        f"import os; assert not os.path.exists({str(tmp_path / 'imported')!r}), 'plugin imported too early'\n"
        "default_registry().load_all()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(SRC)])}
    env.pop("OMNICX_DISABLE_PLUGIN_AUTOLOAD", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
    assert (tmp_path / "imported").exists()  # load_all() did import it: the check above could fail


def test_default_registry_is_one_object() -> None:
    assert default_registry() is default_registry()


# --- the example third-party package ---------------------------------------------------


def test_the_installed_echo_example_is_discovered() -> None:
    try:
        from importlib.metadata import distribution

        distribution("omnicx-echo-channel")
    except Exception:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("examples/omnicx-echo-channel must be installed in CI (make test installs it)")
        pytest.skip(
            "examples/omnicx-echo-channel is not installed (pip install -e examples/omnicx-echo-channel)"
        )
    registry = ChannelRegistry()
    assert "echo" in registry.names()
    adapter = registry.get("echo")
    assert adapter.__module__.startswith("omnicx_echo_channel")
    assert registry.distribution("echo") == "omnicx-echo-channel"
