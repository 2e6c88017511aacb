"""Service unit tests: the use cases on in-memory fakes of every port. Any attempt to open a socket fails the test."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from dataclasses import dataclass, field

import pytest

from smartaccounts_sync.adapters.integration_repository import InMemoryIntegrationRepository
from smartaccounts_sync.adapters.secrets import InMemoryCredentialStore
from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.uku import CustomTaskField, Topic, UkuClient
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials, CompanyInfo, CompanyListItem

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


class _NoSockets(socket.socket):
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("service unit tests must not open sockets")


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _NoSockets)
    monkeypatch.setattr(socket, "create_connection", _NoSockets)


class InMemoryUkuStore:
    def __init__(self) -> None:
        self.topics: dict[tuple[str, str], Topic] = {}
        self.fields: dict[tuple[str, str], CustomTaskField] = {}
        self.clients: dict[tuple[str, str], UkuClient] = {}

    def list_topics(self, company_id: str) -> list[Topic]:
        return [t for (c, _), t in self.topics.items() if c == company_id]

    def get_topic(self, company_id: str, topic_id: str) -> Topic | None:
        return self.topics.get((company_id, topic_id))

    def create_topic(self, company_id: str, name: str) -> Topic:
        if any(t.name.casefold() == name.casefold() for t in self.list_topics(company_id)):
            raise Conflict("A topic with this name already exists.")
        topic = Topic(id=f"topic-{uuid.uuid4().hex[:8]}", name=name)
        self.topics[(company_id, topic.id)] = topic
        return topic

    def list_custom_fields(self, company_id: str) -> list[CustomTaskField]:
        return [f for (c, _), f in self.fields.items() if c == company_id]

    def get_custom_field(self, company_id: str, field_id: str) -> CustomTaskField | None:
        return self.fields.get((company_id, field_id))

    def create_custom_field(self, company_id: str, name: str, type: str) -> CustomTaskField:
        created = CustomTaskField(id=f"field-{uuid.uuid4().hex[:8]}", name=name, type=type)
        self.fields[(company_id, created.id)] = created
        return created

    def list_clients(self, company_id: str) -> list[UkuClient]:
        return [c for (co, _), c in self.clients.items() if co == company_id]

    def get_client(self, company_id: str, client_id: str) -> UkuClient | None:
        return self.clients.get((company_id, client_id))

    def create_client(self, company_id: str, client: UkuClient) -> UkuClient:
        self.clients[(company_id, client.id)] = client
        return client


class InMemoryClientLinkRepository:
    def __init__(self) -> None:
        self.links: dict[tuple[str, str], ClientLink] = {}
        self.cache: dict[tuple[str, str], tuple[list[dict], dt.datetime]] = {}

    def get(self, company_id: str, client_id: str) -> ClientLink | None:
        return self.links.get((company_id, client_id))

    def list(self, company_id: str) -> list[ClientLink]:
        return [link for (c, _), link in self.links.items() if c == company_id]

    def put(self, company_id: str, link: ClientLink) -> None:
        self.links[(company_id, link.client_id)] = link

    def delete(self, company_id: str, client_id: str) -> None:
        self.links.pop((company_id, client_id), None)

    def cached_companies(self, company_id: str, cache_key: str, now: dt.datetime) -> list[dict] | None:
        entry = self.cache.get((company_id, cache_key))
        return entry[0] if entry and entry[1] > now else None

    def cache_companies(
        self, company_id: str, cache_key: str, companies: list[dict], now: dt.datetime, ttl: dt.timedelta
    ) -> None:
        self.cache[(company_id, cache_key)] = (companies, now + ttl)


@dataclass
class FakeAccount:
    """What one key pair sees in the fake SmartAccounts, or the error it gets."""

    secret: str
    companies: list[CompanyListItem]
    error: SmartAccountsError | None = None


@dataclass
class FakeSmartAccounts:
    """A client factory (the `Dependencies.smartaccounts` port) answering canned data per API key."""

    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def add(self, api_key: str, secret: str, *companies: tuple[str, str, str]) -> ApiCredentials:
        items = [CompanyListItem(id=i, name=n, reg_code=r) for i, n, r in companies]
        self.accounts[api_key] = FakeAccount(secret, items)
        return ApiCredentials(api_key=api_key, api_secret=secret)

    def fail(self, api_key: str, kind: ErrorKind, **kwargs: object) -> None:
        self.accounts[api_key].error = SmartAccountsError(kind, f"fake {kind.value}", **kwargs)  # type: ignore[arg-type]

    def __call__(self, credentials: ApiCredentials, company_id: str | None = None) -> FakeClient:
        return FakeClient(self, credentials)


class FakeClient:
    def __init__(self, fake: FakeSmartAccounts, credentials: ApiCredentials) -> None:
        self.fake = fake
        self.credentials = credentials

    def _account(self, call: str) -> FakeAccount:
        self.fake.calls.append((self.credentials.api_key, call))
        account = self.fake.accounts.get(self.credentials.api_key)
        if account is None:
            raise SmartAccountsError(ErrorKind.INVALID_CREDENTIALS, "unknown key", messages=["Invalid apikey"])
        if account.error is not None:
            raise account.error
        if account.secret != self.credentials.api_secret.get_secret_value():
            raise SmartAccountsError(ErrorKind.SIGNATURE_REJECTED, "bad secret", messages=["Invalid signature"])
        return account

    def company_info(self) -> CompanyInfo:
        first = self._account("company_info").companies[0]
        return CompanyInfo(id=first.id, name=first.name, reg_code=first.reg_code)

    def list_companies(self, search: str | None = None) -> list[CompanyListItem]:
        return list(self._account("list_companies").companies)


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def fake_sa() -> FakeSmartAccounts:
    fake = FakeSmartAccounts()
    fake.add("firm-key-0001", "firm-secret", ("co-a", "Alpha OÜ", "11111111"), ("co-b", "Beta AS", "22222222"))
    fake.add("own-key-00001", "own-secret", ("co-c", "Gamma OÜ", "33333333"))
    return fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deps(fake_sa: FakeSmartAccounts, clock: Clock) -> Dependencies:
    return Dependencies(
        settings=Settings(secret_name_prefix="uku-smartaccounts/test/"),
        integrations=InMemoryIntegrationRepository(),
        uku=InMemoryUkuStore(),
        credentials=InMemoryCredentialStore(),
        links=InMemoryClientLinkRepository(),
        smartaccounts=fake_sa,
        now=clock,
    )
