"""Which channel adapters exist: explicit registration and lazy entry-point discovery.

Three sources, in this order of precedence:

1. classes registered explicitly with :meth:`ChannelRegistry.register`;
2. omnicx's built-in adapters (:data:`omnicx.channels._builtin.BUILTIN_ADAPTERS`),
   always available, even from a source checkout that was never installed;
3. third-party adapters declared in the ``omnicx.channels`` entry-point group,
   discovered the first time the registry is asked something, never at import.
   ``OMNICX_DISABLE_PLUGIN_AUTOLOAD=1`` (or ``ChannelRegistry(autoload=False)``)
   turns this source off.

Nothing is imported until it is needed: discovery reads entry-point metadata
only, and an adapter's module is imported when the adapter is first asked for.
Every adapter is validated when it is registered or loaded
(:func:`~omnicx.channels.adapter_problems`). A broken third-party plugin
never breaks the host: listing adapters warns with :class:`ChannelPluginWarning`
and skips it; asking for it by name raises its
:class:`~omnicx.errors.PluginLoadError` or :class:`~omnicx.errors.PluginValidationError`,
which names the plugin and its distribution.
"""

from __future__ import annotations

import importlib
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from typing import Any, TypeVar

import attrs

from omnicx.channels._base import AdapterConfig, ChannelAdapter, adapter_problems
from omnicx.channels._builtin import BUILTIN_ADAPTERS
from omnicx.errors import ConfigurationError, PluginError, PluginLoadError, PluginValidationError

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "ChannelPluginWarning",
    "ChannelRegistry",
    "default_registry",
]

ENTRY_POINT_GROUP = "omnicx.channels"
"""The entry-point group third-party adapters declare themselves in."""
AUTOLOAD_ENV = "OMNICX_DISABLE_PLUGIN_AUTOLOAD"
"""Set to ``1`` (or ``true``/``yes``) to skip entry-point discovery."""
OMNICX_DISTRIBUTION = "omnicx"

AdapterClass = type[ChannelAdapter[Any]]
A = TypeVar("A", bound=AdapterClass)


class ChannelPluginWarning(UserWarning):
    """A channel plugin was skipped because it is broken; the host goes on without it."""


@attrs.frozen
class _Pending:
    """An adapter known by its ``module:attribute`` target, not imported yet."""

    name: str
    target: str
    distribution: str | None
    load: Callable[[], object]


@attrs.frozen
class _Loaded:
    adapter: AdapterClass
    distribution: str | None


def _import_target(target: str) -> Callable[[], object]:
    def load() -> object:
        module_name, _, attribute = target.partition(":")
        module = importlib.import_module(module_name)
        obj: object = module
        for part in attribute.split(".") if attribute else ():
            obj = getattr(obj, part)
        return obj

    return load


def _autoload_disabled() -> bool:
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _who(name: str, distribution: str | None) -> str:
    return f"channel plugin {name!r}" + (f" from distribution {distribution!r}" if distribution else "")


