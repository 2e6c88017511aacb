"""How many pages a client's paged query is expected to need, as its pages come in: the reload's estimate."""

from __future__ import annotations

import datetime as dt

from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint, QueryProgress, plan_queries
from smartaccounts_sync.domain.months import YearMonth

WINDOW = YearMonth.range(YearMonth(2025, 1), YearMonth(2025, 12))  # 365 days
NOW = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def query(pages: int = 0, reached: dt.date | None = None, done: bool = False) -> QueryProgress:
    return QueryProgress(
        source=DocumentSource.CLIENT_INVOICES,
        date_from=dt.date(2025, 1, 1),
        date_to=dt.date(2025, 12, 31),
        pages=pages,
        next_page=pages + 1,
        reached=reached,
        done=done,
    )


def test_before_any_page_the_previous_import_decides() -> None:
    assert query().expected_pages(counted=7) == 7


def test_pages_that_reached_a_fifth_of_the_window_extrapolate_to_five_times_as_many() -> None:
    assert query(pages=2, reached=dt.date(2025, 3, 14)).expected_pages(counted=1) == 10  # 73 of 365 days


def test_an_answer_not_in_date_order_still_expects_at_least_one_more_page() -> None:
    assert query(pages=3, reached=dt.date(2025, 12, 30)).expected_pages(counted=1) == 4


def test_a_finished_query_expects_exactly_the_pages_it_read() -> None:
    assert query(pages=3, reached=dt.date(2025, 12, 31), done=True).expected_pages(counted=9) == 3


def test_read_keeps_the_latest_date_seen() -> None:
    q = query()
    q.read([dt.date(2025, 2, 1), dt.date(2025, 1, 15)])
    q.read([])
    q.read([dt.date(2025, 1, 20)])
    assert q.reached == dt.date(2025, 2, 1)


def checkpoint(queries: list[QueryProgress]) -> ImportCheckpoint:
    return ImportCheckpoint(
        company_id="c", client_id="k", work_key="w", months=WINDOW, queries=queries, started_at=NOW, updated_at=NOW
    )


def test_a_first_import_expects_queries_not_started_to_be_as_large_as_the_started_ones() -> None:
    queries = plan_queries(WINDOW, [DocumentSource.CLIENT_INVOICES, DocumentSource.PAYMENTS])
    queries[0].pages, queries[0].next_page, queries[0].reached = 2, 3, dt.date(2025, 3, 14)  # 10 expected
    assert checkpoint(queries).remaining_calls(None) == 8 + 10


def test_a_known_client_keeps_its_counts_for_queries_not_started() -> None:
    queries = plan_queries(WINDOW, [DocumentSource.CLIENT_INVOICES, DocumentSource.PAYMENTS])
    queries[0].pages, queries[0].next_page, queries[0].reached = 2, 3, dt.date(2025, 3, 14)
    counts = DocumentCounts(per_month={DocumentSource.CLIENT_INVOICES: 50.0, DocumentSource.PAYMENTS: 25.0})
    assert checkpoint(queries).remaining_calls(counts) == 8 + 3  # payments: 300 documents, 3 pages
