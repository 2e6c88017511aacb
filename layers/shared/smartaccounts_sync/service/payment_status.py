"""Paid status SmartAccounts -> Uku: for each company, one paged query of its unpaid sales invoices
(`paymentStatus=unpaid`, from the oldest invoice still awaiting payment), never one call per invoice.

An exported invoice that is in that list is UNPAID or PARTLY_PAID with the outstanding amount SmartAccounts shows;
one that left the list was paid in full (PAID, nothing outstanding). A change is recorded on the export record
(with when it changed) and published as `InvoicePaymentStatusChanged`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from smartaccounts_sync.domain.invoice_export import ExportRecord, PaymentStatus, next_payment_state, payment_status
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service import vat_types
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.invoice_export import INVOICE_PAYMENT_STATUS_CHANGED, payment_detail
from smartaccounts_sync.service.notifications import publish
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.troubleshooting import SmartAccountsProblem


@dataclass
class PaymentRun:
    company_id: str
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    calls_used: int = 0


def refresh_company(deps: Dependencies, company_id: str) -> PaymentRun:
    """Updates the payment state of the company's exported invoices that are not yet paid."""
    run = PaymentRun(company_id)
    awaiting = [r for r in deps.exports.exported(company_id) if r.awaiting_payment and r.invoice is not None]
    if not awaiting:
        return run
    client = vat_types.company_client(deps, company_id)
    since = min(r.invoice.issue_date for r in awaiting if r.invoice is not None)
    unpaid = {invoice.id: invoice for invoice in client.unpaid_client_invoices(since)}
    run.calls_used = client.calls_made
    now = deps.now()
    for record in awaiting:
        assert record.smartaccounts is not None and record.invoice is not None  # noqa: S101 - EXPORTED
        found = unpaid.get(record.smartaccounts.invoice_id)
        gross = found.total_amount if found else record.invoice.totals.gross
        outstanding = (found.outstanding_amount or Decimal(0)) if found else Decimal(0)
        status = payment_status(gross, outstanding)
        run.checked += 1
        previous = record.payment.status if record.payment else None
        state, changed = next_payment_state(record.payment, status, outstanding, now)
        if _save_payment(deps, record, state) and changed:
            run.changed.append(record.invoice_id)
            publish(
                deps,
                INVOICE_PAYMENT_STATUS_CHANGED,
                payment_detail(record.model_copy(update={"payment": state}), previous),
            )
    logger.info(
        "payment status refreshed",
        extra={"company_id": company_id, "checked": run.checked, "changed": len(run.changed)},
    )
    return run


def _save_payment(deps: Dependencies, record: ExportRecord, state) -> bool:
    try:
        deps.exports.save(record.model_copy(update={"payment": state}))
        return True
    except Conflict:
        logger.info("export record changed meanwhile; payment state checked again on the next run")
        return False


def refresh_on_demand(deps: Dependencies, company_id: str) -> PaymentRun:
    try:
        return refresh_company(deps, company_id)
    except SmartAccountsError as error:
        raise SmartAccountsProblem(error) from None


__all__ = ["PaymentRun", "PaymentStatus", "refresh_company", "refresh_on_demand"]
