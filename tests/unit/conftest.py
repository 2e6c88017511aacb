"""The unit tier runs on in-memory fakes and in-process moto: no socket is opened, no running server applies."""

from __future__ import annotations

import socket

import pytest


class _NoSockets(socket.socket):
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not open sockets")


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _NoSockets)
    monkeypatch.setattr(socket, "create_connection", _NoSockets)


@pytest.fixture(autouse=True)
def _no_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
