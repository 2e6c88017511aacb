from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

import pytest

from smartaccounts_sync.domain.errors import UnknownFieldError
from smartaccounts_sync.domain.field_catalogue import FIELD_KEYS, FieldKind, field_by_key
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import (
    DocumentBatch,
    LedgerDocument,
    PaymentDocument,
    PurchaseDocument,
    SalesDocument,
    compute_monthly_statistics,
)

D = dt.date
JAN, FEB, MAR = YearMonth(2026, 1), YearMonth(2026, 2), YearMonth(2026, 3)


def sale(day: dt.date, net: str, vat: str = "0", *, credit: bool = False, id_: str = "s") -> SalesDocument:
    return SalesDocument(id=id_, date=day, is_credit=credit, net_amount=Decimal(net), vat_amount=Decimal(vat))


def purchase(day: dt.date, net: str) -> PurchaseDocument:
    return PurchaseDocument(id="p", date=day, net_amount=Decimal(net))


def payment(day: dt.date, account: str, amount: str) -> PaymentDocument:
    return PaymentDocument(id="pay", date=day, account=account, amount=Decimal(amount))  # type: ignore[arg-type]


def ledger(day: dt.date, kind: str) -> LedgerDocument:
    return LedgerDocument(id="l", date=day, kind=kind)  # type: ignore[arg-type]


@pytest.fixture
def batch() -> DocumentBatch:
    # Given documents on the first and last days of January and February 2026, and outside both months
    return DocumentBatch(
        sales=[
            sale(D(2026, 1, 1), "100.00", "24.00"),  # first day of January
            sale(D(2026, 1, 31), "50.005", "12.00"),  # last day of January; half a cent rounds up
            sale(D(2026, 1, 15), "-30.00", "-7.20", credit=True),  # credit with negative amounts
            sale(D(2026, 1, 20), "20.00", "4.80", credit=True),  # credit with positive amounts: still subtracts
            sale(D(2025, 12, 31), "999.00", "1.00"),  # day before January: ignored
            sale(D(2026, 2, 1), "10.00", "2.40"),  # first day of February
        ],
        purchases=[
            purchase(D(2026, 1, 1), "10.10"),
            purchase(D(2026, 1, 31), "0.015"),
            purchase(D(2026, 2, 28), "5.00"),  # last day of February
            purchase(D(2026, 3, 1), "77.00"),  # outside
        ],
        payments=[
            payment(D(2026, 1, 2), "BANK", "124.00"),
            payment(D(2026, 1, 3), "BANK", "-60.50"),
            payment(D(2026, 1, 4), "CASH", "-15.00"),
            payment(D(2026, 2, 28), "CASH", "5.00"),
        ],
        ledger=[
            ledger(D(2026, 1, 5), "MANUAL"),
            ledger(D(2026, 1, 6), "OTHER"),
            ledger(D(2026, 1, 7), "OTHER"),
            ledger(D(2026, 1, 8), "INVOICE"),
            ledger(D(2026, 1, 9), "PAYMENT"),
            ledger(D(2026, 2, 10), "MANUAL"),
        ],
    )


def test_every_field_for_january(batch: DocumentBatch) -> None:
    # When every field is asked for January and February
    stats = compute_monthly_statistics(batch, [JAN, FEB], FIELD_KEYS)
    # Then January holds exactly January's documents
    assert stats[JAN] == {
        "saleEntries": 4,
        "creditInvoices": 2,
        "salesTotal": Decimal("100.01"),  # 100 + 50.005 - 30 - 20 = 100.005 -> 100.01
        "salesVatTotal": Decimal("24.00"),  # 24 + 12 - 7.20 - 4.80
        "purchaseEntries": 2,
        "purchasesTotal": Decimal("10.12"),  # 10.115 -> 10.12 (half up)
        "bankEntries": 2,
        "cashEntries": 1,
        "bankTurnover": Decimal("184.50"),  # |124.00| + |-60.50|
        "documents": 3,  # MANUAL + OTHER, not INVOICE or PAYMENT
        "manualEntries": 1,
    }
    assert stats[FEB]["saleEntries"] == 1
    assert stats[FEB]["purchaseEntries"] == 1
    assert stats[FEB]["cashEntries"] == 1
    assert stats[FEB]["bankEntries"] == 0
    assert stats[FEB]["bankTurnover"] == Decimal("0.00")
    assert stats[FEB]["documents"] == 1


