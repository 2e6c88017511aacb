"""The import worker's use case: one client's months of SmartAccounts statistics into its summary tasks.

Used by the monthly schedule (with catch-up) and, with `reason = RELOAD` and a job id, by Reload data. Every run
ends in one sync history entry. What each SmartAccounts failure does:

- credentials refused (invalid, revoked, signature): the connection (the company's, or the client link's when it
  has its own key) is marked failing, `ConnectionFailing` and one notification on the transition, the key is not
  used again in this run, the company stays due so a later run catches up; the message is consumed.
- company not visible (NOT_FOUND): the link is marked failing with the reason; consumed, company stays due.
- daily quota spent: the same work is sent again with a delay (at most 15 minutes); consumed, nothing dropped.
- unavailable, rate limited, paging stalled: `RetryLater` (SQS delivers it again; the DLQ after five receives).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from aws_lambda_powertools.metrics import MetricUnit

from smartaccounts_sync.domain.client_link import ClientLink, LinkStatus
from smartaccounts_sync.domain.field_catalogue import is_known_field, mapped_keys, sources_needed
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork, keep_due, months_to_import
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import DocumentBatch, compute_monthly_statistics
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.observability import logger, metrics
from smartaccounts_sync.service import client_links, reload
from smartaccounts_sync.service.connection import (
    CREDENTIAL_FAILURES,
    CREDENTIAL_REASONS,
    announce_failing,
    connection_failed,
    credentials_failing,
    update_integration,
)
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.summary_tasks import proposed_task, upsert_all
from smartaccounts_sync.smartaccounts.documents import fetch_documents
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.troubleshooting import cause_of, explain

QUOTA_RETRY_CAP_SECONDS = 900


class RetryLater(Exception):
    """A passing SmartAccounts failure: the message goes back to the queue and is delivered again."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


@dataclass
class ImportRun:
    """What one worker invocation learns across its records: keys known failing are not used again."""

    failing_keys: dict[str, str] = field(default_factory=dict)  # key fingerprint -> error kind
    #: The record being processed is on its last delivery before the dead-letter queue.
    final_attempt: bool = False


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _json_values(stats: dict[YearMonth, dict[str, int | Decimal]]) -> dict[str, dict[str, Decimal]]:
    return {str(month): {k: Decimal(v) for k, v in values.items()} for month, values in stats.items()}


class _Recorder:
    def __init__(self, deps: Dependencies, work: ImportWork, run: ImportRun) -> None:
        self.deps, self.work, self.run = deps, work, run

    def __call__(
        self,
        outcome: ImportOutcome,
        months: list[YearMonth],
        *,
        calls: int = 0,
        values: dict[str, dict[str, Decimal]] | None = None,
        tasks_changed: int = 0,
        error_kind: str | None = None,
        message: str | None = None,
        retrying: bool = False,
        resumes_at: dt.datetime | None = None,
    ) -> SyncHistoryEntry:
        entry = SyncHistoryEntry(
            id=uuid.uuid4().hex[:12],
            company_id=self.work.company_id,
            client_id=self.work.client_id,
            at=self.deps.now(),
            reason=self.work.reason.value,
            job_id=self.work.job_id,
            months=months,
            values=values or {},
            tasks_changed=tasks_changed,
            calls_used=calls,
            outcome=outcome,
            error_kind=error_kind,
            message=message,
        )
        self.deps.history.add(entry)
        metrics.add_metric(name="ClientImports", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="SmartAccountsCalls", unit=MetricUnit.Count, value=calls)
        logger.info(
            "client import finished",
            extra={
                "client_id": self.work.client_id,
                "reason": self.work.reason.value,
                "months": [str(m) for m in months],
                "outcome": outcome.value,
                "error_kind": error_kind,
                "calls": calls,
                "tasks_changed": tasks_changed,
            },
        )
        if self.work.job_id is not None:
            reload.record_progress(self.deps, self.work, entry, retrying=retrying, resumes_at=resumes_at)
        return entry


def _keep_company_due(deps: Dependencies, work: ImportWork, missed: YearMonth, rule: ImportDay) -> None:
    """The schedule must come back for `missed`: the company stays (or becomes) due."""
    if work.reason is ImportReason.RELOAD:
        return

    def change(record: CompanyIntegration) -> CompanyIntegration:
        if record.settings is None:
            return record
        month, on = keep_due(record.next_import_month, record.next_import_date, missed, record.settings.import_day)
        return record.model_copy(update={"next_import_month": month, "next_import_date": on})

    update_integration(deps, work.company_id, change)


def _mark_imported(deps: Dependencies, work: ImportWork, last: YearMonth) -> None:
    link = deps.links.get(work.company_id, work.client_id)
    if link is None:
        return
    update: dict = {"last_import_at": deps.now()}
    if link.last_imported_month is None or link.last_imported_month < last:
        update["last_imported_month"] = last
    if link.status is LinkStatus.FAILING:
        update |= {"status": LinkStatus.OK, "reason": None, "message": None, "since": None}
    deps.links.update(work.company_id, link.model_copy(update=update))  # not if unlinked or relinked meanwhile


