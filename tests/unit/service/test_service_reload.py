"""Reload data's job logic on in-memory fakes: fan-out, joining, counting each client once, one completion."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.integration import SummaryTaskSettings
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.reload_job import ReloadStatus
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.errors import IntegrationDisabled, NotFound, Problem
from smartaccounts_sync.service import reload
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.monthly_import import import_client

COMPANY = "uku-1"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def company(deps: Dependencies) -> Dependencies:
    """Enabled, settings saved (last work day), three linked clients."""
    record = deps.integrations.get(COMPANY).model_copy(
        update={
            "enabled": True,
            "settings": SummaryTaskSettings(
                task_title="{client} {month}", topic_id="t", import_day=ImportDay.last_work_day(), field_mapping={}
            ),
        }
    )
    deps.integrations.save(record)
    for i in range(3):
        deps.uku.create_client(COMPANY, UkuClient(id=f"c{i}", name=f"Client {i}"))
        deps.links.put(
            COMPANY, ClientLink(client_id=f"c{i}", company_id="co-a", company_name="Alpha", linked_at=deps.now())
        )
    return deps


def _entry(deps: Dependencies, work, outcome: ImportOutcome, calls: int = 3, kind: str | None = None):
    return SyncHistoryEntry(
        id="h",
        company_id=work.company_id,
        client_id=work.client_id,
        at=deps.now(),
        reason=work.reason.value,
        job_id=work.job_id,
        months=work.months,
        values={},
        tasks_changed=0,
        calls_used=calls,
        outcome=outcome,
        error_kind=kind,
        message="m" if kind else None,
    )


def test_reload_fans_out_one_message_per_client_with_the_twelve_month_window(company: Dependencies) -> None:
    request = reload.request_reload(company, COMPANY, "user-1")
    job = request.job
    assert not request.joined and job.status is ReloadStatus.QUEUED and job.clients_total == 3
    # the fakes' today is 2026-03-10: February's last work day (the 27th) has passed, March's has not
    assert job.window == YearMonth.range(YearMonth(2025, 3), YearMonth(2026, 2))
    sent = company.work_queue.sent
    assert sorted(w.client_id for w in sent) == ["c0", "c1", "c2"]
    assert all(w.months == job.window and w.reason is ImportReason.RELOAD and w.job_id == job.job_id for w in sent)


def test_a_second_request_and_a_one_client_request_join_the_running_job(company: Dependencies) -> None:
    first = reload.request_reload(company, COMPANY, "user-1").job
    again = reload.request_reload(company, COMPANY, "user-2")
    one = reload.request_reload(company, COMPANY, "user-2", client_id="c1")
    assert again.joined and one.joined and again.job.job_id == one.job.job_id == first.job_id
    assert len(company.work_queue.sent) == 3  # nothing sent twice


def test_each_client_counts_once_and_the_last_one_completes_the_job_once(company: Dependencies) -> None:
    job = reload.request_reload(company, COMPANY, "user-1").job
    works = company.work_queue.sent
    reload.record_progress(company, works[0], _entry(company, works[0], ImportOutcome.SUCCEEDED, calls=4))
    reload.record_progress(company, works[0], _entry(company, works[0], ImportOutcome.SUCCEEDED, calls=4))  # again
    reload.record_progress(company, works[1], _entry(company, works[1], ImportOutcome.FAILED, 2, "NOT_FOUND"))
    assert company.jobs.get(COMPANY, job.job_id).clients_done == 2
    reload.record_progress(company, works[2], _entry(company, works[2], ImportOutcome.SUCCEEDED, calls=5))
    reload.record_progress(company, works[2], _entry(company, works[2], ImportOutcome.SUCCEEDED, calls=5))

    done = company.jobs.get(COMPANY, job.job_id)
    assert done.status is ReloadStatus.COMPLETED_WITH_ERRORS and done.clients_done == 3 and done.calls_used == 11
    assert done.errors["c1"].kind == "NOT_FOUND"
    assert company.jobs.running(COMPANY) is None
    [notification] = company.notifications.list(COMPANY)
    assert notification.data["jobId"] == job.job_id and notification.data["clientsFailed"] == 1
    # people read the client's name, and that it did not all go well
    assert notification.title == "SmartAccounts reload finished with errors"
    assert "Client 1: m" in notification.message and "c1:" not in notification.message
    assert [e["jobId"] for e in company.events.of_type("ReloadCompleted")] == [job.job_id]


def _sample_detail(name: str) -> dict:
    return json.loads((ROOT / "events" / "published" / name).read_text())["detail"]


def test_reload_completed_carries_the_fields_docs_events_md_and_its_sample_give(company: Dependencies) -> None:
    # Given a reload of all clients in which one client failed, and a one-client reload after it
    job = reload.request_reload(company, COMPANY, "user-1").job
    works = company.work_queue.sent
    reload.record_progress(company, works[0], _entry(company, works[0], ImportOutcome.SUCCEEDED, calls=4))
    reload.record_progress(company, works[1], _entry(company, works[1], ImportOutcome.FAILED, 2, "NOT_FOUND"))
    reload.record_progress(company, works[2], _entry(company, works[2], ImportOutcome.SUCCEEDED, calls=5))
    one = reload.request_reload(company, COMPANY, "user-1", client_id="c2").job
    [work] = company.work_queue.sent[3:]
    reload.record_progress(company, work, _entry(company, work, ImportOutcome.SUCCEEDED, calls=6))
    # Then each ReloadCompleted has exactly the sample's fields, and the notification the same detail
    sample = _sample_detail("reload-completed.json")
    every, single = company.events.of_type("ReloadCompleted")
    assert set(every) == set(single) == set(sample)
    window = {"from": str(job.window[0]), "to": str(job.window[-1])}
    assert every == every | {
        "companyId": COMPANY,
        "jobId": job.job_id,
        "scope": "COMPANY",
        "clientId": None,
        "status": "COMPLETED_WITH_ERRORS",
        "window": window,
        "clientsTotal": 3,
        "clientsDone": 3,
        "clientsFailed": 1,
        "callsUsed": 11,
        "errors": [{"clientId": "c1", "errorKind": "NOT_FOUND", "message": "m"}],
    }
    assert single == single | {
        "jobId": one.job_id,
        "scope": "CLIENT",
        "clientId": "c2",
        "status": "COMPLETED",
        "clientsTotal": 1,
        "clientsDone": 1,
        "clientsFailed": 0,
        "callsUsed": 6,
        "errors": [],
    }
    for detail in (every, single):
        started, finished = (dt.datetime.fromisoformat(detail[time]) for time in ("startedAt", "finishedAt"))
        assert started.tzinfo is not None and started <= finished == company.now()
    by_job = lambda detail: detail["jobId"]  # noqa: E731 - both at the same instant: listed in no set order
    assert sorted((n.data for n in company.notifications.list(COMPANY)), key=by_job) == sorted(
        [single, every], key=by_job
    )


def _last_client_counted_job_open(company: Dependencies):
    """A reload of three clients whose last client was counted and the job not ended (the write that counted it
    was the last one made)."""
    job = reload.request_reload(company, COMPANY, "user-1").job
    works = company.work_queue.sent
    for work in works[:2]:
        reload.record_progress(company, work, _entry(company, work, ImportOutcome.SUCCEEDED, calls=4))
    last = works[2]
    company.jobs.client_done(COMPANY, job.job_id, last.client_id, 5, None, company.now())
    assert company.jobs.get(COMPANY, job.job_id).status is ReloadStatus.RUNNING
    return job, last


def _completed_once(company: Dependencies, job) -> None:
    done = company.jobs.get(COMPANY, job.job_id)
    assert done.status is ReloadStatus.COMPLETED and done.clients_done == 3 and done.calls_used == 13
    assert company.jobs.running(COMPANY) is None
    assert len(company.notifications.list(COMPANY)) == 1
    assert [e["jobId"] for e in company.events.of_type("ReloadCompleted")] == [job.job_id]


def test_a_job_left_open_with_every_client_counted_completes_when_the_last_client_s_work_comes_again(
    company: Dependencies,
) -> None:
    # Given a job whose last client was counted by a worker that stopped before it ended the job (a timeout, a crash)
    job, last = _last_client_counted_job_open(company)
    # When that client's work comes back (SQS delivers it again), twice
    company.smartaccounts = _no_smartaccounts  # type: ignore[assignment]
    assert import_client(company, last) is None
    assert import_client(company, last) is None
    # Then the job is completed, counted once, the user notified once, and the client not imported again (it stayed
    # RUNNING for good, without a notification)
    _completed_once(company, job)


def test_a_count_whose_answer_was_lost_still_completes_the_job(company: Dependencies) -> None:
    # Given the last client's count applied and its answer lost: botocore's retry finds the client counted
    job, last = _last_client_counted_job_open(company)
    # When the worker records the client's outcome (its retried count finds it done)
    reload.record_progress(company, last, _entry(company, last, ImportOutcome.SUCCEEDED, calls=5))
    # Then it completes the job as the worker that counted the last client does
    _completed_once(company, job)


def test_waiting_for_quota_and_retried_attempts_count_calls_but_not_clients(company: Dependencies) -> None:
    job = reload.request_reload(company, COMPANY, "user-1").job
    work = company.work_queue.sent[0]
    resumes = company.now() + dt.timedelta(minutes=15)
    reload.record_progress(company, work, _entry(company, work, ImportOutcome.DEFERRED, 2), resumes_at=resumes)
    waiting = company.jobs.get(COMPANY, job.job_id)
    assert waiting.status is ReloadStatus.WAITING_FOR_QUOTA and waiting.resumes_at == resumes
    reload.record_progress(company, work, _entry(company, work, ImportOutcome.FAILED, 1, "UNAVAILABLE"), retrying=True)
    after = company.jobs.get(COMPANY, job.job_id)
    assert after.clients_done == 0 and after.calls_used == 3 and after.errors == {}


def test_nothing_to_reload_and_refusals(company: Dependencies) -> None:
    with pytest.raises(NotFound):
        reload.request_reload(company, COMPANY, "user-1", client_id="nobody")
    company.links.delete(COMPANY, "c2")
    with pytest.raises(NotFound):
        reload.request_reload(company, COMPANY, "user-1", client_id="c2")
    for i in range(2):
        company.links.delete(COMPANY, f"c{i}")
    with pytest.raises(reload.NothingToReload):
        reload.request_reload(company, COMPANY, "user-1")
    record = company.integrations.get(COMPANY)
    company.integrations.save(record.model_copy(update={"enabled": False}))
    with pytest.raises(IntegrationDisabled):
        reload.request_reload(company, COMPANY, "user-1")


def test_a_request_the_running_one_client_job_does_not_cover_is_refused_naming_it(company: Dependencies) -> None:
    # Given a reload of one client running
    running = reload.request_reload(company, COMPANY, "user-1", client_id="c0").job
    # When the whole company, or another client, is asked for: refused (409) naming the running job, nothing queued
    for client_id in (None, "c1"):
        with pytest.raises(reload.ReloadRunning) as refused:
            reload.request_reload(company, COMPANY, "user-2", client_id=client_id)
        assert refused.value.status == 409 and refused.value.extra["runningJobId"] == running.job_id
        problem = Problem.of(refused.value).to_dict()
        assert problem["code"] == "RELOAD_RUNNING" and problem["title"] != "Changed by someone else"
        assert running.job_id in problem["detail"] and "cannot join" in problem["detail"]
        assert problem["runningJobClientIds"] == ["c0"] and problem["runningJobScope"] == "ONE_CLIENT"
    # And the same client joins it
    assert reload.request_reload(company, COMPANY, "user-2", client_id="c0").joined
    assert len(company.work_queue.sent) == 1


def test_picked_up_work_marks_the_job_running_and_a_dead_lettered_client_still_counts(company: Dependencies) -> None:
    job = reload.request_reload(company, COMPANY, "user-1").job
    first = company.work_queue.sent[0]
    reload.client_started(company, first)
    started = company.jobs.get(COMPANY, job.job_id)
    assert started.status is ReloadStatus.RUNNING and started.started_at == company.now()
    for work in company.work_queue.sent:
        reload.client_failed_for_good(company, work)
    done = company.jobs.get(COMPANY, job.job_id)
    assert done.status is ReloadStatus.COMPLETED_WITH_ERRORS and set(done.errors) == {"c0", "c1", "c2"}
    assert {e.kind for e in done.errors.values()} == {"INTERNAL"}


def test_a_failure_to_queue_closes_the_job_and_frees_the_company(company: Dependencies) -> None:
    class BrokenQueue:
        def send(self, works) -> None:
            raise RuntimeError("SQS said no")

    company.work_queue = BrokenQueue()  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        reload.request_reload(company, COMPANY, "user-1")
    assert company.jobs.running(COMPANY) is None
    [job] = company.jobs.jobs.values()
    assert job.status is ReloadStatus.FAILED


def _no_smartaccounts(*_args: object) -> None:
    raise AssertionError("a duplicate must not call SmartAccounts")


def test_duplicate_and_stray_reload_work_is_acknowledged_without_a_call_or_history(company: Dependencies) -> None:
    # Given a reload whose first client is already counted, and SmartAccounts that must not be called
    job = reload.request_reload(company, COMPANY, "user-1").job
    c0, c1, c2 = company.work_queue.sent
    reload.record_progress(company, c0, _entry(company, c0, ImportOutcome.SUCCEEDED))
    company.smartaccounts = _no_smartaccounts  # type: ignore[assignment]
    stray = [
        c0,  # this client is already done in its job
        c1.model_copy(update={"job_id": "reload-missing"}),  # a job that does not exist
        c1.model_copy(update={"job_id": None}),  # a reload that names no job
        c1.model_copy(update={"client_id": "c9"}),  # a client that is not in the job
    ]
    # When each is delivered: nothing runs, nothing is recorded, the job is unchanged
    for work in stray:
        assert reload.settled(company, work) is not None
        assert import_client(company, work) is None
    assert [reload.settled(company, w) for w in stray] == [
        "client_already_done",
        "job_not_found",
        "reload_without_job",
        "client_not_in_job",
    ]
    for client in ("c0", "c1", "c9"):
        assert company.history.list(COMPANY, client) == []
    assert company.jobs.get(COMPANY, job.job_id).clients_done == 1
    # And once the job finished, its remaining work costs nothing either
    for work in (c1, c2):
        reload.record_progress(company, work, _entry(company, work, ImportOutcome.SUCCEEDED))
    assert company.jobs.get(COMPANY, job.job_id).status is ReloadStatus.COMPLETED
    assert reload.settled(company, c2) == "job_finished" and import_client(company, c2) is None


def test_work_for_an_unknown_uku_company_names_that_reason_not_integration_disabled(deps: Dependencies) -> None:
    work = ImportWork(company_id="nobody", client_id="c0", months=[YearMonth(2026, 10)])
    entry = import_client(deps, work)
    assert entry is not None and entry.error_kind == "UNKNOWN_COMPANY"


def test_work_for_a_client_that_no_longer_exists_names_that_reason(company: Dependencies) -> None:
    work = ImportWork(company_id=COMPANY, client_id="gone", months=[YearMonth(2026, 10)])
    entry = import_client(company, work)
    assert entry is not None and entry.error_kind == "CLIENT_NOT_FOUND"
    unlinked = ImportWork(company_id=COMPANY, client_id="c0", months=[YearMonth(2026, 10)])
    company.links.delete(COMPANY, "c0")
    assert import_client(company, unlinked).error_kind == "NOT_LINKED"


def _firm_key_with_requests_used(company: Dependencies, used: int):
    """The company key saved with its fingerprint (no secret in the store), `used` of its day's requests counted by
    an in-memory guard on the company's clock; the key pair."""
    from smartaccounts_sync.domain.integration import StoredCredentials
    from smartaccounts_sync.smartaccounts.models import ApiCredentials
    from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard

    key = ApiCredentials(api_key="firm-key", api_secret="firm-secret")
    record = company.integrations.get(COMPANY)
    stored = StoredCredentials(
        secret_name=company.secret_name(COMPANY), masked_key=key.masked_key, saved_at=company.now(),
        key_fingerprint=key.fingerprint,
    )
    company.integrations.save(record.model_copy(update={"credentials": stored}))
    company.quota = InMemoryRateGuard(per_minute=1000, clock=lambda: company.now().timestamp())
    for _ in range(used):
        company.quota.acquire("firm-key")
    return key


