"""A reload client's calls on its job when the job's writes are applied and their answers lost
(`tests/support/lost_answers.py`): botocore sends the identical `ADD` again. The job's `callsUsed` and
`callsExpected` (the progress and the finish estimate users see) must still equal the calls made, not run high.
The import runs on the in-memory fakes, the job in the real DynamoDB adapter on in-process moto."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from moto import mock_aws

from smartaccounts_sync.adapters.reload_job_repository import DynamoDbReloadJobRepository
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.reload_job import ReloadStatus
from smartaccounts_sync.domain.sync_records import ImportOutcome
from smartaccounts_sync.service import resumable_import
from smartaccounts_sync.service.monthly_import import ImportRun, import_client
from smartaccounts_sync.service.resumable_import import TimeBudget, wake_parked
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ClientInvoice, JournalEntry, Payment, VendorInvoice
from tests.support.lost_answers import AnswerLost
from tests.support.reload_jobs import one_client_reload

COMPANY = "uku-1"
JOB = "reload-calls-lost"
WINDOW = YearMonth.range(YearMonth(2025, 11), YearMonth(2026, 10))
PAGES = 4 * 36  # four document kinds, 360 documents each, 10 a page


def _every_count_answer_lost(kwargs: dict) -> bool:
    """The job's `ADD`s of calls used and expected (`add_calls`, `expect_calls`), not a client's count."""
    return kwargs["UpdateExpression"].startswith(("ADD callsUsed ", "ADD callsExpected "))


@pytest.fixture
def lossy(world):
    """The job in DynamoDB, every report of calls on it applied twice (its first answer lost)."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-north-1")
        ddb.create_table(  # as `template.yaml` declares JobsTable's keys
            TableName="jobs",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        lost = AnswerLost(ddb, "update_item", when=_every_count_answer_lost, times=10_000)
        world.deps.jobs = DynamoDbReloadJobRepository(lost, "jobs")
        world.deps.jobs.start(one_client_reload(JOB, COMPANY, WINDOW, world.deps.now()))
        # a client larger than a worker's budget: 30 documents of each kind a month, 10 a page
        world.sa.page_size = 10
        world.deps.settings = Settings(smartaccounts_max_pages=3)
        n = 0
        for month in WINDOW:
            for i in range(30):
                n += 1
                day = f"{1 + i % 28:02d}.{month.month:02d}.{month.year}"
                world.sa.sales.append(ClientInvoice.model_validate({"id": n, "type": "INV", "date": day, "amount": 1}))
                world.sa.purchases.append(VendorInvoice.model_validate({"id": n, "date": day, "amount": 1}))
                world.sa.payments_.append(
                    Payment.model_validate({"id": n, "date": day, "accountType": "BANK", "amount": 1})
                )
                world.sa.entries.append(JournalEntry.model_validate({"id": n, "date": day, "docType": "SALARY"}))
        yield lost


def _work() -> ImportWork:
    return ImportWork(
        company_id=COMPANY,
        client_id="client-1",
        months=WINDOW,
        reason=ImportReason.RELOAD,
        job_id=JOB,
        calls_expected=0,
    )


def test_progress_and_hand_backs_count_each_call_once_when_answers_are_lost(world, lossy, monkeypatch) -> None:
    # Given progress shown after every page (in production: every 15 s) and a worker's time budget of 50 pages
    monkeypatch.setattr(resumable_import, "PROGRESS_SECONDS", 0.0)
    seen: list[tuple[int, int]] = []  # (calls made, the job's callsUsed) after each report
    jobs = world.deps.jobs
    add_calls = jobs.add_calls

    def reported(company_id: str, job_id: str, calls: int) -> None:
        add_calls(company_id, job_id, calls)
        seen.append((world.sa.calls_made, jobs.get(company_id, job_id).calls_used))

    monkeypatch.setattr(jobs, "add_calls", reported)

    # When the reload of the client runs, handed back when its budget is spent, each of the job's count writes
    # applied with its answer lost
    while True:
        clock = lambda: float(world.sa.calls_made)  # noqa: E731 - one simulated second per call
        entry = import_client(world.deps, _work(), ImportRun(budget=TimeBudget(world.sa.calls_made + 50.0, clock)))
        if entry is not None:
            break
        world.deps.work_queue.delayed.pop()

    # Then the job showed the calls made at every report, and ends with the calls made, used and expected alike
    # (they counted twice: callsUsed about twice the calls made, the estimate as far off)
    assert entry.outcome is ImportOutcome.SUCCEEDED
    assert lossy.lost > PAGES  # a report of calls used per page, and of the estimate whenever it moved
    assert len(seen) > 100 and all(used == made for made, used in seen)
    job = jobs.get(COMPANY, JOB)
    assert job.status is ReloadStatus.COMPLETED
    assert job.calls_used == job.calls_expected == world.sa.calls_made == PAGES


def test_a_client_waiting_for_the_quota_counts_each_call_once_when_answers_are_lost(world, lossy) -> None:
    # Given a key whose day runs out after 50 pages, each of the job's count writes applied with its answer lost
    world.sa.fail_after_pages = 50
    world.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "Daily limit exceeded", retry_after=14400)

    # When the client's import is parked, then woken after midnight and finished
    deferred = import_client(world.deps, _work())
    assert deferred is not None and deferred.outcome is ImportOutcome.DEFERRED
    waiting = world.deps.jobs.get(COMPANY, JOB)
    world.sa.fail_after_pages = None
    assert wake_parked(world.deps, dt.date(2026, 12, 1)) == 1
    entry = import_client(world.deps, world.deps.work_queue.sent.pop())

    # Then the waiting job showed the 51 calls made (50 pages and the refused one), and the finished job the calls
    # made in all, once
    assert lossy.lost > 0
    assert waiting.status is ReloadStatus.WAITING_FOR_QUOTA and waiting.calls_used == 51
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    job = world.deps.jobs.get(COMPANY, JOB)
    assert job.status is ReloadStatus.COMPLETED
    assert job.calls_used == job.calls_expected == world.sa.calls_made == PAGES + 1


