"""Calendar months (`YYYY-MM`) and "today" in Europe/Tallinn.

Every calendar decision of the service (which month a document belongs to, which month is due for import, the
reload window) is taken in Europe/Tallinn, whatever the clock of the machine says. `YearMonth` is the one value
type for a month; it parses and prints the contract's `YYYY-MM` form and can be used directly as a pydantic field.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

TALLINN = ZoneInfo("Europe/Tallinn")

# years 0001..9999 (there is no year 0000), months 01..12
YEAR_MONTH_PATTERN = r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
_YEAR_MONTH_RE = re.compile(YEAR_MONTH_PATTERN)

#: A `YYYY-MM` string (month 01..12), for models that keep the month as text.
YearMonthStr = Annotated[str, StringConstraints(pattern=YEAR_MONTH_PATTERN)]


def tallinn_today(now: dt.datetime | None = None) -> dt.date:
    """The calendar date in Europe/Tallinn at `now` (default: the current instant).

    `now` must be timezone-aware: a naive datetime says nothing about which day it is in Tallinn.
    """
    if now is None:
        return dt.datetime.now(TALLINN).date()
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (for example datetime.now(timezone.utc))")
    return now.astimezone(TALLINN).date()


@dataclass(frozen=True, order=True, slots=True)
class YearMonth:
    """One calendar month. Ordered chronologically; `str()` gives `YYYY-MM`."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9999:
            raise ValueError(f"year must be an integer between 1 and 9999, got {self.year!r}")
        if isinstance(self.month, bool) or not isinstance(self.month, int) or not 1 <= self.month <= 12:
            raise ValueError(f"month must be an integer between 1 and 12, got {self.month!r}")

    # --- construction -------------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> YearMonth:
        """Parse `YYYY-MM` (exactly four digits, a dash, a month 01..12)."""
        if not isinstance(text, str) or not _YEAR_MONTH_RE.fullmatch(text):
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        return cls(int(text[:4]), int(text[5:]))

    @classmethod
    def of(cls, day: dt.date) -> YearMonth:
        """The month a calendar date falls in (pass a Tallinn date, see `tallinn_today`)."""
        return cls(day.year, day.month)

    @classmethod
    def from_index(cls, index: int) -> YearMonth:
        """Inverse of `index`."""
        year, month0 = divmod(index, 12)
        return cls(year, month0 + 1)

    # --- formatting -----------------------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __repr__(self) -> str:
        return f"YearMonth({self})"

    # --- arithmetic ---------------------------------------------------------------------------------------------
    @property
    def index(self) -> int:
        """Months since year 0: consecutive months have consecutive indexes."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> YearMonth:
        return YearMonth.from_index(self.index + months)

    def minus(self, months: int) -> YearMonth:
        return YearMonth.from_index(self.index - months)

    def next(self) -> YearMonth:
        return self.plus(1)

    def previous(self) -> YearMonth:
        return self.minus(1)

    def months_until(self, other: YearMonth) -> int:
        """How many months from self to other (negative when other is earlier)."""
        return other.index - self.index

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and day.year == self.year and day.month == self.month

    @staticmethod
    def range(start: YearMonth, end: YearMonth) -> list[YearMonth]:
        """Every month from start to end, both included, in order; empty when end is before start."""
        return [YearMonth.from_index(i) for i in range(start.index, end.index + 1)]

    # --- pydantic -------------------------------------------------------------------------------------------------
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Accept a `YearMonth` or a `YYYY-MM` string; serialise to `YYYY-MM`."""
        from_str = core_schema.no_info_after_validator_function(
            cls.parse, core_schema.str_schema(pattern=YEAR_MONTH_PATTERN)
        )
        return core_schema.json_or_python_schema(
            json_schema=from_str,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_str]),
            serialization=core_schema.to_string_ser_schema(),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": YEAR_MONTH_PATTERN, "examples": ["2026-11"]}
