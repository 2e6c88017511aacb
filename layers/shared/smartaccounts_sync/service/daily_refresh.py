"""The daily run of the invoice flow: per company, the VAT register again and the paid status of exported invoices.

Companies are found through their imported VAT register (every company whose credentials were saved has one);
one company's failure is recorded in the run's result and does not stop the others. Each company gets one log line,
"daily refresh of a company", with its `company_id` and `outcome`: `refreshed`, `skipped` (with the `reason`) or
`failed` (with the `error` kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service import payment_status, vat_types
from smartaccounts_sync.service.connection import credentials_failing
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError


@dataclass
class DailyRefresh:
    companies: int = 0
    vat_registers: int = 0
    invoices_checked: int = 0
    payment_changes: int = 0
    calls_used: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "companies": self.companies,
            "vatRegisters": self.vat_registers,
            "invoicesChecked": self.invoices_checked,
            "paymentChanges": self.payment_changes,
            "paymentCallsUsed": self.calls_used,
            "failures": self.failures,
        }


LINE = "daily refresh of a company"


def run_daily_refresh(deps: Dependencies) -> DailyRefresh:
    result = DailyRefresh()
    for company_id in deps.vat_types.companies():
        result.companies += 1
        try:
            record = deps.integrations.get(company_id)
            skipped = _nothing_to_refresh_with(record)
            if skipped:  # the failing connection is already reported
                logger.info(LINE, extra={"company_id": company_id, "outcome": "skipped", "reason": skipped})
                continue
            with deps.serve(company_id):
                vat_types.import_register(deps, company_id, vat_types.company_client(deps, company_id))
                result.vat_registers += 1
                run = payment_status.refresh_company(deps, company_id)
            result.invoices_checked += run.checked
            result.payment_changes += len(run.changed)
            result.calls_used[company_id] = run.calls_used
            logger.info(
                LINE,
                extra={
                    "company_id": company_id,
                    "outcome": "refreshed",
                    "invoices_checked": run.checked,
                    "payment_changes": len(run.changed),
                },
            )
        except (SmartAccountsError, ServiceError) as error:
            result.failures[company_id] = getattr(error, "kind", None) or type(error).__name__
            logger.warning(
                LINE, extra={"company_id": company_id, "outcome": "failed", "error": result.failures[company_id]}
            )
    return result


def _nothing_to_refresh_with(record: CompanyIntegration) -> str | None:
    if not record.enabled:
        return "disabled"
    if record.credentials is None:
        return "not connected"
    if credentials_failing(record.connection):
        return "connection failing"
    return None
