"""Opening a store by URL: built-in backends and plugins found through entry points.

A store plugin is an entry point in the group ``omnicx.stores`` whose name is the
URL scheme it serves and whose object is a callable taking the URL and returning
a :class:`~omnicx.store.Store`::

    [project.entry-points."omnicx.stores"]
    redis = "omnicx_redis:RedisStore.from_url"

Entry points are read the first time a URL needs one, never at import time.
``OMNICX_DISABLE_PLUGIN_AUTOLOAD=1`` turns discovery off (the built-ins still
work). A plugin that fails to load is reported with a warning and skipped in
favour of the next candidate; only when no candidate is left does opening fail.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from omnicx.errors import ConfigurationError, PluginLoadError, PluginValidationError
from omnicx.store._protocol import Store

__all__ = [
    "DEFAULT_URL",
    "ENTRY_POINT_GROUP",
    "StoreFactory",
    "open_store",
    "register_store",
    "store_schemes",
]

ENTRY_POINT_GROUP = "omnicx.stores"
DEFAULT_URL = "sqlite:///omnicx.db"
DISABLE_ENV = "OMNICX_DISABLE_PLUGIN_AUTOLOAD"

StoreFactory = Callable[[str], Store]
"""What a store plugin provides: a callable taking the URL and returning an open store."""

_BUILTIN: dict[str, str] = {
    "memory": "omnicx.store._memory:MemoryStore.from_url",
    "sqlite": "omnicx.store._sqlite:SQLiteStore.from_url",
    "postgresql": "omnicx.store._postgres:PostgresStore.from_url",
    "postgres": "omnicx.store._postgres:PostgresStore.from_url",
}
"""The built-in schemes, also declared as entry points in pyproject.toml; used when
discovery is off or the package is run from a source tree without metadata."""

_registered: dict[str, StoreFactory] = {}
_lock = threading.Lock()


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Serve URLs of ``scheme`` with ``factory`` in this process (takes precedence over entry points).

    Raises :class:`~omnicx.errors.ConfigurationError` when ``factory`` is not callable
    or ``scheme`` is not a lowercase URL scheme.
    """
    if not callable(factory):
        raise ConfigurationError(
            f"a store factory must be callable, got {type(factory).__name__}", scheme=scheme
        )
    if not scheme or not scheme.replace("+", "").replace("-", "").isalnum() or scheme != scheme.lower():
        raise ConfigurationError(f"{scheme!r} is not a lowercase URL scheme", scheme=scheme)
    with _lock:
        _registered[scheme] = factory


def _discover(scheme: str) -> list[EntryPoint]:
    if os.environ.get(DISABLE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return []
    return sorted(
        (ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme),
        key=lambda ep: (ep.value.startswith("omnicx."), ep.value),
    )


def _load_reference(reference: str) -> object:
    module_name, _, attribute = reference.partition(":")
    target: object = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def store_schemes() -> list[str]:
    """Every URL scheme a store is known for: built-in, registered, and (unless disabled) discovered."""
    names = set(_BUILTIN) | set(_registered)
    if os.environ.get(DISABLE_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}:
        names.update(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    return sorted(names)


def _candidates(scheme: str) -> list[tuple[str, str | None, Callable[[], object]]]:
    found: list[tuple[str, str | None, Callable[[], object]]] = []
    if scheme in _registered:
        factory = _registered[scheme]
        found.append((f"registered:{scheme}", None, lambda: factory))
    for ep in _discover(scheme):
        dist = ep.dist.name if ep.dist is not None else None
        found.append((f"{ep.name} = {ep.value}", dist, ep.load))
    if scheme in _BUILTIN:
        reference = _BUILTIN[scheme]
        found.append((f"{scheme} = {reference}", "omnicx", lambda: _load_reference(reference)))
    return found


def open_store(url: str = DEFAULT_URL) -> Store:
    """Open the store at ``url``: ``memory://``, ``sqlite:///path.db`` (the default),
    ``postgresql://user@host/db``, or any scheme a plugin serves.

    Returns an open :class:`~omnicx.store.Store` (migrated to the latest schema for
    the SQL backends). Raises :class:`~omnicx.errors.ConfigurationError` for a URL
    no store serves or malformed for its store, :class:`~omnicx.errors.PluginLoadError`
    when every candidate for the scheme failed to load, and
    :class:`~omnicx.errors.PluginValidationError` when a plugin returns something
    that is not a store.
    """
    if not isinstance(url, str) or ":" not in url:
        raise ConfigurationError(
            f"{url!r} is not a store URL: write memory://, sqlite:///path.db or postgresql://user@host/db",
            url=repr(url)[:80],
        )
    scheme = url.split(":", 1)[0].lower()
    candidates = _candidates(scheme)
    if not candidates:
        raise ConfigurationError(
            f"no store serves {scheme}:// URLs; known schemes: {', '.join(store_schemes())}. "
            "Install the plugin that provides it, or check OMNICX_DISABLE_PLUGIN_AUTOLOAD",
            url=url.split("@")[-1][:80],
        )
    failures: list[str] = []
    for name, dist, load in candidates:
        try:
            factory = load()
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            if len(failures) < len(candidates):
                warnings.warn(
                    f"omnicx store plugin {name!r} (from {dist or 'an unknown distribution'}) failed to load "
                    f"and was skipped: {type(exc).__name__}: {exc}",
                    RuntimeWarning,
                    stacklevel=2,
                )
            continue
        if not callable(factory):
            raise PluginValidationError(
                f"store plugin {name!r} is not callable: it must be a callable taking the URL and returning a store",
                plugin=name,
                distribution=dist,
            )
        store = factory(url)
        if not isinstance(store, Store):
            raise PluginValidationError(
                f"store plugin {name!r} returned {type(store).__name__}, which lacks the Store methods "
                "(transaction, snapshot, schema_version, close, url)",
                plugin=name,
                distribution=dist,
            )
        return store
    raise PluginLoadError(
        f"no store for {scheme}:// could be loaded: {'; '.join(failures)}",
        plugin=scheme,
        distribution=candidates[-1][1],
    )
