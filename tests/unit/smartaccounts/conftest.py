"""Fakes and fixtures of the SmartAccounts client's unit tier: an in-process HTTP transport, a fake clock, a client
factory. No sockets: the transport is a ``requests`` adapter mounted on a real ``requests.Session``, so everything
above the socket (URL preparation, headers, timeouts) runs as in production while nothing leaves the process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials

API_KEY = "unit-test-api-key-0123456789"
API_SECRET = "unit-test-api-secret-ABCDEFGHIJ"
BASE_URL = "https://sa.example.test/api/"


@dataclass
class Sent:
    """One request as it reached the transport."""

    url: str
    body: bytes
    headers: dict[str, str]
    timeout: Any

    @property
    def endpoint(self) -> str:
        return urlsplit(self.url).path.removeprefix("/api/")

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        return dict(self.params).get(name)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Handler = Callable[[Sent], Any]


class FakeTransport(BaseAdapter):
    """Answers each request with the next queued handler, else with ``router``.

    A handler returns ``(status, payload)`` or ``(status, payload, headers)``; a ``bytes`` payload is sent raw,
    anything else JSON-encoded. A handler may raise a ``requests`` exception to fake a transport failure.
    """

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[Handler] = []
        self.router: Handler | None = None
        self.sent: list[Sent] = []

    # --- queueing helpers --------------------------------------------------------------------------------------
    def respond(self, status: int = 200, payload: Any = None, headers: dict[str, str] | None = None) -> FakeTransport:
        self.queue.append(lambda _sent: (status, {} if payload is None else payload, headers or {}))
        return self

    def respond_error(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> FakeTransport:
        return self.respond(status, {"errors": [{"message": m} for m in messages]}, headers)

    def fail_with(self, exc: Exception) -> FakeTransport:
        def handler(_sent: Sent) -> Any:
            raise exc

        self.queue.append(handler)
        return self

    @property
    def endpoints(self) -> list[str]:
        return [s.endpoint for s in self.sent]

    # --- requests adapter --------------------------------------------------------------------------------------
    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        sent = Sent(url=request.url, body=body, headers=dict(request.headers), timeout=timeout)
        self.sent.append(sent)
        if self.queue:
            handler = self.queue.pop(0)
        elif self.router is not None:
            handler = self.router
        else:
            raise AssertionError(f"unexpected request to {sent.endpoint}")
        result = handler(sent)
        status, payload, headers = result if len(result) == 3 else (*result, {})
        response = requests.Response()
        response.status_code = status
        response._content = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None


@dataclass
class FakeClock:
    now: float = 1_718_451_000.0  # 15.06.2024 14:30:00 Tallinn (11:30:00 UTC)
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


@pytest.fixture(autouse=True)
def _fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def api_secret() -> str:
    return API_SECRET


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def session(transport: FakeTransport) -> Iterator[requests.Session]:
    s = requests.Session()
    s.trust_env = False
    s.mount("https://", transport)
    s.mount("http://", transport)
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_clock_factory() -> Callable[..., FakeClock]:
    return FakeClock


@pytest.fixture
def credentials() -> ApiCredentials:
    return ApiCredentials(api_key=API_KEY, api_secret=API_SECRET)


@pytest.fixture
def make_client(session: requests.Session, clock: FakeClock, credentials: ApiCredentials):
    def factory(**overrides: Any) -> SmartAccountsClient:
        creds = overrides.pop("credentials", credentials)
        options: dict[str, Any] = {
            "base_url": BASE_URL,
            "connect_timeout": 3.05,
            "read_timeout": 25.0,
            "session": session,
            "clock": clock.time,
            "sleep": clock.sleep,
            "random": lambda: 1.0,
        }
        options.update(overrides)
        return SmartAccountsClient(creds, **options)

    return factory


@pytest.fixture
def client(make_client) -> SmartAccountsClient:
    return make_client()
