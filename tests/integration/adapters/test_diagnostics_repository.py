"""The last diagnostics report per company in DynamoDB (the moto server): kept whole, one per company."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.diagnostics_repository import DynamoDbDiagnosticsRepository
from smartaccounts_sync.domain.diagnostics import Check, CheckStatus, DiagnosticsReport

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def reports(tables: dict[str, str], aws) -> DynamoDbDiagnosticsRepository:
    return DynamoDbDiagnosticsRepository(aws("dynamodb"), tables["ConfigTable"])


def _report(company: str, at: dt.datetime, status: CheckStatus) -> DiagnosticsReport:
    checks = [
        Check("connectionTest", "Connection test passes now", status, "SmartAccounts answers.", None),
        Check("credentialsSaved", "API key and secret are saved", CheckStatus.FAIL, "No credentials.", "Save them."),
    ]
    return DiagnosticsReport(company_id=company, checks=checks, checked_at=at, live=True)


def test_the_last_report_is_kept_per_company(reports: DynamoDbDiagnosticsRepository) -> None:
    a, b = f"uku-{uuid.uuid4().hex[:6]}", f"uku-{uuid.uuid4().hex[:6]}"
    assert reports.last(a) is None
    reports.save(_report(a, T0, CheckStatus.PASS))
    reports.save(_report(b, T0, CheckStatus.FAIL))
    reports.save(_report(a, T0 + dt.timedelta(hours=1), CheckStatus.FAIL))
    kept = reports.last(a)
    assert kept is not None and kept.checked_at == T0 + dt.timedelta(hours=1)
    assert kept.live is False  # a kept report is never the live answer
    assert [c.status for c in kept.checks] == [CheckStatus.FAIL, CheckStatus.FAIL]
    assert kept.checks[1].fix == "Save them." and not kept.passed
    assert reports.last(b).checks[0].status is CheckStatus.FAIL
