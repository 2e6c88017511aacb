from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from smartaccounts_sync.domain.errors import InvalidTaskTitleError
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.summary_task import (
    TASK_TITLE_MAX_LENGTH,
    TASK_TITLE_PLACEHOLDERS,
    TaskTitle,
    merge_field_values,
    render_task_title,
    validate_task_title,
)

NOV = YearMonth(2026, 11)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Bookkeeping {month}", "Bookkeeping 2026-11"),
        ("{client}: {monthName} {year}", "Acme OÜ: November 2026"),
        ("Monthly summary", "Monthly summary"),
        ("{{month}} is {month}", "{month} is 2026-11"),
        ("  {client}  ", "Acme OÜ"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render_task_title(template, month=NOV, client_name="Acme OÜ") == expected


def test_month_names_are_english_for_every_month() -> None:
    names = [render_task_title("{monthName}", month=YearMonth(2026, m), client_name="x") for m in range(1, 13)]
    assert names[0] == "January"
    assert names[4] == "May"
    assert names[11] == "December"
    assert render_task_title("{year}-{month}", month=YearMonth(2027, 1), client_name="x") == "2027-2027-01"


def test_client_name_whitespace_is_collapsed_and_long_titles_are_cut() -> None:
    assert render_task_title("{client}", month=NOV, client_name="  Acme \n OÜ ") == "Acme OÜ"
    title = render_task_title("Summary {client}", month=NOV, client_name="A" * 500)
    assert len(title) == TASK_TITLE_MAX_LENGTH
    assert title.endswith("…")


def test_placeholders_are_documented() -> None:
    assert set(TASK_TITLE_PLACEHOLDERS) == {"month", "monthName", "year", "client"}
    assert all(TASK_TITLE_PLACEHOLDERS.values())


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "at most 200 characters"),
        ("Summary {quarter}", "unknown placeholder {quarter}"),
        ("Summary {Month}", "unknown placeholder {Month}"),
        ("Summary {}", "unknown placeholder {}"),
        ("Summary {client.__class__}", "unknown placeholder"),
        ("Summary {month:>10}", "unknown placeholder"),
        ("Summary {month", "never closed"),
        ("Summary month}", "no matching '{'"),
        ("Summary {mon{month}", "never closed"),
    ],
)
def test_validation_problems(template: str, fragment: str) -> None:
    problems = validate_task_title(template)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(InvalidTaskTitleError) as info:
        render_task_title(template, month=NOV, client_name="Acme")
    assert info.value.problems == tuple(problems)
    assert isinstance(info.value, ValueError)


def test_several_problems_are_all_listed() -> None:
    problems = validate_task_title("{a} {b} }" + "x" * 200)
    assert len(problems) == 4  # too long, two unknown placeholders, one stray brace


def test_valid_templates_have_no_problems() -> None:
    assert validate_task_title("x" * 200) == []
    assert validate_task_title("{client} {monthName} {year} {month} {{}}") == []


def test_task_title_type_for_models() -> None:
    class Settings(BaseModel):
        taskTitle: TaskTitle

    assert Settings(taskTitle="Summary {month}").taskTitle == "Summary {month}"
    with pytest.raises(ValidationError, match="unknown placeholder"):
        Settings(taskTitle="Summary {quarter}")


class TestMergeFieldValues:
    def test_mapped_fields_overwrite_and_unmapped_keep(self) -> None:
        existing = {"ctf-1": 3, "ctf-2": Decimal("10.00"), "ctf-9": "kept by hand"}
        merged, changed = merge_field_values(existing, {"ctf-1": 5, "ctf-2": Decimal("10.00")})
        assert merged == {"ctf-1": 5, "ctf-2": Decimal("10.00"), "ctf-9": "kept by hand"}
        assert changed
        assert existing["ctf-1"] == 3  # input left alone

    def test_identical_values_are_no_change(self) -> None:
        existing = {"ctf-1": Decimal("5"), "ctf-2": Decimal("10.00")}
        merged, changed = merge_field_values(existing, {"ctf-1": 5, "ctf-2": Decimal("10.0")})
        assert not changed
        assert merged["ctf-1"] == 5

    def test_new_field_is_a_change(self) -> None:
        assert merge_field_values({}, {"ctf-1": 0}) == ({"ctf-1": 0}, True)
        assert merge_field_values({"ctf-1": 0}, {}) == ({"ctf-1": 0}, False)