def test_the_estimate_reads_the_key_s_usage_by_its_fingerprint_without_reading_the_secret(
    company: Dependencies,
) -> None:
    # Given the company key saved with its fingerprint, 400 of its day's requests used, and a function that may not
    # read secrets (the reload function: its role may not assume the tenant secrets roles)
    key = _firm_key_with_requests_used(company, 400)

    def denied(*_args, **_kwargs):
        raise PermissionError("AccessDenied: the reload function may not read secrets")

    company.credentials.load = denied  # type: ignore[method-assign]
    # When the reload job is read
    job = reload.request_reload(company, COMPANY, "user-1").job
    read = reload.get_job(company, COMPANY, job.job_id)
    # Then it has its estimate, from the key's usage today
    assert read.estimated_finish_at is not None
    assert company.quota.usage_of(key.fingerprint) == company.quota.usage("firm-key")
    assert company.quota.usage("firm-key").used_today == 400


def test_a_day_smartaccounts_says_is_spent_shows_in_the_quota_and_moves_the_estimate_past_it(
    company: Dependencies,
) -> None:
    from smartaccounts_sync.service import quota_plan

    # Given the company key with 100 of its day's 1,000 requests counted by the guard, a reload job running
    _firm_key_with_requests_used(company, 100)
    job = reload.request_reload(company, COMPANY, "user-1").job
    before = reload.get_job(company, COMPANY, job.job_id).estimated_finish_at
    assert before is not None and before < company.quota.usage("firm-key").resets_at  # 900 left: done today
    # When SmartAccounts says the key's day is spent for the next three hours (another program used the key)
    until = company.now() + dt.timedelta(hours=3)
    company.quota.note_spent_by_smartaccounts("firm-key", until.timestamp())
    # Then the quota says so next to what the guard counted
    state = quota_plan.quota_state(company, company.integrations.get(COMPANY))
    assert state is not None and state.used_today == 100 and state.spent_until == until
    # And the job's estimate starts when SmartAccounts lets the key go again, not now
    after = reload.get_job(company, COMPANY, job.job_id).estimated_finish_at
    assert after is not None and after >= until > before


