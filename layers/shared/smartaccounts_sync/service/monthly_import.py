"""The import worker's use case: one client's months of SmartAccounts statistics into its summary tasks.

Used by the monthly schedule (with catch-up) and, with `reason = RELOAD` and a job id, by Reload data. Every run
ends in one sync history entry. What each SmartAccounts failure does:

- credentials refused (invalid, revoked, signature): the connection (the company's, or the client link's when it
  has its own key) is marked failing, `ConnectionFailing` and one notification on the transition, the key is not
  used again in this run, the company stays due so a later run catches up; the message is consumed.
- company not visible (NOT_FOUND): the link is marked failing with the reason; consumed, company stays due.
- daily quota spent (or today's rest reserved for the scheduled import): the checkpoint is kept and the work is
  parked until the quota renews at midnight Tallinn time, then woken once; one DEFERRED entry per wait.
- paging stalled (a broken API): final, not retried; the entry names the client and the query.
- unavailable, rate limited by SmartAccounts past the call's time budget: the checkpoint is kept and `RetryLater`
  (SQS delivers it again and the import continues from the checkpoint; the DLQ after five receives).

The documents are read page by page from a checkpoint (`service/resumable_import.py`): the worker stops taking
pages when its time budget ends (or the rate guard makes it wait too long), keeps the checkpoint and hands the rest
back with a delayed message; a lease per client keeps a client's imports from overlapping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from aws_lambda_powertools.metrics import MetricUnit

from smartaccounts_sync.adapters.batch_read import read_all
from smartaccounts_sync.adapters.transact import Write
from smartaccounts_sync.domain.client_link import ClientLink, LinkStatus
from smartaccounts_sync.domain.field_catalogue import is_known_field, mapped_keys, sources_needed
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork, keep_due, months_to_import
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import MonthlyTally
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.observability import count, logger, metrics
from smartaccounts_sync.service import client_links, intake, quota_plan, reload, resumable_import
from smartaccounts_sync.service.connection import (
    CREDENTIAL_FAILURES,
    CREDENTIAL_REASONS,
    announce_failing,
    connection_failed,
    credentials_failing,
    update_integration,
)
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.resumable_import import BudgetSpent, TimeBudget
from smartaccounts_sync.service.summary_tasks import proposed_task, upsert_all
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.troubleshooting import cause_of, explain, what_happened

QUOTA_RETRY_CAP_SECONDS = 900
#: A client whose import runs elsewhere (its lease is held) is handed back after this long at most.
LEASE_RETRY_SECONDS = 60
LEASE_MARGIN = dt.timedelta(seconds=60)


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
    #: Until when this invocation takes pages (the Lambda's remaining time less a margin).
    budget: TimeBudget = field(default_factory=TimeBudget)


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _json_values(stats: dict[YearMonth, dict[str, int | Decimal]]) -> dict[str, dict[str, Decimal]]:
    return {str(month): {k: Decimal(v) for k, v in values.items()} for month, values in stats.items()}


class _Recorder:
    def __init__(self, deps: Dependencies, work: ImportWork, run: ImportRun) -> None:
        self.deps, self.work, self.run = deps, work, run
        self.key: str | None = None  # the key's fingerprint once known: quota use per key on the dashboard
        #: this invocation's calls already added to the reload job while it ran (`_report_progress`)
        self.reported_to_job = 0
        #: the client's link as last read or written: the entry's outcome (`LatestImport`) is written on it
        self.link: ClientLink | None = None

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
        queries: list[dict] | None = None,
        job_calls: int | None = None,
        also: Sequence[Write] = (),
        refused: Callable[[], Sequence[Write]] | None = None,
        imported: YearMonth | None = None,
    ) -> SyncHistoryEntry:
        """Writes the run's history entry (with `also` in the same transaction; when a condition of theirs refuses
        it, `refused` makes them one by one and the entry is written with the writes it returns), its metrics and its
        job's progress. With `self.link` known, the entry's outcome goes on the link in the same transaction (the client
        list's status), with the link's import bookkeeping when `imported` (the last month imported); when the link
        changed meanwhile, on the link as it is then, before the entry."""
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
            queries=queries or [],
        )
        link = self.link
        if link is not None:
            after = _imported(self.deps, link, imported) if imported is not None else link
            also = [self.deps.links.update_write(self.work.company_id, after.with_latest_import(entry), link), *also]
        if not self.deps.history.add(entry, also):
            if link is not None:
                _note_on_link(self.deps, self.work, entry, imported, link)
            self.deps.history.add(entry, refused() if refused is not None else ())
        metrics.add_metric(name="ClientImports", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="SmartAccountsCalls", unit=MetricUnit.Count, value=calls)
        count("ClientImportOutcomes", outcome=outcome.value, reason=self.work.reason.value)
        if error_kind is not None:
            count("ImportErrors", kind=error_kind)
        if calls and self.key:
            count("SmartAccountsCallsByKey", value=calls, key=self.key)
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
            unreported = max(0, (calls if job_calls is None else job_calls) - self.reported_to_job)
            reload.record_progress(
                self.deps, self.work, entry, retrying=retrying, resumes_at=resumes_at, calls=unreported
            )
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


def _imported(deps: Dependencies, link: ClientLink, last: YearMonth) -> ClientLink:
    """The link after a successful import up to `last`: imported now, its last month, failing no more."""
    update: dict = {"last_import_at": deps.now()}
    if link.last_imported_month is None or link.last_imported_month < last:
        update["last_imported_month"] = last
    if link.status is LinkStatus.FAILING:
        update |= {"status": LinkStatus.OK, "reason": None, "message": None, "since": None}
    return link.model_copy(update=update)


def _note_on_link(
    deps: Dependencies, work: ImportWork, entry: SyncHistoryEntry, last: YearMonth | None, seen: ClientLink
) -> None:
    """The link as it is now, with the import's bookkeeping up to `last` (a success) and the entry as its latest
    import: for when the link changed after it was read (`seen`). Not when the client was unlinked or linked to
    another company meanwhile: that company's months and outcome are not this import's."""
    link = deps.links.get(work.company_id, work.client_id)
    if link is None or link.company_id != seen.company_id:
        return
    if last is not None:
        link = _imported(deps, link, last)
    deps.links.update(work.company_id, link.with_latest_import(entry))  # not if unlinked or relinked meanwhile


def import_client(deps: Dependencies, work: ImportWork, run: ImportRun | None = None) -> SyncHistoryEntry | None:
    """Imports the months due for one client. Returns its history entry (None when nothing was due)."""
    run = run or ImportRun()
    if intake.suppressed_duplicate(deps, work):
        return None
    record = _Recorder(deps, work, run)
    reload.client_started(deps, work)
    # what the import needs of the company, the link and the Uku client (and the company's owner, the assignee of a
    # client without a default user): one read
    integration, link, client, company_owner = read_all(
        deps.integrations.get_read(work.company_id),
        deps.links.get_read(work.company_id, work.client_id),
        *deps.uku.client_and_owner_reads(work.company_id, work.client_id),
    )
    record.link = link
    if integration.version == 0:  # no integration record at all: not a company of this service
        return record(ImportOutcome.SKIPPED, list(work.months), error_kind="UNKNOWN_COMPANY", message=intake.UNKNOWN)
    if not integration.enabled or integration.settings is None:
        why = "the integration is disabled" if not integration.enabled else "the summary task settings are missing"
        return record(ImportOutcome.SKIPPED, list(work.months), error_kind="INTEGRATION_DISABLED", message=why)
    settings = integration.settings
    rule = settings.import_day
    if client is None:  # the true reason: the Uku client is gone, not "not linked"
        return record(
            ImportOutcome.SKIPPED, list(work.months), error_kind="CLIENT_NOT_FOUND", message=intake.CLIENT_GONE
        )
    if link is None:
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
    record.key = fingerprint
    if fingerprint in run.failing_keys:
        _keep_company_due(deps, work, months[0], rule)
        return record(
            ImportOutcome.SKIPPED,
            months,
            error_kind=run.failing_keys[fingerprint],
            message="This key was refused earlier in the same run; it was not used again.",
        )

    keys = [key for key in mapped_keys(settings.field_mapping) if is_known_field(key)]
    owner_id = uuid.uuid4().hex
    lease_until = deps.now() + dt.timedelta(seconds=run.budget.seconds_left() or 900) + LEASE_MARGIN
    if not deps.progress.acquire_lease(work.company_id, work.client_id, owner_id, lease_until, deps.now()):
        # the client's import runs in another worker: never two at once; this work comes back shortly
        deps.work_queue.send_later(work, LEASE_RETRY_SECONDS)
        logger.info("client import already running: handed back", extra={"client_id": work.client_id})
        return None
    lease = _HeldLease(owner_id)
    try:
        return _import_months(
            deps, work, run, record, integration, link, client, company_owner, months, keys, credentials, fingerprint,
            lease,
        )
    finally:
        if not lease.released:  # a successful import ends it with its last write
            deps.progress.release_lease(work.company_id, work.client_id, owner_id)


@dataclass
class _HeldLease:
    owner: str
    released: bool = False


def _import_months(
    deps: Dependencies,
    work: ImportWork,
    run: ImportRun,
    record: _Recorder,
    integration: CompanyIntegration,
    link: ClientLink,
    client,
    company_owner: str | None,
    months: list[YearMonth],
    keys: list[str],
    credentials,
    fingerprint: str,
    lease: _HeldLease,
) -> SyncHistoryEntry | None:
    settings = integration.settings
    if settings is None:  # checked by the caller; keeps the type checker honest
        return None
    sources = sources_needed(keys) if keys else set()
    sa = deps.smartaccounts(credentials, link.company_id)
    sa.deadline = run.budget.deadline
    # a reload leaves the calls the coming scheduled import of the same key needs; the schedule itself reserves none
    sa.daily_reserve = (
        quota_plan.reserve_for_schedule(deps, integration, link if link.own_credentials else None)
        if work.reason is ImportReason.RELOAD
        else 0
    )
    counts, found = deps.progress.counts_and_checkpoint(
        work.company_id, work.client_id, resumable_import.work_key(work, months)
    )
    if found is not None and found.recorded_calls is not None:
        return _count_recorded(deps, work, found)
    checkpoint = resumable_import.open_checkpoint(deps, work, months, sources, counts, found)
    tally = MonthlyTally.from_dict(months, checkpoint.tally)
    calls_before = checkpoint.calls

    def report_progress() -> None:
        """While a large client runs, its reload job shows the calls used and a refined estimate."""
        if work.job_id is None:
            return
        resumable_import.refine_expected(deps, work, checkpoint, counts)
        fresh = checkpoint.calls - calls_before - record.reported_to_job
        reload.calls_spent(deps, work, fresh)
        record.reported_to_job += fresh

    try:
        resumable_import.advance(deps, sa, checkpoint, tally, run.budget, client.name, on_progress=report_progress)
    except BudgetSpent:
        unreported_from = calls_before + record.reported_to_job
        return _hand_back(deps, work, checkpoint, tally, counts, unreported_from, 0, "time budget")
    except SmartAccountsError as error:
        spent = checkpoint.calls - calls_before
        unreported_from = calls_before + record.reported_to_job
        if error.kind is ErrorKind.RATE_LIMITED and error.reason == "local_window":
            # the key's minute is shared by every worker: wait as the guard asks, from the checkpoint
            return _hand_back(deps, work, checkpoint, tally, counts, unreported_from, error.retry_after, "minute limit")
        if run.budget.spent() and error.kind.retryable:
            return _hand_back(deps, work, checkpoint, tally, counts, unreported_from, 0, "time budget")
        if error.kind is ErrorKind.PAGING_STALLED:
            deps.progress.delete_checkpoint(work.company_id, work.client_id, checkpoint.work_key)
        else:
            resumable_import.refine_expected(deps, work, checkpoint, counts)
            resumable_import.save(deps, checkpoint, tally)
        if error.kind is ErrorKind.DAILY_QUOTA_SPENT:
            return _park(deps, work, record, months, checkpoint, error, spent)
        return _failed(deps, work, run, record, integration, link, months, error, spent, fingerprint, checkpoint)

    computed_at = deps.now()
    stats = tally.values(keys)
    owner = None if client.default_user_id else company_owner
    proposals = [
        proposed_task(work.company_id, client, month, settings, stats[month], owner_id=owner, computed_at=computed_at)
        for month in months
    ]
    changed = upsert_all(deps, proposals)
    resumable_import.refine_expected(deps, work, checkpoint, counts)
    finished = DocumentCounts.of(checkpoint, deps.now())
    job_calls = checkpoint.calls - calls_before
    # a reload's checkpoint is kept, marked recorded, until its job counted the client (`record`, then below): a
    # delivery again after a failure or a stop between the two counts the client (`_count_recorded`), not imports it
    recorded = (
        checkpoint.model_copy(
            update={"recorded_calls": max(0, job_calls - record.reported_to_job), "updated_at": deps.now()}
        )
        if work.job_id is not None
        else None
    )
    # the link's bookkeeping (from the link as read at the start), the client's counts, the checkpoint's end, the
    # lease's end and the history entry: one all-or-nothing write. When the link changed meanwhile (or the lease was
    # taken over), the same writes one by one on what is there now.
    also = deps.progress.finished_writes(
        work.company_id, work.client_id, checkpoint.work_key, finished, lease_owner=lease.owner, keep=recorded
    )

    checkpoint_left: list[str] = []

    def one_by_one() -> list[Write]:
        deps.progress.put_counts(work.company_id, work.client_id, finished)
        deps.progress.release_lease(work.company_id, work.client_id, lease.owner)
        checkpoint_left.append(checkpoint.work_key)  # ended once the entry is written (below)
        return [] if recorded is None else [deps.progress.checkpoint_write(recorded)]  # marked with the entry

    entry = record(
        ImportOutcome.SUCCEEDED,
        months,
        calls=checkpoint.calls,
        values=_json_values(stats),
        tasks_changed=changed,
        queries=_queries(checkpoint),
        job_calls=job_calls,
        also=also,
        refused=one_by_one,
        imported=months[-1],
    )
    if checkpoint_left or recorded is not None:
        # only once the entry is written (a delivery again after a failed history write finds every page read), and
        # a reload's once its job counted the client
        deps.progress.delete_checkpoint(work.company_id, work.client_id, checkpoint.work_key)
    lease.released = True  # with the group, or by `one_by_one` when the group was refused (not when it failed)
    return entry


def _count_recorded(deps: Dependencies, work: ImportWork, checkpoint: ImportCheckpoint) -> None:
    """The client's import ended with its history entry, and its reload job did not count it (the count failed, or
    the Lambda stopped before it): counted now, with the calls that import did not report, without a page read again
    or a second entry."""
    reload.client_finished(deps, work, checkpoint.recorded_calls or 0)
    deps.progress.delete_checkpoint(work.company_id, work.client_id, checkpoint.work_key)
    logger.info("client import recorded before: counted on its job", extra={"client_id": work.client_id})


def _queries(checkpoint) -> list[dict]:
    """Calls per query, for the sync history."""
    return [
        {
            "source": q.source.value,
            "dateFrom": q.date_from.isoformat(),
            "dateTo": q.date_to.isoformat(),
            "pages": q.pages,
            "calls": q.calls,
            "documents": q.documents,
        }
        for q in checkpoint.queries
    ]


def _hand_back(deps, work, checkpoint, tally, counts, calls_before: int, delay: float | None, why: str) -> None:
    """Stopped between pages: the checkpoint is stored and the rest of the work comes back in a new message. The calls
    are counted on the job first: a worker that stops before the checkpoint is stored has its pages asked for again
    (and counted again, as they are spent again), never left uncounted."""
    resumable_import.refine_expected(deps, work, checkpoint, counts)
    reload.calls_spent(deps, work, checkpoint.calls - calls_before)
    resumable_import.save(deps, checkpoint, tally)
    seconds = int(min(QUOTA_RETRY_CAP_SECONDS, max(0.0, delay or 0.0) + 0.999))
    deps.work_queue.send_later(work, seconds)
    logger.info(
        "client import handed back",
        extra={"client_id": work.client_id, "why": why, "calls": checkpoint.calls, "delay": seconds},
    )
    return None


def _park(deps, work, record, months, checkpoint, error: SmartAccountsError, spent: int) -> SyncHistoryEntry | None:
    """The key's day is spent (or its rest reserved): the work waits until the quota renews - parked until Tallinn
    midnight and woken once, or, when SmartAccounts says it renews within 15 minutes, sent again once with that
    delay. One DEFERRED entry per wait: a wait lasts until a page is read again (`parked_until`, stored before the
    entry is written; a worker that stops before it stored it leaves the entry to the next delivery)."""
    first = checkpoint.parked_until is None
    if error.retry_after is not None and error.retry_after <= QUOTA_RETRY_CAP_SECONDS:
        delay = int(error.retry_after + 0.999)
        deps.work_queue.send_later(work, delay)
        resumes_at = deps.now() + dt.timedelta(seconds=delay)
        minutes = max(1, math.ceil(delay / 60))
        when = f"in about {minutes} minute{'s' if minutes != 1 else ''}, when SmartAccounts lets the key go again"
    else:
        resumes_at = resumable_import.park(deps, work, checkpoint)
        when = "after midnight Estonian time"
    checkpoint.parked_until = resumes_at
    deps.progress.put_checkpoint(checkpoint)
    if not first:
        reload.calls_spent(deps, work, max(0, spent - record.reported_to_job))
        reload.waiting_for_quota(deps, work, resumes_at)
        return None
    # what happened (the guard's own words when it refused: the scheduled import's share, or SmartAccounts' word on
    # the key's day), then when the import goes on: once (the cause's own fix says the same in other words)
    said = what_happened(error)
    return record(
        ImportOutcome.DEFERRED,
        months,
        calls=spent,
        error_kind=cause_of(error).kind,
        message=f"{said} The import continues by itself {when}, where it stopped.",
        resumes_at=resumes_at,
        queries=_queries(checkpoint),
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
    checkpoint=None,
) -> SyncHistoryEntry:
    kind = cause_of(error).kind
    message = explain(error, own_key=link.own_credentials)
    rule = integration.settings.import_day if integration.settings else None
    if error.kind in CREDENTIAL_FAILURES:
        run.failing_keys[fingerprint] = kind
        if link.own_credentials:
            was = (link.status, link.reason)
            updated = client_links.mark_link(deps, work.company_id, link, error)
            record.link = updated
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
        record.link = client_links.mark_link(deps, work.company_id, link, error)
        if rule is not None:
            _keep_company_due(deps, work, months[0], rule)
        return record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message)
    queries = _queries(checkpoint) if checkpoint is not None else None
    if error.kind is ErrorKind.PAGING_STALLED:  # a broken API: final, not retried as if it were passing
        if rule is not None:
            _keep_company_due(deps, work, months[0], rule)
        message = f"{message} ({error.message})"  # which client, which query, which page
        return record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message, queries=queries)
    if error.kind is ErrorKind.SCHEMA_MISMATCH:  # retrying cannot help; the operator is alarmed, the month stays due
        logger.error("SmartAccounts answer not understood", extra={"client_id": work.client_id, "error": str(error)})
        metrics.add_metric(name="SchemaMismatches", unit=MetricUnit.Count, value=1)  # SchemaMismatchAlarm
        if rule is not None:
            _keep_company_due(deps, work, months[0], rule)
        return record(ImportOutcome.FAILED, months, calls=calls, error_kind=kind, message=message, queries=queries)
    # Delivered again by SQS unless this was the last delivery (then it is final here and dead-lettered too).
    if run.final_attempt and rule is not None:
        _keep_company_due(deps, work, months[0], rule)  # the next evening's run comes back for these months
    record(
        ImportOutcome.FAILED,
        months,
        calls=calls,
        error_kind=kind,
        message=message,
        retrying=not run.final_attempt,
        queries=queries,
    )
    raise RetryLater(kind, message)


def _due_again(work: ImportWork, missed: YearMonth) -> Callable[[CompanyIntegration], CompanyIntegration]:
    def change(record: CompanyIntegration) -> CompanyIntegration:
        if work.reason is ImportReason.RELOAD or record.settings is None:
            return record
        month, on = keep_due(record.next_import_month, record.next_import_date, missed, record.settings.import_day)
        return record.model_copy(update={"next_import_month": month, "next_import_date": on})

    return change
