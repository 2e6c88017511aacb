"""VAT types import and the daily refresh on fakes: kept per company, vanished types inactive, one failing company
does not stop the others."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from smartaccounts_sync.domain.integration import CompanyIntegration, Connection, ConnectionStatus, StoredCredentials
from smartaccounts_sync.domain.invoice_export import ExportRecord, ExportStatus, SmartAccountsInvoice
from smartaccounts_sync.domain.invoice_issued import InvoiceIssued
from smartaccounts_sync.domain.vat_types import VatRegister
from smartaccounts_sync.errors import IntegrationDisabled
from smartaccounts_sync.service import daily_refresh, vat_types
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials, ClientInvoice, VatPercentage
from smartaccounts_sync.troubleshooting import SmartAccountsProblem
from tests.support.fakes import in_memory_dependencies
from tests.support.invoices import invoice_detail

NOW = dt.datetime(2026, 11, 24, 6, tzinfo=dt.UTC)


class FakeRegister:
    def __init__(self, codes: list[str], error: SmartAccountsError | None = None) -> None:
        self.codes = codes
        self.error = error
        self.calls_made = 0

    def vat_percentages(self) -> list[VatPercentage]:
        self.calls_made += 1
        if self.error:
            raise self.error
        return [VatPercentage(vat_pc=c, pc=Decimal(24), active_sales=True) for c in self.codes]

    def unpaid_client_invoices(self, date_from: dt.date) -> list[ClientInvoice]:
        self.calls_made += 1
        return []


@pytest.fixture
def world():
    fakes: dict[str, FakeRegister] = {}
    deps = in_memory_dependencies(smartaccounts=lambda creds, company=None: fakes[creds.api_key], now=lambda: NOW)

    def company(company_id: str, codes: list[str], *, enabled: bool = True, error: SmartAccountsError | None = None):
        name = deps.secret_name(company_id)
        deps.credentials.save(name, ApiCredentials(api_key=f"key-{company_id}", api_secret="s"))
        fakes[f"key-{company_id}"] = FakeRegister(codes, error)
        deps.integrations.save(
            CompanyIntegration(
                company_id=company_id,
                enabled=enabled,
                credentials=StoredCredentials(secret_name=name, masked_key="…", saved_at=NOW),
                connection=Connection(status=ConnectionStatus.CONNECTED),
            )
        )
        return fakes[f"key-{company_id}"]

    return deps, company


def test_refresh_keeps_a_vanished_type_inactive_per_company(world) -> None:
    deps, company = world
    sa = company("co-a", ["VAT24", "VAT13"])
    company("co-b", ["VAT22"])
    vat_types.refresh(deps, "co-a")
    vat_types.refresh(deps, "co-b")
    sa.codes = ["VAT24"]

    register = vat_types.refresh(deps, "co-a")

    assert [(t.code, t.in_smartaccounts) for t in register.types] == [("VAT24", True), ("VAT13", False)]
    assert [t.code for t in vat_types.get_register(deps, "co-b").types] == ["VAT22"]
    assert register.fetched_at == NOW


def test_refresh_explains_a_smartaccounts_failure_and_refuses_a_disabled_company(world) -> None:
    deps, company = world
    company("co-a", [], error=SmartAccountsError(ErrorKind.CREDENTIALS_REVOKED, "revoked"))
    company("co-off", ["VAT24"], enabled=False)
    with pytest.raises(SmartAccountsProblem) as problem:
        vat_types.refresh(deps, "co-a")
    assert problem.value.code == "SA_CREDENTIALS_REVOKED"
    with pytest.raises(IntegrationDisabled):
        vat_types.refresh(deps, "co-off")


def test_the_daily_refresh_goes_on_after_a_failing_company(world) -> None:
    deps, company = world
    failing = company("co-a", ["VAT24"])
    healthy = company("co-b", ["VAT24"])
    vat_types.refresh(deps, "co-a")
    vat_types.refresh(deps, "co-b")
    failing.error = SmartAccountsError(ErrorKind.UNAVAILABLE, "down")
    healthy.codes = ["VAT24", "VAT9"]

    result = daily_refresh.run_daily_refresh(deps)

    assert result.companies == 2 and result.vat_registers == 1
    assert result.failures == {"co-a": "UNAVAILABLE"}
    assert [t.code for t in vat_types.get_register(deps, "co-b").types] == ["VAT24", "VAT9"]
    assert result.calls_used == {"co-b": 0}  # no exported invoice awaits payment: no invoice query at all


def test_the_daily_refresh_logs_one_line_per_company_naming_it_and_its_outcome(world, caplog) -> None:
    """docs/operations.md (DailyRefreshFunctionErrorsAlarm): the log has one line per company with its outcome."""
    deps, company = world
    company("co-a", ["VAT24"]).error = SmartAccountsError(ErrorKind.UNAVAILABLE, "down")
    company("co-b", ["VAT24"])
    company("co-off", ["VAT24"], enabled=False)
    for company_id in ("co-a", "co-b", "co-off"):
        deps.vat_types.save(VatRegister(company_id=company_id))
    invoice = InvoiceIssued.model_validate(invoice_detail("co-b", invoiceId="inv-1"))
    deps.exports.save(
        ExportRecord(
            company_id="co-b", invoice_id="inv-1", number=invoice.number, kind=invoice.kind,
            status=ExportStatus.EXPORTED, smartaccounts=SmartAccountsInvoice(invoice_id="sa-1"), invoice=invoice,
            created_at=NOW, updated_at=NOW,
        )
    )
    caplog.set_level(logging.INFO)

    daily_refresh.run_daily_refresh(deps)

    lines = {
        r.company_id: (r.outcome, getattr(r, "reason", None) or getattr(r, "error", None))
        for r in caplog.records
        if r.getMessage() == "daily refresh of a company"
    }
    assert lines == {"co-a": ("failed", "UNAVAILABLE"), "co-b": ("refreshed", None), "co-off": ("skipped", "disabled")}
    payment = [r for r in caplog.records if r.getMessage() == "payment status refreshed"]
    assert [getattr(r, "company_id", None) for r in payment] == ["co-b"]
