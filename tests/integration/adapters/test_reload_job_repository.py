"""Reload jobs in DynamoDB (the moto server, tables from the template) when a write is applied and its answer lost,
or a worker stops between the two writes of a job's end: the job still ends once, and the company's reload lock is
not left behind."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.reload_job_repository import DynamoDbReloadJobRepository
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
