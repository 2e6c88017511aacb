"""The help page's troubleshooting causes, in the words users read there, for every SmartAccounts error kind.

Every failure the service reports names one of these, so a user knows which case they are in and what fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError


@dataclass(frozen=True)
class Cause:
    kind: str
    cause: str
    fix: str

    def sentence(self) -> str:
        return f"{self.cause} {self.fix}"


_CAUSES: dict[ErrorKind, Cause] = {
    ErrorKind.INVALID_CREDENTIALS: Cause(
        "INVALID_CREDENTIALS",
        "SmartAccounts does not recognise this API key.",
        "Copy the key again directly from the SmartAccounts API panel (no spaces before or after it), or generate a "
        "new pair in SmartAccounts and paste both values.",
    ),
    ErrorKind.CREDENTIALS_REVOKED: Cause(
        "CREDENTIALS_REVOKED",
        "These API credentials were revoked in SmartAccounts (an administrator rotated them).",
        "Generate a fresh pair in SmartAccounts, paste both values into Uku and test the connection.",
    ),
    ErrorKind.SIGNATURE_REJECTED: Cause(
        "SIGNATURE_REJECTED",
        "SmartAccounts knows the API key but rejected the API secret. SmartAccounts shows the secret only once, "
        "so it may have been lost or belong to an older pair.",
        "Regenerate the pair in SmartAccounts and paste both values into Uku.",
    ),
    ErrorKind.RATE_LIMITED: Cause(
        "RATE_LIMITED",
        "SmartAccounts is limiting requests for this API key (60 a minute).",
        "Wait a moment and try again.",
    ),
    ErrorKind.DAILY_QUOTA_SPENT: Cause(
        "DAILY_QUOTA_SPENT",
        "This API key has used its daily SmartAccounts request budget (1000 a day).",
        "It renews at midnight Estonian time; imports waiting for it resume by themselves.",
    ),
    ErrorKind.NOT_FOUND: Cause(
        "NOT_FOUND",
        "SmartAccounts does not show this company or document to these credentials.",
        "Check that the credentials belong to the right SmartAccounts company, or pick the company again.",
    ),
    ErrorKind.VALIDATION_REJECTED: Cause(
        "VALIDATION_REJECTED",
        "SmartAccounts refused the data.",
        "Read SmartAccounts' messages below, correct the data in Uku and try again.",
    ),
    ErrorKind.UNAVAILABLE: Cause(
        "UNAVAILABLE",
        "SmartAccounts could not be reached (network error, time-out or a SmartAccounts outage).",
        "Nothing is wrong with your settings; try again later.",
    ),
    ErrorKind.PAGING_STALLED: Cause(
        "UNAVAILABLE",
        "SmartAccounts stopped returning further pages of results.",
        "Try again later; if it keeps happening, contact Uku support.",
    ),
    ErrorKind.SCHEMA_MISMATCH: Cause(
        "SCHEMA_MISMATCH",
        "SmartAccounts answered in a form Uku does not understand (its data format has changed), so nothing was "
        "imported rather than importing wrong values.",
        "Nothing is wrong with your settings; Uku's operators have been alerted and the import is retried after "
        "the fix.",
    ),
}

CLOCK_CAUSE = Cause(
    "SIGNATURE_REJECTED",
    "SmartAccounts rejected the request time (more than 15 minutes away from Estonian time).",
    "This is a clock problem on Uku's side, not your credentials; try again shortly.",
)

WHITESPACE_NOTE = "Spaces or line breaks around the pasted values were removed before use."
#: The rate guard's own daily refusals whose message says more than the cause's text (`smartaccounts/rate_guard.py`).
GUARD_DAILY_REASONS = frozenset({"smartaccounts_spent", "reserved_for_schedule"})


def cause_of(error: SmartAccountsError) -> Cause:
    if error.kind is ErrorKind.SIGNATURE_REJECTED and error.reason == "clock_skew":
        return CLOCK_CAUSE
    return _CAUSES[error.kind]


#: Where a client's own key pair is pasted again (the company key's place is the integration's Connect tab).
OWN_KEY_FIX = (
    "Generate a fresh pair in this client's SmartAccounts company and paste both values into the client's "
    "SmartAccounts link (client list, Integration column), then save."
)


def what_happened(error: SmartAccountsError) -> str:
    """The cause in the user's words, with SmartAccounts' own messages when it sent some: `explain` without the fix."""
    if error.kind is ErrorKind.DAILY_QUOTA_SPENT and error.reason in GUARD_DAILY_REASONS:
        # refused by the guard, nothing sent: its words say whose limit it is (SmartAccounts' own word on the key's
        # day, or the share of the day held for the scheduled import), not that Uku used 1000 requests
        return error.message
    said = f" SmartAccounts said: {'; '.join(error.messages)}." if error.messages else ""
    return cause_of(error).cause + said


def explain(error: SmartAccountsError, *, trimmed: bool = False, own_key: bool = False) -> str:
    """One paragraph for the user: the cause, SmartAccounts' own messages when it sent some, and the fix (`own_key`:
    a client's own key pair, fixed in the client's link, not on the integration's Connect tab)."""
    cause = cause_of(error)
    parts = [what_happened(error)]
    if error.kind is ErrorKind.DAILY_QUOTA_SPENT and error.reason in GUARD_DAILY_REASONS:
        parts.append("Imports waiting for it resume by themselves.")
    elif error.kind is ErrorKind.RATE_LIMITED and error.retry_after:
        seconds = int(error.retry_after + 0.999)
        parts.append(f"Try again in {seconds} second{'s' if seconds != 1 else ''}.")
    elif own_key and error.kind in (
        ErrorKind.INVALID_CREDENTIALS, ErrorKind.CREDENTIALS_REVOKED, ErrorKind.SIGNATURE_REJECTED
    ):
        parts.append(OWN_KEY_FIX)
    else:
        parts.append(cause.fix)
    if trimmed and error.kind in (ErrorKind.INVALID_CREDENTIALS, ErrorKind.SIGNATURE_REJECTED):
        parts.append(WHITESPACE_NOTE + " The values still do not work, so the cause is not the spaces.")
    return " ".join(parts)


_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_CREDENTIALS: 422,
    ErrorKind.CREDENTIALS_REVOKED: 422,
    ErrorKind.SIGNATURE_REJECTED: 422,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.DAILY_QUOTA_SPENT: 429,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.VALIDATION_REJECTED: 422,
    ErrorKind.UNAVAILABLE: 502,
    ErrorKind.PAGING_STALLED: 502,
    ErrorKind.SCHEMA_MISMATCH: 502,
}


class SmartAccountsProblem(ServiceError):
    """A SmartAccounts failure as the API reports it: the kind's code, the help page's cause and its fix."""

    title = "SmartAccounts refused or could not answer"

    def __init__(self, error: SmartAccountsError, *, trimmed: bool = False) -> None:
        extra: dict[str, object] = {"errorKind": cause_of(error).kind}
        if error.retry_after:
            extra["retryAfterSeconds"] = int(error.retry_after + 0.999)
        if error.messages:
            extra["smartAccountsMessages"] = list(error.messages)
        super().__init__(explain(error, trimmed=trimmed), extra=extra)
        self.code = error.kind.api_code  # type: ignore[misc]
        self.status = _STATUS[error.kind]  # type: ignore[misc]
        self.kind = error.kind
        self.headers = {"Retry-After": str(extra["retryAfterSeconds"])} if "retryAfterSeconds" in extra else None
