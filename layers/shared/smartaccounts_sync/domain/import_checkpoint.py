"""A client import's checkpoint: where its paged queries stand and what has been counted so far.

A client's import is a short list of queries, one per needed document kind over the whole range (the theoretical
minimum of calls; no query is ever split, because a query of any size is resumable page by page). After every page
the worker stores the query's next page, a digest of the page it just read (a repeated page means a broken API) and
the months' tallies (`MonthlyTally`), so a worker stopped for its time budget, the minute limit, the daily quota or a
passing failure continues later exactly there: nothing fetched is fetched again except the one page in flight.

The planning figures (`DocumentCounts`, calls expected) come from what the previous import of the client counted.
"""

import datetime as dt
import math
from collections.abc import Iterable

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth

PAGE_SIZE = 100  # SmartAccounts' page size (facts: 100 entries a page)

#: Order of the queries (and of `DocumentSource` names in stored items).
SOURCE_ORDER = (
    DocumentSource.CLIENT_INVOICES,
    DocumentSource.VENDOR_INVOICES,
    DocumentSource.PAYMENTS,
    DocumentSource.JOURNAL_ENTRIES,
)


class QueryProgress(DeferredModel):
    """One paged query: the documents of `source` dated `date_from`..`date_to`."""

    model_config = ConfigDict(extra="ignore")

    source: DocumentSource
    date_from: dt.date
    date_to: dt.date
    next_page: int = 1
    pages: int = 0
    calls: int = 0  # SmartAccounts requests spent on this query, retries included
    documents: int = 0
    done: bool = False
    last_digest: str | None = None  # digest of the ids of the last page read
    reached: dt.date | None = None  # the latest document date read so far

    @property
    def label(self) -> str:
        return f"{self.source.value} {self.date_from.isoformat()}..{self.date_to.isoformat()}"

    def read(self, dates: Iterable[dt.date]) -> None:
        """Notes how far into its date range the pages read so far reach."""
        latest = max(dates, default=None)
        if latest is not None and (self.reached is None or latest > self.reached):
            self.reached = latest

    def expected_pages(self, counted: int) -> int:
        """Pages the whole query is expected to need. `counted`: the estimate from the client's previous import (1
        when never imported). Once pages have been read, the share of the date range they reached is extrapolated:
        SmartAccounts pages a query in date order (as the sandbox does; not confirmed for the real API, where an
        unordered answer reaches the range's end early and this falls back to one more page at least)."""
        if self.pages == 0 or self.reached is None:
            return counted
        days = (self.date_to - self.date_from).days + 1
        covered = min(days, max(1, (self.reached - self.date_from).days + 1))
        return max(self.pages + (0 if self.done else 1), math.ceil(self.pages * days / covered))


class ImportCheckpoint(DeferredModel):
    """A client's import in progress (`work_key` names the work it belongs to: the reload job or the schedule)."""

    model_config = ConfigDict(extra="ignore")

    company_id: str
    client_id: str
    work_key: str
    months: list[YearMonth]
    queries: list[QueryProgress]
    tally: dict[str, dict[str, str]] = Field(default_factory=dict)
    calls: int = 0
    calls_expected: int = 0
    started_at: dt.datetime
    updated_at: dt.datetime
    parked_until: dt.datetime | None = None  # waiting for the daily quota (one DEFERRED entry per wait)
    #: a reload's import ended with its history entry; its job is yet to count the client, with these calls
    recorded_calls: int | None = None

    @property
    def finished(self) -> bool:
        return all(q.done for q in self.queries)

    def matches(self, months: list[YearMonth], sources: Iterable[DocumentSource]) -> bool:
        """The checkpoint is for the same months and document kinds (a mapping change starts afresh)."""
        return self.months == months and [q.source for q in self.queries] == plan_sources(sources)

    def remaining_calls(self, counts: "DocumentCounts | None") -> int:
        """Calls still expected: unfinished queries' expected pages minus those read, at least one each.

        For a client never imported (no `counts`), a query not started yet is expected to be as large as the
        started ones on average: a first guess that each query corrects as soon as it reads its first page."""
        started = [q.expected_pages(1) for q in self.queries if q.pages and q.reached is not None]
        guess = math.ceil(sum(started) / len(started)) if started else 1
        left = 0
        for q in self.queries:
            if q.done:
                continue
            expected = q.expected_pages(counts.pages(q.source, self.months) if counts else guess)
            left += max(1, expected - q.pages)
        return left


class DocumentCounts(DeferredModel):
    """What a client's last completed import counted: documents per month on average, per kind."""

    model_config = ConfigDict(extra="ignore")

    per_month: dict[DocumentSource, float] = Field(default_factory=dict)
    counted_at: dt.datetime | None = None

    def pages(self, source: DocumentSource, months: list[YearMonth]) -> int:
        """Pages (calls) one query over `months` is expected to need: at least one (an empty answer is a page)."""
        documents = self.per_month.get(source, 0.0) * len(months)
        return max(1, math.ceil(documents / PAGE_SIZE))

    @classmethod
    def of(cls, checkpoint: ImportCheckpoint, now: dt.datetime) -> "DocumentCounts":
        months = max(1, len(checkpoint.months))
        return cls(per_month={q.source: q.documents / months for q in checkpoint.queries}, counted_at=now)


def plan_sources(sources: Iterable[DocumentSource]) -> list[DocumentSource]:
    needed = set(sources)
    return [s for s in SOURCE_ORDER if s in needed]


def plan_queries(months: list[YearMonth], sources: Iterable[DocumentSource]) -> list[QueryProgress]:
    """One query per needed kind over the whole range, oldest month's first day to the newest's last day."""
    return [
        QueryProgress(source=s, date_from=months[0].first_day, date_to=months[-1].last_day)
        for s in plan_sources(sources)
    ]


def expected_calls(months: list[YearMonth], sources: Iterable[DocumentSource], counts: DocumentCounts | None) -> int:
    """Calls a fresh import of these months is expected to need (one per query when nothing is known yet)."""
    return sum(counts.pages(s, months) if counts else 1 for s in plan_sources(sources))


def runaway_cap(query: QueryProgress, max_pages_per_month: int) -> int:
    """Pages after which a query counts as a broken API (`PAGING_STALLED`): `max_pages_per_month` for every month
    it covers, so legitimately large data never hits it (200 a month = 20,000 documents of one kind a month)."""
    months = (query.date_to.year - query.date_from.year) * 12 + query.date_to.month - query.date_from.month + 1
    return max_pages_per_month * max(1, months)
