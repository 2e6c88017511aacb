"""Troubleshooting results: one check (passes, fails or is skipped, with the fix) and a report of a whole run.

A report is kept per company so that members, who may not spend the company's SmartAccounts quota on a live
check, can see the result of the last check an owner or admin ran.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ConfigDict

from smartaccounts_sync.domain.model import DeferredModel


class CheckStatus(StrEnum):
    PASS = "PASS"  # noqa: S105 - a check result, not a password
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    status: CheckStatus
    detail: str
    fix: str | None = None
    error_kind: str | None = None


class DiagnosticsReport(DeferredModel):
    model_config = ConfigDict(frozen=True)

    company_id: str
    checks: list[Check]
    #: when the live checks ran; None when they never ran (a member's view before any manager's check)
    checked_at: dt.datetime | None = None
    #: True when this answer ran the live checks now; False for the stored result or the offline checks
    live: bool = False

    @property
    def passed(self) -> bool:
        return all(c.status is not CheckStatus.FAIL for c in self.checks)
