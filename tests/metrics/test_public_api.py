"""omnicx.metrics exports exactly its sorted __all__, all from omnicx modules."""

from __future__ import annotations

import inspect

import omnicx.metrics as metrics


def test_all_is_sorted_unique_and_complete() -> None:
    exported = list(metrics.__all__)
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    public = {n for n in vars(metrics) if not n.startswith("_") and not inspect.ismodule(getattr(metrics, n))}
    assert public == set(exported)


def test_classes_and_functions_live_in_private_metrics_modules() -> None:
    for name in metrics.__all__:
        value = getattr(metrics, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("omnicx.metrics._"), (name, value.__module__)
