"""Payments and journal entries as SmartAccounts lists them (the import reads them)."""

from pydantic import Field

from smartaccounts_sync.smartaccounts.models.base import IdStr, OptAmount, OptStr, SaDate, WireModel
from smartaccounts_sync.smartaccounts.models.invoices import PartyRef


class PaymentRow(WireModel):
    type: str | None = None  # CLIENT_INVOICE, VENDOR_INVOICE, PREPAYMENT_PAYMENT
    id: IdStr | None = None
    amount: OptAmount = None
    description: str | None = None


class Payment(WireModel):
    id: IdStr
    date: SaDate
    number: OptStr = None
    document: OptStr = None
    partner_type: str | None = None  # CLIENT / VENDOR
    client_id: IdStr | None = None
    vendor_id: IdStr | None = None
    client: PartyRef | None = None
    vendor: PartyRef | None = None
    account_type: str | None = None  # BANK / CASH
    account_name: str | None = None
    currency: str | None = None
    amount: OptAmount = None
    rows: list[PaymentRow] = Field(default_factory=list)


class JournalEntryRow(WireModel):
    account: OptStr = None
    debit_amount: OptAmount = None
    credit_amount: OptAmount = None
    description: str | None = None


class JournalEntry(WireModel):
    """Any accounting document as an entry; ``doc_type`` ``LEDGER_ENTRY`` is a manual entry. Fields ASSUMED."""

    id: IdStr
    date: SaDate
    doc_type: str | None = None
    number: OptStr = None
    currency: str | None = None
    rows: list[JournalEntryRow] = Field(default_factory=list)
