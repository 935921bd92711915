"""The one exception tree of omnicx.

Every error a caller can see from a public omnicx call is an :class:`OmnicxError`.
The tree is grouped by what the caller should do about it::

    OmnicxError
    ├── ConfigurationError              fix the configuration; fatal
    │   └── PluginError                 a plugin is broken; the host keeps running
    │       ├── PluginLoadError         its entry point cannot be imported
    │       └── PluginValidationError   it loaded but breaks the plugin contract
    ├── ValidationError (ValueError)    a value handed to omnicx is malformed
    │   └── NormalizationError          an email, phone, id or timestamp cannot be
    │                                   brought into canonical form
    ├── ChannelError(channel)           a channel payload was refused
    │   ├── SignatureError              answer the webhook 401/403
    │   ├── PayloadError (ValueError)   answer 400: malformed for this channel
    │   └── UnsupportedEvent            acknowledge and skip; kept in the raw inbox
    ├── StorageError                    the store could not do it
    │   ├── NotFound (LookupError)      nothing has that id
    │   ├── Conflict                    it clashes with what is stored
    │   └── StorageUnavailable          retry later
    └── IdentityError                   the identity engine refused
        ├── MergeBlocked                the merge policy forbids this link
        └── UnknownIdentifier (LookupError)  no customer has this identifier

Each exception carries structured context as attributes (``channel``, ``kind``,
``value`` …) beside a message that says what was wrong and what to do.
``retryable`` tells a caller whether trying the same call again can succeed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ChannelError",
    "ConfigurationError",
    "Conflict",
    "IdentityError",
    "MergeBlocked",
    "NormalizationError",
    "NotFound",
    "OmnicxError",
    "PayloadError",
    "PluginError",
    "PluginLoadError",
    "PluginValidationError",
    "SignatureError",
    "StorageError",
    "StorageUnavailable",
    "UnknownIdentifier",
    "UnsupportedEvent",
    "ValidationError",
]


class OmnicxError(Exception):
    """Base class of every error omnicx raises on purpose.

    ``context`` holds the structured facts behind the message (never secrets).
    """

    retryable: bool = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = context

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


# --- configuration -----------------------------------------------------------


class ConfigurationError(OmnicxError):
    """omnicx was set up wrongly: a bad policy, an unknown store URL, a missing secret."""


class PluginError(ConfigurationError):
    """A plugin (channel adapter or store) is broken. ``plugin`` names it."""

    def __init__(self, message: str, *, plugin: str, distribution: str | None = None) -> None:
        super().__init__(message, plugin=plugin, distribution=distribution)
        self.plugin = plugin
        self.distribution = distribution


class PluginLoadError(PluginError):
    """A plugin's entry point could not be imported."""


class PluginValidationError(PluginError):
    """A plugin loaded but does not satisfy the plugin contract."""


# --- values ------------------------------------------------------------------


class ValidationError(OmnicxError, ValueError):
    """A value handed to omnicx is malformed. Also a :class:`ValueError`."""


class NormalizationError(ValidationError):
    """A raw identifier or timestamp cannot be brought into canonical form.

    ``kind`` is what was being normalized (``email``, ``phone``, ``timestamp`` …)
    and ``value`` the offending input (truncated to 200 characters).
    """

    def __init__(self, message: str, *, kind: str, value: object) -> None:
        shown = value if not isinstance(value, str) else value[:200]
        super().__init__(message, kind=kind, value=shown)
        self.kind = kind
        self.value = shown


# --- channels ----------------------------------------------------------------


class ChannelError(OmnicxError):
    """A channel payload was refused. ``channel`` names the adapter."""

    def __init__(self, message: str, *, channel: str, **context: Any) -> None:
        super().__init__(message, channel=channel, **context)
        self.channel = channel


class SignatureError(ChannelError):
    """The request's signature or secret did not verify: answer 401/403."""


class PayloadError(ChannelError, ValueError):
    """The payload is malformed for this channel: answer 400."""


class UnsupportedEvent(ChannelError):
    """A well-formed event omnicx does not handle: acknowledge it and move on.

    The raw payload stays in the inbox marked ``unsupported``.
    """


# --- storage -----------------------------------------------------------------


class StorageError(OmnicxError):
    """The store could not complete the operation."""


class NotFound(StorageError, LookupError):
    """Nothing is stored under the id asked for."""


class Conflict(StorageError):
    """The write clashes with what is stored (another writer, a unique key)."""


class StorageUnavailable(StorageError):
    """The store cannot be reached or is busy: the same call may succeed later."""

    retryable = True


# --- identity ----------------------------------------------------------------


class IdentityError(OmnicxError):
    """The identity engine refused an operation."""


class MergeBlocked(IdentityError):
    """The merge policy forbids this link (``reason`` says which rule)."""


class UnknownIdentifier(IdentityError, LookupError):
    """No customer has this identifier."""
