"""The import calendar against dates worked out by hand from a printed calendar.

Weekdays used below (checked by hand): 2026-01-01 Thu, 2026-01-31 Sat, 2026-02-28 Sat, 2026-05-31 Sun,
2026-10-31 Sat, 2026-12-31 Thu, 2027-02-28 Sun, 2027-03-26 Fri (Good Friday), 2027-12-31 Fri, 2028-02-29 Tue,
2028-12-31 Sun, 2024-03-29 Fri (Good Friday), 2024-03-31 Sun, 2029-03-30 Fri (Good Friday), 2029-03-31 Sat.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ValidationError

from smartaccounts_sync.domain.import_day import (
    ImportDay,
    estonian_public_holidays,
    import_date_for,
    is_work_day,
    latest_due_month,
    month_due_on,
    months_due,
    next_import,
    reload_window,
)
from smartaccounts_sync.domain.months import YearMonth

D = dt.date
LWD = ImportDay(rule="LAST_WORK_DAY")
LCD = ImportDay(rule="LAST_CALENDAR_DAY")


def ym(text: str) -> YearMonth:
    return YearMonth.parse(text)


def following(day: int) -> ImportDay:
    return ImportDay(rule="DAY_OF_FOLLOWING_MONTH", day=day)


# --- hand-made table: (month, LAST_WORK_DAY, LAST_CALENDAR_DAY, why) -------------------------------------------------
HAND_TABLE = [
    ("2026-01", D(2026, 1, 30), D(2026, 1, 31), "31st is a Saturday -> Friday 30th"),
    ("2026-02", D(2026, 2, 27), D(2026, 2, 28), "28th is a Saturday -> Friday 27th"),
    ("2026-03", D(2026, 3, 31), D(2026, 3, 31), "Tuesday; Good Friday 2026 is 3 April"),
    ("2026-04", D(2026, 4, 30), D(2026, 4, 30), "Thursday"),
    ("2026-05", D(2026, 5, 29), D(2026, 5, 31), "31st is a Sunday -> Friday 29th"),
    ("2026-06", D(2026, 6, 30), D(2026, 6, 30), "Tuesday; 23 and 24 June are holidays but not at the end"),
    ("2026-07", D(2026, 7, 31), D(2026, 7, 31), "Friday"),
    ("2026-08", D(2026, 8, 31), D(2026, 8, 31), "Monday; 20 August is a holiday mid-month"),
    ("2026-09", D(2026, 9, 30), D(2026, 9, 30), "Wednesday"),
    ("2026-10", D(2026, 10, 30), D(2026, 10, 31), "31st is a Saturday -> Friday 30th"),
    ("2026-11", D(2026, 11, 30), D(2026, 11, 30), "Monday"),
    ("2026-12", D(2026, 12, 31), D(2026, 12, 31), "Thursday; 31 Dec is a working day in Estonia"),
    ("2027-02", D(2027, 2, 26), D(2027, 2, 28), "common year, 28th is a Sunday -> Friday 26th"),
    ("2027-03", D(2027, 3, 31), D(2027, 3, 31), "Wednesday; Good Friday 26 March is earlier"),
    ("2027-06", D(2027, 6, 30), D(2027, 6, 30), "Wednesday"),
    ("2027-12", D(2027, 12, 31), D(2027, 12, 31), "Friday 31st, not a holiday"),
    ("2028-02", D(2028, 2, 29), D(2028, 2, 29), "leap year, Tuesday 29th"),
    ("2028-12", D(2028, 12, 29), D(2028, 12, 31), "31st is a Sunday -> Friday 29th"),
    ("2024-03", D(2024, 3, 28), D(2024, 3, 31), "Sun 31, Sat 30, Good Friday 29 -> Thursday 28th"),
    ("2029-03", D(2029, 3, 29), D(2029, 3, 31), "Sat 31, Good Friday 30 -> Thursday 29th"),
    ("2029-12", D(2029, 12, 31), D(2029, 12, 31), "Monday"),
]


@pytest.mark.parametrize(("month", "last_work_day", "last_calendar_day", "why"), HAND_TABLE)
def test_month_end_rules_against_hand_table(
    month: str, last_work_day: dt.date, last_calendar_day: dt.date, why: str
) -> None:
    assert import_date_for(ym(month), LWD) == last_work_day, why
    assert import_date_for(ym(month), LCD) == last_calendar_day, why


@pytest.mark.parametrize(
    ("month", "day", "expected", "why"),
    [
        ("2026-12", 1, D(2027, 1, 1), "December -> 1 January next year, a holiday, kept as is"),
        ("2026-12", 28, D(2027, 1, 28), "December -> January next year"),
        ("2027-01", 28, D(2027, 2, 28), "28 February 2027 is a Sunday, kept as is"),
        ("2028-01", 28, D(2028, 2, 28), "leap February still has a 28th"),
        ("2026-01", 1, D(2026, 2, 1), "1 February 2026 is a Sunday, kept as is"),
        ("2026-05", 23, D(2026, 6, 23), "Victory Day holiday, kept as is"),
        ("2026-07", 20, D(2026, 8, 20), "Restoration of Independence Day, kept as is"),
        ("2027-02", 26, D(2027, 3, 26), "Good Friday 2027, kept as is"),
        ("2026-11", 15, D(2026, 12, 15), "an ordinary Tuesday"),
    ],
)
def test_day_of_following_month(month: str, day: int, expected: dt.date, why: str) -> None:
    assert import_date_for(ym(month), following(day)) == expected, why


def test_estonian_holidays_as_written_by_hand() -> None:
    # Estonian public holidays 2026 (Easter Sunday 5 April 2026, Pentecost 24 May 2026).
    assert estonian_public_holidays(2026) == {
        D(2026, 1, 1),
        D(2026, 2, 24),
        D(2026, 4, 3),
        D(2026, 4, 5),
        D(2026, 5, 1),
        D(2026, 5, 24),
        D(2026, 6, 23),
        D(2026, 6, 24),
        D(2026, 8, 20),
        D(2026, 12, 24),
        D(2026, 12, 25),
        D(2026, 12, 26),
    }
    assert D(2026, 12, 31) not in estonian_public_holidays(2026)
    assert D(2024, 3, 29) in estonian_public_holidays(2024)
    assert D(2029, 3, 30) in estonian_public_holidays(2029)


def test_work_days() -> None:
    assert is_work_day(D(2026, 12, 31))  # Thursday
    assert not is_work_day(D(2026, 12, 24))  # Christmas Eve, Thursday
    assert not is_work_day(D(2026, 6, 23))  # Tuesday, Victory Day
    assert not is_work_day(D(2026, 8, 20))  # Thursday, holiday
    assert not is_work_day(D(2026, 1, 31))  # Saturday


@pytest.mark.parametrize("year", range(2024, 2032))
def test_last_work_day_is_the_last_working_day_of_every_month(year: int) -> None:
    # A property check on top of the hand table: no working day comes after it within the month.
    for month in range(1, 13):
        m = YearMonth(year, month)
        day = import_date_for(m, LWD)
        assert day in m
        assert is_work_day(day)
        later = [day + dt.timedelta(days=i) for i in range(1, (m.last_day - day).days + 1)]
        assert not any(is_work_day(d) for d in later)


# --- validation --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [0, 29, 30, 31, -1, 100])
def test_following_month_day_out_of_range_is_refused(day: int) -> None:
    with pytest.raises(ValidationError) as info:
        ImportDay(rule="DAY_OF_FOLLOWING_MONTH", day=day)
    (error,) = info.value.errors()
    assert error["loc"] == ("day",)
    assert "day must be between 1 and 28 for DAY_OF_FOLLOWING_MONTH" in error["msg"]
    assert "do not exist in every month" in error["msg"]


def test_following_month_without_day_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        ImportDay(rule="DAY_OF_FOLLOWING_MONTH")
    (error,) = info.value.errors()
    assert error["loc"] == ("day",)
    assert "day is required for DAY_OF_FOLLOWING_MONTH" in error["msg"]
    with pytest.raises(ValidationError, match="day is required"):
        ImportDay.model_validate({"rule": "DAY_OF_FOLLOWING_MONTH", "day": None})


@pytest.mark.parametrize("rule", ["LAST_WORK_DAY", "LAST_CALENDAR_DAY"])
def test_month_end_rules_refuse_a_day(rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        ImportDay.model_validate({"rule": rule, "day": 5})
    (error,) = info.value.errors()
    assert error["loc"] == ("day",)
    assert f"day must be left out for {rule}" in error["msg"]


@pytest.mark.parametrize(
    "payload",
    [
        {"rule": "FIRST_DAY"},
        {"rule": "last_work_day"},
        {},
        {"rule": "DAY_OF_FOLLOWING_MONTH", "day": True},
        {"rule": "DAY_OF_FOLLOWING_MONTH", "day": "five"},
        {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 5.5},
        {"rule": "LAST_WORK_DAY", "extra": 1},
    ],
)
def test_other_bad_values_are_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ImportDay.model_validate(payload)


@pytest.mark.parametrize("day", [1, 28])
def test_following_month_accepts_1_to_28_from_json(day: int) -> None:
    parsed = ImportDay.model_validate_json(f'{{"rule": "DAY_OF_FOLLOWING_MONTH", "day": {day}}}')
    assert parsed == following(day)
    assert parsed.model_dump() == {"rule": "DAY_OF_FOLLOWING_MONTH", "day": day}


def test_convenience_constructors_and_use_inside_a_settings_model() -> None:
    class Settings(BaseModel):
        importDay: ImportDay

    assert ImportDay.last_work_day() == LWD
    assert ImportDay.last_calendar_day() == LCD
    assert ImportDay.day_of_following_month(5) == following(5)
    with pytest.raises(ValidationError) as info:
        Settings.model_validate({"importDay": {"rule": "DAY_OF_FOLLOWING_MONTH", "day": 31}})
    assert info.value.errors()[0]["loc"] == ("importDay", "day")


# --- month_due_on / latest_due_month ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "rule", "expected"),
    [
        (D(2026, 1, 30), LWD, "2026-01"),
        (D(2026, 1, 31), LWD, None),  # Saturday after the last work day
        (D(2026, 1, 29), LWD, None),
        (D(2026, 1, 31), LCD, "2026-01"),
        (D(2026, 1, 30), LCD, None),
        (D(2027, 1, 1), following(1), "2026-12"),
        (D(2027, 1, 28), following(28), "2026-12"),
        (D(2026, 8, 20), following(20), "2026-07"),
        (D(2026, 8, 21), following(20), None),
        (D(2024, 3, 28), LWD, "2024-03"),
        (D(2024, 3, 29), LWD, None),  # Good Friday
    ],
)
def test_month_due_on(day: dt.date, rule: ImportDay, expected: str | None) -> None:
    assert month_due_on(day, rule) == (ym(expected) if expected else None)


@pytest.mark.parametrize(
    ("today", "rule", "expected"),
    [
        (D(2026, 1, 30), LWD, "2026-01"),  # the import day itself counts as passed
        (D(2026, 1, 29), LWD, "2025-12"),  # last work day of December 2025 was Wednesday the 31st
        (D(2026, 1, 31), LWD, "2026-01"),
        (D(2026, 2, 1), LWD, "2026-01"),
        (D(2026, 2, 28), LCD, "2026-02"),
        (D(2026, 2, 27), LCD, "2026-01"),
        (D(2026, 3, 5), following(5), "2026-02"),
        (D(2026, 3, 4), following(5), "2026-01"),
        (D(2027, 1, 1), following(1), "2026-12"),
        (D(2026, 12, 31), following(1), "2026-11"),
        (D(2027, 1, 27), following(28), "2026-11"),
        (D(2027, 1, 28), following(28), "2026-12"),
    ],
)
def test_latest_due_month(today: dt.date, rule: ImportDay, expected: str) -> None:
    assert latest_due_month(today, rule) == ym(expected)


def test_a_datetime_is_not_taken_for_a_date() -> None:
    with pytest.raises(TypeError, match="Europe/Tallinn"):
        latest_due_month(dt.datetime(2026, 1, 30, 18, 0, tzinfo=dt.UTC), LWD)  # type: ignore[arg-type]


# --- next_import ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "rule", "last_imported", "expected_month", "expected_date"),
    [
        (D(2026, 1, 15), LWD, "2025-12", "2026-01", D(2026, 1, 30)),  # upcoming
        (D(2026, 1, 30), LWD, "2025-12", "2026-01", D(2026, 1, 30)),  # due tonight
        (D(2026, 1, 30), LWD, "2026-01", "2026-02", D(2026, 2, 27)),  # done tonight: next one
        (D(2026, 1, 15), LWD, "2025-11", "2025-12", D(2025, 12, 31)),  # overdue: the past date
        (D(2026, 3, 10), following(5), "2026-01", "2026-02", D(2026, 3, 5)),  # overdue
        (D(2026, 12, 20), following(1), "2026-11", "2026-12", D(2027, 1, 1)),  # into next year
        (D(2026, 1, 30), LWD, None, "2026-01", D(2026, 1, 30)),  # new client, today is an import day
        (D(2026, 1, 31), LWD, None, "2026-02", D(2026, 2, 27)),  # new client, January's day passed
        (D(2026, 1, 15), LWD, None, "2026-01", D(2026, 1, 30)),
        (D(2026, 3, 3), following(5), None, "2026-02", D(2026, 3, 5)),
        (D(2026, 3, 6), following(5), None, "2026-03", D(2026, 4, 5)),
    ],
)
def test_next_import(
    today: dt.date,
    rule: ImportDay,
    last_imported: str | None,
    expected_month: str,
    expected_date: dt.date,
) -> None:
    last = ym(last_imported) if last_imported else None
    assert next_import(today, rule, last) == (ym(expected_month), expected_date)


# --- months_due (catch-up) ---------------------------------------------------------------------------------------
FIRST = ym("2020-01")


@pytest.mark.parametrize(
    ("today", "rule", "last_imported", "first_month", "expected"),
    [
        # on schedule: exactly the month due today
        (D(2026, 1, 30), LWD, "2025-12", FIRST, ["2026-01"]),
        # already imported tonight, or nothing due yet
        (D(2026, 1, 30), LWD, "2026-01", FIRST, []),
        (D(2026, 1, 29), LWD, "2025-12", FIRST, []),
        # missed imports are caught up, oldest first, across a year end
        (D(2026, 1, 30), LWD, "2025-10", FIRST, ["2025-11", "2025-12", "2026-01"]),
        (D(2026, 3, 5), following(5), "2025-10", FIRST, ["2025-11", "2025-12", "2026-01", "2026-02"]),
        # last import newer than anything due (for example after a reload): nothing twice
        (D(2026, 1, 30), LWD, "2026-02", FIRST, []),
        # nothing imported yet: from first_month
        (D(2026, 1, 29), LWD, None, ym("2025-12"), ["2025-12"]),
        (D(2026, 1, 30), LWD, None, ym("2025-12"), ["2025-12", "2026-01"]),
        (D(2026, 1, 30), LWD, None, ym("2026-02"), []),
        # first_month only matters when nothing was imported
        (D(2026, 1, 30), LWD, "2025-12", ym("2026-06"), ["2026-01"]),
    ],
)
def test_months_due(
    today: dt.date,
    rule: ImportDay,
    last_imported: str | None,
    first_month: YearMonth,
    expected: list[str],
) -> None:
    last = ym(last_imported) if last_imported else None
    assert months_due(today, rule, last, first_month=first_month) == [ym(m) for m in expected]


def test_months_due_then_next_import_agree() -> None:
    # After importing everything due, the next import lies in the future.
    today = D(2026, 3, 10)
    due = months_due(today, following(5), ym("2025-10"), first_month=FIRST)
    month, date = next_import(today, following(5), due[-1])
    assert month == ym("2026-03")
    assert date == D(2026, 4, 5)
    assert date > today


# --- reload window -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("today", "rule", "first", "last"),
    [
        (D(2026, 1, 30), LWD, "2025-02", "2026-01"),  # import day of January has come
        (D(2026, 1, 29), LWD, "2025-01", "2025-12"),  # the day before it
        (D(2027, 1, 28), following(28), "2026-01", "2026-12"),
        (D(2027, 1, 27), following(28), "2025-12", "2026-11"),
        (D(2028, 2, 29), LCD, "2027-03", "2028-02"),
        (D(2028, 2, 28), LCD, "2027-02", "2028-01"),
    ],
)
def test_reload_window_is_the_12_months_ending_with_the_latest_due_month(
    today: dt.date, rule: ImportDay, first: str, last: str
) -> None:
    window = reload_window(today, rule)
    assert len(window) == 12
    assert window == YearMonth.range(ym(first), ym(last))


def test_reload_window_other_lengths() -> None:
    assert reload_window(D(2026, 1, 30), LWD, months=1) == [ym("2026-01")]
    assert reload_window(D(2026, 1, 30), LWD, months=3) == [ym("2025-11"), ym("2025-12"), ym("2026-01")]
    for bad in (0, -1):
        with pytest.raises(ValueError, match="positive"):
            reload_window(D(2026, 1, 30), LWD, months=bad)
