"""Reload data: re-import the last 12 months of every linked client (or one client) in the background.

The request answers at once with a job; the work fans out through SQS, one message per client (one paged query
per document type covers all 12 months); the import worker reports each client's outcome here. A company runs one
reload at a time: a second request, or a one-client request while the company's reload runs, joins that job.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from smartaccounts_sync.domain.import_day import reload_window
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.domain.reload_job import ClientError, ReloadJob, ReloadStatus
from smartaccounts_sync.domain.sync_records import ImportOutcome, NotificationKind, SyncHistoryEntry
from smartaccounts_sync.errors import NotFound, ServiceError
from smartaccounts_sync.observability import count, logger
from smartaccounts_sync.service import notifications, quota_plan
from smartaccounts_sync.service.connection import require_enabled
from smartaccounts_sync.service.dependencies import Dependencies


class NothingToReload(ServiceError):
    code = "NOTHING_TO_RELOAD"
    status = 409
    title = "Nothing to reload"


@dataclass(frozen=True)
class ReloadRequest:
    job: ReloadJob
    joined: bool  # True: an existing running job answers this request


def request_reload(deps: Dependencies, company_id: str, user_id: str, client_id: str | None = None) -> ReloadRequest:
    record = deps.integrations.get(company_id)
    require_enabled(record)
    if record.settings is None:
        raise NothingToReload(
            "Summary task settings are not configured yet: set the task title, topic, import day and field mapping "
            "on the Settings tab first."
        )
    if client_id is not None:
        if deps.uku.get_client(company_id, client_id) is None:
            raise NotFound(f"There is no client {client_id!r} in this Uku company.")
        if deps.links.get(company_id, client_id) is None:
            raise NotFound(f"Client {client_id!r} is not linked to SmartAccounts; link it first.")
    running = deps.jobs.running(company_id)
    if running is not None:
        return _join(running, client_id)
    links = deps.links.list(company_id)
    if client_id is not None:
        links = [link for link in links if link.client_id == client_id]
    if not links:
        raise NothingToReload("No client is linked to a SmartAccounts company yet; link clients first.")
    now = deps.now()
    window = reload_window(tallinn_today(now), record.settings.import_day)
    estimates = quota_plan.reload_estimates(deps, record, [link.client_id for link in links], window)
    job = ReloadJob(
        job_id=f"reload-{uuid.uuid4().hex[:16]}",
        company_id=company_id,
        scope="ONE_CLIENT" if client_id else "ALL_CLIENTS",
        client_ids=sorted(link.client_id for link in links),
        window=window,
        clients_total=len(links),
        calls_expected=sum(estimates.values()),
        requested_by=user_id,
        created_at=now,
    )
    if deps.jobs.start(job) is None:  # someone else started one a moment ago: join it
        running = deps.jobs.running(company_id)
        if running is not None:
            return _join(running, client_id)
        raise NothingToReload("Another reload is finishing; try again in a moment.")
    works = [
        ImportWork(
            company_id=company_id,
            client_id=c,
            months=job.window,
            reason=ImportReason.RELOAD,
            job_id=job.job_id,
            calls_expected=estimates[c],
        )
        for c in job.client_ids
    ]
    try:
        deps.work_queue.send(works)
    except Exception:
        # whatever went wrong, the job must not stay open holding the company's reload lock
        deps.jobs.finish(company_id, job.job_id, ReloadStatus.FAILED, deps.now())
        raise
    logger.info("reload queued", extra={"job_id": job.job_id, "clients": job.clients_total})
    _counted("queued")
    return ReloadRequest(job, joined=False)


def _join(running: ReloadJob, client_id: str | None) -> ReloadRequest:
    """A request the running job already covers joins it; any other waits for it to finish (one per company)."""
    if running.scope == "ALL_CLIENTS" or (client_id is not None and client_id in running.client_ids):
        _counted("joined")
        return ReloadRequest(running, joined=True)
    _counted("refused")
    raise ReloadRunning(running)


def _counted(result: str) -> None:
    count("ReloadRequests", result=result)


class ReloadRunning(ServiceError):
    """409 `RELOAD_RUNNING`: a running job that does not cover the request; names the job and why it cannot join."""

    code = "RELOAD_RUNNING"
    status = 409
    title = "A reload is already running for this company"

    def __init__(self, running: ReloadJob) -> None:
        clients = ", ".join(running.client_ids)
        super().__init__(
            f"Reload job {running.job_id} ({running.status.value}) is running for client(s) {clients} only, so this "
            "request cannot join it: a company runs one reload at a time, and a running job never gains clients "
            "(its window and progress are fixed when it starts). Reload data again when it has finished.",
            extra={
                "runningJobId": running.job_id,
                "runningJobLocation": f"/v1/reload-jobs/{running.job_id}",
                "runningJobScope": running.scope,
                "runningJobClientIds": list(running.client_ids),
            },
        )


def settled(deps: Dependencies, work: ImportWork) -> str | None:
    """Why reload work needs nothing (a duplicate or stray message), else None. Costs one read, no SmartAccounts
    call and no history entry: the message is acknowledged as it is."""
    if work.job_id is None:
        return "reload_without_job" if work.reason is ImportReason.RELOAD else None
    job = deps.jobs.get(work.company_id, work.job_id)
    if job is None:
        return "job_not_found"
    if job.status.finished:
        return "job_finished"
    if work.client_id in job.done_clients:
        _complete_if_all_counted(deps, job)
        return "client_already_done"
    if work.client_id not in job.client_ids:
        return "client_not_in_job"
    return None


def client_started(deps: Dependencies, work: ImportWork) -> None:
    """A worker picked up a client of the job: the job is running (and says since when)."""
    if work.job_id is not None:
        deps.jobs.started(work.company_id, work.job_id, deps.now())


def get_job(deps: Dependencies, company_id: str, job_id: str) -> ReloadJob:
    job = deps.jobs.get(company_id, job_id)
    if job is None:
        raise NotFound(f"There is no reload job {job_id!r} for this company.")
    return quota_plan.with_estimate(deps, job)


def client_finished(
    deps: Dependencies, work: ImportWork, calls: int, error: ClientError | None = None
) -> ReloadJob | None:
    """Counts one client's outcome once; the worker that counts the last client completes the job (a worker that
    finds its client counted already completes it too when it is still open: its own write may have been applied
    with the answer lost, botocore's retry then finding the client counted)."""
    if work.job_id is None:
        return None
    job = deps.jobs.client_done(work.company_id, work.job_id, work.client_id, calls, error, deps.now())
    if job is None:  # counted before (a duplicate delivery), or the job already ended
        found = deps.jobs.get(work.company_id, work.job_id)
        if found is not None and work.client_id in found.done_clients:
            _complete_if_all_counted(deps, found)
        return None
    _complete_if_all_counted(deps, job)
    return job


