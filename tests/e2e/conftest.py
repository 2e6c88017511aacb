"""End-to-end fixtures: the whole local stack over HTTP, one fresh Uku company and one fresh sandbox key per test.

The session's `stack` (tests/conftest.py) is shared by every test. Isolation comes from data, not from restarts:

- every test uses its own Uku company id, so it never sees another test's integration, clients or topics;
- every test that calls SmartAccounts uses its own sandbox key pair (60 requests a minute each), so one test's
  traffic never rate-limits another's, and request counts and faults can be scoped to the test's key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
import requests

TIMEOUT = 30
INTEGRATION = "/v1/integrations/smartaccounts"


def new_company_id() -> str:
    return f"co-{uuid4().hex[:8]}"


@dataclass
class Api:
    """The local HTTP front as Uku's front end calls it: base URL plus one dev token (or none)."""

    base: str
    token: str | None
    company_id: str = ""

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return requests.request(method, self.base + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    # -- shortcuts of the integration dialog -------------------------------------------------------------------
    def state(self) -> dict:
        response = self.get(INTEGRATION)
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> dict:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


def problem(response: requests.Response, status: int, code: str) -> dict:
    """Asserts an application/problem+json answer with the given status and code; returns its body."""
    assert response.status_code == status, f"expected {status} {code}, got {response.status_code}: {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


@dataclass
class SandboxAdmin:
    """The sandbox's admin interface (unsigned JSON under /_sandbox)."""

    url: str

    def new_key(self, company_ids: list[str], **extra: Any) -> dict:
        response = requests.post(f"{self.url}/keys", json={"companyIds": company_ids, **extra}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        return response.json()

    def revoke(self, api_key: str) -> None:
        requests.post(f"{self.url}/keys/{api_key}/revoke", timeout=TIMEOUT).raise_for_status()

    def rotate(self, api_key: str) -> dict:
        response = requests.post(f"{self.url}/keys/{api_key}/rotate", json={}, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def set_companies(self, api_key: str, company_ids: list[str]) -> None:
        requests.put(
            f"{self.url}/keys/{api_key}/companies", json={"companyIds": company_ids}, timeout=TIMEOUT
        ).raise_for_status()

    def rate_limit_burst(self, api_key: str, burst: int) -> None:
        requests.post(
            f"{self.url}/faults", json={"rateLimitBurst": burst, "apiKey": api_key}, timeout=TIMEOUT
        ).raise_for_status()

    def clear_faults(self, api_key: str) -> None:
        requests.delete(f"{self.url}/faults", params={"apiKey": api_key}, timeout=TIMEOUT).raise_for_status()

    def request_count(self, api_key: str) -> int:
        counts = requests.get(f"{self.url}/requests/counts", timeout=TIMEOUT).json()
        return int(counts["byKey"].get(api_key, 0))

    def endpoint_counts(self, api_key: str) -> dict[str, int]:
        counts = requests.get(f"{self.url}/requests/counts", timeout=TIMEOUT).json()
        return dict(counts["byKeyAndEndpoint"].get(api_key, {}))


@pytest.fixture(scope="session")
def sandbox(stack) -> SandboxAdmin:
    return SandboxAdmin(stack.sandbox.admin_url)


@pytest.fixture
def sandbox_key(sandbox: SandboxAdmin) -> Iterator[Callable[..., dict]]:
    """Factory: a fresh key pair that sees the given sandbox companies; its faults are cleared afterwards."""
    made: list[str] = []

    def make(company_ids: list[str] | None = None, **extra: Any) -> dict:
        key = sandbox.new_key(company_ids if company_ids is not None else ["co-small", "co-medium"], **extra)
        made.append(key["apiKey"])
        return key

    yield make
    for api_key in made:
        sandbox.clear_faults(api_key)


@pytest.fixture
def api_as(stack) -> Callable[..., Api]:
    """Factory: an Api for a company (fresh when not given) with the given role and plan."""

    def make(company_id: str | None = None, role: str = "owner", plan: str = "team") -> Api:
        company = company_id or new_company_id()
        return Api(stack.api_url, stack.token(company, role, plan), company)

    return make


@pytest.fixture
def api(api_as) -> Api:
    """An owner on the team plan of a fresh company (nothing configured)."""
    return api_as()


@pytest.fixture
def anonymous(stack) -> Api:
    return Api(stack.api_url, None)


@pytest.fixture
def enabled(api: Api) -> Api:
    api.ok("POST", f"{INTEGRATION}/enable")
    return api


@dataclass
class Company:
    """A fresh Uku company with SmartAccounts enabled and connected, a topic and a numeric custom field."""

    api: Api
    key: dict
    topic_id: str
    field_id: str
    extra: dict = field(default_factory=dict)

    @property
    def company_id(self) -> str:
        return self.api.company_id

    def settings(self, **overrides: Any) -> dict:
        body = {
            "taskTitle": "Bookkeeping {month} {client}",
            "topicId": self.topic_id,
            "recurrence": "MONTHLY",
            "importDay": {"rule": "LAST_WORK_DAY"},
            "fieldMapping": {"saleEntries": self.field_id},
        }
        body.update(overrides)
        return body

    def client(self, name: str = "Client", registry_code: str | None = None) -> str:
        created = self.api.ok(
            "POST", "/v1/clients", 201, json={"name": f"{name} {uuid4().hex[:4]}", "registryCode": registry_code}
        )
        return created["id"]

    def link(self, client_id: str, company_id: str = "co-small", **body: Any) -> dict:
        return self.api.ok(
            "PUT",
            f"/v1/clients/{client_id}/integration",
            json={"integration": "smartaccounts", "companyId": company_id, **body},
        )


@pytest.fixture
def connected_company(enabled: Api, sandbox_key) -> Company:
    key = sandbox_key(["co-small", "co-medium"])
    enabled.ok("PUT", f"{INTEGRATION}/credentials", json={"apiKey": key["apiKey"], "apiSecret": key["apiSecret"]})
    topic = enabled.ok("POST", "/v1/topics", 201, json={"name": "Monthly bookkeeping"})
    custom = enabled.ok("POST", "/v1/custom-task-fields", 201, json={"name": "Sale entries", "type": "number"})
    return Company(enabled, key, topic["id"], custom["id"])


@pytest.fixture
def configured_company(connected_company: Company) -> Company:
    """Connected, settings saved (one field mapped) and one client linked to co-small."""
    company = connected_company
    company.api.ok("PUT", f"{INTEGRATION}/settings", json=company.settings())
    client_id = company.client("Linked client", "16000002")
    company.link(client_id, "co-small")
    company.extra["client_id"] = client_id
    return company


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class _Collect(logging.Handler):
    """Keeps every record of the service logger, formatted exactly as Powertools prints it (JSON)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_output(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything the in-process handlers write: stdout and stderr at the file-descriptor level (capfd), the
    service's Powertools JSON log lines (a second handler with Powertools' own formatter: the stdout handler keeps
    the stream it was created with, which pytest's session capture swallows) and every record of the standard
    logging tree (caplog, e.g. the tracer's error log)."""
    from smartaccounts_sync.observability import logger as service_logger

    collect = _Collect(service_logger.registered_formatter)
    service_logger.addHandler(collect)
    seen: list[str] = []

    def read() -> str:
        out, err = capfd.readouterr()
        seen.append(out + err)
        return "".join(seen) + "\n".join(collect.lines) + caplog.text

    yield read
    service_logger.removeHandler(collect)
