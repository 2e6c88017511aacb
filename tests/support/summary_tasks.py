"""A summary task as the import proposes it (one month's values, computed at ``at``), for tests of its writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.task_record import SummaryTask

T0 = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)


def proposal(month: YearMonth, value: int | str, at: dt.datetime = T0, *, company_id: str = "c") -> SummaryTask:
    return SummaryTask(
        company_id=company_id,
        client_id="k",
        month=month,
        title=f"Summary {month}",
        topic_id="topic",
        period_start=month.first_day,
        period_end=month.last_day,
        field_values={"f1": Decimal(value)},
        values={"invoices": Decimal(value)},
        computed_at=at,
    )
