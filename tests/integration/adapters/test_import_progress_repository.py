"""Resumable-import state in DynamoDB (the moto server, tables from the template): checkpoints, the lease per
client, document counts and parked work woken once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.import_progress_repository import DynamoDbImportProgressRepository, ParkedWork
from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint, plan_queries
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import DocumentBatch, MonthlyTally, SalesDocument

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


def test_parked_work_is_taken_once(progress) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    day = dt.date(2026, 11, 2)
    work = ParkedWork(company, "client-1", "job-1#2025-11#2026-10", '{"kind":"IMPORT"}')
    assert progress.park(work, day)
    assert not progress.park(work, day)  # the same wait: parked once
    assert work in progress.parked(day)
    assert progress.unpark(work, day)
    assert not progress.unpark(work, day)  # a second wake-up finds it gone
    assert work not in progress.parked(day)


def test_counts_round_trip(progress) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    counts = DocumentCounts(per_month={DocumentSource.PAYMENTS: 3250.5}, counted_at=T0)
    progress.put_counts(company, "client-1", counts)
    assert progress.get_counts(company, "client-1") == counts
    assert progress.get_counts(company, "client-2") is None