def test_empty_month_gets_zeros_of_the_right_type(batch: DocumentBatch) -> None:
    month = YearMonth(2025, 6)
    stats = compute_monthly_statistics(batch, [month], FIELD_KEYS)
    for key, value in stats[month].items():
        if field_by_key(key).kind is FieldKind.AMOUNT:
            assert value == Decimal("0.00")
            assert str(value) == "0.00"
        else:
            assert value == 0
            assert type(value) is int


def test_only_requested_fields_and_months_come_back(batch: DocumentBatch) -> None:
    stats = compute_monthly_statistics(batch, [MAR, JAN, JAN], ["saleEntries", "salesTotal"])
    assert list(stats) == [JAN, MAR]
    assert stats[JAN] == {"saleEntries": 4, "salesTotal": Decimal("100.01")}
    assert stats[MAR] == {"saleEntries": 0, "salesTotal": Decimal("0.00")}
    assert compute_monthly_statistics(batch, [], FIELD_KEYS) == {}
    assert compute_monthly_statistics(batch, [JAN], []) == {JAN: {}}


def test_amounts_are_rounded_half_up_and_never_negative_zero() -> None:
    batch = DocumentBatch(
        sales=[sale(D(2026, 1, 5), "0.125"), sale(D(2026, 1, 6), "-0.004")],
        purchases=[purchase(D(2026, 1, 5), "-0.004")],
    )
    stats = compute_monthly_statistics(batch, [JAN], ["salesTotal", "purchasesTotal"])
    assert str(stats[JAN]["salesTotal"]) == "0.12"  # 0.121 -> 0.12
    assert str(stats[JAN]["purchasesTotal"]) == "0.00"
    batch = DocumentBatch(sales=[sale(D(2026, 1, 5), "2.345")])
    assert str(compute_monthly_statistics(batch, [JAN], ["salesTotal"])[JAN]["salesTotal"]) == "2.35"


def test_credit_only_month_is_negative() -> None:
    batch = DocumentBatch(sales=[sale(D(2026, 1, 5), "40", "9.6", credit=True)])
    stats = compute_monthly_statistics(batch, [JAN], ["saleEntries", "creditInvoices", "salesTotal", "salesVatTotal"])
    assert stats[JAN] == {
        "saleEntries": 1,
        "creditInvoices": 1,
        "salesTotal": Decimal("-40.00"),
        "salesVatTotal": Decimal("-9.60"),
    }


def test_unknown_field_is_refused(batch: DocumentBatch) -> None:
    with pytest.raises(UnknownFieldError):
        compute_monthly_statistics(batch, [JAN], ["saleEntries", "invoices"])


def test_documents_of_unrequested_sources_are_not_read() -> None:
    class Exploding(list):  # type: ignore[type-arg]
        def __iter__(self):  # type: ignore[no-untyped-def]
            raise AssertionError("read a source nobody asked for")

    batch = DocumentBatch()
    batch.payments = Exploding()  # type: ignore[assignment]
    assert compute_monthly_statistics(batch, [JAN], ["saleEntries"]) == {JAN: {"saleEntries": 0}}


def test_fifty_thousand_documents_are_fast() -> None:
    rng = random.Random(7)
    start = D(2025, 1, 1)

    def day() -> dt.date:
        return start + dt.timedelta(days=rng.randrange(730))

    batch = DocumentBatch.model_construct(
        sales=[
            SalesDocument.model_construct(
                id=str(i), date=day(), is_credit=i % 10 == 0, net_amount=Decimal(i % 997), vat_amount=Decimal(1)
            )
            for i in range(20_000)
        ],
        purchases=[
            PurchaseDocument.model_construct(id=str(i), date=day(), net_amount=Decimal(3)) for i in range(10_000)
        ],
        payments=[
            PaymentDocument.model_construct(
                id=str(i), date=day(), account="BANK" if i % 3 else "CASH", amount=Decimal(-5)
            )
            for i in range(10_000)
        ],
        ledger=[LedgerDocument.model_construct(id=str(i), date=day(), kind="OTHER") for i in range(10_000)],
    )
    months = YearMonth.range(YearMonth(2025, 1), YearMonth(2026, 12))
    began = time.perf_counter()
    stats = compute_monthly_statistics(batch, months, FIELD_KEYS)
    elapsed = time.perf_counter() - began
    assert sum(v["saleEntries"] for v in stats.values()) == 20_000
    assert sum(v["documents"] for v in stats.values()) == 10_000
    assert sum(v["bankEntries"] + v["cashEntries"] for v in stats.values()) == 10_000
    assert elapsed < 1.0