class LambdaStopped(BaseException):
    """The Lambda's time ran out (or its container died) here: no `except Exception` of the function runs."""


def test_a_worker_that_stops_between_its_estimate_and_its_checkpoint_counts_the_estimate_once(
    world, lossy, monkeypatch
) -> None:
    # Given the checkpoint stored with every page, a worker's time budget of 50 pages, each of the job's count writes
    # applied with its answer lost, and a worker that stops (a Lambda timeout) as it stores the checkpoint it hands
    # back, after it wrote the client's refined estimate on the job
    monkeypatch.setattr(resumable_import, "CHECKPOINT_SECONDS", 0.0)
    jobs = world.deps.jobs
    expect_calls, put_checkpoint = jobs.expect_calls, world.deps.progress.put_checkpoint
    estimated: list[int] = []

    def estimate(*args, **kwargs) -> None:
        expect_calls(*args, **kwargs)
        estimated.append(jobs.get(COMPANY, JOB).calls_expected)

    def stop_once_after_an_estimate(checkpoint) -> None:
        if len(estimated) == 1 and not stopped:
            stopped.append(checkpoint.calls)
            raise LambdaStopped()
        put_checkpoint(checkpoint)

    stopped: list[int] = []
    monkeypatch.setattr(jobs, "expect_calls", estimate)
    monkeypatch.setattr(world.deps.progress, "put_checkpoint", stop_once_after_an_estimate)

    # When the reload of the client runs, SQS delivers the work again after the stop, and the import runs to its end
    clock = lambda: float(world.sa.calls_made)  # noqa: E731 - one simulated second per call
    with pytest.raises(LambdaStopped):
        import_client(world.deps, _work(), ImportRun(budget=TimeBudget(world.sa.calls_made + 50.0, clock)))
    while True:
        entry = import_client(world.deps, _work(), ImportRun(budget=TimeBudget(world.sa.calls_made + 50.0, clock)))
        if entry is not None:
            break
        world.deps.work_queue.delayed.pop()

    # Then the estimate written before the stop counted once: the redelivery, refining the same client's estimate
    # from the checkpoint stored before it, moved the job from that estimate instead of adding to it (it added its
    # own on top, and the job expected about as many calls again as the client made, and so a much later finish)
    assert stopped == [50] and estimated[0] > 50  # the client's first estimate was on the job when it stopped
    assert lossy.lost > 0
    assert entry.outcome is ImportOutcome.SUCCEEDED
    job = jobs.get(COMPANY, JOB)
    assert job.status is ReloadStatus.COMPLETED
    assert job.calls_used == job.calls_expected == world.sa.calls_made == PAGES
