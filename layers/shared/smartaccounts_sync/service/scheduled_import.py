"""The evening schedule: find the companies whose import is due and enqueue one message per linked client.

Companies are found through the `ImportDueByDate` index (no scan). The company's next import is advanced right
after its messages are queued, so the schedule never hands a month out twice; a client that then fails keeps
(or makes) the company due again, and its own `last_imported_month` tells the worker what to catch up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from smartaccounts_sync.domain.import_day import latest_due_month, next_import
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork, months_to_schedule
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service.connection import credentials_failing, update_integration
from smartaccounts_sync.service.dependencies import Dependencies


@dataclass
class CompanyRun:
    company_id: str
    months: list[str] = field(default_factory=list)
    queued: int = 0
    held: int = 0
    skipped: str | None = None


@dataclass
class ScheduledRun:
    date: dt.date
    companies: list[CompanyRun] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "companies": [
                {
                    "companyId": c.company_id,
                    "months": c.months,
                    "queued": c.queued,
                    "held": c.held,
                    "skipped": c.skipped,
                }
                for c in self.companies
            ],
            "queued": sum(c.queued for c in self.companies),
        }


def _company_key_failing(record: CompanyIntegration) -> bool:
    return credentials_failing(record.connection)


class CompaniesNotScheduled(Exception):
    """Some due companies could not be scheduled; the others were. The scheduler's retry tries the rest again."""

    def __init__(self, company_ids: list[str]) -> None:
        super().__init__(f"{len(company_ids)} due companies could not be scheduled: {', '.join(company_ids)}")
        self.company_ids = company_ids


def run_scheduled_import(deps: Dependencies, today: dt.date) -> ScheduledRun:
    """Schedules every due company; one that fails does not stop the others, and the run fails at the end."""
    run = ScheduledRun(today)
    failed: list[str] = []
    for company_id in deps.integrations.companies_due(today):
        try:
            run.companies.append(schedule_company(deps, company_id, today))
        except Exception:  # noqa: BLE001 - logged and re-raised below, after the other companies
            logger.exception("company not scheduled", extra={"company_id": company_id})
            failed.append(company_id)
    logger.info(
        "scheduled import", extra={"date": today.isoformat(), "companies": len(run.companies), "failed": failed}
    )
    if failed:  # a company whose scheduling failed stays due: its next import date was not advanced
        raise CompaniesNotScheduled(failed)
    return run


def schedule_company(deps: Dependencies, company_id: str, today: dt.date) -> CompanyRun:
    result = CompanyRun(company_id)
    record = deps.integrations.get(company_id)
    if not record.enabled or record.settings is None or record.next_import_date is None:
        result.skipped = "disabled or not configured"
        return result
    if record.next_import_date > today:
        result.skipped = "not due"
        return result
    rule = record.settings.import_day
    latest = latest_due_month(today, rule)
    months = months_to_schedule(today, rule, record.next_import_month, latest)
    result.months = [str(m) for m in months]
    company_failing = _company_key_failing(record)
    works: list[ImportWork] = []
    for link in deps.links.list(company_id):
        if not link.own_credentials and (company_failing or record.credentials is None):
            result.held += 1  # no usable key: the company stays due and catches up once it is fixed
            continue
        reason = ImportReason.CATCH_UP if len(months) > 1 or months[-1] != record.next_import_month else None
        works.append(
            ImportWork(
                company_id=company_id,
                client_id=link.client_id,
                months=months,
                reason=reason or ImportReason.SCHEDULE,
            )
        )
    if not result.held:
        # Advanced before the messages leave, so a worker that fails at once can still make the company due again.
        update_integration(deps, company_id, _advance(deps, today, latest))
    try:
        deps.work_queue.send(works)
    except Exception:
        if not result.held:
            update_integration(deps, company_id, _rewind(record))
        raise
    result.queued = len(works)
    if result.held:
        logger.info("clients held: company connection failing", extra={"company_id": company_id, "held": result.held})
    return result


def _advance(
    deps: Dependencies, today: dt.date, latest: YearMonth
) -> Callable[[CompanyIntegration], CompanyIntegration]:
    def change(current: CompanyIntegration) -> CompanyIntegration:
        if current.settings is None:
            return current
        last = latest if current.last_imported_month is None else max(current.last_imported_month, latest)
        month, on = next_import(today, current.settings.import_day, last)
        return current.model_copy(
            update={
                "last_imported_month": last,  # the schedule's cursor; lastImport is shown from succeeded imports
                "next_import_month": month,
                "next_import_date": on,
            }
        )

    return change


def _rewind(before: CompanyIntegration) -> Callable[[CompanyIntegration], CompanyIntegration]:
    def change(current: CompanyIntegration) -> CompanyIntegration:
        return current.model_copy(
            update={
                "last_imported_month": before.last_imported_month,
                "next_import_month": before.next_import_month,
                "next_import_date": before.next_import_date,
            }
        )

    return change
