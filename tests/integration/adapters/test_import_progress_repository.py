"""Resumable-import state in DynamoDB (the moto server, tables from the template): checkpoints, the lease per
client, document counts and parked work woken once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.import_progress_repository import DynamoDbImportProgressRepository, ParkedWork
from smartaccounts_sync.adapters.transact import transact
from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint, plan_queries
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import DocumentBatch, MonthlyTally, SalesDocument
from smartaccounts_sync.service.resumable_import import wake_parked
from tests.support.fakes import in_memory_dependencies
from tests.support.lost_answers import AnswerLost

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
MONTHS = YearMonth.range(YearMonth(2026, 1), YearMonth(2026, 3))


@pytest.fixture
def progress(tables: dict[str, str], aws) -> DynamoDbImportProgressRepository:
    return DynamoDbImportProgressRepository(aws("dynamodb"), tables["JobsTable"])


def test_a_checkpoint_round_trips_with_its_tallies(progress: DynamoDbImportProgressRepository) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    tally = MonthlyTally(MONTHS)
    tally.add(DocumentBatch(sales=[SalesDocument(id="1", date=dt.date(2026, 2, 3), net_amount="10.005")]))
    checkpoint = ImportCheckpoint(
        company_id=company,
        client_id="client-1",
        work_key="job-1#2026-01#2026-03",
        months=MONTHS,
        queries=plan_queries(MONTHS, {DocumentSource.CLIENT_INVOICES}),
        tally=tally.as_dict(),
        started_at=T0,
        updated_at=T0,
    )
    checkpoint.queries[0].next_page = 7
    progress.put_checkpoint(checkpoint)
    read = progress.get_checkpoint(company, "client-1", "job-1#2026-01#2026-03")
    assert read == checkpoint
    values = MonthlyTally.from_dict(MONTHS, read.tally).values(["salesTotal", "saleEntries"])
    assert values[YearMonth(2026, 2)] == {
        "salesTotal": tally.values(["salesTotal"])[YearMonth(2026, 2)]["salesTotal"],
        "saleEntries": 1,
    }
    progress.delete_checkpoint(company, "client-1", "job-1#2026-01#2026-03")
    assert progress.get_checkpoint(company, "client-1", "job-1#2026-01#2026-03") is None


def test_a_client_lease_is_held_by_one_worker_until_released_or_expired(progress) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    until = T0 + dt.timedelta(minutes=16)
    assert progress.acquire_lease(company, "client-1", "worker-a", until, T0)
    assert not progress.acquire_lease(company, "client-1", "worker-b", until, T0 + dt.timedelta(minutes=1))
    progress.release_lease(company, "client-1", "worker-b")  # not the holder: nothing happens
    assert not progress.acquire_lease(company, "client-1", "worker-b", until, T0 + dt.timedelta(minutes=2))
    assert progress.acquire_lease(company, "client-1", "worker-b", until, T0 + dt.timedelta(minutes=17))  # expired
    progress.release_lease(company, "client-1", "worker-b")
    assert progress.acquire_lease(company, "client-1", "worker-a", until, T0 + dt.timedelta(minutes=3))


def test_parked_work_is_parked_once_and_unparked_by_a_delete_that_may_be_sent_again(progress) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    day = dt.date(2026, 11, 2)
    work = ParkedWork(company, "client-1", "job-1#2025-11#2026-10", '{"kind":"IMPORT"}')
    # parked by a put whose answer was lost (botocore sends it again), then by the next delivery in the same wait
    lost = AnswerLost(progress._ddb, "put_item")
    DynamoDbImportProgressRepository(lost, progress._table).park(work, day)
    progress.park(work, day)
    assert lost.lost == 1
    assert progress.parked(day) == [work]  # parked once
    progress.unpark(work, day)
    progress.unpark(work, day)  # a second wake-up's delete (or botocore's retry) finds it gone: nothing happens
    assert work not in progress.parked(day)


def test_a_reload_s_finishing_writes_keep_its_checkpoint_marked_recorded(progress) -> None:
    # Given a reload client's import holding its lease, every page read
    company = f"uku-{uuid.uuid4().hex[:6]}"
    checkpoint = ImportCheckpoint(
        company_id=company, client_id="client-1", work_key="job-1#2026-01#2026-03", months=MONTHS,
        queries=plan_queries(MONTHS, {DocumentSource.CLIENT_INVOICES}), calls=7, started_at=T0, updated_at=T0,
    )
    progress.put_checkpoint(checkpoint)
    assert progress.acquire_lease(company, "client-1", "worker-1", T0 + dt.timedelta(hours=1), T0)
    counts = DocumentCounts(per_month={DocumentSource.CLIENT_INVOICES: 4.0}, counted_at=T0)
    # When its finishing writes keep the checkpoint marked recorded (until the job counted the client)
    recorded = checkpoint.model_copy(update={"recorded_calls": 3})
    parts = progress.finished_writes(
        company, "client-1", checkpoint.work_key, counts, lease_owner="worker-1", keep=recorded
    )
    assert transact(progress._ddb, [write.part for write in parts])
    # Then the counts are stored, the lease ended and the checkpoint reads back recorded, with the calls to count
    assert progress.counts_and_checkpoint(company, "client-1", checkpoint.work_key) == (counts, recorded)
    assert progress.acquire_lease(company, "client-1", "worker-2", T0 + dt.timedelta(hours=1), T0)


def parked_reload(company: str, client_id: str) -> ParkedWork:
    work = ImportWork(
        company_id=company, client_id=client_id, months=MONTHS, reason=ImportReason.RELOAD, job_id="job-1"
    )
    return ParkedWork(company, client_id, f"job-1#{MONTHS[0]}#{MONTHS[-1]}", work.to_message())


def test_parked_work_whose_delete_was_applied_with_its_answer_lost_is_still_sent(progress) -> None:
    # Given two works parked until today
    company = f"uku-{uuid.uuid4().hex[:6]}"
    day = dt.date(2026, 11, 2)
    for client_id in ("client-1", "client-2"):
        progress.park(parked_reload(company, client_id), day)
    # When the wake-up's first delete is applied, its answer lost and botocore sends it again
    lost = AnswerLost(progress._ddb, "delete_item")
    deps = in_memory_dependencies(progress=DynamoDbImportProgressRepository(lost, progress._table))
    woken = wake_parked(deps, day)
    # Then both works are sent (the retry finding it gone did not make the wake-up skip one) and none is left parked
    assert lost.lost == 1
    assert woken == 2
    assert sorted(work.client_id for work in deps.work_queue.sent) == ["client-1", "client-2"]
    assert progress.parked(day) == []


class LambdaStopped(BaseException):
    """The Lambda's time ran out (or its container died) here: no `except Exception` of the function runs."""


