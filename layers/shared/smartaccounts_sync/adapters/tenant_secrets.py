"""Secrets through credentials scoped to one company: the SaaS "token vending machine" pattern.

The functions' own roles may not touch a secret. To read or write one, the store assumes a tenant secrets role
with the session tag `companyId=<the company being served>`; that role may use a secret only when the secret's
`companyId` tag equals the session's (`secretsmanager:ResourceTag/companyId` = `${aws:PrincipalTag/companyId}`),
and may create one only tagged with that company. So even a defect that builds another company's secret name
cannot read or overwrite it: AWS refuses.

Whose company is served is set once per unit of work, from where it is authenticated - the HTTP caller's token
claims (`api/context.caller`) or the import work being processed - with :func:`tenant_scope`; a secret used outside
a scope is a bug and fails loudly. Credentials are cached per company until shortly before they expire.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from smartaccounts_sync.adapters.secrets import SecretsManagerCredentialStore
from smartaccounts_sync.domain.identifiers import require_identifier
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials

TENANT_TAG = "companyId"
SESSION_SECONDS = 900
RENEW_BEFORE = dt.timedelta(minutes=2)

_tenant: ContextVar[str | None] = ContextVar("smartaccounts_sync_tenant", default=None)


class TenantNotSet(RuntimeError):
    """A secret was used outside a tenant scope: a bug, never the caller's fault."""


@contextmanager
def tenant_scope(company_id: str | None) -> Iterator[None]:
    """Serve `company_id` inside the block (None: no company; any secret use fails)."""
    token = _tenant.set(require_identifier(company_id, "company id") if company_id is not None else None)
    try:
        yield
    finally:
        _tenant.reset(token)


def serve_company(company_id: str) -> None:
    """Sets the company for the rest of the current scope (the HTTP handler opens one per invocation)."""
    _tenant.set(require_identifier(company_id, "company id"))


def current_tenant() -> str:
    company_id = _tenant.get()
    if company_id is None:
        raise TenantNotSet("a secret was used before the company being served was set")
    return company_id


class TenantScopedCredentialStore:
    """The credential store port, each call made with credentials that can reach only the current company's secrets."""

    def __init__(
        self,
        sts_client: Any,
        role_arn: str,
        secrets_client_factory: Callable[[dict[str, str]], Any],
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        kms_key_id: str = "",
    ) -> None:
        self._kms_key_id = kms_key_id
        self._sts = sts_client
        self._role_arn = role_arn
        self._client_for = secrets_client_factory
        self._now = now
        self._lock = threading.Lock()
        self._stores: dict[str, tuple[dt.datetime, SecretsManagerCredentialStore]] = {}

    def _store(self) -> SecretsManagerCredentialStore:
        company_id = current_tenant()
        with self._lock:
            cached = self._stores.get(company_id)
            if cached is not None and cached[0] - RENEW_BEFORE > self._now():
                return cached[1]
            session = self._sts.assume_role(
                RoleArn=self._role_arn,
                # the session name shows in CloudTrail; a hash keeps it within STS's character set
                RoleSessionName=f"tenant-{hashlib.sha256(company_id.encode()).hexdigest()[:32]}",
                DurationSeconds=SESSION_SECONDS,
                Tags=[{"Key": TENANT_TAG, "Value": company_id}],
            )["Credentials"]
            client = self._client_for(
                {
                    "aws_access_key_id": session["AccessKeyId"],
                    "aws_secret_access_key": session["SecretAccessKey"],
                    "aws_session_token": session["SessionToken"],
                }
            )
            store = SecretsManagerCredentialStore(client, tags={TENANT_TAG: company_id}, kms_key_id=self._kms_key_id)
            expires = session["Expiration"]
            if isinstance(expires, str):
                expires = dt.datetime.fromisoformat(expires)
            self._stores[company_id] = (expires, store)
            return store

    def save(self, name: str, credentials: ApiCredentials) -> None:
        self._store().save(name, credentials)

    def load(self, name: str, saved_at: dt.datetime | None = None) -> ApiCredentials:
        return self._store().load(name, saved_at)

    def delete(self, name: str) -> None:
        self._store().delete(name)
