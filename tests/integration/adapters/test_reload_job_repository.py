"""Reload jobs in DynamoDB (the moto server, tables from the template) when a write is applied and its answer lost,
or a worker stops between the two writes of a job's end: the job still ends once, the company's reload lock is not
left behind, and calls used and expected count once."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from smartaccounts_sync.adapters import aws_clients
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.reload_job_repository import DynamoDbReloadJobRepository, InMemoryReloadJobRepository
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.reload_job import ReloadJob, ReloadStatus
from tests.support.lost_answers import AnswerLost

pytestmark = pytest.mark.integration
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the lock counts as expired 3 days after its job started


def _job(company: str, minutes: int = 0) -> ReloadJob:
    return ReloadJob(
        job_id=f"reload-{uuid.uuid4().hex[:16]}",
        company_id=company,
        scope="ALL_CLIENTS",
        client_ids=["c1"],
        window=[YearMonth(2026, 10)],
        clients_total=1,
        requested_by="user-1",
        created_at=T0 + dt.timedelta(minutes=minutes),
    )


@pytest.fixture
def jobs(tables: dict[str, str], aws) -> DynamoDbReloadJobRepository:
    return DynamoDbReloadJobRepository(aws("dynamodb"), tables["JobsTable"])


def test_a_job_s_end_whose_answer_is_lost_is_still_this_caller_s_and_frees_the_lock(
    tables: dict[str, str], aws, jobs: DynamoDbReloadJobRepository
) -> None:
    # Given a running job, ended by a worker whose write is applied and its answer lost (botocore's retry then finds
    # the job ended)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    lossy = AnswerLost(aws("dynamodb"), "update_item", when=lambda kwargs: "finishedAt" in kwargs["UpdateExpression"])
    # When it ends the job
    ended = DynamoDbReloadJobRepository(lossy, tables["JobsTable"]).finish(
        company, job.job_id, ReloadStatus.COMPLETED, T0 + dt.timedelta(minutes=5)
    )
    # Then that worker is the one that ended it (it notifies the user), and the company may reload again
    assert lossy.lost == 1
    assert ended is True
    assert jobs.get(company, job.job_id).status is ReloadStatus.COMPLETED
    assert jobs.start(_job(company, minutes=6)) is not None


def test_a_job_ended_by_another_caller_is_not_this_caller_s(jobs: DynamoDbReloadJobRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    at = T0 + dt.timedelta(minutes=5)
    assert jobs.finish(company, job.job_id, ReloadStatus.COMPLETED, at) is True
    assert jobs.finish(company, job.job_id, ReloadStatus.COMPLETED, at) is False  # the same status, at the same time


def test_a_lock_left_by_an_ended_job_does_not_block_the_next_reload(
    tables: dict[str, str], aws, jobs: DynamoDbReloadJobRepository
) -> None:
    # Given a job ended by a worker that stopped before it freed the company's lock (its delete never happened)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))

    class LockDeleteLost:
        def __init__(self, client) -> None:
            self._client = client

        def delete_item(self, **_kwargs):
            raise TimeoutError("the function timed out")

        def __getattr__(self, name):
            return getattr(self._client, name)

    with pytest.raises(TimeoutError):
        DynamoDbReloadJobRepository(LockDeleteLost(aws("dynamodb")), tables["JobsTable"]).finish(
            company, job.job_id, ReloadStatus.COMPLETED, T0 + dt.timedelta(minutes=5)
        )
    assert jobs.running(company) is None
    # When the user asks for a new reload
    started = jobs.start(_job(company, minutes=6))
    # Then it starts (it used to be refused for the lock's 3 days: "another reload is finishing")
    assert started is not None
    assert jobs.running(company).job_id == started.job_id


def test_a_lock_of_a_job_still_running_is_kept(jobs: DynamoDbReloadJobRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    assert jobs.start(_job(company, minutes=6)) is None
    assert jobs.running(company).job_id == job.job_id


# --- calls used and expected: counted once when an answer is lost ---------------------------------------------------
def _adds(to: str):
    """The job's `ADD`s of calls (`add_calls`: callsUsed, `expect_calls`: callsExpected), not a client's count."""
    return lambda kwargs: kwargs["UpdateExpression"].startswith(f"ADD {to} ")


def test_calls_used_whose_answer_is_lost_count_once(tables: dict[str, str], aws, jobs) -> None:
    # Given a running job, and a worker whose report of calls is applied and its answer lost (botocore sends it again)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    lossy = AnswerLost(aws("dynamodb"), "update_item", when=_adds("callsUsed"), times=2)
    worker = DynamoDbReloadJobRepository(lossy, tables["JobsTable"])
    # When it reports 40 calls, then 2, then 5
    for n in (40, 2, 5):
        worker.add_calls(company, job.job_id, n)
    # Then the job counts them once each (it counted the first two twice: 84 and 4, so 93 where 47 were reported)
    assert lossy.lost == 2
    assert jobs.get(company, job.job_id).calls_used == 47


def test_an_estimate_whose_answer_is_lost_counts_once(tables: dict[str, str], aws, jobs) -> None:
    # Given a running job that expects 3 calls of its client, and a worker whose refinements of the client's estimate
    # are applied and their answers lost (botocore sends each again)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company).model_copy(update={"calls_expected": 3}))
    lossy = AnswerLost(aws("dynamodb"), "update_item", when=_adds("callsExpected"), times=3)
    worker = DynamoDbReloadJobRepository(lossy, tables["JobsTable"])
    # When it refines the estimate to 40 calls, then 42, then 37 (refined downwards)
    previous = 3
    for expected in (40, 42, 37):
        worker.expect_calls(company, job.job_id, "c1", expected, previous=previous)
        previous = expected
    # Then the job expects the client's last estimate (it added each difference twice: 3 + 74 + 4 - 10 = 71)
    assert lossy.lost == 3
    assert jobs.get(company, job.job_id).calls_expected == 37


def test_an_estimate_written_again_by_a_delivery_after_a_stop_counts_once(tables: dict[str, str], aws, jobs) -> None:
    # Given a job expecting 3 + 4 calls of two clients, and a worker that refined c1's estimate from 3 to 40 calls,
    # then stopped before it stored its checkpoint (which still says 3)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    started = _job(company).model_copy(update={"calls_expected": 7, "client_ids": ["c1", "c2"], "clients_total": 2})
    job = jobs.start(started)
    jobs.expect_calls(company, job.job_id, "c1", 40, previous=3)
    # When SQS delivers the work again, and from that checkpoint it refines the estimate to 40 again, then to 45
    jobs.expect_calls(company, job.job_id, "c1", 40, previous=3)
    assert jobs.get(company, job.job_id).calls_expected == 44  # 40 + 4, not 81
    jobs.expect_calls(company, job.job_id, "c1", 45, previous=3)
    # Then the job expects the client's last estimate once, beside the other client's, whatever the worker thought
    # the job held for it (it added 37 + 42 to the 7: 86)
    assert jobs.get(company, job.job_id).calls_expected == 49
    # And once the client is counted its figure goes (the item holds those of the clients in progress), the total stays
    jobs.client_done(company, job.job_id, "c1", 45, None, T0)
    assert not [a for a in _item(aws, tables, company, job.job_id) if a.startswith("expected#")]
    assert jobs.get(company, job.job_id).calls_expected == 49


def test_botocore_s_own_retry_of_a_report_whose_answer_timed_out_counts_once(
    tables: dict[str, str], aws, moto_url: str, jobs
) -> None:
    # Given a worker's DynamoDB client as production configures it (botocore's standard retries), and a report of
    # calls that reaches DynamoDB and is applied, then times out before its answer is read
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    client = boto3.client("dynamodb", endpoint_url=moto_url, region_name="eu-north-1", config=aws_clients._config())
    applied = []

    def applied_then_timed_out(request, **_kwargs) -> None:
        if not applied and b"callsUsed" in request.body:
            applied.append(aws("dynamodb").update_item(**json.loads(request.body)))
            raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send.dynamodb.UpdateItem", applied_then_timed_out)
    # When it reports 12 calls (botocore sends the identical request again by itself)
    DynamoDbReloadJobRepository(client, tables["JobsTable"]).add_calls(company, job.job_id, 12)
    # Then the job counts them once (24 before)
    assert len(applied) == 1
    assert jobs.get(company, job.job_id).calls_used == 12


def test_reports_of_several_workers_each_count(tables: dict[str, str], aws, jobs) -> None:
    # Given two workers (two containers: repositories of their own) reporting on one job in turn, one of them losing
    # the answer of each report
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    lossy = AnswerLost(aws("dynamodb"), "update_item", when=_adds("callsUsed"), times=10)
    first, second = DynamoDbReloadJobRepository(lossy, tables["JobsTable"]), jobs
    # When they report alternately
    for n in range(1, 6):
        first.add_calls(company, job.job_id, n)
        second.add_calls(company, job.job_id, 10 * n)
    # Then every report counts once: the other worker's write in between neither hides one nor lets one in twice
    assert lossy.lost == 5
    assert jobs.get(company, job.job_id).calls_used == 15 + 150


def test_calls_of_a_job_that_does_not_exist_are_refused(jobs) -> None:
    with pytest.raises(ClientError) as refused:
        jobs.add_calls("uku-none", "reload-none", 3)
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as refused:
        jobs.expect_calls("uku-none", "reload-none", "c1", 3, previous=0)
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_a_writer_s_token_slot_goes_when_it_counts_a_client(tables: dict[str, str], aws, jobs) -> None:
    # Given a worker that reported calls of a client (its token is on the job item)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    job = jobs.start(_job(company))
    jobs.add_calls(company, job.job_id, 4)
    jobs.add_calls(company, job.job_id, 1)
    jobs.expect_calls(company, job.job_id, "c1", 2, previous=0)
    slots = lambda: [a for a in _item(aws, tables, company, job.job_id) if a.startswith("countWrite#")]  # noqa: E731
    assert len(slots()) == 1  # one slot a writer, every report of calls used (an estimate needs none)
    # When it counts the client
    jobs.client_done(company, job.job_id, "c1", 1, None, T0)
    # Then the slot is gone with it (the item keeps no slot per finished client), and the calls are right
    assert slots() == []
    assert not [a for a in _item(aws, tables, company, job.job_id) if a.startswith("expected#")]
    done = jobs.get(company, job.job_id)
    assert (done.calls_used, done.calls_expected, done.clients_done) == (6, 2, 1)


def _item(aws, tables: dict[str, str], company: str, job_id: str) -> dict:
    return aws("dynamodb").get_item(
        TableName=tables["JobsTable"],
        Key={"pk": {"S": company_pk(company)}, "sk": {"S": f"RELOAD#{job_id}"}},
        ConsistentRead=True,
    )["Item"]


def test_the_in_memory_fake_counts_as_dynamodb_does(jobs) -> None:
    # The same reports on both repositories give the same job (unit tests rely on the fake)
    company = f"uku-{uuid.uuid4().hex[:6]}"
    fake = InMemoryReloadJobRepository()
    started = _job(company).model_copy(update={"calls_expected": 7, "client_ids": ["c1", "c2"], "clients_total": 2})
    for repository in (jobs, fake):
        job = repository.start(started)
        repository.add_calls(company, job.job_id, 5)
        repository.add_calls(company, job.job_id, 0)
        repository.expect_calls(company, job.job_id, "c1", 12, previous=3)
        repository.expect_calls(company, job.job_id, "c1", 9, previous=12)
        repository.expect_calls(company, job.job_id, "c1", 9, previous=3)  # a delivery again: once
        repository.expect_calls(company, job.job_id, "c2", 6, previous=4)
        repository.client_done(company, job.job_id, "c1", 2, None, T0)
        repository.client_done(company, job.job_id, "c1", 2, None, T0)  # counted once
        repository.add_calls(company, job.job_id, 1)
    fields = ("calls_used", "calls_expected", "clients_done", "done_clients", "status")
    ours, theirs = jobs.get(company, started.job_id), fake.get(company, started.job_id)
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert (ours.calls_used, ours.calls_expected) == (8, 15)
