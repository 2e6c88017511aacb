"""The integration state's quota: what the guard counted today, and SmartAccounts' own word when it refused the key."""

from __future__ import annotations

import datetime as dt
import json
import time

import connection_api
import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.domain.integration import CompanyIntegration, StoredCredentials
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from tests.support.events import load_event
from tests.support.fakes import in_memory_dependencies

COMPANY = "demo-company"  # the company of the sample event's token


def _state(deps) -> dict:
    result = connection_api.lambda_handler(
        load_event("http_api", "integration-get"), LambdaContext("ConnectionApiFunction", 29), deps=deps
    )
    assert result["statusCode"] == 200
    return json.loads(result["body"])


def test_the_quota_says_until_when_smartaccounts_refuses_the_key_next_to_the_guard_s_count() -> None:
    # Given the company key saved with its fingerprint and 7 of its day's requests counted by the guard
    key = ApiCredentials(api_key="firm-key", api_secret="firm-secret")
    deps = in_memory_dependencies(quota=InMemoryRateGuard())
    stored = StoredCredentials(
        secret_name="uku-smartaccounts/local/demo-company/company", masked_key=key.masked_key,
        saved_at=dt.datetime.now(dt.UTC), key_fingerprint=key.fingerprint,
    )  # fmt: skip
    deps.integrations.save(CompanyIntegration(company_id=COMPANY, enabled=True, credentials=stored))
    for _ in range(7):
        deps.quota.acquire("firm-key")
    quota = _state(deps)["quota"]
    assert (quota["usedToday"], quota["dailyLimit"], quota["spentUntil"]) == (7, 1000, None)
    # When SmartAccounts refuses the key for its daily limit for the next two hours
    until = time.time() + 7200
    deps.quota.note_spent_by_smartaccounts("firm-key", until)
    # Then the state says until when, and still what the guard counted; the key itself is never in it
    body = _state(deps)
    quota = body["quota"]
    assert quota["usedToday"] == 7
    assert dt.datetime.fromisoformat(quota["spentUntil"]).timestamp() == pytest.approx(until, abs=0.001)
    assert "firm-key" not in json.dumps(body) and "firm-secret" not in json.dumps(body)
