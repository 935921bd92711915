"""open_store: built-in URLs, explicit registration, entry-point plugins, broken plugins, the env switch."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnicx.errors import ConfigurationError, PluginLoadError, PluginValidationError
from omnicx.store import MemoryStore, SQLiteStore, Store, _plugins, open_store, register_store, store_schemes


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    saved = dict(_plugins._registered)
    yield
    _plugins._registered.clear()
    _plugins._registered.update(saved)


def _install_plugin(root: Path, name: str, entry_points: str, module: str | None = None) -> None:
    """A distribution on sys.path, as pip would leave it: a module and its dist-info."""
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[omnicx.stores]\n{entry_points}\n")
    if module is not None:
        (root / f"{name.replace('-', '_')}.py").write_text(module)


def test_builtin_urls(tmp_path: Path) -> None:
    memory = open_store("memory://")
    assert isinstance(memory, MemoryStore)
    assert memory.url == "memory://"
    sqlite = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(sqlite, SQLiteStore)
    assert sqlite.path == tmp_path / "a.db"
    assert (tmp_path / "a.db").exists()
    sqlite.close()
    sqlite.close()  # closing twice does nothing


def test_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///rel.db?timeout=2&synchronous=full")
    assert isinstance(store, SQLiteStore)
    assert store.path == Path("rel.db")
    store.close()
    assert (tmp_path / "rel.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nothing", "is not a store URL"),
        ("mongodb://x", "no store serves mongodb://"),
        ("sqlite://", "is not a SQLite store URL"),
        ("sqlite://host/x.db", "is not a SQLite store URL"),
        ("sqlite:///:memory:", "use memory://"),
        ("sqlite:///x.db?journal=off", "unknown SQLite store option"),
        ("sqlite:///x.db?timeout=soon", "timeout must be a number"),
        ("sqlite:///x.db?synchronous=maybe", "synchronous must be one of"),
        ("memory://somewhere", "is not a memory store URL"),
        ("postgresql://u:secret@127.0.0.1:1/db?pool_max=zero", "bad pool option"),
    ],
)
def test_bad_urls_say_what_to_write(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message) as caught:
        open_store(url)
    assert "secret" not in str(caught.value)


def test_unreachable_postgres_is_retryable_and_masks_the_password() -> None:
    from omnicx.errors import StorageUnavailable

    with pytest.raises(StorageUnavailable) as caught:
        open_store("postgresql://u:secret@127.0.0.1:1/db?pool_timeout=1&connect_timeout=1")
    assert caught.value.retryable
    assert "secret" not in str(caught.value)


def test_register_store_takes_precedence() -> None:
    made: list[str] = []

    def factory(url: str) -> Store:
        made.append(url)
        return MemoryStore()

    register_store("acme", factory)
    assert isinstance(open_store("acme://tenant-db"), MemoryStore)
    assert made == ["acme://tenant-db"]
    assert "acme" in store_schemes()


def test_a_factory_returning_no_store_is_refused() -> None:
    register_store("junk", lambda url: object())  # type: ignore[arg-type,return-value]
    with pytest.raises(PluginValidationError, match="lacks the Store methods") as caught:
        open_store("junk://x")
    assert caught.value.plugin == "registered:junk"


def test_register_store_checks_its_arguments() -> None:
    with pytest.raises(ConfigurationError, match="callable"):
        register_store("x", "not callable")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="lowercase URL scheme"):
        register_store("Bad Scheme", MemoryStore.from_url)


def test_entry_point_plugins_are_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _install_plugin(
        tmp_path,
        "acme-store",
        "acmemem = acme_store:make",
        "from omnicx.store import MemoryStore\nCALLS = []\n"
        "def make(url):\n    CALLS.append(url)\n    return MemoryStore()\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "acmemem" in store_schemes()
    assert isinstance(open_store("acmemem://"), MemoryStore)
    import acme_store  # type: ignore[import-not-found]

    assert acme_store.CALLS == ["acmemem://"]
    monkeypatch.setenv("OMNICX_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert "acmemem" not in store_schemes()
    with pytest.raises(ConfigurationError, match="no store serves acmemem://"):
        open_store("acmemem://")
    assert isinstance(open_store("memory://"), MemoryStore)  # the built-ins still work


def test_a_broken_plugin_warns_and_the_host_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broken distribution claims the memory scheme: it is skipped with a warning naming it.
    _install_plugin(
        tmp_path, "broken-store", "memory = broken_store:make", "raise ImportError('no redis here')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(RuntimeWarning, match=r"broken-store.*failed to load.*no redis here"):
        store = open_store("memory://")
    assert isinstance(store, MemoryStore)


def test_a_scheme_served_only_by_a_broken_plugin_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, "gone-store", "gone = gone_store_missing:make")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError, match="no store for gone:// could be loaded") as caught:
        open_store("gone://x")
    assert caught.value.distribution == "gone-store"


def test_importing_the_store_package_loads_no_driver_and_scans_no_plugin() -> None:
    code = (
        "import sys, importlib.metadata as md\n"
        "real = md.entry_points\n"
        "def spy(**kw):\n"
        "    assert kw.get('group') != 'omnicx.stores', 'scanned at import'\n"
        "    return real(**kw)\n"
        "md.entry_points = spy\n"
        "import omnicx.store\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
        "assert 'psycopg_pool' not in sys.modules\n"
        "from omnicx.store import _plugins\n"
        "assert _plugins.entry_points is spy  # discovery goes through the spy, and only on demand\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
