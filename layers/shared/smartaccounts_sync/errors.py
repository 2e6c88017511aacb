"""Errors the service reports to users, each with a stable machine-readable code and a plain-words message.

The HTTP layer turns them into `application/problem+json`; jobs record them where the user can see them.
Nothing here knows about HTTP beyond the status number each code answers with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class ServiceError(Exception):
    """Base of every error a caller of the service may see."""

    code: ClassVar[str] = "INTERNAL"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class ValidationFailed(ServiceError):
    code = "VALIDATION_FAILED"
    status = 400
    title = "The request is not valid"

    def __init__(self, problems: list[FieldProblem], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class TokenClaimsMissing(ServiceError):
    """A verified token without the Uku claims the service needs: not the caller's input, not a body problem."""

    code = "TOKEN_CLAIMS_MISSING"
    status = 403
    title = "The access token lacks the Uku claims"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "The access token does not carry " + ", ".join(p.field for p in problems) + "; sign in to Uku again."
        )
        self.problems = problems


class TokenClaimsInvalid(ServiceError):
    """A verified token whose Uku claims break the contract (an identifier outside the pattern, an unknown role)."""

    code = "TOKEN_CLAIMS_INVALID"
    status = 403
    title = "The access token's Uku claims are not valid"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__(
            "The access token carries " + ", ".join(p.field for p in problems) + " in a form this service does not "
            "accept; sign in to Uku again or contact Uku support."
        )
        self.problems = problems


class RoleNotAllowed(ServiceError):
    code = "ROLE_NOT_ALLOWED"
    status = 403
    title = "Your role cannot change this"


class PlanNotAllowed(ServiceError):
    code = "PLAN_NOT_ALLOWED"
    status = 403
    title = "Your Uku plan does not include this"


class IntegrationDisabled(ServiceError):
    code = "INTEGRATION_DISABLED"
    status = 409
    title = "The SmartAccounts integration is disabled"


class NotConnected(ServiceError):
    code = "NOT_CONNECTED"
    status = 409
    title = "SmartAccounts is not connected"


class NotFound(ServiceError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    code = "CONFLICT"
    status = 409
    title = "Changed by someone else"


@dataclass
class Problem:
    """An RFC 9457 problem document with the contract's `code`."""

    code: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://docs.uku.ee/errors/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        body.update(self.extra)
        return body

    @classmethod
    def of(cls, error: ServiceError) -> Problem:
        return cls(
            code=error.code,
            title=error.title,
            status=error.status,
            detail=error.detail,
            errors=list(getattr(error, "problems", [])),
            extra=error.extra,
        )
