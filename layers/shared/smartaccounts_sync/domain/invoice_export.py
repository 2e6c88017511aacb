"""Invoice export: the export record of one Uku invoice and the mapping rules from an issued invoice to what
SmartAccounts books (rows, articles, VAT codes, buyer address lines, totals to the cent, payment status).

Plain Python on plain models; the service does the calls and the storage.
"""

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.invoice_issued import BuyerAddress, InvoiceIssued, InvoiceKind
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.vat_types import VatRegister

ADDRESS_LINE_LIMIT = 64
CENT = Decimal("0.01")


class ExportStatus(StrEnum):
    PENDING = "PENDING"  # claimed by a worker (lease) or waiting to be reconciled with SmartAccounts
    EXPORTED = "EXPORTED"
    SKIPPED = "SKIPPED"  # not sent: waiting for the customer (disabled, not connected)
    FAILED = "FAILED"  # not sent: the reason says what to fix, then retry


class SkipReason(StrEnum):
    INTEGRATION_DISABLED = "INTEGRATION_DISABLED"
    NOT_CONNECTED = "NOT_CONNECTED"
    CREDENTIALS_FAILING = "CREDENTIALS_FAILING"


class FailureKind(StrEnum):
    INVALID_EVENT = "INVALID_EVENT"
    UNKNOWN_VAT_TYPE = "UNKNOWN_VAT_TYPE"
    NO_ARTICLE = "NO_ARTICLE"
    ORIGINAL_NOT_EXPORTED = "ORIGINAL_NOT_EXPORTED"
    BUYER_BEING_CREATED = "BUYER_BEING_CREATED"
    # SmartAccounts' own failures use the API codes of its error kinds (SA_VALIDATION_REJECTED, SA_UNAVAILABLE, ...)


class PaymentStatus(StrEnum):
    UNPAID = "UNPAID"
    PARTLY_PAID = "PARTLY_PAID"
    PAID = "PAID"


class Amounts(DeferredModel):
    model_config = ConfigDict(frozen=True)

    net: Decimal | None = None
    vat: Decimal | None = None
    gross: Decimal | None = None


class TotalsCheck(DeferredModel):
    model_config = ConfigDict(frozen=True)

    matches: bool
    uku: Amounts
    smartaccounts: Amounts


