"""Explicit conversions from SmartAccounts wire documents to the domain's statistics documents, and the fetch.

`fetch_documents` runs one paged query per needed kind of document over the whole range: a field left blank costs
no call for its kind. Dates from SmartAccounts are calendar dates in Estonia already (no time zone to convert).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.statistics import (
    DocumentBatch,
    LedgerDocument,
    PaymentDocument,
    PurchaseDocument,
    SalesDocument,
)
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ClientInvoice, JournalEntry, Payment, VendorInvoice

ZERO = Decimal(0)

#: Journal entry document types that come from invoices and payments (counted by their own fields).
INVOICE_DOC_TYPES = frozenset({"CLIENT_INVOICE", "VENDOR_INVOICE", "INVOICE"})
PAYMENT_DOC_TYPES = frozenset({"PAYMENT", "BANK_PAYMENT", "CASH_PAYMENT"})
MANUAL_DOC_TYPES = frozenset({"LEDGER_ENTRY"})


def sales_document(invoice: ClientInvoice) -> SalesDocument:
    return SalesDocument(
        id=invoice.id,
        date=invoice.date,
        is_credit=invoice.is_credit,
        net_amount=invoice.amount if invoice.amount is not None else ZERO,
        vat_amount=invoice.vat_amount if invoice.vat_amount is not None else ZERO,
    )


def purchase_document(invoice: VendorInvoice) -> PurchaseDocument:
    net = invoice.amount if invoice.amount is not None else ZERO
    return PurchaseDocument(id=invoice.id, date=invoice.date, net_amount=-abs(net) if invoice.is_credit else net)


def payment_document(payment: Payment) -> PaymentDocument:
    account = "CASH" if (payment.account_type or "").upper() == "CASH" else "BANK"
    return PaymentDocument(
        id=payment.id, date=payment.date, account=account, amount=payment.amount if payment.amount else ZERO
    )


def ledger_document(entry: JournalEntry) -> LedgerDocument:
    doc_type = (entry.doc_type or "").upper()
    if doc_type in INVOICE_DOC_TYPES:
        kind = "INVOICE"
    elif doc_type in PAYMENT_DOC_TYPES:
        kind = "PAYMENT"
    elif doc_type in MANUAL_DOC_TYPES:
        kind = "MANUAL"
    else:
        kind = "OTHER"
    return LedgerDocument(id=entry.id, date=entry.date, kind=kind)


def fetch_documents(
    client: SmartAccountsClient, sources: Iterable[DocumentSource], date_from: dt.date, date_to: dt.date
) -> DocumentBatch:
    """The documents of the needed kinds dated within [date_from, date_to], without rows (not needed)."""
    needed = set(sources)
    batch = DocumentBatch()
    if DocumentSource.CLIENT_INVOICES in needed:
        batch.sales = [sales_document(i) for i in client.client_invoices(date_from, date_to)]
    if DocumentSource.VENDOR_INVOICES in needed:
        batch.purchases = [purchase_document(i) for i in client.vendor_invoices(date_from, date_to)]
    if DocumentSource.PAYMENTS in needed:
        batch.payments = [payment_document(p) for p in client.payments(date_from, date_to)]
    if DocumentSource.JOURNAL_ENTRIES in needed:
        batch.ledger = [ledger_document(e) for e in client.journal_entries(date_from, date_to, fetch_rows=False)]
    return batch
