from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from smartaccounts_sync.domain.months import YearMonth, YearMonthStr, tallinn_today

UTC = dt.UTC


class TestYearMonth:
    def test_parse_and_format_round_trip(self) -> None:
        month = YearMonth.parse("2026-11")
        assert (month.year, month.month) == (2026, 11)
        assert str(month) == "2026-11"
        assert str(YearMonth(987, 1)) == "0987-01"

    @pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-11-01", " 2026-11", ""])
    def test_parse_refuses_anything_but_yyyy_mm(self, text: str) -> None:
        with pytest.raises(ValueError, match="YYYY-MM"):
            YearMonth.parse(text)

    @pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 5), (2026, True)])
    def test_constructor_refuses_impossible_months(self, year: int, month: int) -> None:
        with pytest.raises(ValueError):
            YearMonth(year, month)

    def test_next_and_previous_cross_year_boundaries(self) -> None:
        assert YearMonth(2026, 12).next() == YearMonth(2027, 1)
        assert YearMonth(2027, 1).previous() == YearMonth(2026, 12)
        assert YearMonth(2026, 5).next() == YearMonth(2026, 6)

    def test_minus_and_plus(self) -> None:
        assert YearMonth(2026, 1).minus(11) == YearMonth(2025, 2)
        assert YearMonth(2026, 1).minus(12) == YearMonth(2025, 1)
        assert YearMonth(2026, 1).minus(0) == YearMonth(2026, 1)
        assert YearMonth(2025, 2).plus(11) == YearMonth(2026, 1)
        assert YearMonth(2025, 2).months_until(YearMonth(2026, 1)) == 11

    def test_first_and_last_day(self) -> None:
        assert YearMonth(2028, 2).first_day == dt.date(2028, 2, 1)
        assert YearMonth(2028, 2).last_day == dt.date(2028, 2, 29)  # leap year
        assert YearMonth(2027, 2).last_day == dt.date(2027, 2, 28)
        assert YearMonth(2100, 2).last_day == dt.date(2100, 2, 28)  # not a leap year
        assert YearMonth(2026, 4).last_day == dt.date(2026, 4, 30)
        assert YearMonth(2026, 12).last_day == dt.date(2026, 12, 31)

    def test_ordering_is_chronological(self) -> None:
        months = [YearMonth(2027, 1), YearMonth(2026, 12), YearMonth(2026, 2), YearMonth(2026, 10)]
        assert sorted(months) == [YearMonth(2026, 2), YearMonth(2026, 10), YearMonth(2026, 12), YearMonth(2027, 1)]
        assert YearMonth(2026, 10) > YearMonth(2026, 9)
        assert YearMonth(2025, 12) < YearMonth(2026, 1)

    def test_is_hashable_and_frozen(self) -> None:
        assert len({YearMonth(2026, 1), YearMonth.parse("2026-01")}) == 1
        with pytest.raises(AttributeError):
            YearMonth(2026, 1).month = 2  # type: ignore[misc]

    def test_range_is_inclusive_and_crosses_years(self) -> None:
        assert YearMonth.range(YearMonth(2025, 11), YearMonth(2026, 2)) == [
            YearMonth(2025, 11),
            YearMonth(2025, 12),
            YearMonth(2026, 1),
            YearMonth(2026, 2),
        ]
        assert YearMonth.range(YearMonth(2026, 3), YearMonth(2026, 3)) == [YearMonth(2026, 3)]
        assert YearMonth.range(YearMonth(2026, 4), YearMonth(2026, 3)) == []

    def test_of_and_contains(self) -> None:
        assert YearMonth.of(dt.date(2026, 11, 30)) == YearMonth(2026, 11)
        assert dt.date(2026, 11, 1) in YearMonth(2026, 11)
        assert dt.date(2026, 12, 1) not in YearMonth(2026, 11)


class TestPydantic:
    class Model(BaseModel):
        month: YearMonth
        text: YearMonthStr

    def test_year_month_field_accepts_string_and_instance_and_serialises_as_string(self) -> None:
        model = self.Model(month="2026-11", text="2026-11")
        assert model.month == YearMonth(2026, 11)
        assert self.Model(month=YearMonth(2026, 11), text="2026-11").month == YearMonth(2026, 11)
        assert model.model_dump(mode="json") == {"month": "2026-11", "text": "2026-11"}
        assert self.Model.model_validate_json('{"month": "2026-01", "text": "2026-01"}').month == YearMonth(2026, 1)

    @pytest.mark.parametrize("bad", ["2026-13", "2026-1", "November", 202611])
    def test_year_month_field_refuses_bad_values(self, bad: object) -> None:
        with pytest.raises(ValidationError):
            self.Model(month=bad, text="2026-11")
        with pytest.raises(ValidationError):
            self.Model(month="2026-11", text=bad)

    def test_json_schema_is_a_patterned_string(self) -> None:
        schema = TypeAdapter(YearMonth).json_schema()
        assert schema["type"] == "string"
        assert "pattern" in schema


class TestTallinnToday:
    def test_late_evening_utc_is_already_tomorrow_in_tallinn(self) -> None:
        # 2026-01-30 22:30 UTC is 2026-01-31 00:30 in Tallinn (UTC+2 in winter).
        assert tallinn_today(dt.datetime(2026, 1, 30, 22, 30, tzinfo=UTC)) == dt.date(2026, 1, 31)
        assert tallinn_today(dt.datetime(2026, 1, 30, 21, 59, tzinfo=UTC)) == dt.date(2026, 1, 30)

    def test_summer_time_offset(self) -> None:
        # UTC+3 in summer: 2026-06-30 21:00 UTC is 2026-07-01 00:00 in Tallinn.
        assert tallinn_today(dt.datetime(2026, 6, 30, 21, 0, tzinfo=UTC)) == dt.date(2026, 7, 1)
        assert tallinn_today(dt.datetime(2026, 6, 30, 20, 59, tzinfo=UTC)) == dt.date(2026, 6, 30)

    def test_other_zones_are_converted(self) -> None:
        new_york = ZoneInfo("America/New_York")
        assert tallinn_today(dt.datetime(2026, 3, 31, 18, 0, tzinfo=new_york)) == dt.date(2026, 4, 1)

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            tallinn_today(dt.datetime(2026, 1, 30, 12, 0))

    def test_default_is_now(self) -> None:
        assert isinstance(tallinn_today(), dt.date)
