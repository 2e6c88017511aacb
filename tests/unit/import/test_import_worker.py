"""The worker's use case on fakes: conversions, only the needed kinds fetched, and every error path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from smartaccounts_sync.domain.client_link import LinkStatus, last_import
from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.integration import ConnectionStatus
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import compute_monthly_statistics
from smartaccounts_sync.domain.sync_records import ImportOutcome
from smartaccounts_sync.observability import metrics
from smartaccounts_sync.service import notifications
from smartaccounts_sync.service.monthly_import import ImportRun, RetryLater, import_client
from smartaccounts_sync.service.scheduled_import import CompaniesNotScheduled, run_scheduled_import
from smartaccounts_sync.smartaccounts.documents import fetch_documents, ledger_document, purchase_document
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import JournalEntry, VendorInvoice

COMPANY = "uku-1"
NOV = YearMonth(2026, 11)


def nov_work(reason: ImportReason = ImportReason.SCHEDULE, *months: str) -> ImportWork:
    return ImportWork(
        company_id=COMPANY,
        client_id="client-1",
        months=[YearMonth.parse(m) for m in months or ("2026-11",)],
        reason=reason,
    )


# ------------------------------------------------------------------ conversions
def test_conversions_and_statistics_cover_first_and_last_days_credits_bank_and_cash(loaded, expected_november) -> None:
    batch = fetch_documents(loaded.sa, set(DocumentSource), NOV.first_day, NOV.last_day)
    assert [d.id for d in batch.sales] == ["1", "2"]  # 1 December is outside the range asked for
    stats = compute_monthly_statistics(batch, [NOV], expected_november)
    assert stats[NOV] == expected_november


def test_a_vendor_credit_invoice_subtracts_and_ledger_kinds_are_classified() -> None:
    credit = VendorInvoice.model_validate({"id": 1, "type": "CRE", "date": "02.11.2026", "amount": "10.00"})
    assert purchase_document(credit).net_amount == Decimal("-10.00")
    kinds = {
        t: ledger_document(JournalEntry.model_validate({"id": 1, "date": "02.11.2026", "docType": t})).kind
        for t in ("CLIENT_INVOICE", "PAYMENT", "LEDGER_ENTRY", "SALARY")
    }
    assert kinds == {"CLIENT_INVOICE": "INVOICE", "PAYMENT": "PAYMENT", "LEDGER_ENTRY": "MANUAL", "SALARY": "OTHER"}


# ------------------------------------------------------------------ the happy path
def test_import_writes_the_task_with_mapped_values_and_assigns_the_owner(loaded, expected_november) -> None:
    world = loaded
    entry = import_client(world.deps, nov_work())
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    task = world.deps.summary_tasks.get(COMPANY, "client-1", NOV)
    assert task.title == "Acme OÜ November 2026" and task.assignee_id == "owner-1"
    assert task.field_values == {f"field-{k}": v for k, v in expected_november.items()}
    assert world.links.get(COMPANY, "client-1").last_imported_month == NOV
    assert len(world.events.of_type("SummaryTaskUpdated")) == 1
    assert entry.calls_used == 4

    # the same work again: nothing due for the schedule; a reload message without a job is not run at all
    calls = world.sa.calls_made
    history = len(world.deps.history.list(COMPANY, "client-1"))
    assert import_client(world.deps, nov_work()) is None
    assert import_client(world.deps, nov_work(ImportReason.RELOAD, "2026-11")) is None
    assert world.sa.calls_made == calls and len(world.deps.history.list(COMPANY, "client-1")) == history
    assert len(world.events.of_type("SummaryTaskUpdated")) == 1
    assert world.deps.summary_tasks.get(COMPANY, "client-1", NOV).version == 1


def test_a_blank_field_costs_no_call_for_its_kind(loaded) -> None:
    world = loaded
    record = world.integrations.get(COMPANY)
    mapping = {k: None for k in record.settings.field_mapping} | {"saleEntries": "field-sales"}
    world.integrations.save(
        record.model_copy(update={"settings": record.settings.model_copy(update={"field_mapping": mapping})})
    )
    import_client(world.deps, nov_work())
    assert world.sa.calls == {"clientinvoices": 1}


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "kind", [ErrorKind.CREDENTIALS_REVOKED, ErrorKind.INVALID_CREDENTIALS, ErrorKind.SIGNATURE_REJECTED]
)
def test_refused_company_credentials_fail_the_connection_once_and_keep_the_company_due(world, kind) -> None:
    world.sa.error = SmartAccountsError(kind, "refused", status=401)
    run = ImportRun()
    entry = import_client(world.deps, nov_work(), run)
    assert entry.outcome is ImportOutcome.FAILED and entry.error_kind == kind.value
    record = world.integrations.get(COMPANY)
    assert record.connection.status is ConnectionStatus.FAILING and record.connection.reason == kind.value
    assert record.next_import_month == NOV and record.next_import_date == dt.date(2026, 11, 30)
    assert len(world.events.of_type("ConnectionFailing")) == 1
    assert len(world.deps.notifications.list(COMPANY)) == 1
    # the next work with that key costs no call and no second notification
    calls = world.sa.calls_made
    skipped = import_client(world.deps, nov_work(ImportReason.CATCH_UP), run)
    assert skipped.outcome is ImportOutcome.SKIPPED and world.sa.calls_made == calls
    assert len(world.deps.notifications.list(COMPANY)) == 1


def test_company_not_visible_marks_the_link_failing(world) -> None:
    world.sa.error = SmartAccountsError(ErrorKind.NOT_FOUND, "Company not found", status=404)
    entry = import_client(world.deps, nov_work())
    assert entry.outcome is ImportOutcome.FAILED
    link = world.links.get(COMPANY, "client-1")
    assert link.status is LinkStatus.FAILING and link.reason == "NOT_FOUND"


def test_daily_quota_parks_the_work_until_the_quota_renews(world) -> None:
    world.sa.error = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "quota", retry_after=5000)
    entry = import_client(world.deps, nov_work())
    assert entry.outcome is ImportOutcome.DEFERRED
    assert world.deps.work_queue.delayed == []  # not re-sent every 15 minutes: parked
    assert [p.client_id for p in world.deps.progress.parked(dt.date(2026, 12, 1))] == ["client-1"]


def test_paging_stalled_is_final_and_names_the_client_and_query(world) -> None:
    world.sa.error = SmartAccountsError(ErrorKind.PAGING_STALLED, "SmartAccounts paging stopped advancing.")
    entry = import_client(world.deps, nov_work())
    assert entry.outcome is ImportOutcome.FAILED  # returned, not raised: SQS does not deliver it again
    assert "Acme OÜ" in (entry.message or "") and "CLIENT_INVOICES" in (entry.message or "")


@pytest.mark.parametrize("kind", [ErrorKind.UNAVAILABLE, ErrorKind.RATE_LIMITED])
def test_passing_failures_are_retried_by_sqs(world, kind) -> None:
    world.sa.error = SmartAccountsError(kind, "later")
    with pytest.raises(RetryLater):
        import_client(world.deps, nov_work())
    assert world.deps.history.entries[-1].outcome is ImportOutcome.FAILED


def test_a_disabled_integration_is_skipped_and_not_advanced(world) -> None:
    record = world.integrations.get(COMPANY)
    world.integrations.save(record.model_copy(update={"enabled": False}))
    entry = import_client(world.deps, nov_work())
    assert entry.outcome is ImportOutcome.SKIPPED and world.sa.calls_made == 0
    assert world.links.get(COMPANY, "client-1").last_imported_month is None


# ------------------------------------------------------------------ the schedule
def test_schedule_enqueues_one_message_per_client_and_never_twice(world) -> None:
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": NOV, "next_import_date": dt.date(2026, 11, 30)})
    )
    assert run_scheduled_import(world.deps, dt.date(2026, 11, 29)).as_dict()["queued"] == 0
    assert run_scheduled_import(world.deps, dt.date(2026, 11, 30)).as_dict()["queued"] == 1
    assert run_scheduled_import(world.deps, dt.date(2026, 11, 30)).as_dict()["queued"] == 0
    assert [str(m) for m in world.deps.work_queue.sent[0].months] == ["2026-11"]
    advanced = world.integrations.get(COMPANY)
    assert advanced.next_import_month == YearMonth(2026, 12) and advanced.next_import_date == dt.date(2026, 12, 31)



def test_last_import_is_set_when_the_import_succeeded_not_when_work_was_queued(world) -> None:
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": NOV, "next_import_date": dt.date(2026, 11, 30)})
    )
    run_scheduled_import(world.deps, dt.date(2026, 11, 30))
    assert world.integrations.get(COMPANY).last_import_at is None  # queued only
    assert last_import(world.deps.links.list(COMPANY)) is None
    world.sa.error = SmartAccountsError(ErrorKind.UNAVAILABLE, "down")
    with pytest.raises(RetryLater):
        import_client(world.deps, world.deps.work_queue.sent[0])
    assert last_import(world.deps.links.list(COMPANY)) is None  # a failed import is no last import
    world.sa.error = None
    import_client(world.deps, world.deps.work_queue.sent[0])
    assert last_import(world.deps.links.list(COMPANY)) == (NOV, world.deps.now())


@pytest.mark.parametrize("final", [False, True])
def test_a_passing_failure_on_the_last_delivery_keeps_the_month_due(world, final: bool) -> None:
    # Given the schedule already moved the company on to December
    dec = YearMonth(2026, 12)
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": dec, "next_import_date": dt.date(2026, 12, 31)})
    )
    world.sa.error = SmartAccountsError(ErrorKind.UNAVAILABLE, "down")
    # When November's import fails on a delivery that is (not) the last before the dead-letter queue
    with pytest.raises(RetryLater):
        import_client(world.deps, nov_work(), ImportRun(final_attempt=final))
    # Then only the last delivery makes November due again (the next evening's run comes back for it)
    record = world.integrations.get(COMPANY)
    assert record.next_import_month == (NOV if final else dec)
    assert (record.next_import_date == dt.date(2026, 11, 30)) is final


def test_a_company_that_cannot_be_scheduled_does_not_stop_the_others(world) -> None:
    # Given two due companies, the first of which cannot be read
    real = world.deps.integrations
    record = real.get(COMPANY)
    real.save(record.model_copy(update={"next_import_month": NOV, "next_import_date": dt.date(2026, 11, 30)}))

    class OneBroken:
        def companies_due(self, on: dt.date) -> list[str]:
            return ["broken-company", *real.companies_due(on)]

        def get(self, company_id: str):
            if company_id == "broken-company":
                raise RuntimeError("storage failure")
            return real.get(company_id)

        def save(self, record):
            return real.save(record)

    world.deps.integrations = OneBroken()  # type: ignore[assignment]
    # When the evening run comes, the healthy company is still scheduled, and the run reports the failure
    with pytest.raises(CompaniesNotScheduled) as failed:
        run_scheduled_import(world.deps, dt.date(2026, 11, 30))
    assert failed.value.company_ids == ["broken-company"]
    assert [w.company_id for w in world.deps.work_queue.sent] == [COMPANY]


def test_an_answer_the_service_cannot_read_fails_the_import_loudly_and_keeps_the_month_due(world) -> None:
    dec = YearMonth(2026, 12)
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": dec, "next_import_date": dt.date(2026, 12, 31)})
    )
    world.sa.error = SmartAccountsError(ErrorKind.SCHEMA_MISMATCH, "no 'clientInvoices' in the answer")
    metrics.clear_metrics()
    entry = import_client(world.deps, nov_work())  # not RetryLater: retrying cannot help
    assert entry.outcome is ImportOutcome.FAILED and entry.error_kind == "SCHEMA_MISMATCH"
    assert "format has changed" in entry.message
    assert world.deps.summary_tasks.get(COMPANY, "client-1", NOV) is None  # never zeros
    assert world.integrations.get(COMPANY).next_import_month == NOV
    assert "SchemaMismatches" in metrics.metric_set
    metrics.clear_metrics()


def test_a_failed_event_publish_is_counted_not_swallowed(world) -> None:
    class Refusing:
        def publish(self, detail_type: str, detail: dict) -> None:
            raise RuntimeError("EventBridge said no")

    world.deps.events = Refusing()
    metrics.clear_metrics()
    notifications.publish(world.deps, notifications.RELOAD_COMPLETED, {"jobId": "j"})
    assert metrics.metric_set["EventsNotPublished"]["Value"] == [1.0]
    metrics.clear_metrics()


def test_a_link_changed_during_the_import_keeps_the_change_and_still_records_the_import(world, monkeypatch) -> None:
    # Given a link that something else changes while the client's documents are read (here: a note set by a health
    # check just before the tasks are written), after the import read it
    put_all = world.deps.summary_tasks.put_all

    def change_the_link(writes):
        link = world.links.get(COMPANY, "client-1")
        world.links.update(COMPANY, link.model_copy(update={"message": "checked meanwhile"}))
        return put_all(writes)

    monkeypatch.setattr(world.deps.summary_tasks, "put_all", change_the_link)

    # When the import succeeds
    entry = import_client(world.deps, nov_work())

    # Then the link's bookkeeping is made on the changed link (nothing of the change is lost), one history entry is
    # written, and the import's counts are kept and its checkpoint is gone
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    link = world.links.get(COMPANY, "client-1")
    assert (link.last_imported_month, link.message) == (NOV, "checked meanwhile")
    assert [e.outcome for e in world.deps.history.list(COMPANY, "client-1")] == [ImportOutcome.SUCCEEDED]
    assert world.deps.progress.get_counts(COMPANY, "client-1") is not None
    assert world.deps.progress.checkpoints == {}


def test_a_failed_last_write_leaves_no_lease_behind_and_the_redelivery_finishes_the_import(world, monkeypatch) -> None:
    # Given the import's last write (history entry, link, counts, checkpoint's and lease's end) throttled once
    add = world.deps.history.add
    throttled = []

    def throttle_once(entry, also=()):
        if not throttled:
            throttled.append(entry)
            raise RuntimeError("ProvisionedThroughputExceededException")
        return add(entry, also)

    monkeypatch.setattr(world.deps.history, "add", throttle_once)

    # When the import fails on it, and SQS delivers the work again
    with pytest.raises(RuntimeError):
        import_client(world.deps, nov_work())
    assert world.deps.progress.leases == {}  # released, so the redelivery is not handed back for the lease's time
    entry = import_client(world.deps, nov_work())

    # Then the redelivery finishes it from the checkpoint: one history entry, the month recorded
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert [e.outcome for e in world.deps.history.list(COMPANY, "client-1")] == [ImportOutcome.SUCCEEDED]
    assert world.links.get(COMPANY, "client-1").last_imported_month == NOV
