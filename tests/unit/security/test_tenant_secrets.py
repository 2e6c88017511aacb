"""The tenant-scoped credential store: every secret call goes through a session tagged with the served company."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from smartaccounts_sync.adapters.keys import secret_name
from smartaccounts_sync.adapters.tenant_secrets import (
    TenantNotSet,
    TenantScopedCredentialStore,
    serve_company,
    tenant_scope,
)
from smartaccounts_sync.smartaccounts.models import ApiCredentials

ROLE = "arn:aws:iam::123456789012:role/uku-smartaccounts-test-tenant-secrets-writer"
PREFIX = "uku-smartaccounts/test/"


class RecordingSts:
    """STS as moto answers it, remembering each AssumeRole request."""

    def __init__(self) -> None:
        self.sts = boto3.client("sts", region_name="eu-north-1")
        self.requests: list[dict] = []

    def assume_role(self, **request):
        self.requests.append(request)
        return self.sts.assume_role(**request)


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def sts(aws) -> RecordingSts:
    return RecordingSts()


@pytest.fixture
def store(sts: RecordingSts) -> TenantScopedCredentialStore:
    sessions: list[dict[str, str]] = []

    def secrets_client(session: dict[str, str]):
        sessions.append(session)
        return boto3.client("secretsmanager", region_name="eu-north-1", **session)

    store = TenantScopedCredentialStore(sts, ROLE, secrets_client)
    store.sessions = sessions  # type: ignore[attr-defined]
    return store


def test_a_secret_is_used_only_through_a_session_tagged_with_the_served_company(store, sts) -> None:
    # Given company A is served
    with tenant_scope("company-a"):
        # When its key pair is saved and read
        store.save(secret_name(PREFIX, "company-a"), ApiCredentials(api_key="key-a", api_secret="secret-a"))
        loaded = store.load(secret_name(PREFIX, "company-a"))
    # Then one session of the tenant role was assumed, tagged with company A, and reused
    assert loaded.api_key == "key-a"
    assert len(sts.requests) == 1
    request = sts.requests[0]
    assert request["RoleArn"] == ROLE and request["Tags"] == [{"Key": "companyId", "Value": "company-a"}]
    assert "company-a" not in request["RoleSessionName"]  # hashed: a session name has its own character set
    # and the secret carries the company tag the role's conditions compare with
    described = boto3.client("secretsmanager", region_name="eu-north-1").describe_secret(
        SecretId=secret_name(PREFIX, "company-a")
    )
    assert {"Key": "companyId", "Value": "company-a"} in described["Tags"]


def test_each_company_gets_its_own_session(store, sts) -> None:
    for company in ("company-a", "company-b", "company-a"):
        with tenant_scope(company):
            store.save(secret_name(PREFIX, company), ApiCredentials(api_key=f"k-{company}", api_secret="s"))
    assert [r["Tags"][0]["Value"] for r in sts.requests] == ["company-a", "company-b"]
    assert len(store.sessions) == 2


def test_no_secret_is_used_outside_a_company_scope(store, sts) -> None:
    with tenant_scope(None), pytest.raises(TenantNotSet):
        store.load(secret_name(PREFIX, "company-a"))
    with tenant_scope(None), pytest.raises(TenantNotSet):
        store.save(secret_name(PREFIX, "company-a"), ApiCredentials(api_key="k", api_secret="s"))
    assert sts.requests == []


def test_the_scope_ends_with_its_block() -> None:
    with tenant_scope(None):
        with tenant_scope("company-b"):
            serve_company("company-a")  # as the HTTP handler's caller() does inside the invocation's scope
        # Then nothing of the inner block remains
        with pytest.raises(TenantNotSet):
            TenantScopedCredentialStore(None, ROLE, lambda s: None).load("x")


@pytest.mark.parametrize("company", ["demo-company/client/client-empty", "a#b", "..", "", " a"])
def test_only_an_identifier_can_be_served(company: str) -> None:
    with pytest.raises(ValueError), tenant_scope(company):
        pass
