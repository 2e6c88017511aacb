"""Summary task upsert: create, merge (unmapped fields keep their value), no-op, stale values never win."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.task_record import SummaryTask, plan_upsert

T0 = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)


def task(values: dict[str, int], at: dt.datetime = T0, version: int = 0, title: str = "T") -> SummaryTask:
    month = YearMonth(2026, 11)
    return SummaryTask(
        company_id="c",
        client_id="k",
        month=month,
        title=title,
        topic_id="topic",
        period_start=month.first_day,
        period_end=month.last_day,
        field_values={k: Decimal(v) for k, v in values.items()},
        values={},
        computed_at=at,
        version=version,
    )


def test_a_new_task_is_created_at_version_one() -> None:
    plan = plan_upsert(None, task({"f1": 3}))
    assert plan.task is not None and plan.task.version == 1 and plan.notify


def test_same_values_again_write_nothing() -> None:
    existing = task({"f1": 3, "f2": 7}, version=4)
    plan = plan_upsert(existing, task({"f1": 3}, at=T0 + dt.timedelta(days=1)))
    assert plan.task is None and not plan.notify


def test_mapped_fields_overwrite_and_unmapped_keep_their_value() -> None:
    existing = task({"f1": 3, "manual": 99}, version=2)
    plan = plan_upsert(existing, task({"f1": 4}, at=T0 + dt.timedelta(hours=1)))
    assert plan.task is not None
    assert plan.task.field_values == {"f1": Decimal(4), "manual": Decimal(99)}
    assert plan.task.version == 3 and plan.values_changed and plan.notify


def test_values_computed_earlier_never_replace_later_ones() -> None:
    existing = task({"f1": 5}, version=2, at=T0 + dt.timedelta(hours=2))
    plan = plan_upsert(existing, task({"f1": 4}, at=T0))
    assert plan.task is None and plan.stale


def test_a_title_change_alone_is_written_and_announced() -> None:
    plan = plan_upsert(task({"f1": 1}, version=1), task({"f1": 1}, title="New"))
    assert plan.task is not None and plan.title_changed and not plan.values_changed and plan.notify
