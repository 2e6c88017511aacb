"""Bucketing a year of documents into monthly statistics: the worker's CPU-bound step.

Prints documents per second and peak memory for 50 000 documents over 12 months, every catalogue field.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from bench._util import measure
from smartaccounts_sync.domain.field_catalogue import FIELD_KEYS
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import (
    DocumentBatch,
    LedgerDocument,
    PaymentDocument,
    PurchaseDocument,
    SalesDocument,
    compute_monthly_statistics,
)

DOCUMENTS = 50_000


def build_batch(rng: random.Random) -> DocumentBatch:
    start = dt.date(2025, 11, 1)

    def day() -> dt.date:
        return start + dt.timedelta(days=rng.randrange(365))

    def amount() -> Decimal:
        return Decimal(rng.randrange(100, 500_000)) / 100

    quarter = DOCUMENTS // 4
    return DocumentBatch(
        sales=[
            SalesDocument(
                id=f"s{i}", date=day(), is_credit=rng.random() < 0.05, net_amount=amount(), vat_amount=amount()
            )
            for i in range(quarter)
        ],
        purchases=[PurchaseDocument(id=f"p{i}", date=day(), net_amount=amount()) for i in range(quarter)],
        payments=[
            PaymentDocument(id=f"b{i}", date=day(), account=rng.choice(["BANK", "CASH"]), amount=amount())
            for i in range(quarter)
        ],
        ledger=[
            LedgerDocument(id=f"l{i}", date=day(), kind=rng.choice(["INVOICE", "PAYMENT", "MANUAL", "OTHER"]))
            for i in range(quarter)
        ],
    )


def main() -> None:
    batch = build_batch(random.Random(7))
    months = YearMonth.range(YearMonth(2025, 11), YearMonth(2026, 10))
    result, seconds, peak = measure(lambda: compute_monthly_statistics(batch, months, FIELD_KEYS))
    assert len(result) == 12
    print(f"statistics: {DOCUMENTS} documents, 12 months, {len(FIELD_KEYS)} fields")
    print(f"  best of 3: {seconds * 1000:.1f} ms  ({DOCUMENTS / seconds:,.0f} documents/s)")
    print(f"  peak memory allocated by the computation: {peak:.0f} KiB")
    _, build_seconds, build_peak = measure(lambda: build_batch(random.Random(7)), repeat=1)
    print(f"  building the {DOCUMENTS} domain documents: {build_seconds:.2f} s, {build_peak / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
