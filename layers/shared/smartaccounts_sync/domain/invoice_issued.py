"""Uku's `InvoiceIssued` event (source `uku.billing`): the issued sales invoice or credit invoice of an accounting
firm, as Uku's core publishes it. Schema and examples: `docs/events.md`, `events/invoice_export/`.

Validated once at the edge of the export (`parse_invoice_issued`); what does not validate is recorded as a FAILED
export with the reason. There the ids must also follow the identifier pattern (`domain/identifiers.py`): the service
keys the export record, the buyer link and the firm's credentials by them, and reads and retries an export through
`/v1/invoices/{invoiceId}`, whose path check refuses any other id. An event whose `invoiceId` is outside it is
refused whole (`service/invoice_export.py` `export_message`: `InvoiceExportFailed`, dead-lettered with its reason).
Records stored before that check keep loading: the pattern is checked on Uku's events only, not on stored invoices.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from smartaccounts_sync.domain.identifiers import is_identifier
from smartaccounts_sync.domain.model import DeferredModel

Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
IdText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
#: The validation context of an event as it arrives from Uku (`parse_invoice_issued`): its ids are identifiers.
FROM_UKU = {"from_uku": True}
NOT_AN_IDENTIFIER = (
    "not an identifier (1-64 characters: ASCII letters, digits, '_' or '-', starting with a letter or digit)"
)


class EventModel(DeferredModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT = "credit"


class BuyerAddress(EventModel):
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    county: ShortText | None = None
    city: ShortText | None = None
    address1: Text | None = Field(default=None, description="street address; any length, split for SmartAccounts")
    address2: Text | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None = None


class Buyer(EventModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    registry_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    vat_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    address: BuyerAddress | None = None
    email: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


class InvoiceLine(EventModel):
    description: Text
    quantity: Quantity
    unit: ShortText | None = None
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4)]
    discount_percent: Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)] = Decimal(0)
    vat_type_code: IdText = Field(description="a VAT code of the imported SmartAccounts register (`vatPc`)")
    article_code: IdText | None = None


class Totals(EventModel):
    net: Money
    vat: Money
    gross: Money


class InvoiceIssued(EventModel):
    """One issued invoice. Credits carry positive quantities and prices, like the invoice they correct."""

    company_id: IdText = Field(description="Uku company (the accounting firm)")
    client_id: IdText = Field(description="Uku client the invoice is addressed to")
    invoice_id: IdText
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    kind: InvoiceKind
    original_invoice_id: IdText | None = Field(default=None, description="the credited invoice (credits only)")
    buyer: Buyer
    issue_date: dt.date
    due_date: dt.date
    currency: Currency = "EUR"
    lines: list[InvoiceLine] = Field(min_length=1, max_length=500)
    totals: Totals

    @field_validator("company_id", "client_id", "invoice_id", "original_invoice_id")
    @classmethod
    def _identifier(cls, value: str | None, info: ValidationInfo) -> str | None:
        """An id of Uku's event must be an identifier (a stored invoice loads as it was stored)."""
        if value is not None and info.context == FROM_UKU and not is_identifier(value):
            raise PydanticCustomError("identifier", NOT_AN_IDENTIFIER)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "InvoiceIssued":
        if self.kind is InvoiceKind.CREDIT and not self.original_invoice_id:
            raise ValueError("a credit invoice names its original in originalInvoiceId")
        if self.kind is InvoiceKind.INVOICE and self.original_invoice_id:
            raise ValueError("originalInvoiceId is only for credit invoices")
        if self.due_date < self.issue_date:
            raise ValueError("dueDate is before issueDate")
        return self

    @property
    def is_credit(self) -> bool:
        return self.kind is InvoiceKind.CREDIT


class InvalidEvent(Exception):
    """An `InvoiceIssued` detail that does not validate; `company_id`/`invoice_id` when they could be read (as sent,
    trimmed: `keyed` says whether both are identifiers, so an export record can be kept under them)."""

    def __init__(self, reason: str, company_id: str | None, invoice_id: str | None, number: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.company_id = company_id
        self.invoice_id = invoice_id
        self.number = number

    @property
    def keyed(self) -> bool:
        return is_identifier(self.company_id) and is_identifier(self.invoice_id)


def parse_invoice_issued(detail: Any) -> InvoiceIssued:
    """The validated event, or :class:`InvalidEvent` naming every offending field."""
    try:
        return InvoiceIssued.model_validate(detail, context=FROM_UKU)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "detail"
            problems.append(f"{where}: {item['msg']}")
        data = detail if isinstance(detail, dict) else {}

        def text(key: str) -> str | None:
            value = data.get(key)
            return value.strip()[:128] if isinstance(value, str) and value.strip() else None

        raise InvalidEvent("; ".join(problems[:10]), text("companyId"), text("invoiceId"), text("number")) from None
