"""The "Import data" setting: on which day each month's statistics are imported.

Three rules, from the help page ("last work day, last calendar day, or a specific day of the following month
(1st-28th)"):

- `LAST_WORK_DAY`: the last day of the month that is neither a Saturday, a Sunday nor an Estonian public holiday.
- `LAST_CALENDAR_DAY`: the last day of the month.
- `DAY_OF_FOLLOWING_MONTH` with `day` N (1..28): day N of the month after, as is (not moved off weekends or
  holidays).

The month imported on an import day is the month the rule belongs to: the import on 2026-01-30 (last work day of
January) imports January; the import on 2026-02-05 (day 5 of the following month) also imports January. The
scheduled import runs in the evening of the import day, so on the import day itself that month counts as due.
All dates here are Europe/Tallinn calendar dates (see `months.tallinn_today`).
"""

import datetime as dt
from functools import lru_cache
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth

ImportRule = Literal["LAST_WORK_DAY", "LAST_CALENDAR_DAY", "DAY_OF_FOLLOWING_MONTH"]

MIN_FOLLOWING_MONTH_DAY = 1
MAX_FOLLOWING_MONTH_DAY = 28
DEFAULT_RELOAD_MONTHS = 12


class ImportDay(DeferredModel):
    """`{rule, day?}` as in the settings contract. Only `DAY_OF_FOLLOWING_MONTH` takes a day (1..28)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: ImportRule
    day: int | None = Field(default=None, validate_default=True)

    @field_validator("day", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("day must be a whole number, not true/false")
        return value

    @field_validator("day")
    @classmethod
    def _day_fits_rule(cls, day: int | None, info: ValidationInfo) -> int | None:
        rule = info.data.get("rule")
        if rule is None:  # the rule itself was invalid and is reported on its own
            return day
        if rule == "DAY_OF_FOLLOWING_MONTH":
            if day is None:
                raise ValueError(
                    "day is required for DAY_OF_FOLLOWING_MONTH: pick a day between "
                    f"{MIN_FOLLOWING_MONTH_DAY} and {MAX_FOLLOWING_MONTH_DAY}"
                )
            if not MIN_FOLLOWING_MONTH_DAY <= day <= MAX_FOLLOWING_MONTH_DAY:
                raise ValueError(
                    f"day must be between {MIN_FOLLOWING_MONTH_DAY} and {MAX_FOLLOWING_MONTH_DAY} for "
                    "DAY_OF_FOLLOWING_MONTH: later days do not exist in every month"
                )
        elif day is not None:
            raise ValueError(f"day must be left out for {rule}: only DAY_OF_FOLLOWING_MONTH takes a day")
        return day

    # Convenience constructors.
    @classmethod
    def last_work_day(cls) -> "ImportDay":
        return cls(rule="LAST_WORK_DAY")

    @classmethod
    def last_calendar_day(cls) -> "ImportDay":
        return cls(rule="LAST_CALENDAR_DAY")

    @classmethod
    def day_of_following_month(cls, day: int) -> "ImportDay":
        return cls(rule="DAY_OF_FOLLOWING_MONTH", day=day)


# --- Estonian working days ---------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def estonian_public_holidays(year: int) -> frozenset[dt.date]:
    """Estonian public holidays (riigipühad) of one year, from the `holidays` package (imported at first use: it
    loads every country's calendar, which a cold start that computes no import day should not pay for)."""
    import holidays

    return frozenset(holidays.country_holidays("EE", years=year).keys())


def is_work_day(day: dt.date) -> bool:
    """Monday to Friday and not an Estonian public holiday."""
    return day.weekday() < 5 and day not in estonian_public_holidays(day.year)


# --- the calendar ------------------------------------------------------------------------------------------------
def _require_date(value: object, name: str) -> None:
    # datetime is a subclass of date and cannot be compared with one: insist on a plain (Tallinn) date.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a datetime.date in Europe/Tallinn (see tallinn_today), got {value!r}")


def import_date_for(month: YearMonth, rule: ImportDay) -> dt.date:
    """The day on which `month` is imported under `rule`."""
    if rule.rule == "LAST_CALENDAR_DAY":
        return month.last_day
    if rule.rule == "LAST_WORK_DAY":
        day = month.last_day
        while not is_work_day(day):
            day -= dt.timedelta(days=1)
        return day
    # DAY_OF_FOLLOWING_MONTH: day was validated to 1..28, which exists in every month.
    assert rule.day is not None  # noqa: S101 - guaranteed by ImportDay's validation
    return month.next().first_day.replace(day=rule.day)


def month_due_on(day: dt.date, rule: ImportDay) -> YearMonth | None:
    """The month whose import day is exactly `day`, or None when `day` is no import day."""
    _require_date(day, "day")
    this_month = YearMonth.of(day)
    # Every rule puts a month's import day in that month or in the month after.
    for candidate in (this_month, this_month.previous()):
        if import_date_for(candidate, rule) == day:
            return candidate
    return None


def latest_due_month(today: dt.date, rule: ImportDay) -> YearMonth:
    """The most recent month whose import day is on or before `today` (the import day itself counts)."""
    _require_date(today, "today")
    month = YearMonth.of(today)
    while import_date_for(month, rule) > today:  # at most two steps back
        month = month.previous()
    return month


def next_import(today: dt.date, rule: ImportDay, last_imported: YearMonth | None) -> tuple[YearMonth, dt.date]:
    """The next month to import and its import day.

    With a month already imported: the month after it, with its import day. That day is on or before `today`
    when the month is overdue (a missed import, to be caught up), otherwise it is the coming import day.
    With nothing imported yet: the month whose import day is the first on or after `today` (a client starts
    with the next scheduled import day; older months come with Reload data).
    """
    _require_date(today, "today")
    if last_imported is not None:
        month = last_imported.next()
        return month, import_date_for(month, rule)
    due_today = month_due_on(today, rule)
    month = due_today if due_today is not None else latest_due_month(today, rule).next()
    return month, import_date_for(month, rule)


def months_due(
    today: dt.date,
    rule: ImportDay,
    last_imported: YearMonth | None,
    *,
    first_month: YearMonth,
) -> list[YearMonth]:
    """Catch-up: the months to import now, oldest first, each once.

    Every month after `last_imported` (or from `first_month` when nothing was imported yet) up to and including
    `latest_due_month(today, rule)`. Empty when nothing is due.
    """
    start = last_imported.next() if last_imported is not None else first_month
    return YearMonth.range(start, latest_due_month(today, rule))


def reload_window(today: dt.date, rule: ImportDay, months: int = DEFAULT_RELOAD_MONTHS) -> list[YearMonth]:
    """The `months` months (default 12) ending with the most recent month whose import day has passed."""
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a positive whole number, got {months!r}")
    end = latest_due_month(today, rule)
    return YearMonth.range(end.minus(months - 1), end)
