"""Import work: the SQS message one client's import travels in, and which months a client imports now.

One message per client (never per month): the worker fetches each needed kind of document once for the whole range.
`reason` says who asked: the evening schedule, a catch-up after a failure, or a reload (issue 7, `jobId` set).
"""

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from smartaccounts_sync.domain.import_day import ImportDay, import_date_for, next_import
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth, tallinn_today

#: The most months one message imports (a reload's window; a longer outage catches up its last 12 months).
MAX_MONTHS_PER_IMPORT = 12


class ImportReason(StrEnum):
    SCHEDULE = "SCHEDULE"
    CATCH_UP = "CATCH_UP"
    RELOAD = "RELOAD"


class ImportWork(DeferredModel):
    """`{"kind": "IMPORT", "companyId", "clientId", "months": ["YYYY-MM", ...], "reason", "jobId"}`."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore")

    kind: Literal["IMPORT"] = "IMPORT"
    company_id: str = Field(min_length=1, max_length=128)
    client_id: str = Field(min_length=1, max_length=128)
    months: list[YearMonth] = Field(min_length=1, max_length=36)
    reason: ImportReason = ImportReason.SCHEDULE
    job_id: str | None = None
    #: A reload's estimate of this client's calls (what the job counted in its `callsExpected`), refined later.
    calls_expected: int | None = None

    @field_validator("months")
    @classmethod
    def _sorted_unique(cls, months: list[YearMonth]) -> list[YearMonth]:
        return sorted(set(months))

    def to_message(self) -> str:
        return self.model_dump_json(by_alias=True, exclude={"calls_expected"} if self.calls_expected is None else None)

    @property
    def last_month(self) -> YearMonth:
        return self.months[-1]


def first_month_for(linked_at: dt.datetime, rule: ImportDay) -> YearMonth:
    """A client's first month: the month whose import day is the first on or after the day it was linked."""
    return next_import(tallinn_today(linked_at), rule, None)[0]


def months_to_import(
    work: ImportWork,
    rule: ImportDay,
    *,
    last_imported: YearMonth | None,
    linked_at: dt.datetime,
) -> list[YearMonth]:
    """The months the worker imports for this client now, oldest first, at most `MAX_MONTHS_PER_IMPORT`.

    A reload imports exactly its months (and overwrites them). The schedule and catch-up import every month after
    the client's last imported month (or from its first month) up to the message's last month: months the client
    missed are caught up, months it already has are not imported again.
    """
    if work.reason is ImportReason.RELOAD:
        return list(work.months[-MAX_MONTHS_PER_IMPORT:])
    first = first_month_for(linked_at, rule)
    start = last_imported.next() if last_imported is not None else first
    if start > work.last_month:
        return []
    # late bookings: the month before the first new one is imported again in the same queries (it has ended; this
    # costs pages, not calls), so every month is refreshed once after its own import day
    refresh = start.minus(1)
    if last_imported is not None and refresh >= first:
        start = refresh
    return YearMonth.range(start, work.last_month)[-(MAX_MONTHS_PER_IMPORT + 1) :]


def months_to_schedule(
    today: dt.date, rule: ImportDay, next_month: YearMonth | None, latest_due: YearMonth
) -> list[YearMonth]:
    """The months a scheduled run hands to the workers of a due company: from the company's next month (never
    later than the latest due month, so a catch-up run still names it) up to the latest due month, at most 12."""
    start = latest_due if next_month is None else min(next_month, latest_due)
    start = max(start, latest_due.minus(MAX_MONTHS_PER_IMPORT - 1))
    return YearMonth.range(start, latest_due)


def keep_due(
    next_month: YearMonth | None, next_date: dt.date | None, missed: YearMonth, rule: ImportDay
) -> tuple[YearMonth, dt.date]:
    """The company's next import after a client missed `missed`: due again (its import day has passed), so the next
    run catches it up."""
    month = missed if next_month is None else min(next_month, missed)
    on = import_date_for(month, rule)
    if next_date is not None:
        on = min(on, next_date)
    return month, on


def period_of(month: YearMonth) -> tuple[dt.date, dt.date]:
    return month.first_day, month.last_day
