"""Diagnostics: the live SmartAccounts checks are an owner's or admin's; members see the last stored result."""

from __future__ import annotations

import copy
import json

import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.api.app import build_app
from smartaccounts_sync.domain.diagnostics import CheckStatus
from smartaccounts_sync.service import connection, diagnostics
from tests.support.events import load_event
from tests.unit.service.conftest import NOW

CO = "uku-co-1"


@pytest.fixture
def get_diagnostics(deps):
    app = build_app()
    template = load_event("http_api", "integration-diagnostics-get")

    def _get(role: str, plan: str = "team") -> dict:
        event = copy.deepcopy(template)
        event["requestContext"]["authorizer"]["jwt"]["claims"].update(
            {"uku:companyId": CO, "uku:role": role, "uku:plan": plan}
        )
        app.append_context(deps=deps)
        result = app.resolve(event, LambdaContext("HttpApiFunction", 29))
        assert result["statusCode"] == 200, result
        return json.loads(result["body"])

    return _get


@pytest.fixture
def connected(deps):
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    return deps


def test_a_member_before_any_live_check_calls_nothing(connected, fake_sa, get_diagnostics) -> None:
    fake_sa.calls.clear()
    # When a member opens diagnostics before an owner or admin ever ran them
    body = get_diagnostics("member")
    # Then SmartAccounts is not called, the live checks are skipped with the reason, and nothing is kept
    assert fake_sa.calls == []
    checks = {c["id"]: c for c in body["checks"]}
    assert body["live"] is False and body["checkedAt"] is None
    for live in diagnostics.LIVE_CHECKS:
        assert checks[live]["status"] == "SKIPPED" and "Owner or Admin" in checks[live]["detail"]
    assert checks["credentialsSaved"]["status"] == "PASS"
    assert connected.diagnostics.last(CO) is None


@pytest.mark.parametrize("role,plan", [("member", "team"), ("owner", "free"), ("admin", "free")])
def test_members_and_free_plans_see_the_last_stored_result(connected, fake_sa, get_diagnostics, role, plan) -> None:
    # Given an owner ran the diagnostics (calling SmartAccounts)
    manager_view = get_diagnostics("owner")
    assert manager_view["live"] is True and manager_view["checkedAt"] is not None
    assert ("firm-key-0001", "company_info") in fake_sa.calls
    fake_sa.calls.clear()
    # When someone who may not manage opens them
    body = get_diagnostics(role, plan)
    # Then they see that result and when it was taken, and SmartAccounts is not called again
    assert fake_sa.calls == []
    assert body["live"] is False and body["checkedAt"] == manager_view["checkedAt"]
    assert body["checks"] == manager_view["checks"] and body["passed"] == manager_view["passed"]


def test_an_admin_runs_the_live_checks_and_keeps_the_result(connected, fake_sa, get_diagnostics) -> None:
    body = get_diagnostics("admin", "elite")
    assert body["live"] is True
    stored = connected.diagnostics.last(CO)
    assert stored is not None and stored.checked_at == NOW
    assert {c.id: c.status for c in stored.checks}["connectionTest"] is CheckStatus.PASS
