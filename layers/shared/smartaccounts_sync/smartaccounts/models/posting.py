"""Sales invoices as the export writes them, and SmartAccounts' answer."""

from typing import Literal

from pydantic import Field

from smartaccounts_sync.smartaccounts.models.base import Amount, IdStr, OptAmount, OptDate, OptStr, SaDate, WireModel


class NewClientInvoiceRow(WireModel):
    code: str = Field(min_length=1)  # must be an existing article code
    description: str | None = None
    price: Amount
    quantity: Amount
    vat_pc: str | None = None
    unit: str | None = None
    discount: OptAmount = None
    account_sales: str | None = None
    object_id: str | None = None


class NewClientInvoice(WireModel):
    """A sales invoice to book (SmartAccounts books at once, no drafts). Credit: ``type="CRE"`` plus the base id."""

    client_id: str
    date: SaDate
    rows: list[NewClientInvoiceRow] = Field(min_length=1)
    type: Literal["INV", "CRE"] | None = None
    base_for_credit_invoice_id: str | None = None
    due_date: OptDate = None
    entry_date: OptDate = None
    invoice_number: str | None = None
    reference_number: str | None = None
    currency: str | None = None
    total_amount: OptAmount = None
    amount: OptAmount = None
    round_amount: OptAmount = None
    invoice_note: str | None = None
    comment: str | None = None
    object_id: str | None = None


class CreatedClientInvoice(WireModel):
    invoice_id: IdStr
    invoice_number: OptStr = None
    client_id: IdStr | None = None
    number: OptStr = None
    reference_number: OptStr = None
    amount: OptAmount = None
    vat_amount: OptAmount = None
    round_amount: OptAmount = None
    total_amount: OptAmount = None
    due_date: OptDate = None