class ChannelRegistry:
    """Adapter name → adapter class, filled explicitly and by lazy discovery.

    ``autoload``: scan the ``omnicx.channels`` entry points (default: yes unless
    ``OMNICX_DISABLE_PLUGIN_AUTOLOAD=1`` is set when the registry first looks).
    ``builtins``: include omnicx's built-in adapters (default: yes).
    Creating a registry does nothing else; it is safe to share between threads.
    """

    def __init__(self, *, autoload: bool | None = None, builtins: bool = True) -> None:
        self._autoload = autoload
        self._builtins = builtins
        self._loaded: dict[str, _Loaded] = {}
        self._explicit: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._failures: dict[str, PluginError] = {}
        self._discovered = False
        self._lock = threading.RLock()

    # --- registration ---------------------------------------------------------

    def register(self, adapter: A, *, distribution: str | None = None, replace: bool = False) -> A:
        """Register ``adapter`` (a :class:`ChannelAdapter` subclass) under its ``name``; return it.

        Usable as a class decorator. Raises :class:`~omnicx.errors.PluginValidationError`
        when the class breaks the adapter contract (each problem is a sentence
        saying what to implement) or when another adapter already has its name
        and ``replace`` is false.
        """
        name = getattr(adapter, "name", None)
        label = name if isinstance(name, str) else getattr(adapter, "__name__", repr(adapter))
        problems = adapter_problems(adapter)
        if problems:
            raise PluginValidationError(
                f"{_who(label, distribution)} cannot be registered: " + " ".join(problems),
                plugin=label,
                distribution=distribution,
            )
        with self._lock:
            self._discover()
            if not replace and label in self:
                current = self._loaded.get(label)
                if current is None or current.adapter is not adapter:
                    raise PluginValidationError(
                        f"a channel adapter named {label!r} is already registered "
                        f"({self._source(label)}); pick another name or pass replace=True",
                        plugin=label,
                        distribution=distribution,
                    )
            self._pending.pop(label, None)
            self._failures.pop(label, None)
            self._loaded[label] = _Loaded(adapter, distribution)
            self._explicit.add(label)
        return adapter

    def unregister(self, name: str) -> None:
        """Forget the adapter ``name`` (registered, built-in or discovered); unknown names are ignored."""
        with self._lock:
            self._discover()
            self._loaded.pop(name, None)
            self._pending.pop(name, None)
            self._failures.pop(name, None)
            self._explicit.discard(name)

    # --- look-up --------------------------------------------------------------

    def get(self, name: str) -> AdapterClass:
        """The adapter class registered as ``name``, importing it on first use.

        Raises :class:`~omnicx.errors.PluginLoadError` when its module cannot be
        imported, :class:`~omnicx.errors.PluginValidationError` when it breaks
        the adapter contract, and :class:`~omnicx.errors.ConfigurationError`
        when no adapter has that name.
        """
        with self._lock:
            self._discover()
            loaded = self._loaded.get(name)
            if loaded is not None:
                return loaded.adapter
            if name in self._failures:
                raise self._failures[name]
            pending = self._pending.get(name)
            if pending is None:
                known = ", ".join(self.names()) or "none"
                raise ConfigurationError(
                    f"no channel adapter is named {name!r} (known: {known}); install the package "
                    "that provides it or register it with ChannelRegistry.register()",
                    channel=name,
                )
            return self._load(pending)

    def create(
        self, name: str, config: AdapterConfig | Mapping[str, Any] | None = None
    ) -> ChannelAdapter[Any]:
        """An instance of the adapter ``name`` built with ``config``.

        Raises what :meth:`get` raises, and :class:`~omnicx.errors.ConfigurationError`
        when ``config`` is invalid for that adapter.
        """
        return self.get(name)(config)

    def names(self) -> list[str]:
        """Sorted names of every adapter known, without importing any (broken ones excluded)."""
        with self._lock:
            self._discover()
            return sorted((set(self._loaded) | set(self._pending)) - set(self._failures))

    def load_all(self) -> dict[str, AdapterClass]:
        """Import every known adapter; broken plugins warn and are left out.

        Returns name → class for the adapters that loaded. Each skipped plugin
        gives one :class:`ChannelPluginWarning` and stays in :attr:`failures`.
        """
        out: dict[str, AdapterClass] = {}
        for name in self.names():
            try:
                out[name] = self.get(name)
            except PluginError as exc:
                warnings.warn(f"{exc}; it was skipped", ChannelPluginWarning, stacklevel=2)
        return out

    def distribution(self, name: str) -> str | None:
        """The distribution that provided ``name`` (``omnicx`` for built-ins, ``None`` when registered
        in code without one). Raises what :meth:`get` raises."""
        self.get(name)
        return self._loaded[name].distribution

    @property
    def failures(self) -> Mapping[str, PluginError]:
        """Plugins that failed to load or validate, by name, with the error explaining why."""
        with self._lock:
            return dict(self._failures)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            self._discover()
            return name in self._loaded or name in self._pending

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        state = ", ".join(self.names()) if self._discovered else "not discovered yet"
        return f"<ChannelRegistry {state}>"

    # --- discovery ------------------------------------------------------------

    def rediscover(self) -> None:
        """Scan the entry points again (after installing a plugin at run time)."""
        with self._lock:
            self._discovered = False
            self._discover()

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        if self._builtins:
            for name, target in BUILTIN_ADAPTERS.items():
                if name not in self._loaded:
                    self._pending[name] = _Pending(name, target, OMNICX_DISTRIBUTION, _import_target(target))
        autoload = (not _autoload_disabled()) if self._autoload is None else self._autoload
        if autoload:
            self._scan_entry_points()

    def _scan_entry_points(self) -> None:
        found: dict[str, _Pending] = {}
        points = sorted(
            metadata.entry_points(group=ENTRY_POINT_GROUP),
            key=lambda ep: (ep.name, ep.dist.name if ep.dist else "", ep.value),
        )
        for ep in points:
            dist = ep.dist.name if ep.dist is not None else None
            if dist is not None and dist.lower() == OMNICX_DISTRIBUTION:
                continue  # omnicx's own declarations of its built-ins, governed by `builtins`
            if ep.name in self._loaded or ep.name in found:
                continue  # explicit registration wins; a duplicate entry point warns below
            builtin = self._pending.get(ep.name)
            if builtin is not None and builtin.distribution == OMNICX_DISTRIBUTION:
                warnings.warn(
                    f"{_who(ep.name, dist)} has the name of an omnicx built-in adapter and was "
                    "ignored; rename it, or register it explicitly with replace=True",
                    ChannelPluginWarning,
                    stacklevel=4,
                )
                continue
            found[ep.name] = _Pending(ep.name, ep.value, dist, ep.load)
        for ep in points:
            first = found.get(ep.name)
            dist = ep.dist.name if ep.dist is not None else None
            if dist is not None and dist.lower() == OMNICX_DISTRIBUTION:
                continue
            if first is not None and (first.distribution, first.target) != (dist, ep.value):
                warnings.warn(
                    f"{_who(ep.name, dist)} clashes with the one from distribution "
                    f"{first.distribution!r}, which was kept; uninstall one of them",
                    ChannelPluginWarning,
                    stacklevel=4,
                )
        self._pending.update(found)

    def _load(self, pending: _Pending) -> AdapterClass:
        who = _who(pending.name, pending.distribution)
        try:
            obj = pending.load()
        except Exception as exc:  # a plugin's import may fail in any way; it must not take the host down
            error: PluginError = PluginLoadError(
                f"{who} could not be imported from {pending.target!r}: {type(exc).__name__}: {exc}; "
                "fix or reinstall that package, or set OMNICX_DISABLE_PLUGIN_AUTOLOAD=1",
                plugin=pending.name,
                distribution=pending.distribution,
            )
            error.__cause__ = exc
            self._failures[pending.name] = error
            raise error from exc
        problems = adapter_problems(obj)
        declared = getattr(obj, "name", None)
        if not problems and declared != pending.name:
            problems.append(
                f"its entry point is named {pending.name!r} but the adapter's name is {declared!r}; "
                "make them equal"
            )
        if problems:
            error = PluginValidationError(
                f"{who} ({pending.target}) breaks the adapter contract: " + " ".join(problems),
                plugin=pending.name,
                distribution=pending.distribution,
            )
            self._failures[pending.name] = error
            raise error
        adapter: AdapterClass = obj  # type: ignore[assignment]
        self._pending.pop(pending.name, None)
        self._loaded[pending.name] = _Loaded(adapter, pending.distribution)
        return adapter

    def _source(self, name: str) -> str:
        loaded = self._loaded.get(name)
        if loaded is not None:
            where = f"{loaded.adapter.__module__}.{loaded.adapter.__qualname__}"
            return where + (f" from {loaded.distribution!r}" if loaded.distribution else "")
        pending = self._pending[name]
        return pending.target + (f" from {pending.distribution!r}" if pending.distribution else "")


_default: ChannelRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ChannelRegistry:
    """The process-wide registry, created on first call (discovery happens on first look-up)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ChannelRegistry()
        return _default