def import_client(deps: Dependencies, work: ImportWork, run: ImportRun | None = None) -> SyncHistoryEntry | None:
    """Imports the months due for one client. Returns its history entry (None when nothing was due)."""
    run = run or ImportRun()
    record = _Recorder(deps, work, run)
    reload.client_started(deps, work)
    integration = deps.integrations.get(work.company_id)
    if not integration.enabled or integration.settings is None:
        why = "the integration is disabled" if not integration.enabled else "the summary task settings are missing"
        return record(ImportOutcome.SKIPPED, list(work.months), error_kind="INTEGRATION_DISABLED", message=why)
    settings = integration.settings
    rule = settings.import_day
    link = deps.links.get(work.company_id, work.client_id)
    client = deps.uku.get_client(work.company_id, work.client_id)
    if link is None or client is None:
        return record(ImportOutcome.SKIPPED, list(work.months), error_kind="NOT_LINKED", message="not linked")
    months = months_to_import(work, rule, last_imported=link.last_imported_month, linked_at=link.linked_at)
    if not months:
        logger.info("nothing to import", extra={"client_id": work.client_id, "reason": work.reason.value})
        return None

    known_failing = _known_failing(integration, link)
    if known_failing is not None:
        _keep_company_due(deps, work, months[0], rule)
        return record(
            ImportOutcome.SKIPPED,
            months,
            error_kind=known_failing,
            message="The SmartAccounts connection is failing; fix the credentials and the missed months follow.",
        )
    try:
        credentials = client_links.credentials_for(deps, integration, link)
    except ServiceError as error:
        _keep_company_due(deps, work, months[0], rule)
        return record(ImportOutcome.FAILED, months, error_kind=error.code, message=error.detail)
    fingerprint = key_fingerprint(credentials.api_key)
    if fingerprint in run.failing_keys:
        _keep_company_due(deps, work, months[0], rule)
        return record(
            ImportOutcome.SKIPPED,
            months,
            error_kind=run.failing_keys[fingerprint],
            message="This key was refused earlier in the same run; it was not used again.",
        )

    keys = [key for key in mapped_keys(settings.field_mapping) if is_known_field(key)]
    sa = deps.smartaccounts(credentials, link.company_id)
    computed_at = deps.now()
    try:
        batch = (
            fetch_documents(sa, sources_needed(keys), months[0].first_day, months[-1].last_day)
            if keys
            else DocumentBatch()
        )
    except SmartAccountsError as error:
        return _failed(deps, work, run, record, integration, link, months, error, sa.calls_made, fingerprint)

    stats = compute_monthly_statistics(batch, months, keys)
    owner = None if client.default_user_id else deps.uku.company_owner(work.company_id)
    proposals = [
        proposed_task(work.company_id, client, month, settings, stats[month], owner_id=owner, computed_at=computed_at)
        for month in months
    ]
    changed = upsert_all(deps, proposals)
    _mark_imported(deps, work, months[-1])
    return record(
        ImportOutcome.SUCCEEDED,
        months,
        calls=sa.calls_made,
        values=_json_values(stats),
        tasks_changed=changed,
    )


def _known_failing(integration: CompanyIntegration, link: ClientLink) -> str | None:
    if link.own_credentials:
        if link.status is LinkStatus.FAILING and link.reason in CREDENTIAL_REASONS:
            return link.reason
        return None
    connection = integration.connection
    if credentials_failing(connection):
        return connection.reason
    return None


def _failed(
    deps: Dependencies,
    work: ImportWork,
    run: ImportRun,
    record: _Recorder,
    integration: CompanyIntegration,
    link: ClientLink,
    months: list[YearMonth],
    error: SmartAccountsError,
    calls: int,
    fingerprint: str,
) -> SyncHistoryEntry:
    kind = cause_of(error).kind
    message = explain(error)
    rule = integration.settings.import_day if integration.settings else None
    if error.kind in CREDENTIAL_FAILURES:
        run.failing_keys[fingerprint] = kind
        if link.own_credentials:
            was = (link.status, link.reason)
            updated = client_links.mark_link(deps, work.company_id, link, error)
            if was != (updated.status, updated.reason):
                client = deps.uku.get_client(work.company_id, work.client_id)
                announce_failing(
                    deps,
                    work.company_id,
                    reason=updated.reason or kind,
                    message=updated.message or message,
                    since=updated.since or deps.now(),
                    masked_key=link.credentials.masked_key if link.credentials else None,
                    client_id=work.client_id,
                    client_name=client.name if client else None,
                )
            if rule is not None:
                _keep_company_due(deps, work, months[0], rule)
        else:
            connection_failed(deps, work.company_id, error, also=_due_again(work, months[0]))
        return record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message)
    if error.kind is ErrorKind.NOT_FOUND:
        client_links.mark_link(deps, work.company_id, link, error)
        if rule is not None:
            _keep_company_due(deps, work, months[0], rule)
        return record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message)
    if error.kind is ErrorKind.DAILY_QUOTA_SPENT:
        delay = int(min(QUOTA_RETRY_CAP_SECONDS, error.retry_after or QUOTA_RETRY_CAP_SECONDS))
        deps.work_queue.send_later(work, delay)
        return record(
            ImportOutcome.DEFERRED,
            months,
            calls=calls,
            error_kind=kind,
            message=f"{message} The import continues by itself (next try in {delay} seconds).",
            resumes_at=deps.now() + dt.timedelta(seconds=delay),
        )
    # Delivered again by SQS unless this was the last delivery (then it is final here and dead-lettered too).
    if run.final_attempt and rule is not None:
        _keep_company_due(deps, work, months[0], rule)  # the next evening's run comes back for these months
    record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message, retrying=not run.final_attempt)
    raise RetryLater(kind, message)


def _due_again(work: ImportWork, missed: YearMonth) -> Callable[[CompanyIntegration], CompanyIntegration]:
    def change(record: CompanyIntegration) -> CompanyIntegration:
        if work.reason is ImportReason.RELOAD or record.settings is None:
            return record
        month, on = keep_due(record.next_import_month, record.next_import_date, missed, record.settings.import_day)
        return record.model_copy(update={"next_import_month": month, "next_import_date": on})

    return change