def _complete_if_all_counted(deps: Dependencies, job: ReloadJob) -> None:
    """Moves a job whose clients are all counted to its final status; the one caller that does it notifies. Also
    called for a job found open with all clients counted (`settled`, `client_finished`): the worker that counted the
    last client stopped before the final write (a timeout, a crash), and its work comes back."""
    if job.status.finished or job.clients_done < job.clients_total:
        return
    status, finished_at = job.final_status(), deps.now()
    if deps.jobs.finish(job.company_id, job.job_id, status, finished_at):
        _completed(deps, job.model_copy(update={"status": status, "finished_at": finished_at}))


def record_progress(
    deps: Dependencies,
    work: ImportWork,
    entry: SyncHistoryEntry,
    *,
    retrying: bool = False,
    resumes_at: dt.datetime | None = None,
    calls: int | None = None,
) -> None:
    """The import worker's report of one client's attempt, as the job sees it. `calls`: this invocation's calls
    when the entry counts a whole import resumed from a checkpoint (earlier invocations reported theirs)."""
    spent = entry.calls_used if calls is None else calls
    if entry.outcome is ImportOutcome.DEFERRED:
        calls_spent(deps, work, spent)
        waiting_for_quota(deps, work, resumes_at or deps.now())
    elif retrying:
        calls_spent(deps, work, spent)
    elif entry.outcome is ImportOutcome.SUCCEEDED:
        client_finished(deps, work, spent)
    else:
        error = ClientError(kind=entry.error_kind or entry.outcome.value, message=entry.message or entry.outcome.value)
        client_finished(deps, work, spent, error)


def client_failed_for_good(deps: Dependencies, work: ImportWork) -> None:
    """The last delivery of a client's work ended in an unexpected failure: the job counts it, so it can finish."""
    client_finished(
        deps,
        work,
        0,
        ClientError(kind="INTERNAL", message="The import failed unexpectedly; Uku's operators have been alerted."),
    )


def calls_spent(deps: Dependencies, work: ImportWork, calls: int) -> None:
    """SmartAccounts calls of an attempt that will be retried still count towards the job's calls used."""
    if work.job_id is not None:
        deps.jobs.add_calls(work.company_id, work.job_id, calls)


def waiting_for_quota(deps: Dependencies, work: ImportWork, resumes_at: dt.datetime) -> None:
    if work.job_id is not None:
        deps.jobs.waiting_for_quota(work.company_id, work.job_id, resumes_at)


def _completed(deps: Dependencies, job: ReloadJob) -> None:
    count("ReloadsCompleted", status=job.status.value)
    failed = len(job.errors)
    months = f"{job.window[0]} to {job.window[-1]}"
    if failed:
        title = "SmartAccounts reload finished with errors"
        message = (
            f"Reload data finished for {job.clients_total - failed} of {job.clients_total} client(s) ({months}); "
            f"{failed} client(s) failed: "
            + "; ".join(
                f"{_client_name(deps, job.company_id, client)}: {error.message}"
                for client, error in sorted(job.errors.items())
            )
        )
    else:
        title = "SmartAccounts reload is ready"
        message = f"Reload data finished: {job.clients_total} client(s), {months}. Summary tasks are up to date."
    one_client = job.scope == "ONE_CLIENT"
    detail = {  # docs/events.md, events/published/reload-completed.json
        "companyId": job.company_id,
        "jobId": job.job_id,
        "scope": "CLIENT" if one_client else "COMPANY",
        "clientId": job.client_ids[0] if one_client else None,
        "status": job.status.value,
        "window": {"from": str(job.window[0]), "to": str(job.window[-1])},
        "clientsTotal": job.clients_total,
        "clientsDone": job.clients_done,
        "clientsFailed": failed,
        "callsUsed": job.calls_used,
        "errors": [
            {"clientId": client, "errorKind": error.kind, "message": error.message}
            for client, error in sorted(job.errors.items())
        ],
        "startedAt": (job.started_at or job.created_at).isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
    }
    notifications.notify(deps, job.company_id, NotificationKind.RELOAD_COMPLETED, title, message, detail)
    notifications.publish(deps, notifications.RELOAD_COMPLETED, detail)


def _client_name(deps: Dependencies, company_id: str, client_id: str) -> str:
    """The Uku client's name for people to read (its id when the client is gone or cannot be read now)."""
    try:
        client = deps.uku.get_client(company_id, client_id)
    except Exception:  # noqa: BLE001 - a name for a message: the notification must still be written
        logger.warning("client name not read for the reload notification", extra={"client_id": client_id})
        return client_id
    return client.name if client is not None else client_id
