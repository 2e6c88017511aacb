"""diagnostics: the help page's checklist, each check's result for each situation."""

from __future__ import annotations

import pytest

from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import SummaryTaskSettings
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
from smartaccounts_sync.domain.task_record import SummaryTask
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.service import client_links, connection, diagnostics, summary_task_settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind

CO = "uku-co-1"


def _statuses(deps) -> dict[str, str]:
    checks = diagnostics.run_diagnostics(deps, CO)
    for check in checks:
        assert (check.fix is not None) == (check.status == "FAIL"), check
    return {c.id: c.status.value for c in checks}


def _configure(deps, mapping: bool = True) -> None:
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    topic = deps.uku.create_topic(CO, "Books")
    field = deps.uku.create_custom_field(CO, "Sales", "number")
    summary_task_settings.save_settings(
        deps,
        CO,
        SummaryTaskSettings(
            task_title="Books {month}",
            topic_id=topic.id,
            import_day=ImportDay.last_work_day(),
            field_mapping={"saleEntries": field.id} if mapping else {},
        ),
    )
    deps.uku.create_client(CO, UkuClient(id="cl-1", name="Acme"))
    client_links.link_client(deps, CO, "cl-1", "co-a")


def test_fresh_company(deps) -> None:
    assert _statuses(deps) == {
        "integrationEnabled": "FAIL",
        "credentialsSaved": "FAIL",
        "connectionTest": "SKIPPED",
        "settingsComplete": "FAIL",
        "fieldsMapped": "FAIL",
        "clientsLinked": "FAIL",
        "linkedCompaniesVisible": "SKIPPED",
        "nextImportDate": "FAIL",
        "lastImport": "SKIPPED",
        "emptyMappedFields": "SKIPPED",
    }


def test_fully_configured_company_passes(deps) -> None:
    _configure(deps)
    statuses = _statuses(deps)
    assert statuses.pop("lastImport") == "SKIPPED"
    assert statuses.pop("emptyMappedFields") == "SKIPPED"  # nothing imported yet
    assert set(statuses.values()) == {"PASS"}


def test_no_field_mapped_fails_that_check_only(deps) -> None:
    _configure(deps, mapping=False)
    statuses = _statuses(deps)
    assert statuses["fieldsMapped"] == "FAIL" and statuses["settingsComplete"] == "PASS"


def test_disabled_company_has_no_next_import(deps) -> None:
    _configure(deps)
    connection.disable(deps, CO)
    statuses = _statuses(deps)
    assert statuses["integrationEnabled"] == "FAIL" and statuses["nextImportDate"] == "FAIL"


@pytest.mark.parametrize("kind", [ErrorKind.CREDENTIALS_REVOKED, ErrorKind.SIGNATURE_REJECTED, ErrorKind.UNAVAILABLE])
def test_failing_connection_names_the_error_kind(deps, fake_sa, kind) -> None:
    _configure(deps)
    fake_sa.fail("firm-key-0001", kind)
    check = next(c for c in diagnostics.run_diagnostics(deps, CO) if c.id == "connectionTest")
    assert check.status == "FAIL" and check.error_kind == kind.value and check.fix


def test_unseen_linked_company_is_listed(deps, fake_sa) -> None:
    _configure(deps)
    fake_sa.accounts["firm-key-0001"].companies = fake_sa.accounts["firm-key-0001"].companies[1:]
    check = next(c for c in diagnostics.run_diagnostics(deps, CO) if c.id == "linkedCompaniesVisible")
    assert check.status == "FAIL" and check.error_kind == "NOT_FOUND"
    assert "Acme" in check.detail and "co-a" in check.detail


def test_unreadable_secret_fails_the_connection_check_without_crashing(deps) -> None:
    _configure(deps)
    deps.credentials.secrets.clear()
    statuses = _statuses(deps)
    assert statuses["connectionTest"] == "FAIL" and statuses["linkedCompaniesVisible"] == "FAIL"


def _imported(deps, outcome: ImportOutcome, values: dict[str, int], kind: str | None = None) -> None:
    """What the import worker leaves behind: a history entry, the task, the link's last imported month."""
    month = YearMonth(2026, 2)
    deps.history.add(
        SyncHistoryEntry(
            id="h1",
            company_id=CO,
            client_id="cl-1",
            at=deps.now(),
            reason="SCHEDULE",
            job_id=None,
            months=[month],
            values={},
            tasks_changed=1,
            calls_used=2,
            outcome=outcome,
            error_kind=kind,
            message="SmartAccounts could not be reached." if kind else None,
        )
    )
    if outcome is ImportOutcome.SUCCEEDED:
        link = deps.links.get(CO, "cl-1")
        deps.links.put(CO, link.model_copy(update={"last_imported_month": month}))
        deps.summary_tasks.put(
            SummaryTask(
                company_id=CO,
                client_id="cl-1",
                month=month,
                title="Books 2026-02",
                topic_id="t",
                period_start=month.first_day,
                period_end=month.last_day,
                values=values,
                field_values={},
                computed_at=deps.now(),
            ),
            expected_version=0,
        )


def test_last_import_failure_names_the_client_and_kind(deps) -> None:
    _configure(deps)
    _imported(deps, ImportOutcome.FAILED, {}, kind="UNAVAILABLE")
    check = {c.id: c for c in diagnostics.run_diagnostics(deps, CO)}["lastImport"]
    assert check.status == "FAIL" and check.error_kind == "UNAVAILABLE" and "Acme" in check.detail


def test_mapped_field_that_stayed_empty_is_listed_and_a_filled_one_passes(deps) -> None:
    _configure(deps)
    _imported(deps, ImportOutcome.SUCCEEDED, {"saleEntries": 0})
    checks = {c.id: c for c in diagnostics.run_diagnostics(deps, CO)}
    assert checks["lastImport"].status == "PASS"
    assert checks["emptyMappedFields"].status == "FAIL" and "Sale entries" in checks["emptyMappedFields"].detail
    assert "Reload data" in checks["emptyMappedFields"].fix


def test_mapped_field_with_values_passes(deps) -> None:
    _configure(deps)
    _imported(deps, ImportOutcome.SUCCEEDED, {"saleEntries": 7})
    assert {c.id: c.status.value for c in diagnostics.run_diagnostics(deps, CO)}["emptyMappedFields"] == "PASS"
