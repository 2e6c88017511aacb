"""Contract-test fixtures: the SmartAccounts sandbox over real HTTP, its admin API, and clients pointed at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from sa_sandbox.server import SandboxServer
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials

FIRM_KEY = "demo-firm-key"
FIRM_SECRET = "demo-firm-secret"


class Admin:
    """The sandbox's unsigned admin API (``/_sandbox``)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(method, f"{self.url}/{path.lstrip('/')}", json=body, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self.call("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.call("DELETE", path)

    def new_key(self, *company_ids: str) -> tuple[str, str]:
        created = self.post("keys", {"companyIds": list(company_ids)})
        return created["apiKey"], created["apiSecret"]

    def documents(self, company_id: str, kind: str, date_from: str, date_to: str) -> list[dict]:
        found = self.get(f"companies/{company_id}/documents", kind=kind, dateFrom=date_from, dateTo=date_to)
        return found["documents"]

    def requests_by_key(self, api_key: str) -> int:
        return int(self.get("requests/counts")["byKey"].get(api_key, 0))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(host="127.0.0.1", port=0, seed=42, time_scale=1.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def admin(sandbox: SandboxServer) -> Iterator[Admin]:
    """The admin API on a freshly reset sandbox (keys, faults, quotas and counters as built in)."""
    sandbox.reset()
    api = Admin(sandbox.admin_url)
    yield api
    api.http.close()


@pytest.fixture
def make_client(sandbox: SandboxServer, admin: Admin) -> Callable[..., SmartAccountsClient]:
    def factory(api_key: str = FIRM_KEY, api_secret: str = FIRM_SECRET, **options: Any) -> SmartAccountsClient:
        settings: dict[str, Any] = {
            "base_url": sandbox.api_url,
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
            "max_retries": 3,
            "sleep": lambda seconds: time.sleep(min(seconds, 2.0)),
        }
        settings.update(options)
        return SmartAccountsClient(ApiCredentials(api_key=api_key, api_secret=api_secret), **settings)

    return factory
