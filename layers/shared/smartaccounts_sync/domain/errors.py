"""Domain exceptions: what the core refuses, in words an API layer can turn into a problem response."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """Base of every exception raised by the domain core."""


class UnknownFieldError(DomainError, LookupError):
    """A key that is not in the SmartAccounts field catalogue."""

    def __init__(self, key: str) -> None:
        super().__init__(f"unknown SmartAccounts field {key!r}")
        self.key = key


class InvalidTaskTitleError(DomainError, ValueError):
    """A summary task title template that cannot be rendered; `problems` lists every reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)
