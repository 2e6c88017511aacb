"""The monthly summary task: its title, rendered from the firm's template, and its field values.

A title template is plain text with placeholders in braces, for example `"Bookkeeping {monthName} {year}"`.
A literal brace is written twice (`{{` or `}}`), as in Python's `str.format`. Nothing else is interpreted:
no attribute access, no format specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import AfterValidator

from smartaccounts_sync.domain.errors import InvalidTaskTitleError
from smartaccounts_sync.domain.months import YearMonth

TASK_TITLE_MAX_LENGTH = 200

TASK_TITLE_PLACEHOLDERS: dict[str, str] = {
    "month": 'The month the statistics are for, as YYYY-MM (for example "2026-11").',
    "monthName": 'The English name of that month (for example "November").',
    "year": 'The year of that month (for example "2026").',
    "client": "The Uku client's name.",
}

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)  # fixed English names: calendar.month_name would follow the process locale


@dataclass(frozen=True, slots=True)
class _Placeholder:
    name: str


def _tokenise(template: str) -> tuple[list[str | _Placeholder], list[str]]:
    """Split a template into literal text and placeholders; the second list holds brace and name problems."""
    parts: list[str | _Placeholder] = []
    problems: list[str] = []
    literal: list[str] = []
    known = ", ".join("{" + name + "}" for name in TASK_TITLE_PLACEHOLDERS)
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if char == "{":
            if template.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            close = template.find("}", i + 1)
            reopen = template.find("{", i + 1)
            if close == -1 or (reopen != -1 and reopen < close):
                problems.append(f"unbalanced braces: the '{{' at position {i + 1} is never closed")
                literal.append(char)
                i += 1
                continue
            name = template[i + 1 : close]
            if name not in TASK_TITLE_PLACEHOLDERS:
                problems.append(f"unknown placeholder {{{name}}}: use {known}")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_Placeholder(name))
            i = close + 1
        elif char == "}":
            if template.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            problems.append(f"unbalanced braces: the '}}' at position {i + 1} has no matching '{{'")
            literal.append(char)
            i += 1
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts, problems


def validate_task_title(template: str) -> list[str]:
    """Every problem with a title template, in words for the user; empty when the template is fine."""
    problems: list[str] = []
    if not template or not template.strip():
        problems.append("the task title must not be empty")
        return problems
    if len(template) > TASK_TITLE_MAX_LENGTH:
        problems.append(
            f"the task title must be at most {TASK_TITLE_MAX_LENGTH} characters long, it has {len(template)}"
        )
    problems.extend(_tokenise(template)[1])
    return problems


def render_task_title(template: str, *, month: YearMonth, client_name: str) -> str:
    """The summary task title for one client and month.

    Raises `InvalidTaskTitleError` (a ValueError) listing every problem when the template is not valid. The result
    is trimmed and, should a long client name push it past the limit, cut to `TASK_TITLE_MAX_LENGTH` characters
    ending in an ellipsis.
    """
    problems = validate_task_title(template)
    if problems:
        raise InvalidTaskTitleError(problems)
    values = {
        "month": str(month),
        "monthName": MONTH_NAMES[month.month - 1],
        "year": f"{month.year:04d}",
        "client": " ".join(client_name.split()),
    }
    parts, _ = _tokenise(template)
    title = "".join(values[p.name] if isinstance(p, _Placeholder) else p for p in parts).strip()
    if len(title) > TASK_TITLE_MAX_LENGTH:
        title = title[: TASK_TITLE_MAX_LENGTH - 1].rstrip() + "…"
    return title


def _check_task_title(template: str) -> str:
    problems = validate_task_title(template)
    if problems:
        raise ValueError("; ".join(problems))
    return template


#: A task title template, validated by `validate_task_title`, for API and storage models.
TaskTitle = Annotated[str, AfterValidator(_check_task_title)]


V = TypeVar("V")


def merge_field_values(existing: Mapping[str, V], new: Mapping[str, V]) -> tuple[dict[str, V], bool]:
    """The task's field values after an import, and whether anything changed.

    Fields in `new` (the mapped ones) overwrite what the task had; fields only in `existing` keep their value.
    `changed` is False when every new value equals the one already there (so no update needs to be written).
    Values compare by `==`, so a count read back from storage as `Decimal("5")` equals a freshly computed `5`.
    """
    merged = dict(existing)
    changed = False
    for key, value in new.items():
        if key not in merged or merged[key] != value:
            changed = True
        merged[key] = value
    return merged, changed
