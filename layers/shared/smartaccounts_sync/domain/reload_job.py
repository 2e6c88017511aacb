"""A Reload data job: the last 12 months of every linked client (or one client), re-imported in the background."""

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth


class ReloadStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    WAITING_FOR_QUOTA = "WAITING_FOR_QUOTA"
    COMPLETED = "COMPLETED"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (ReloadStatus.COMPLETED, ReloadStatus.COMPLETED_WITH_ERRORS, ReloadStatus.FAILED)


class ClientError(DeferredModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    message: str


class ReloadJob(DeferredModel):
    job_id: str
    company_id: str
    scope: Literal["ALL_CLIENTS", "ONE_CLIENT"]
    client_ids: list[str]
    window: list[YearMonth]
    status: ReloadStatus = ReloadStatus.QUEUED
    clients_total: int
    clients_done: int = 0
    done_clients: list[str] = Field(default_factory=list)
    errors: dict[str, ClientError] = Field(default_factory=dict)
    calls_used: int = 0
    calls_expected: int = 0  # calls used plus those still expected (previous counts, refined as pages arrive)
    estimated_finish_at: dt.datetime | None = None  # from the key's minute and daily quota (set when read)
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    resumes_at: dt.datetime | None = None

    def final_status(self) -> ReloadStatus:
        return ReloadStatus.COMPLETED_WITH_ERRORS if self.errors else ReloadStatus.COMPLETED