def test_the_job_expects_calls_from_previous_counts_and_estimates_its_finish_at_the_keys_limits(
    company: Dependencies,
) -> None:
    from smartaccounts_sync.domain.field_catalogue import DocumentSource
    from smartaccounts_sync.domain.import_checkpoint import DocumentCounts
    from smartaccounts_sync.domain.integration import StoredCredentials
    from smartaccounts_sync.service import quota_plan
    from smartaccounts_sync.smartaccounts.models import ApiCredentials
    from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard

    record = company.integrations.get(COMPANY)
    secret = company.secret_name(COMPANY)
    company.credentials.save(secret, ApiCredentials(api_key="firm-key", api_secret="firm-secret"))
    settings = record.settings.model_copy(update={"field_mapping": {"saleEntries": "f1", "bankEntries": "f2"}})
    company.integrations.save(
        record.model_copy(
            update={
                "settings": settings,
                "credentials": StoredCredentials(secret_name=secret, masked_key="firm…key", saved_at=company.now()),
            }
        )
    )
    company.quota = InMemoryRateGuard(per_minute=1000, clock=lambda: company.now().timestamp())
    # c0 counted 3,000 sales invoices and 3,500 payments a month last time; c1 and c2 were never imported
    company.progress.put_counts(
        COMPANY, "c0", DocumentCounts(per_month={DocumentSource.CLIENT_INVOICES: 3000, DocumentSource.PAYMENTS: 3500})
    )
    job = reload.request_reload(company, COMPANY, "user-1").job
    assert job.calls_expected == (360 + 420) + 2 + 2  # two queries each; c0's from its counts
    assert {w.client_id: w.calls_expected for w in company.work_queue.sent} == {"c0": 780, "c1": 2, "c2": 2}
    for _ in range(400):
        company.quota.acquire("firm-key")  # 400 of today's 1,000 used
    read = reload.get_job(company, COMPANY, job.job_id)
    usage = company.quota.usage("firm-key")
    # 600 left today, then 184 more from the next Tallinn midnight at the rate the guard lets requests go
    assert usage.per_minute == pytest.approx(1000 * 60 / 61)
    assert read.estimated_finish_at == usage.resets_at + dt.timedelta(minutes=184 / usage.per_minute)
    state = quota_plan.quota_state(company, company.integrations.get(COMPANY))
    assert state is not None and (state.used_today, state.daily_limit) == (400, 1000)
    assert state.resets_at == usage.resets_at

    # And while the job waits for the daily quota (SmartAccounts refused: another app may have spent the key's day,
    # whatever the guard counted), its estimate starts when it resumes, with that day's whole budget
    company.jobs.waiting_for_quota(COMPANY, job.job_id, usage.resets_at)
    waiting = reload.get_job(company, COMPANY, job.job_id)
    assert waiting.estimated_finish_at == usage.resets_at + dt.timedelta(minutes=784 / usage.per_minute)
    assert waiting.estimated_finish_at >= waiting.resumes_at
