"""The local front does what API Gateway's HTTP API and JWT authorizer do, over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

from local_stack.front import LocalFront
from local_stack.net import free_port
from local_stack.template import Template
from local_stack.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, issue_token, verify_token
from tests.support.events import load_event, shape

pytestmark = pytest.mark.integration

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def front():
    received: list[tuple[str, dict]] = []

    def invoke(function: str, event: dict) -> dict:
        received.append((function, event))
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"ok": true}'}

    app = LocalFront(Template().http_routes(), invoke, lambda token: verify_token(token, key=KEY))
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", received
    server.shutdown()


def _token(**kwargs) -> str:
    return issue_token("demo-company", "owner", "team", key=KEY, **kwargs)


def test_event_has_api_gateway_payload_v2_shape(front) -> None:
    url, received = front
    response = requests.get(
        f"{url}/v1/integrations/smartaccounts",
        headers={"Authorization": f"Bearer {_token()}", "User-Agent": "uku-web/1.0"},
        timeout=5,
    )
    assert response.status_code == 200
    function, event = received[-1]
    assert function == "ConnectionApiFunction"
    sample = load_event("http_api", "integration-get")
    # The same structure as API Gateway's sample, down to every key of requestContext and its authorizer
    ours = shape(event["requestContext"])
    theirs = shape(sample["requestContext"])
    assert ours.keys() == theirs.keys()
    assert ours["http"] == theirs["http"]
    assert ours["authorizer"]["jwt"].keys() == theirs["authorizer"]["jwt"].keys()
    assert theirs["authorizer"]["jwt"]["claims"].keys() <= ours["authorizer"]["jwt"]["claims"].keys()
    assert set(event) == set(sample)
    assert event["routeKey"] == sample["routeKey"] and event["rawPath"] == sample["rawPath"]
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["uku:companyId"] == "demo-company" and claims["uku:role"] == "owner" and claims["uku:plan"] == "team"
    assert all(isinstance(v, str) for v in claims.values())  # API Gateway passes every claim as a string


def test_path_parameters_query_and_body_arrive_as_api_gateway_sends_them(front) -> None:
    url, received = front
    requests.put(
        f"{url}/v1/clients/client-7/integration?x=1&x=2",
        json={"integration": "smartaccounts"},
        headers={"Authorization": f"Bearer {_token()}"},
        timeout=5,
    )
    _, event = received[-1]
    sample = load_event("http_api", "client-integration-put")
    assert event["routeKey"] == sample["routeKey"] == "PUT /v1/clients/{clientId}/integration"
    assert event["pathParameters"] == {"clientId": "client-7"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["rawQueryString"] == "x=1&x=2"
    assert event["body"] == '{"integration": "smartaccounts"}' and event["isBase64Encoded"] is False


def test_health_needs_no_token(front) -> None:
    url, received = front
    assert requests.get(f"{url}/health", timeout=5).status_code == 200
    assert "authorizer" not in received[-1][1]["requestContext"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-jwt"},
    ],
    ids=["missing", "empty", "wrong-scheme", "garbage"],
)
def test_missing_or_malformed_token_is_401(front, headers) -> None:
    url, _ = front
    response = requests.get(f"{url}/v1/integrations/smartaccounts", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_expired_wrong_audience_wrong_issuer_and_foreign_signature_are_401(front) -> None:
    url, received = front
    before = len(received)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = {
        "expired": _token(now=time.time() - 7200, ttl_seconds=3600),
        "audience": _token(audience="someone-else"),
        "issuer": _token(issuer="https://evil.example"),
        "signature": issue_token("demo-company", key=other_key),
    }
    for reason, token in tokens.items():
        response = requests.get(
            f"{url}/v1/integrations/smartaccounts", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert response.status_code == 401, reason
    assert len(received) == before  # no handler ran
    assert LOCAL_ISSUER and LOCAL_AUDIENCE


def test_unknown_route_is_404_without_calling_a_handler(front) -> None:
    url, received = front
    before = len(received)
    response = requests.get(f"{url}/v1/nothing-here", headers={"Authorization": f"Bearer {_token()}"}, timeout=5)
    assert response.status_code == 404
    assert len(received) == before
