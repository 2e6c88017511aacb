"""A client's paged queries, advanced page by page from a checkpoint within a worker's time budget.

The rules (`docs/monthly-import.md`, *Checkpoints*): one query per needed document kind over the whole range; after
every page the checkpoint (next page, page digest, the months' tallies, calls per query) is stored, so the import
continues exactly there after the time budget, the minute limit, the daily quota or a passing failure. Work that
waits for the daily quota is parked until the quota renews and woken then (`wake_parked`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from smartaccounts_sync.adapters.import_progress_repository import ParkedWork
from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_checkpoint import (
    DocumentCounts,
    ImportCheckpoint,
    expected_calls,
    plan_queries,
    runaway_cap,
)
from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from smartaccounts_sync.domain.statistics import MonthlyTally
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.documents import fetch_page
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError

TALLINN = ZoneInfo("Europe/Tallinn")
#: The worker stops taking pages this long before its Lambda timeout: one page in flight (read timeout 25 s), a
#: rate-guard wait (at most 90 s) and the checkpoint and hand-back fit in it.
STOP_MARGIN_SECONDS = 150.0
#: How often the checkpoint is stored while pages come in (and always with the import's last page, and at every stop).
CHECKPOINT_SECONDS = 5.0
#: How often a running client import shows its progress on its reload job (calls used, refined estimate).
PROGRESS_SECONDS = 15.0
#: Days back the quota wake-up also looks (a missed wake-up is caught up by the next one).
WAKE_LOOKBACK_DAYS = 3


@dataclass
class TimeBudget:
    """Until when (epoch seconds) this invocation takes pages; None: no limit (tests, tools)."""

    deadline: float | None = None
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_remaining_ms(cls, remaining_ms: int, clock: Callable[[], float] = time.time) -> TimeBudget:
        return cls(clock() + remaining_ms / 1000 - STOP_MARGIN_SECONDS, clock)

    def spent(self) -> bool:
        return self.deadline is not None and self.clock() >= self.deadline

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self.clock())


class BudgetSpent(Exception):
    """The time budget ended between pages: checkpointed, the rest is handed back."""


def work_key(work: ImportWork, months: list[YearMonth]) -> str:
    owner = work.job_id or work.reason.value
    return f"{owner}#{months[0]}#{months[-1]}"


def open_checkpoint(
    deps: Dependencies,
    work: ImportWork,
    months: list[YearMonth],
    sources: set[DocumentSource],
    counts: DocumentCounts | None,
    found: ImportCheckpoint | None,
) -> ImportCheckpoint:
    """The work's checkpoint as `found` (read with the client's counts: `ImportProgressRepository.
    counts_and_checkpoint`), or a fresh one (also when the months or the mapped kinds changed meanwhile)."""
    key = work_key(work, months)
    if found is not None and found.matches(months, sources):
        return found
    now = deps.now()
    expected = work.calls_expected if work.calls_expected is not None else expected_calls(months, sources, counts)
    return ImportCheckpoint(
        company_id=work.company_id,
        client_id=work.client_id,
        work_key=key,
        months=months,
        queries=plan_queries(months, sources),
        calls_expected=expected,
        started_at=now,
        updated_at=now,
    )


def advance(
    deps: Dependencies,
    sa: SmartAccountsClient,
    checkpoint: ImportCheckpoint,
    tally: MonthlyTally,
    budget: TimeBudget,
    client_name: str,
    *,
    on_progress: Callable[[], None] | None = None,
) -> None:
    """Reads the unfinished queries' pages until all are done; calls `on_progress` with a page at most every
    `PROGRESS_SECONDS` (a small client's import never does).

    The checkpoint is stored with a page at most every `CHECKPOINT_SECONDS`, and with the last page: a small
    client's import (a page a query) writes it once, before its final writes. Every stop the worker sees - its time
    budget (`BudgetSpent`), the minute limit, the daily quota, a passing failure (`SmartAccountsError`) - is
    checkpointed by the caller with every page read, so it costs no page again; only a worker that dies between
    two stores (killed, not stopped) reads the pages of those seconds again. `PAGING_STALLED` names the client and
    the query."""
    max_per_month = deps.settings.smartaccounts_max_pages
    shown = stored = time.monotonic()
    for query in checkpoint.queries:
        while not query.done:
            if budget.spent():
                raise BudgetSpent()
            before = sa.calls_made
            try:
                page = fetch_page(sa, query.source, query.date_from, query.date_to, query.next_page, query.last_digest)
            except SmartAccountsError as error:
                query.calls += sa.calls_made - before
                checkpoint.calls += sa.calls_made - before
                if error.kind is ErrorKind.PAGING_STALLED:
                    raise _named(error, client_name, query.label) from None
                raise
            spent = sa.calls_made - before
            tally.add(page.batch)
            query.read(document.date for document in page.batch.documents())
            query.calls += spent
            checkpoint.calls += spent
            query.pages += 1
            query.documents += page.count
            query.last_digest = page.digest
            query.next_page += 1
            query.done = not page.more
            checkpoint.parked_until = None  # a page was read: any wait for the quota is over
            if not query.done and query.pages >= runaway_cap(query, max_per_month):
                raise _named(
                    SmartAccountsError(
                        ErrorKind.PAGING_STALLED,
                        f"SmartAccounts paging did not end after {query.pages} pages "
                        f"({max_per_month} a month is the most this service expects).",
                    ),
                    client_name,
                    query.label,
                )
            progress = on_progress is not None and time.monotonic() - shown >= PROGRESS_SECONDS
            if progress:
                on_progress()  # before the save: the refined estimate is stored with the page
                shown = time.monotonic()
            if progress or checkpoint.finished or time.monotonic() - stored >= CHECKPOINT_SECONDS:
                save(deps, checkpoint, tally)
                stored = time.monotonic()


def save(deps: Dependencies, checkpoint: ImportCheckpoint, tally: MonthlyTally) -> None:
    checkpoint.tally = tally.as_dict()
    checkpoint.updated_at = deps.now()
    deps.progress.put_checkpoint(checkpoint)


def refine_expected(
    deps: Dependencies, work: ImportWork, checkpoint: ImportCheckpoint, counts: DocumentCounts | None
) -> None:
    """The client's calls expected = calls used + what its unfinished queries still need; the job follows (its
    figure for the client set once, however often this runs from one checkpoint: `ReloadJobRepository.expect_calls`).
    """
    estimate = checkpoint.calls + (0 if checkpoint.finished else checkpoint.remaining_calls(counts))
    previous = checkpoint.calls_expected
    checkpoint.calls_expected = estimate
    if estimate != previous and work.job_id is not None:
        deps.jobs.expect_calls(work.company_id, work.job_id, work.client_id, estimate, previous=previous)


def _named(error: SmartAccountsError, client_name: str, query: str) -> SmartAccountsError:
    return SmartAccountsError(
        error.kind,
        f"{error.message} Client {client_name}, query {query}.",
        endpoint=error.endpoint,
        status=error.status,
        reason=error.reason,
    )


# --- waiting for the daily quota ---------------------------------------------------------------------------------


def quota_renews_at(now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """The Tallinn day the quota renews (tomorrow) and its midnight."""
    renew_day = tallinn_today(now) + dt.timedelta(days=1)
    return renew_day, dt.datetime.combine(renew_day, dt.time(0), tzinfo=TALLINN).astimezone(dt.UTC)


def park(deps: Dependencies, work: ImportWork, checkpoint: ImportCheckpoint) -> dt.datetime:
    """Parks the work until the quota renews (parking it again within the same wait changes nothing); returns when
    the quota renews."""
    day, midnight = quota_renews_at(deps.now())
    deps.progress.park(ParkedWork(work.company_id, work.client_id, checkpoint.work_key, work.to_message()), day)
    return midnight


def wake_parked(deps: Dependencies, today: dt.date) -> int:
    """The quota renewed: sends every work parked until today (or a few days before). Returns how many it sent.

    Sent first, then unparked: a wake-up that fails or stops in between leaves the work parked and the next one
    sends it again, and two wake-ups at once may both send it; a work sent twice is absorbed by the import (the
    client's lease, `reload.settled`, `months_to_import`). Never the other way round: a delete applied whose answer
    was lost, or a stop after it, would leave the work neither parked nor sent."""
    woken = 0
    for back in range(WAKE_LOOKBACK_DAYS, -1, -1):
        day = today - dt.timedelta(days=back)
        for parked in deps.progress.parked(day):
            deps.work_queue.send([ImportWork.model_validate_json(parked.message)])
            deps.progress.unpark(parked, day)
            woken += 1
    logger.info("parked work woken", extra={"date": today.isoformat(), "woken": woken})
    return woken
