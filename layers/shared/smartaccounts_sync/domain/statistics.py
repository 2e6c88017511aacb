"""Monthly work statistics from SmartAccounts documents.

The documents here are the domain's own, already translated from the wire by the SmartAccounts adapter, each with
its Europe/Tallinn calendar date. `compute_monthly_statistics` buckets them into months by that date and computes
the requested catalogue fields for every requested month, in one pass over each kind of document it needs.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.errors import UnknownFieldError
from smartaccounts_sync.domain.field_catalogue import DocumentSource, FieldKind, field_by_key, sources_needed
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth

StatisticValue = int | Decimal

CENT = Decimal("0.01")
ZERO_AMOUNT = Decimal("0.00")


class _Document(DeferredModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    date: dt.date  # calendar date in Europe/Tallinn


class SalesDocument(_Document):
    """A sales invoice, or a sales credit invoice (`is_credit`).

    A credit invoice always reduces the totals, whichever sign its amounts carry: it contributes
    `-abs(net_amount)` and `-abs(vat_amount)`.
    """

    is_credit: bool = False
    net_amount: Decimal  # without VAT
    vat_amount: Decimal = ZERO_AMOUNT


class PurchaseDocument(_Document):
    """A purchase (vendor) invoice; `net_amount` without VAT, signed as booked."""

    net_amount: Decimal


class PaymentDocument(_Document):
    """A payment through a bank or a cash account; `amount` signed (incoming positive, outgoing negative)."""

    account: Literal["BANK", "CASH"]
    amount: Decimal


class LedgerDocument(_Document):
    """A journal entry. INVOICE and PAYMENT entries come from invoices and payments; MANUAL were typed in by hand;
    OTHER are the remaining accounting documents. "Documents" counts MANUAL and OTHER."""

    kind: Literal["INVOICE", "PAYMENT", "MANUAL", "OTHER"]


class DocumentBatch(DeferredModel):
    """The documents fetched for one client and period, by source. Sources not fetched stay empty."""

    model_config = ConfigDict(extra="forbid")

    sales: list[SalesDocument] = Field(default_factory=list)
    purchases: list[PurchaseDocument] = Field(default_factory=list)
    payments: list[PaymentDocument] = Field(default_factory=list)
    ledger: list[LedgerDocument] = Field(default_factory=list)

    def documents(self) -> Iterable[_Document]:
        """Every document of the batch, whatever its source."""
        return [*self.sales, *self.purchases, *self.payments, *self.ledger]


# --- per-month accumulators, one per source ------------------------------------------------------------------------
class _Sales:
    __slots__ = ("count", "credits", "net", "vat")

    def __init__(self) -> None:
        self.count = 0
        self.credits = 0
        self.net = Decimal(0)
        self.vat = Decimal(0)


class _Purchases:
    __slots__ = ("count", "net")

    def __init__(self) -> None:
        self.count = 0
        self.net = Decimal(0)


class _Payments:
    __slots__ = ("bank", "bank_turnover", "cash")

    def __init__(self) -> None:
        self.bank = 0
        self.cash = 0
        self.bank_turnover = Decimal(0)


class _Ledger:
    __slots__ = ("manual", "other")

    def __init__(self) -> None:
        self.manual = 0
        self.other = 0


class _Month:
    __slots__ = ("ledger", "payments", "purchases", "sales")

    def __init__(self) -> None:
        self.sales = _Sales()
        self.purchases = _Purchases()
        self.payments = _Payments()
        self.ledger = _Ledger()


_FIELDS: dict[str, Callable[[_Month], int | Decimal]] = {
    "saleEntries": lambda m: m.sales.count,
    "purchaseEntries": lambda m: m.purchases.count,
    "bankEntries": lambda m: m.payments.bank,
    "documents": lambda m: m.ledger.manual + m.ledger.other,
    "creditInvoices": lambda m: m.sales.credits,
    "cashEntries": lambda m: m.payments.cash,
    "salesTotal": lambda m: m.sales.net,
    "purchasesTotal": lambda m: m.purchases.net,
    "manualEntries": lambda m: m.ledger.manual,
    "salesVatTotal": lambda m: m.sales.vat,
    "bankTurnover": lambda m: m.payments.bank_turnover,
}


def _bucket_sales(docs: Iterable[SalesDocument], buckets: dict[tuple[int, int], _Month]) -> None:
    for doc in docs:
        bucket = buckets.get((doc.date.year, doc.date.month))
        if bucket is None:
            continue
        acc = bucket.sales
        acc.count += 1
        if doc.is_credit:
            acc.credits += 1
            acc.net -= abs(doc.net_amount)
            acc.vat -= abs(doc.vat_amount)
        else:
            acc.net += doc.net_amount
            acc.vat += doc.vat_amount


def _bucket_purchases(docs: Iterable[PurchaseDocument], buckets: dict[tuple[int, int], _Month]) -> None:
    for doc in docs:
        bucket = buckets.get((doc.date.year, doc.date.month))
        if bucket is None:
            continue
        bucket.purchases.count += 1
        bucket.purchases.net += doc.net_amount


def _bucket_payments(docs: Iterable[PaymentDocument], buckets: dict[tuple[int, int], _Month]) -> None:
    for doc in docs:
        bucket = buckets.get((doc.date.year, doc.date.month))
        if bucket is None:
            continue
        acc = bucket.payments
        if doc.account == "BANK":
            acc.bank += 1
            acc.bank_turnover += abs(doc.amount)
        else:
            acc.cash += 1


def _bucket_ledger(docs: Iterable[LedgerDocument], buckets: dict[tuple[int, int], _Month]) -> None:
    for doc in docs:
        bucket = buckets.get((doc.date.year, doc.date.month))
        if bucket is None:
            continue
        if doc.kind == "MANUAL":
            bucket.ledger.manual += 1
        elif doc.kind == "OTHER":
            bucket.ledger.other += 1


class MonthlyTally:
    """What has been counted so far for some months, one accumulator per month and source: documents can be added
    page by page (a resumable import keeps it in its checkpoint, `as_dict`/`from_dict`) and the fields computed at
    the end equal those of one pass over all the documents. Amounts are summed exactly and rounded only in
    `values`."""

    def __init__(self, months: Iterable[YearMonth]) -> None:
        self.months = sorted(set(months))
        self._buckets = {(m.year, m.month): _Month() for m in self.months}

    def add(self, batch: DocumentBatch) -> None:
        _bucket_sales(batch.sales, self._buckets)
        _bucket_purchases(batch.purchases, self._buckets)
        _bucket_payments(batch.payments, self._buckets)
        _bucket_ledger(batch.ledger, self._buckets)

    def values(self, field_keys: Iterable[str]) -> dict[YearMonth, dict[str, StatisticValue]]:
        keys = list(dict.fromkeys(field_keys))
        kinds: dict[str, FieldKind] = {}
        for key in keys:
            if key not in _FIELDS:
                raise UnknownFieldError(key)
            kinds[key] = field_by_key(key).kind
        result: dict[YearMonth, dict[str, StatisticValue]] = {}
        for month in self.months:
            bucket = self._buckets[(month.year, month.month)]
            values: dict[str, StatisticValue] = {}
            for key in keys:
                value = _FIELDS[key](bucket)
                if kinds[key] is FieldKind.AMOUNT:
                    value = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
                    if value == 0:  # no "-0.00"
                        value = ZERO_AMOUNT
                values[key] = value
            result[month] = values
        return result

    def as_dict(self) -> dict[str, dict[str, str]]:
        """`{"YYYY-MM": {accumulator: "number"}}` (numbers as exact strings)."""
        out: dict[str, dict[str, str]] = {}
        for month in self.months:
            b = self._buckets[(month.year, month.month)]
            out[str(month)] = {
                f"{name}.{slot}": str(getattr(getattr(b, name), slot))
                for name in _Month.__slots__
                for slot in type(getattr(b, name)).__slots__
            }
        return out

    @classmethod
    def from_dict(cls, months: Iterable[YearMonth], data: dict[str, dict[str, str]]) -> "MonthlyTally":
        tally = cls(months)
        for month in tally.months:
            b = tally._buckets[(month.year, month.month)]
            for path, text in data.get(str(month), {}).items():
                name, slot = path.split(".")
                acc = getattr(b, name)
                current = getattr(acc, slot)
                setattr(acc, slot, Decimal(text) if isinstance(current, Decimal) else int(text))
        return tally


def compute_monthly_statistics(
    batch: DocumentBatch,
    months: Iterable[YearMonth],
    field_keys: Iterable[str],
) -> dict[YearMonth, dict[str, StatisticValue]]:
    """For every requested month, every requested field's value.

    Documents are bucketed by their date; documents outside the requested months are ignored. A month without
    documents gets 0 for counts and `Decimal("0.00")` for amounts. Amounts are rounded to cents (ROUND_HALF_UP)
    after summing. An unknown field key raises `UnknownFieldError`. Months come back in chronological order.
    """
    keys = list(dict.fromkeys(field_keys))
    for key in keys:
        if key not in _FIELDS:
            raise UnknownFieldError(key)
    tally = MonthlyTally(months)
    needed = sources_needed(keys) if tally.months else set()
    tally.add(
        DocumentBatch(
            sales=batch.sales if DocumentSource.CLIENT_INVOICES in needed else [],
            purchases=batch.purchases if DocumentSource.VENDOR_INVOICES in needed else [],
            payments=batch.payments if DocumentSource.PAYMENTS in needed else [],
            ledger=batch.ledger if DocumentSource.JOURNAL_ENTRIES in needed else [],
        )
    )
    return tally.values(keys)
