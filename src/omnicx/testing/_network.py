"""Refuse network access inside tests: adapters must be pure."""

from __future__ import annotations

import socket
from typing import Any, Protocol

__all__ = ["NetworkBlockedError", "block_network"]


class NetworkBlockedError(RuntimeError):
    """Raised when code under test opens a network connection.

    Deliberately not an :class:`~omnicx.errors.OmnicxError`: an adapter that
    tries to reach the network fails the conformance kit, it is never excused.
    """


class _Patcher(Protocol):
    def setattr(self, target: object, name: str, value: object, raising: bool = ...) -> None: ...


def _refuse(what: str) -> Any:
    def guard(*args: object, **kwargs: object) -> Any:
        raise NetworkBlockedError(
            f"{what} was called during a test: channel adapters must not touch the network "
            "(verify, parse and build_outbound are pure functions of their arguments)"
        )

    return guard


def block_network(monkeypatch: _Patcher) -> None:
    """Make every socket connection and DNS look-up raise :class:`NetworkBlockedError`.

    ``monkeypatch`` is pytest's fixture; the patches end with the test.
    """
    monkeypatch.setattr(socket.socket, "connect", _refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", _refuse("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", _refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", _refuse("socket.getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", _refuse("socket.gethostbyname"))
