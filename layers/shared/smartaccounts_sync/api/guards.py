"""Hostile input stops at the edge with a 4xx problem: over-nested JSON bodies and path ids outside the pattern.

Powertools parses the body with the resolver's `json_body_deserializer` and turns a `JSONDecodeError` into a 400
validation problem; :func:`parse_json_body` makes a body nested deeper than Python's recursion limit (100,000 `[`)
such an error instead of a `RecursionError`. :func:`path_identifiers` checks every path parameter named like an id
against the identifier pattern, for every route of every router (also routes that do not annotate their ids), so
no path id outside the pattern reaches a service, a key or a secret name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from smartaccounts_sync.domain.identifiers import IDENTIFIER_DESCRIPTION, is_identifier
from smartaccounts_sync.errors import FieldProblem, ValidationFailed


def parse_json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("the JSON body is nested too deeply", text[:100], 0) from None


def path_identifiers(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response]) -> Response:
    route_args: dict[str, Any] = app.context.get("_route_args") or {}
    bad = [name for name, value in route_args.items() if name.endswith("Id") and not is_identifier(value)]
    if bad:
        raise ValidationFailed([FieldProblem(name, IDENTIFIER_DESCRIPTION) for name in sorted(bad)])
    return next_middleware(app)