def stops_once(call):
    """`call`, except that its first use stops the Lambda before it is made."""
    stopped: list[bool] = []

    def stopping(*args, **kwargs):
        if not stopped:
            stopped.append(True)
            raise LambdaStopped()
        return call(*args, **kwargs)

    return stopping


class StopsOnceAt:
    """A boto3 client whose first `operation` stops the Lambda before it is made."""

    def __init__(self, client, operation: str) -> None:
        self._client, self._operation = client, operation
        self._stop = stops_once(lambda: None)

    def __getattr__(self, name: str):
        if name == self._operation:
            self._stop()
        return getattr(self._client, name)


@pytest.mark.parametrize("stops_at", ["sending", "deleting"])
def test_a_wake_up_that_stops_between_its_writes_is_run_again_and_loses_nothing(progress, stops_at: str) -> None:
    # Given work parked until today
    company = f"uku-{uuid.uuid4().hex[:6]}"
    day = dt.date(2026, 11, 2)
    progress.park(parked_reload(company, "client-1"), day)
    deps = in_memory_dependencies(progress=progress)
    # When the wake-up stops as it sends the work, or as it deletes the parked item, and is run again
    if stops_at == "sending":
        deps.work_queue.send = stops_once(deps.work_queue.send)
    else:
        deps.progress = DynamoDbImportProgressRepository(StopsOnceAt(progress._ddb, "delete_item"), progress._table)
    with pytest.raises(LambdaStopped):
        wake_parked(deps, day)
    wake_parked(deps, day)
    # Then the work was sent (twice at worst: a duplicate the import absorbs) and is parked no more
    assert [work.client_id for work in deps.work_queue.sent] in (["client-1"], ["client-1", "client-1"])
    assert progress.parked(day) == []


def test_two_wake_ups_at_once_send_every_parked_work_at_least_once_and_at_most_twice(progress) -> None:
    # Given three works parked until today
    company = f"uku-{uuid.uuid4().hex[:6]}"
    day = dt.date(2026, 11, 2)
    for client_id in ("client-1", "client-2", "client-3"):
        progress.park(parked_reload(company, client_id), day)
    # When a second wake-up runs while the first sends its first work (both read the parked works before either
    # deleted one)
    first = in_memory_dependencies(progress=progress)
    second = in_memory_dependencies(progress=progress)
    send = first.work_queue.send
    woken_by_second: list[int] = []

    def send_while_the_second_runs(works) -> None:
        if not woken_by_second:
            woken_by_second.append(wake_parked(second, day))
        send(works)

    first.work_queue.send = send_while_the_second_runs
    woken_by_first = wake_parked(first, day)
    # Then every work was sent, none more than twice, each wake-up counted what it sent, and none is left parked
    sent = [work.client_id for work in first.work_queue.sent + second.work_queue.sent]
    assert set(sent) == {"client-1", "client-2", "client-3"}
    assert all(sent.count(client_id) <= 2 for client_id in set(sent))
    assert (woken_by_first, woken_by_second) == (len(first.work_queue.sent), [len(second.work_queue.sent)])
    assert progress.parked(day) == []


def test_counts_round_trip(progress) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    counts = DocumentCounts(per_month={DocumentSource.PAYMENTS: 3250.5}, counted_at=T0)
    progress.put_counts(company, "client-1", counts)
    assert progress.get_counts(company, "client-1") == counts
    assert progress.get_counts(company, "client-2") is None
