"""Which months a client imports: catch-up after its last month, its first month, the 12-month cap, reloads."""

from __future__ import annotations

import datetime as dt

import pytest

from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.import_work import (
    ImportReason,
    ImportWork,
    first_month_for,
    keep_due,
    months_to_import,
    months_to_schedule,
)
from smartaccounts_sync.domain.months import YearMonth

LWD = ImportDay.last_work_day()
YM = YearMonth.parse


def work(*months: str, reason: ImportReason = ImportReason.SCHEDULE) -> ImportWork:
    return ImportWork(company_id="c", client_id="k", months=[YM(m) for m in months], reason=reason)


def test_message_round_trip_uses_the_contract_shape() -> None:
    w = work("2026-11", "2026-10")
    assert w.to_message() == (
        '{"kind":"IMPORT","companyId":"c","clientId":"k","months":["2026-10","2026-11"],"reason":"SCHEDULE","jobId":null}'
    )
    assert ImportWork.model_validate_json(w.to_message()) == w


@pytest.mark.parametrize(
    ("linked", "expected"),
    [
        (dt.datetime(2026, 11, 24, 10, tzinfo=dt.UTC), "2026-11"),  # before November's import day (30th)
        (dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC), "2026-11"),  # on the import day itself
        (dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC), "2026-12"),  # already 1 December in Tallinn
    ],
)
def test_first_month_is_the_first_import_day_on_or_after_linking(linked: dt.datetime, expected: str) -> None:
    assert str(first_month_for(linked, LWD)) == expected


LINKED = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("last", "months", "expected"),
    [
        ("2026-10", ("2026-11",), ["2026-10", "2026-11"]),  # the normal month, and the month before refreshed
        ("2026-08", ("2026-11",), ["2026-08", "2026-09", "2026-10", "2026-11"]),  # catch-up of missed months
        ("2026-11", ("2026-11",), []),  # already imported: not again
        ("2026-12", ("2026-11",), []),
        (None, ("2026-03",), ["2026-01", "2026-02", "2026-03"]),  # from the first month after linking
        ("2024-01", ("2026-11",), [str(YM("2025-11").plus(i)) for i in range(13)]),  # at most 12 and the refresh
    ],
)
def test_catch_up_per_client(last: str | None, months: tuple[str, ...], expected: list[str]) -> None:
    got = months_to_import(work(*months), LWD, last_imported=YM(last) if last else None, linked_at=LINKED)
    assert [str(m) for m in got] == expected


def test_reload_imports_exactly_its_months_even_when_imported() -> None:
    got = months_to_import(
        work("2026-01", "2026-02", reason=ImportReason.RELOAD), LWD, last_imported=YM("2026-11"), linked_at=LINKED
    )
    assert [str(m) for m in got] == ["2026-01", "2026-02"]


def test_schedule_names_the_latest_due_month_and_catches_up_from_the_next_month() -> None:
    today = dt.date(2026, 12, 31)
    assert [str(m) for m in months_to_schedule(today, LWD, YM("2026-11"), YM("2026-12"))] == ["2026-11", "2026-12"]
    # a company made due again (next month in the future) still names the latest due month
    assert [str(m) for m in months_to_schedule(today, LWD, YM("2027-01"), YM("2026-12"))] == ["2026-12"]
    assert len(months_to_schedule(today, LWD, YM("2020-01"), YM("2026-12"))) == 12


def test_keep_due_rewinds_to_the_missed_month_and_its_passed_import_day() -> None:
    assert keep_due(YM("2027-01"), dt.date(2027, 1, 29), YM("2026-12"), LWD) == (YM("2026-12"), dt.date(2026, 12, 31))
    assert keep_due(YM("2026-10"), dt.date(2026, 10, 30), YM("2026-12"), LWD) == (YM("2026-10"), dt.date(2026, 10, 30))
