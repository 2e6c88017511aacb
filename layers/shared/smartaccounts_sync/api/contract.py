"""Completes the generated OpenAPI document so that it describes what the API really answers.

Powertools documents each route's success response and a 422 validation error the API never sends. This module
turns route metadata into the standard error responses, for every route of every router, new ones included:

* the bearer JWT scheme (`ukuJwt`) for every operation under `/v1/`; the others are public;
* on every `/v1/` operation: 401 (API Gateway's JWT authorizer, `application/json` `{"message": …}`), 403 (token
  claims, role or plan) and 500, each a problem under `application/problem+json`;
* 400 when the operation has parameters or a body (validation: the status the API sends, not Powertools' 422),
  415 when it has a body, 404 when it has path parameters, 409 when it writes (POST, PUT, DELETE);
* any further statuses the route declares in its metadata:
  ``@router.get(..., openapi_extensions=problems(409, 502))``.

The success status comes from the route's own `status_code` (201, 202, 204).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

PROBLEMS_EXTENSION = "x-problems"
SECURITY_SCHEME = "ukuJwt"
PROBLEM_JSON = "application/problem+json"
WRITES = {"post", "put", "patch", "delete"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document with a stable machine-readable `code`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "what happened and what to do, in plain words"},
        "code": {"type": "string", "description": "stable machine-readable code, e.g. VALIDATION_FAILED"},
        "errors": {
            "type": "array",
            "description": "the fields that are not valid (validation problems)",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
GATEWAY_MESSAGE_SCHEMA: dict[str, Any] = {
    "title": "GatewayMessage",
    "description": "API Gateway's own answer (its JWT authorizer refused the token).",
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}
WHY = {
    400: "The request is not valid (code VALIDATION_FAILED, with the fields in `errors`)",
    401: "No valid bearer token (API Gateway's JWT authorizer)",
    403: "The token lacks valid Uku claims, or the caller's role or plan may not do this",
    404: "No such resource in this Uku company",
    409: "Not possible in the integration's current state, or changed by someone else meanwhile",
    415: "The body is not application/json",
    422: "SmartAccounts refused the key pair or the request (the problem's code names the help page's case)",
    429: "SmartAccounts' minute limit or daily quota for this key (see Retry-After)",
    500: "The service failed; logged on Uku's side",
    502: "SmartAccounts could not be reached, or answered in a way the service does not understand",
}
# Every status the API documents has its own words here: `HTTPStatus.phrase` differs between Python versions
# (422 is "Unprocessable Entity" on 3.11, "Unprocessable Content" on 3.13), and docs/openapi.json must not.


def problems(*statuses: int) -> dict[str, list[int]]:
    """Route metadata: the error statuses this route answers besides the standard ones."""
    return {PROBLEMS_EXTENSION: sorted(statuses)}


def _problem_response(status: int) -> dict[str, Any]:
    return {
        "description": WHY.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _standard_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    if not path.startswith("/v1/"):
        return {500}
    statuses = {403, 500}
    parameters = operation.get("parameters") or []
    if parameters or "requestBody" in operation:
        statuses.add(400)
    if "requestBody" in operation:
        statuses.add(415)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    return statuses


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document with security, the problem schema and every error status each operation answers."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["GatewayMessage"] = GATEWAY_MESSAGE_SCHEMA
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "Uku access token; the service reads sub, uku:companyId, uku:role and uku:plan. uku:companyId must "
                "match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$, else 403 TOKEN_CLAIMS_INVALID."
            ),
        }
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            declared = set(operation.pop(PROBLEMS_EXTENSION, []))
            if 422 not in declared:
                responses.pop("422", None)  # Powertools' validation response: the API sends 400
            for status in sorted(_standard_statuses(path, method, operation) | declared):
                responses[str(status)] = _problem_response(status)
            if path.startswith("/v1/"):
                operation["security"] = [{SECURITY_SCHEME: []}]
                responses["401"] = {
                    "description": WHY[401],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayMessage"}}},
                }
            else:
                operation["security"] = []
            for success in [code for code in responses if code.startswith("2")]:
                if success == "204":
                    responses[success].pop("content", None)
            operation["responses"] = dict(sorted(responses.items()))
    return document


def complete_model(schema: OpenAPI) -> OpenAPI:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI  # only where the document is built

    plain = schema.model_dump(by_alias=True, exclude_none=True, mode="json")
    return OpenAPI.model_validate(complete(plain))
