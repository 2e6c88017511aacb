"""The SmartAccounts error taxonomy: every failure of the adapter is a :class:`SmartAccountsError` of one kind.

The kinds are the service's vocabulary; which HTTP status and message maps to which kind lives in
:mod:`smartaccounts_sync.smartaccounts.protocol`, the one place for wire decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, as far as the caller needs to know to decide what to do next."""

    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    CREDENTIALS_REVOKED = "CREDENTIALS_REVOKED"
    SIGNATURE_REJECTED = "SIGNATURE_REJECTED"
    RATE_LIMITED = "RATE_LIMITED"
    DAILY_QUOTA_SPENT = "DAILY_QUOTA_SPENT"
    NOT_FOUND = "NOT_FOUND"
    VALIDATION_REJECTED = "VALIDATION_REJECTED"
    UNAVAILABLE = "UNAVAILABLE"
    PAGING_STALLED = "PAGING_STALLED"
    #: SmartAccounts answered 200 with a body the service cannot read (a missing or renamed envelope key, items the
    #: models cannot parse): a change on SmartAccounts' side that needs a fix here, never read as zeros.
    SCHEMA_MISMATCH = "SCHEMA_MISMATCH"

    @property
    def retryable(self) -> bool:
        """True when trying the same request again later may succeed without anyone changing anything."""
        return self in _RETRYABLE

    @property
    def api_code(self) -> str:
        """The code the service's own HTTP API reports for this kind."""
        return _API_CODES[self]


_RETRYABLE = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.UNAVAILABLE})

_API_CODES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_CREDENTIALS: "SA_INVALID_CREDENTIALS",
    ErrorKind.CREDENTIALS_REVOKED: "SA_CREDENTIALS_REVOKED",
    ErrorKind.SIGNATURE_REJECTED: "SA_SIGNATURE_REJECTED",
    ErrorKind.RATE_LIMITED: "SA_RATE_LIMITED",
    ErrorKind.DAILY_QUOTA_SPENT: "SA_DAILY_QUOTA_SPENT",
    ErrorKind.NOT_FOUND: "NOT_FOUND",
    ErrorKind.VALIDATION_REJECTED: "SA_VALIDATION_REJECTED",
    ErrorKind.UNAVAILABLE: "SA_UNAVAILABLE",
    ErrorKind.PAGING_STALLED: "SA_UNAVAILABLE",
    ErrorKind.SCHEMA_MISMATCH: "SA_SCHEMA_MISMATCH",
}


class SmartAccountsError(Exception):
    """A failed SmartAccounts call.

    ``message`` is safe to show a user and to log: it never holds the API key, the secret, the signature or the
    request URL. ``messages`` are SmartAccounts' own messages (validation errors), ``retry_after`` the seconds to wait
    before trying again when known, ``reason`` a finer machine-readable cause (for example ``clock_skew``).
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        messages: Sequence[str] = (),
        retry_after: float | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.messages: tuple[str, ...] = tuple(messages)
        self.retry_after = retry_after
        self.endpoint = endpoint
        self.status = status
        self.reason = reason

    @property
    def retryable(self) -> bool:
        return self.kind.retryable

    @property
    def api_code(self) -> str:
        return self.kind.api_code

    def __str__(self) -> str:
        where = []
        if self.endpoint:
            where.append(f"endpoint={self.endpoint}")
        if self.status is not None:
            where.append(f"status={self.status}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.kind.value}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return (
            f"SmartAccountsError(kind={self.kind.value!r}, message={self.message!r}, endpoint={self.endpoint!r}, "
            f"status={self.status!r}, retry_after={self.retry_after!r}, reason={self.reason!r})"
        )

    def __reduce__(self):  # keep the error picklable (keyword-only arguments)
        return (
            _rebuild,
            (self.kind, self.message, self.messages, self.retry_after, self.endpoint, self.status, self.reason),
        )


def _rebuild(
    kind: ErrorKind,
    message: str,
    messages: Sequence[str],
    retry_after: float | None,
    endpoint: str | None,
    status: int | None,
    reason: str | None,
) -> SmartAccountsError:
    return SmartAccountsError(
        kind, message, messages=messages, retry_after=retry_after, endpoint=endpoint, status=status, reason=reason
    )
