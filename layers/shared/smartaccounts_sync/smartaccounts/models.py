"""SmartAccounts wire models: exactly what the service reads from and writes to the API.

Tolerant on input (public clients show amounts both as numbers and as strings, and ``invoiceNumber`` as a number),
strict on output (dates as ``dd.MM.yyyy``, camelCase keys, no ``None`` values sent). Domain code converts these
to and from its own models with explicit functions; nothing here is stored as is.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials  # noqa: F401 - still importable from here
from smartaccounts_sync.smartaccounts.protocol import format_date, parse_date

# --- Reusable tolerant types ------------------------------------------------------------------------------------


def _to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _to_decimal(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, (Decimal, bool)):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            return Decimal(text)
        except InvalidOperation:
            return value  # let pydantic report it
    return value


def _to_date(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str):
        return parse_date(value)
    return value


def _decimal_to_json(value: Decimal) -> float | int:
    """Amounts go out as JSON numbers."""
    return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)


IdStr = Annotated[str, BeforeValidator(_to_str)]
"""An id or document number: SmartAccounts may send ``1001`` or ``"1001"``; kept as ``str``."""

Amount = Annotated[
    Decimal,
    BeforeValidator(_to_decimal),
    PlainSerializer(_decimal_to_json, return_type=int | float, when_used="json"),
]
"""A money amount, quantity or rate: ``"123.40"``, ``123.4`` and ``"123,40"`` all read as ``Decimal``."""

SaDate = Annotated[date, BeforeValidator(_to_date), PlainSerializer(format_date, return_type=str, when_used="json")]
"""A date: read from ``dd.MM.yyyy`` (or ISO), written as ``dd.MM.yyyy``."""

OptAmount = Annotated[
    Decimal | None,
    BeforeValidator(_to_decimal),
    PlainSerializer(_decimal_to_json, return_type=int | float, when_used="json-unless-none"),
]
"""An optional amount: an empty string reads as missing."""

OptDate = Annotated[
    date | None, BeforeValidator(_to_date), PlainSerializer(format_date, return_type=str, when_used="json-unless-none")
]
"""An optional date: an empty string reads as missing."""

OptStr = Annotated[str | None, BeforeValidator(_to_str)]


class WireModel(DeferredModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True, defer_build=True
    )  # schemas built at first use: a cold start builds only those its invocation reads

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body: camelCase keys, dates as ``dd.MM.yyyy``, amounts as numbers, no ``None`` values."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- Credentials ------------------------------------------------------------------------------------------------


# `ApiCredentials` lives in `smartaccounts/credentials.py` (secrets adapters and the composition root need it, not
# the wire models); it is still importable from here.


# --- Companies (ASSUMED endpoints) ------------------------------------------------------------------------------


class CompanyInfo(WireModel):
    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None


class CompanyListItem(WireModel):
    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None


# --- Shared parts -----------------------------------------------------------------------------------------------


class PartyRef(WireModel):
    """The ``client{…}`` / ``vendor{…}`` summary embedded in documents."""

    id: IdStr | None = None
    name: str | None = None
    reg_code: OptStr = None
    vat_number: OptStr = None


class Address(WireModel):
    country: str | None = None
    county: str | None = None
    city: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: OptStr = None


ContactType = Literal["EMAIL", "PHONE", "FAX", "WWW", "SKYPE", "OTHER", "PERSON", "POST_ADDRESS"]


class Contact(WireModel):
    type: str
    value: OptStr = None
    description: str | None = None


# --- Sales and purchase invoices --------------------------------------------------------------------------------


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


# --- Payments and journal entries -------------------------------------------------------------------------------


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


# --- Registers --------------------------------------------------------------------------------------------------


class VatPercentage(WireModel):
    vat_pc: IdStr
    pc: OptAmount = None
    description_et: str | None = None
    description_en: str | None = None
    active_sales: bool | None = None
    active_purchase: bool | None = None


class Article(WireModel):
    code: IdStr
    description: str | None = None
    type: str | None = None  # PRODUCT, SERVICE, WH
    unit: str | None = None
    price: OptAmount = None
    vat_pc: OptStr = None
    active_sales: bool | None = None
    active_purchase: bool | None = None
    account_sales: OptStr = None


# --- Buyers (SmartAccounts "clients") ---------------------------------------------------------------------------


class Buyer(WireModel):
    """A SmartAccounts *client*, i.e. the buyer on a sales invoice (not a client of the accounting firm)."""

    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None
    bank_account: OptStr = None
    reference_number: OptStr = None
    invoice_due_date: int | None = None
    address: Address | None = None
    contacts: list[Contact] = Field(default_factory=list)


class NewBuyer(WireModel):
    name: str = Field(min_length=1)
    address: Address | None = None
    contacts: list[Contact] | None = None
    vat_number: str | None = None
    reg_code: str | None = None
    invoice_due_date: int | None = None
    vat_pc: str | None = None
    bank_account: str | None = None


class CreatedBuyer(WireModel):
    client_id: IdStr
    reference_number: OptStr = None


# --- Writing sales invoices -------------------------------------------------------------------------------------


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
