"""Explicit conversions from SmartAccounts wire documents to the domain's statistics documents, and the fetch.

`fetch_page` reads one page of one query (a kind of document over a date range): the resumable import calls it page
by page and keeps the cursor in its checkpoint. `fetch_documents` runs one paged query per needed kind of document
over the whole range in one go (tools and tests): a field left blank costs no call for its kind. Dates from
SmartAccounts are calendar dates in Estonia already (no time zone to convert).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.statistics import (
    DocumentBatch,
    LedgerDocument,
    PaymentDocument,
    PurchaseDocument,
    SalesDocument,
)
from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models.invoices import ClientInvoice, VendorInvoice
from smartaccounts_sync.smartaccounts.models.ledger import JournalEntry, Payment

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: only where a client is made

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


@dataclass(frozen=True)
class DocumentPage:
    batch: DocumentBatch  # the page's documents, translated
    count: int
    more: bool
    digest: str  # of the page's document ids: a page equal to the one before means paging stopped advancing


_QUERIES = {
    DocumentSource.CLIENT_INVOICES: (protocol.CLIENT_INVOICES_GET, ClientInvoice),
    DocumentSource.VENDOR_INVOICES: (protocol.VENDOR_INVOICES_GET, VendorInvoice),
    DocumentSource.PAYMENTS: (protocol.PAYMENTS_GET, Payment),
    DocumentSource.JOURNAL_ENTRIES: (protocol.ENTRIES_GET, JournalEntry),
}


def fetch_page(
    client: SmartAccountsClient,
    source: DocumentSource,
    date_from: dt.date,
    date_to: dt.date,
    page: int,
    previous_digest: str | None = None,
) -> DocumentPage:
    """Page `page` of the documents of `source` dated within [date_from, date_to], without rows.

    Raises `PAGING_STALLED` when the page repeats the one before (`previous_digest`) or is empty but says more
    follow: a broken API, not a passing failure."""
    endpoint, model = _QUERIES[source]
    answer = client.list_page(endpoint, protocol.date_range_params(date_from, date_to), model, page)
    digest = hashlib.sha256("\n".join(answer.ids).encode()).hexdigest()[:24]
    if answer.items and previous_digest is not None and digest == previous_digest:
        raise SmartAccountsError(
            ErrorKind.PAGING_STALLED,
            f"SmartAccounts paging stopped advancing at page {page}: a page repeated the previous page.",
            endpoint=endpoint.path,
        )
    batch = DocumentBatch()
    if source is DocumentSource.CLIENT_INVOICES:
        batch.sales = [sales_document(i) for i in answer.items]  # type: ignore[arg-type]
    elif source is DocumentSource.VENDOR_INVOICES:
        batch.purchases = [purchase_document(i) for i in answer.items]  # type: ignore[arg-type]
    elif source is DocumentSource.PAYMENTS:
        batch.payments = [payment_document(p) for p in answer.items]  # type: ignore[arg-type]
    else:
        batch.ledger = [ledger_document(e) for e in answer.items]  # type: ignore[arg-type]
    return DocumentPage(batch=batch, count=len(answer.items), more=answer.more, digest=digest)
