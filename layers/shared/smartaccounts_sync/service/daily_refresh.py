"""The daily run of the invoice flow: per company, the VAT register again and the paid status of exported invoices.

Companies are found through their imported VAT register (every company whose credentials were saved has one);
one company's failure is recorded in the run's result and does not stop the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


def run_daily_refresh(deps: Dependencies) -> DailyRefresh:
    result = DailyRefresh()
    for company_id in deps.vat_types.companies():
        result.companies += 1
        try:
            record = deps.integrations.get(company_id)
            if not record.enabled or record.credentials is None or credentials_failing(record.connection):
                continue  # nothing to refresh with; the failing connection is already reported
            with deps.serve(company_id):
                vat_types.import_register(deps, company_id, vat_types.company_client(deps, company_id))
                result.vat_registers += 1
                run = payment_status.refresh_company(deps, company_id)
            result.invoices_checked += run.checked
            result.payment_changes += len(run.changed)
            result.calls_used[company_id] = run.calls_used
        except (SmartAccountsError, ServiceError) as error:
            result.failures[company_id] = getattr(error, "kind", None) or type(error).__name__
            logger.warning("daily refresh of a company failed", extra={"error": result.failures[company_id]})
    return result
