"""The identity package's public surface is exactly its sorted ``__all__``."""

from __future__ import annotations

import inspect

import omnicx.cli
import omnicx.identity


def test_all_is_sorted_and_complete() -> None:
    exported = list(omnicx.identity.__all__)
    assert exported == sorted(exported)
    public = {
        n for n, v in vars(omnicx.identity).items() if not n.startswith("_") and not inspect.ismodule(v)
    }
    assert public == set(exported)
    assert omnicx.cli.__all__ == ["main"]


def test_nothing_private_leaks_through_the_names() -> None:
    for name in omnicx.identity.__all__:
        value = getattr(omnicx.identity, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("omnicx.identity")
