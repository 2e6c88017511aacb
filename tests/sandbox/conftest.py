"""A sandbox on a free port for the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sa_sandbox.server import SandboxServer
from tests.sandbox.sandbox_testkit import SaClient


@pytest.fixture(scope="session")
def sa_server() -> Iterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0, seed=42, time_scale=1.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sa(sa_server: SandboxServer) -> Iterator[SaClient]:
    """A client, with the sandbox reset over HTTP before each test."""
    client = SaClient(sa_server)
    assert client.admin("POST", "/reset").status_code == 200
    yield client
    client.http.close()
