"""Every error leaves the API as `application/problem+json` with a stable `code`; this is the one place that maps."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)

from smartaccounts_sync.domain.identifiers import IDENTIFIER_DESCRIPTION, IDENTIFIER_PATTERN
from smartaccounts_sync.domain.months import YEAR_MONTH_PATTERN
from smartaccounts_sync.errors import FieldProblem, Problem, ServiceError
from smartaccounts_sync.observability import logger

PROBLEM_JSON = "application/problem+json"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem.to_dict()),
        headers=headers,
    )


def _field_name(loc: tuple) -> str:
    # Powertools prefixes the location with "body", "query" or "path"; the field is what follows.
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts)


_PATTERN_MESSAGES = {
    IDENTIFIER_PATTERN: IDENTIFIER_DESCRIPTION,
    YEAR_MONTH_PATTERN: "must be a month as YYYY-MM (year 0001-9999, month 01-12)",
}


def _pattern_message(error: dict) -> str | None:
    if error.get("type") != "string_pattern_mismatch":
        return None
    return _PATTERN_MESSAGES.get((error.get("ctx") or {}).get("pattern", ""))


def _message(text: object) -> str:
    # pydantic prefixes a validator's own message with "Value error, "; the user needs only the message.
    return str(text).removeprefix("Value error, ")


def register(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        log = logger.info if error.status < 500 else logger.error
        log("request refused", extra={"code": error.code, "status": error.status})
        return problem_response(Problem.of(error), headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    def request_invalid(error: RequestValidationError) -> Response:
        problems = [
            FieldProblem("body", f"not valid JSON: {e.get('ctx', {}).get('error', 'cannot be parsed')}")
            if e.get("type") == "json_invalid"
            else FieldProblem(
                _field_name(tuple(e.get("loc", ()))), _pattern_message(e) or _message(e.get("msg", "invalid"))
            )
            for e in error.errors()
        ]
        logger.info("request refused", extra={"code": "VALIDATION_FAILED", "fields": [p.field for p in problems]})
        detail = "; ".join(f"{p.field or 'body'}: {p.message}" for p in problems)
        return problem_response(
            Problem(
                code="VALIDATION_FAILED", title="The request is not valid", status=400, detail=detail, errors=problems
            )
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        logger.info("request refused", extra={"code": "UNSUPPORTED_MEDIA_TYPE"})
        return problem_response(
            Problem(
                code="UNSUPPORTED_MEDIA_TYPE",
                title="The body must be JSON",
                status=415,
                detail="Send the request body as application/json.",
            )
        )

    @app.exception_handler(UnicodeDecodeError)
    def body_not_utf8(_: UnicodeDecodeError) -> Response:
        # only the request body is decoded from bytes in the API layer
        logger.info("request refused", extra={"code": "VALIDATION_FAILED", "fields": ["body"]})
        return problem_response(
            Problem(
                code="VALIDATION_FAILED",
                title="The request is not valid",
                status=400,
                detail="body: the request body is not UTF-8 text",
                errors=[FieldProblem("body", "the request body is not UTF-8 text")],
            )
        )

    @app.exception_handler(ResponseValidationError)
    def response_invalid(error: ResponseValidationError) -> Response:
        logger.error("response does not fit its model", extra={"errors": [e.get("msg") for e in error.errors()]})
        return problem_response(
            Problem(
                code="INTERNAL",
                title="Internal error",
                status=500,
                detail="The service failed to answer; this is a bug on Uku's side and has been logged.",
            )
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        # The last resort: a bug or an AWS failure. Logged with its trace for operators; the answer says nothing more.
        logger.exception("unexpected failure", extra={"error_type": type(error).__name__})
        return problem_response(
            Problem(
                code="INTERNAL",
                title="Internal error",
                status=500,
                detail="The service failed to answer; this is on Uku's side and has been logged. Try again later.",
            )
        )

    @app.not_found
    def not_found(_: NotFoundError) -> Response:
        return problem_response(
            Problem(code="NOT_FOUND", title="Not found", status=404, detail="No such route in this API")
        )
