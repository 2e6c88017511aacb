"""Invoice export: the export record of an Uku invoice (status, SmartAccounts ids, totals check, paid status) and a
retry once the cause of a skip or failure is fixed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import PlainSerializer

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.contract import problems
from smartaccounts_sync.api.models import IdPath, Out
from smartaccounts_sync.domain.invoice_export import Amounts, ExportRecord
from smartaccounts_sync.service import invoice_export, payment_status

router = APIGatewayHttpRouter()
TAGS = ["Invoices"]

Money = Annotated[Decimal, PlainSerializer(lambda v: float(v), return_type=float)]


class AmountsOut(Out):
    net: Money | None = None
    vat: Money | None = None
    gross: Money | None = None


class TotalsCheckOut(Out):
    matches: bool
    uku: AmountsOut
    smart_accounts: AmountsOut


class SmartAccountsInvoiceOut(Out):
    invoice_id: str
    invoice_number: str | None = None
    number: str | None = None
    client_id: str | None = None


class PaymentOut(Out):
    status: Literal["UNPAID", "PARTLY_PAID", "PAID"]
    outstanding_amount: Money
    changed_at: dt.datetime
    checked_at: dt.datetime


class InvoiceExportOut(Out):
    invoice_id: str
    number: str | None = None
    kind: Literal["invoice", "credit"] | None = None
    status: Literal["PENDING", "EXPORTED", "SKIPPED", "FAILED"]
    reason: str | None = None
    message: str | None = None
    smart_accounts_messages: list[str]
    smart_accounts: SmartAccountsInvoiceOut | None = None
    reconciled: bool
    totals: TotalsCheckOut | None = None
    payment: PaymentOut | None = None
    warnings: list[str]
    attempts: int
    created_at: dt.datetime
    updated_at: dt.datetime
    exported_at: dt.datetime | None = None


def _amounts(a: Amounts) -> AmountsOut:
    return AmountsOut(net=a.net, vat=a.vat, gross=a.gross)


def export_out(record: ExportRecord) -> InvoiceExportOut:
    sa = record.smartaccounts
    return InvoiceExportOut(
        invoice_id=record.invoice_id,
        number=record.number,
        kind=record.kind.value if record.kind else None,
        status=record.status.value,
        reason=record.reason,
        message=record.message,
        smart_accounts_messages=record.smartaccounts_messages,
        smart_accounts=SmartAccountsInvoiceOut(
            invoice_id=sa.invoice_id, invoice_number=sa.invoice_number, number=sa.number, client_id=sa.client_id
        )
        if sa
        else None,
        reconciled=record.reconciled,
        totals=TotalsCheckOut(
            matches=record.totals.matches,
            uku=_amounts(record.totals.uku),
            smart_accounts=_amounts(record.totals.smartaccounts),
        )
        if record.totals
        else None,
        payment=PaymentOut(
            status=record.payment.status.value,
            outstanding_amount=record.payment.outstanding,
            changed_at=record.payment.changed_at,
            checked_at=record.payment.checked_at,
        )
        if record.payment
        else None,
        warnings=record.warnings,
        attempts=record.attempts,
        created_at=record.created_at,
        updated_at=record.updated_at,
        exported_at=record.exported_at,
    )


RefreshPayment = Annotated[
    bool,
    Query(
        alias="refreshPayment",
        description="first fetch the paid status of the company's unpaid exported invoices from SmartAccounts "
        "(one paged query for the whole company)",
    ),
]


@router.get(
    "/invoices/<invoiceId>/export",
    summary="Export record of an Uku invoice",
    tags=TAGS,
    openapi_extensions=problems(409, 422, 429, 502),  # refreshPayment calls SmartAccounts with the company's key
)
def get_invoice_export(invoiceId: IdPath, refresh_payment: RefreshPayment = False) -> InvoiceExportOut:
    who = caller(router)
    deps = dependencies(router)
    record = invoice_export.get_record(deps, who.company_id, invoiceId)
    if refresh_payment and record.awaiting_payment:
        payment_status.refresh_on_demand(deps, who.company_id)
        record = invoice_export.get_record(deps, who.company_id, invoiceId)
    return export_out(record)


@router.post(
    "/invoices/<invoiceId>/export/retry",
    summary="Export a skipped or failed invoice again",
    tags=TAGS,
    status_code=202,
)
def retry_invoice_export(invoiceId: IdPath) -> Response[InvoiceExportOut]:
    who = caller(router, manage=True)
    record = invoice_export.retry(dependencies(router), who.company_id, invoiceId)
    return Response(
        status_code=202,
        content_type="application/json",
        body=export_out(record),
        headers={"Location": f"/v1/invoices/{invoiceId}/export"},
    )