class SmartAccountsInvoice(DeferredModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    invoice_number: str | None = None
    number: str | None = None
    client_id: str | None = None


class PreparedPost(DeferredModel):
    """What the look-ups before a post found (the buyer, the articles SmartAccounts knows), kept with the post so a
    later attempt that finds the invoice not booked posts it again without looking them up again."""

    model_config = ConfigDict(frozen=True)

    buyer_id: str
    article_codes: list[str] = Field(default_factory=list)


class PaymentState(DeferredModel):
    model_config = ConfigDict(frozen=True)

    status: PaymentStatus
    outstanding: Decimal
    changed_at: dt.datetime
    checked_at: dt.datetime


class ExportRecord(DeferredModel):
    """Everything known about exporting one Uku invoice; `version` guards concurrent writers."""

    company_id: str
    invoice_id: str
    number: str | None = None
    kind: InvoiceKind | None = None
    status: ExportStatus = ExportStatus.PENDING
    reason: str | None = Field(default=None, description="SKIPPED reason or FAILED error kind")
    message: str | None = None
    smartaccounts_messages: list[str] = Field(default_factory=list)
    smartaccounts: SmartAccountsInvoice | None = None
    reconciled: bool = Field(default=False, description="found already booked in SmartAccounts, not posted again")
    totals: TotalsCheck | None = None
    payment: PaymentState | None = None
    warnings: list[str] = Field(default_factory=list)
    attempts: int = 0
    created_at: dt.datetime
    updated_at: dt.datetime
    exported_at: dt.datetime | None = None
    lease_until: dt.datetime | None = None
    lease_owner: str | None = Field(
        default=None,
        description="the SQS message whose delivery holds the lease (a later delivery of it may take over)",
    )
    posting_started_at: dt.datetime | None = Field(
        default=None, description="set just before the invoice is posted: a later attempt reconciles by reading"
    )
    post_unanswered_at: dt.datetime | None = Field(
        default=None, description="when a worker last gave up on a post (or a call after it) without an outcome"
    )
    prepared: PreparedPost | None = Field(
        default=None, description="the look-ups of the last post (saved with posting_started_at)"
    )
    invoice: InvoiceIssued | None = Field(default=None, description="the validated event, kept for a retry")
    version: int = 0

    def leased(self, now: dt.datetime) -> bool:
        return self.status is ExportStatus.PENDING and self.lease_until is not None and self.lease_until > now

    def leased_to_another(self, now: dt.datetime, delivery_id: str | None) -> bool:
        """Held by a worker other than an earlier delivery of the message `delivery_id`.

        An earlier delivery of the same message has ended: SQS hands a message out again only after its visibility
        timeout (longer than the function's), and Powertools idempotency lets no second delivery of one message run
        while the first is in progress. Its lease, left behind when the release itself failed, is taken over rather
        than waited out (the lease outlives every fast redelivery of the local stack, and SmartAccounts is read
        before anything is posted again either way)."""
        return self.leased(now) and (delivery_id is None or self.lease_owner != delivery_id)

    @property
    def awaiting_payment(self) -> bool:
        paid = self.payment is not None and self.payment.status is PaymentStatus.PAID
        return self.status is ExportStatus.EXPORTED and self.kind is not InvoiceKind.CREDIT and not paid


class ExportRefused(Exception):
    """The invoice cannot be sent as it is; `kind` and a message that names what to fix."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- rows ---------------------------------------------------------------------------------------------------------


class PlannedRow(DeferredModel):
    model_config = ConfigDict(frozen=True)

    article_code: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    unit: str | None
    vat_code: str


def plan_rows(
    invoice: InvoiceIssued, register: VatRegister, known_articles: set[str], default_article: str | None
) -> list[PlannedRow]:
    """One SmartAccounts row per line. Every VAT code must be in the imported register and usable for sales; the
    article is the line's own code when SmartAccounts knows it, else the company's default article."""
    check_vat_codes(invoice, register)
    rows = []
    for number, line in enumerate(invoice.lines, start=1):
        if line.article_code and line.article_code in known_articles:
            article = line.article_code
        elif default_article and default_article in known_articles:
            article = default_article
        else:
            own = f"article {line.article_code!r} is not in SmartAccounts and " if line.article_code else ""
            default = (
                f"the default article {default_article!r} is not in SmartAccounts either"
                if default_article
                else "no default article is set"
            )
            raise ExportRefused(
                FailureKind.NO_ARTICLE,
                f"Line {number}: {own}{default}. Set an article SmartAccounts has as the default article code in the "
                "integration settings (Settings), or give the line an article code SmartAccounts knows, then retry.",
            )
        rows.append(
            PlannedRow(
                article_code=article,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                unit=line.unit,
                vat_code=line.vat_type_code,
            )
        )
    return rows


def check_vat_codes(invoice: InvoiceIssued, register: VatRegister) -> None:
    """Every line's VAT code is in the imported register and usable on sales, else the line and code are named."""
    for number, line in enumerate(invoice.lines, start=1):
        vat = register.find(line.vat_type_code)
        if vat is None:
            raise ExportRefused(
                FailureKind.UNKNOWN_VAT_TYPE,
                f"Line {number} uses VAT type {line.vat_type_code!r}, which is not in the VAT types imported from "
                "SmartAccounts. Add it in SmartAccounts and refresh the VAT types, or correct the invoice, then retry.",
            )
        if not vat.usable_for_sales:
            raise ExportRefused(
                FailureKind.UNKNOWN_VAT_TYPE,
                f"Line {number} uses VAT type {line.vat_type_code!r}, which SmartAccounts "
                f"{'no longer lists' if not vat.in_smartaccounts else 'does not allow on sales'}. Correct the "
                "invoice to a VAT type allowed on sales (see the VAT types imported from SmartAccounts), or allow it "
                "in SmartAccounts and refresh the VAT types, then retry.",
            )


# --- buyer address ------------------------------------------------------------------------------------------------


class PlannedAddress(DeferredModel):
    model_config = ConfigDict(frozen=True)

    country: str | None = None
    county: str | None = None
    city: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    shortened: bool = False


def split_address(address: BuyerAddress | None, limit: int = ADDRESS_LINE_LIMIT) -> PlannedAddress | None:
    """The street address in at most two lines of `limit` characters, broken between words. What does not fit is
    cut at the end of the second line (ending in `…`) and `shortened` says so."""
    if address is None:
        return None
    text = " ".join(part for part in (address.address1, address.address2) if part)
    lines = wrap_words(" ".join(text.split()), limit)
    shortened = len(lines) > 2
    if shortened:
        rest = " ".join(lines[1:])
        lines = [lines[0], rest[: limit - 1].rstrip() + "…"]
    return PlannedAddress(
        country=address.country,
        county=address.county,
        city=address.city,
        address1=lines[0] if lines else None,
        address2=lines[1] if len(lines) > 1 else None,
        postal_code=address.postal_code,
        shortened=shortened,
    )


def wrap_words(text: str, limit: int) -> list[str]:
    """Lines of at most `limit` characters, broken at spaces; a word longer than a line is broken inside."""
    lines: list[str] = []
    current = ""
    for word in text.split(" ") if text else []:
        while len(word) > limit:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


# --- totals and payment ---------------------------------------------------------------------------------------------


def cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def check_totals(
    invoice: InvoiceIssued, net: Decimal | None, vat: Decimal | None, gross: Decimal | None
) -> TotalsCheck:
    """SmartAccounts' figures against Uku's, to the cent; a figure SmartAccounts did not send is not compared."""
    uku = Amounts(net=invoice.totals.net, vat=invoice.totals.vat, gross=invoice.totals.gross)
    theirs = Amounts(net=cents(net), vat=cents(vat), gross=cents(gross))
    pairs = [(uku.net, theirs.net), (uku.vat, theirs.vat), (uku.gross, theirs.gross)]
    matches = all(cents(ours) == other for ours, other in pairs if other is not None)
    return TotalsCheck(matches=matches, uku=uku, smartaccounts=theirs)


def payment_status(total: Decimal | None, outstanding: Decimal) -> PaymentStatus:
    if outstanding <= 0:
        return PaymentStatus.PAID
    if total is not None and outstanding < total:
        return PaymentStatus.PARTLY_PAID
    return PaymentStatus.UNPAID


def next_payment_state(
    current: PaymentState | None, status: PaymentStatus, outstanding: Decimal, now: dt.datetime
) -> tuple[PaymentState, bool]:
    """The new payment state and whether it changed (status or outstanding amount)."""
    outstanding = outstanding.quantize(CENT)
    changed = current is None or current.status is not status or current.outstanding != outstanding
    changed_at = now if changed or current is None else current.changed_at
    return PaymentState(status=status, outstanding=outstanding, changed_at=changed_at, checked_at=now), changed
