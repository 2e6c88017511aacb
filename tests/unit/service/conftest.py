"""Service unit tests: the use cases on in-memory fakes of every port. Any attempt to open a socket fails the test."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials, CompanyInfo, CompanyListItem
from tests.support.fakes import in_memory_dependencies

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


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
    return in_memory_dependencies(
        settings=Settings(secret_name_prefix="uku-smartaccounts/test/"), smartaccounts=fake_sa, now=clock
    )
