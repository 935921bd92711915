"""The public surface is exactly ``__all__``, sorted, and nothing comes from a private module path."""

from __future__ import annotations

import importlib

import pytest

import omnicx

PUBLIC_PACKAGES = ["omnicx", "omnicx.models", "omnicx.normalize", "omnicx.errors"]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_is_sorted_and_unique(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_every_public_name_is_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n
        for n, value in vars(module).items()
        if not n.startswith("_") and not isinstance(value, type(importlib)) and n != "annotations"
    }
    assert public <= set(module.__all__) | {"TypeAdapter", "Any"}, public - set(module.__all__)
    for exported in module.__all__:
        assert hasattr(module, exported), exported


def test_classes_and_functions_come_from_omnicx() -> None:
    import inspect

    for name in omnicx.__all__:
        value = getattr(omnicx, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("omnicx."), (name, value.__module__)
            # reachable from a public package without touching a private module
            public_home = value.__module__.split("._")[0]
            assert getattr(importlib.import_module(public_home), name) is value, (name, public_home)


def test_exact_top_level_export_list() -> None:
    # Written out by hand: a change to the public API must change this list on purpose.
    assert omnicx.__all__ == [
        "AdapterConfig",
        "Assurance",
        "Author",
        "AuthorRole",
        "BusinessCalendar",
        "CallRecord",
        "CallStatus",
        "Capability",
        "Change",
        "Channel",
        "ChannelAdapter",
        "ChannelError",
        "ChannelRegistry",
        "ConfigurationError",
        "Conflict",
        "ContactPart",
        "ContentPart",
        "ContinuityRules",
        "Conversation",
        "ConversationAction",
        "ConversationRecord",
        "ConversationStatus",
        "Customer",
        "CustomerContext",
        "CustomerIdentifier",
        "Deletion",
        "DeliveryError",
        "DeliveryStatus",
        "Direction",
        "Edit",
        "Hub",
        "Identifier",
        "IdentifierKind",
        "IdentityEngine",
        "IdentityError",
        "InboundEvent",
        "InboundRequest",
        "IngestResult",
        "Interaction",
        "InteractiveReplyPart",
        "KpiOptions",
        "KpiReport",
        "KpiRow",
        "LocationPart",
        "MediaPart",
        "MergeBlocked",
        "MergePolicy",
        "Message",
        "NormalizationError",
        "NotFound",
        "Note",
        "ObservedIdentifier",
        "OmnicxError",
        "OutboundMessage",
        "OutboundRequest",
        "PayloadError",
        "PluginError",
        "PluginLoadError",
        "PluginValidationError",
        "Rating",
        "RatingScale",
        "RawStatus",
        "ReactionPart",
        "RecordingRef",
        "ReplyResult",
        "SignatureError",
        "SlaTargets",
        "StatusUpdate",
        "StorageError",
        "StorageUnavailable",
        "Store",
        "StoreReader",
        "StoreSession",
        "TextPart",
        "ThreadHints",
        "TimelinePage",
        "UnknownIdentifier",
        "UnsupportedEvent",
        "UnsupportedPart",
        "ValidationError",
        "__version__",
        "compute_kpis",
        "default_registry",
        "normalize_email",
        "normalize_identifier",
        "normalize_phone",
        "normalize_platform_id",
        "normalize_timestamp",
        "open_store",
        "render_report",
    ]
