"""Sync history entries and company notifications: what the user reads about imports after the fact."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth

HISTORY_RETENTION = dt.timedelta(days=400)
NOTIFICATION_RETENTION = dt.timedelta(days=180)


class ImportOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # every month imported
    FAILED = "FAILED"  # nothing written; the error kind says why
    SKIPPED = "SKIPPED"  # nothing to do or not allowed now (disabled, connection failing, already imported)
    DEFERRED = "DEFERRED"  # waiting for the daily quota; the same work comes back by itself


class SyncHistoryEntry(DeferredModel):
    model_config = ConfigDict(frozen=True)

    id: str
    company_id: str
    client_id: str
    at: dt.datetime
    reason: str
    job_id: str | None = None
    months: list[YearMonth] = Field(default_factory=list)
    values: dict[str, dict[str, Decimal]] = Field(default_factory=dict)  # "YYYY-MM" -> SmartAccounts key -> value
    tasks_changed: int = 0
    calls_used: int = 0
    outcome: ImportOutcome
    error_kind: str | None = None
    message: str | None = None
    #: Calls per query: `{source, dateFrom, dateTo, pages, calls, documents}` (a client's import, all its invocations)
    queries: list[dict[str, Any]] = Field(default_factory=list)


class NotificationKind(StrEnum):
    CONNECTION_FAILING = "CONNECTION_FAILING"
    RELOAD_COMPLETED = "RELOAD_COMPLETED"
    EXPORT_FAILED = "EXPORT_FAILED"


class Notification(DeferredModel):
    model_config = ConfigDict(frozen=True)

    id: str
    company_id: str
    kind: NotificationKind
    title: str
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
