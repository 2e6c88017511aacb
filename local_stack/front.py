"""The local HTTP front: what API Gateway (HTTP API, payload format 2.0, JWT authorizer) does in AWS.

It matches the request against the routes declared in `template.yaml`, verifies the bearer token as the JWT
authorizer would (signature, issuer, audience, expiry), puts the claims where API Gateway puts them, builds the
payload-v2 event and calls the real handler in-process. Routes under `/local/` exist only here.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
from werkzeug.wrappers import Request, Response

from local_stack.template import HttpRoute

TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml", "application/javascript")


class LambdaContext:
    """The parts of the Lambda context object that Powertools and the handlers read."""

    def __init__(self, function_name: str, timeout_seconds: int, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:eu-north-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def stringify_claims(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands JWT claims to the function as strings (arrays as `[a b]`)."""
    out = {}
    for key, value in claims.items():
        if isinstance(value, list):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[key] = str(value).lower()
        else:
            out[key] = str(value)
    return out


def build_event(request: Request, route: HttpRoute, path_parameters: dict[str, str], claims: dict | None) -> dict:
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key in request.args:
        query[key] = ",".join(request.args.getlist(key))
    raw_body = request.get_data()
    content_type = request.headers.get("content-type", "")
    is_text = not raw_body or content_type.startswith(TEXT_TYPES) or content_type == ""
    if is_text:
        try:
            raw_body.decode("utf-8")
        except UnicodeDecodeError:
            is_text = False  # bytes that are not UTF-8 travel base64-encoded, as API Gateway sends binary bodies
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": request.host,
            "domainPrefix": request.host.split(".")[0],
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if request.cookies:
        event["cookies"] = [f"{k}={v}" for k, v in request.cookies.items()]
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if raw_body:
        event["body"] = raw_body.decode("utf-8") if is_text else base64.b64encode(raw_body).decode()
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": stringify_claims(claims), "scopes": None}}
    return event


def to_response(result: Any) -> Response:
    """Turns a handler's payload-v2 result into an HTTP response, as API Gateway does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = Response(data, status=int(result["statusCode"]))
    response.headers.clear()
    for key, value in (result.get("headers") or {}).items():
        response.headers[key] = str(value)
    for key, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(key, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    if "Content-Type" not in response.headers:
        response.headers["Content-Type"] = "application/json"
    return response


class LocalFront:
    def __init__(
        self,
        routes: list[HttpRoute],
        invoke: Callable[[str, dict], Any],
        verify: Callable[[str], dict[str, Any]],
        local_routes: dict[tuple[str, str], Callable[[Request], Response]] | None = None,
    ) -> None:
        self.routes = routes
        self.invoke = invoke
        self.verify = verify
        self.local_routes = local_routes or {}

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        local = self.local_routes.get((request.method, request.path))
        if local is not None:
            return local(request)
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            claims = None
            if route.authorized:
                claims = self._authorize(request)
                if claims is None:
                    return Response(
                        json.dumps({"message": "Unauthorized"}),
                        status=401,
                        content_type="application/json",
                        headers={"www-authenticate": 'Bearer error="invalid_token"'},
                    )
            return to_response(self.invoke(route.function, build_event(request, route, params, claims)))
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    def _authorize(self, request: Request) -> dict[str, Any] | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return self.verify(token.strip())
        except jwt.PyJWTError:
            return None
