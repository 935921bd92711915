"""The exception tree of DESIGN.md section 4, and what each error carries."""

from __future__ import annotations

import pytest

from omnicx import errors


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (errors.ConfigurationError, errors.OmnicxError),
        (errors.PluginError, errors.ConfigurationError),
        (errors.PluginLoadError, errors.PluginError),
        (errors.PluginValidationError, errors.PluginError),
        (errors.ChannelError, errors.OmnicxError),
        (errors.SignatureError, errors.ChannelError),
        (errors.PayloadError, errors.ChannelError),
        (errors.PayloadError, ValueError),
        (errors.UnsupportedEvent, errors.ChannelError),
        (errors.StorageError, errors.OmnicxError),
        (errors.NotFound, errors.StorageError),
        (errors.NotFound, LookupError),
        (errors.Conflict, errors.StorageError),
        (errors.StorageUnavailable, errors.StorageError),
        (errors.IdentityError, errors.OmnicxError),
        (errors.MergeBlocked, errors.IdentityError),
        (errors.UnknownIdentifier, errors.IdentityError),
        (errors.UnknownIdentifier, LookupError),
        (errors.ValidationError, ValueError),
        (errors.NormalizationError, errors.ValidationError),
    ],
)
def test_tree(child: type[BaseException], parent: type[BaseException]) -> None:
    assert issubclass(child, parent)


def test_every_class_in_the_module_is_drawn_in_the_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, f"{name} is missing from the tree drawn in omnicx.errors"


def test_structured_context() -> None:
    exc = errors.PayloadError("missing 'entry'", channel="whatsapp", path="entry")
    assert exc.channel == "whatsapp"
    assert exc.context == {"channel": "whatsapp", "path": "entry"}
    assert str(exc) == "missing 'entry'"
    assert not exc.retryable
    assert errors.StorageUnavailable("down").retryable


def test_normalization_error_truncates_the_value() -> None:
    exc = errors.NormalizationError("bad", kind="email", value="x" * 1000)
    assert exc.value == "x" * 200
    assert exc.kind == "email"


def test_plugin_error_names_the_culprit() -> None:
    exc = errors.PluginLoadError("cannot import", plugin="acme", distribution="omnicx-acme")
    assert (exc.plugin, exc.distribution) == ("acme", "omnicx-acme")
