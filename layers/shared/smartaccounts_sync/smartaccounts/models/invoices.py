"""Sales and purchase invoices as SmartAccounts lists them: the import reads both, the export reads sales invoices
back (by number, unpaid ones)."""

from pydantic import Field

from smartaccounts_sync.smartaccounts.models.base import IdStr, OptAmount, OptDate, OptStr, SaDate, WireModel


class PartyRef(WireModel):
    """The ``client{…}`` / ``vendor{…}`` summary embedded in documents."""

    id: IdStr | None = None
    name: str | None = None
    reg_code: OptStr = None
    vat_number: OptStr = None


# --- Sales and purchase invoices --------------------------------------------------------------------------------------


class InvoiceRow(WireModel):
    code: OptStr = None
    description: str | None = None
    price: OptAmount = None
    quantity: OptAmount = None
    unit: str | None = None
    discount: OptAmount = None
    vat: OptAmount = None
    vat_pc: OptStr = None
    sum: OptAmount = None
    order: int | None = None
    object_id: OptStr = None


class ClientInvoiceRow(InvoiceRow):
    account_sales: OptStr = None


class VendorInvoiceRow(InvoiceRow):
    account_purchase: OptStr = None


class _InvoiceBase(WireModel):
    id: IdStr
    type: str = "INV"
    base_for_credit_invoice_id: OptStr = None
    date: SaDate
    due_date: OptDate = None
    entry_date: OptDate = None
    number: OptStr = None
    invoice_number: OptStr = None
    reference_number: OptStr = None
    currency: str | None = None
    exchange_rate: OptAmount = None
    amount: OptAmount = None
    round_amount: OptAmount = None
    vat_amount: OptAmount = None
    total_amount: OptAmount = None
    outstanding_amount: OptAmount = None

    @property
    def is_credit(self) -> bool:
        return (self.type or "").upper() == "CRE"


class ClientInvoice(_InvoiceBase):
    """A sales invoice (``type`` ``INV``) or credit invoice (``CRE``, ``base_for_credit_invoice_id`` set)."""

    client_id: IdStr | None = None
    client: PartyRef | None = None
    rows: list[ClientInvoiceRow] = Field(default_factory=list)


class VendorInvoice(_InvoiceBase):
    vendor_id: IdStr | None = None
    vendor: PartyRef | None = None
    rows: list[VendorInvoiceRow] = Field(default_factory=list)
