"""A client's monthly summary tasks and its sync history (imports: when, months, values, calls, error kind)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field, PlainSerializer

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.models import IdPath, Out
from smartaccounts_sync.domain.months import YEAR_MONTH_PATTERN, YearMonth, tallinn_today
from smartaccounts_sync.domain.sync_records import SyncHistoryEntry
from smartaccounts_sync.domain.task_record import SummaryTask
from smartaccounts_sync.errors import FieldProblem, NotFound, ValidationFailed
from smartaccounts_sync.service import summary_tasks


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


JsonNumber = Annotated[Decimal, PlainSerializer(_number, return_type=int | float)]
MonthQuery = Annotated[str | None, Query(alias="from", pattern=YEAR_MONTH_PATTERN, description="first month, YYYY-MM")]
ToQuery = Annotated[str | None, Query(pattern=YEAR_MONTH_PATTERN, description="last month, YYYY-MM")]

router = APIGatewayHttpRouter()
TAGS = ["Clients"]
DEFAULT_MONTHS = 12


class SummaryTaskOut(Out):
    month: str
    title: str
    topic_id: str
    recurrence: Literal["MONTHLY"]
    period_start: dt.date
    period_end: dt.date
    assignee_id: str | None = None
    field_values: dict[str, JsonNumber]
    values: dict[str, JsonNumber]
    computed_at: dt.datetime
    version: int
    updated_at: dt.datetime | None = None


class SummaryTasksOut(Out):
    client_id: str
    from_: str = Field(alias="from")
    to: str
    tasks: list[SummaryTaskOut]


class QueryCallsOut(Out):
    """One paged SmartAccounts query of an import: its document kind and dates, pages read and calls spent."""

    source: str
    date_from: dt.date
    date_to: dt.date
    pages: int
    calls: int
    documents: int


class SyncHistoryEntryOut(Out):
    id: str
    at: dt.datetime
    reason: str
    job_id: str | None = None
    months: list[str]
    values: dict[str, dict[str, JsonNumber]]
    tasks_changed: int
    calls_used: int
    outcome: Literal["SUCCEEDED", "FAILED", "SKIPPED", "DEFERRED"]
    error_kind: str | None = None
    message: str | None = None
    queries: list[QueryCallsOut] = []


class SyncHistoryOut(Out):
    client_id: str
    entries: list[SyncHistoryEntryOut]


def task_out(task: SummaryTask) -> SummaryTaskOut:
    return SummaryTaskOut(
        month=str(task.month),
        title=task.title,
        topic_id=task.topic_id,
        recurrence=task.recurrence,
        period_start=task.period_start,
        period_end=task.period_end,
        assignee_id=task.assignee_id,
        field_values=dict(task.field_values),
        values=dict(task.values),
        computed_at=task.computed_at,
        version=task.version,
        updated_at=task.updated_at,
    )


def history_out(entry: SyncHistoryEntry) -> SyncHistoryEntryOut:
    return SyncHistoryEntryOut(
        id=entry.id,
        at=entry.at,
        reason=entry.reason,
        job_id=entry.job_id,
        months=[str(m) for m in entry.months],
        values=entry.values,
        tasks_changed=entry.tasks_changed,
        calls_used=entry.calls_used,
        outcome=entry.outcome.value,
        error_kind=entry.error_kind,
        message=entry.message,
        queries=[QueryCallsOut.model_validate(q) for q in entry.queries],
    )


@router.get("/clients/<clientId>/summary-tasks", summary="A client's monthly summary tasks", tags=TAGS)
def get_summary_tasks(clientId: IdPath, from_: MonthQuery = None, to: ToQuery = None) -> SummaryTasksOut:
    deps = dependencies(router)
    who = caller(router)
    company_id = who.company_id
    last = YearMonth.parse(to) if to else YearMonth.of(tallinn_today(deps.now()))
    try:
        first = YearMonth.parse(from_) if from_ else last.minus(DEFAULT_MONTHS - 1)
    except ValueError:  # the twelve months before `to` would start before year 1
        raise ValidationFailed([FieldProblem("from", "is required when to is in the first year")]) from None
    tasks = summary_tasks.list_tasks(deps, company_id, clientId, first, last)
    body = SummaryTasksOut(client_id=clientId, from_=str(first), to=str(last), tasks=[task_out(t) for t in tasks])
    return body


@router.get("/clients/<clientId>/sync-history", summary="Imports of a client: months, values, calls", tags=TAGS)
def get_sync_history(clientId: IdPath) -> SyncHistoryOut:
    deps = dependencies(router)
    company_id = caller(router).company_id
    if deps.uku.get_client(company_id, clientId) is None:
        raise NotFound(f"There is no client {clientId!r} in this Uku company.")
    entries = deps.history.list(company_id, clientId)
    return SyncHistoryOut(client_id=clientId, entries=[history_out(e) for e in entries])
