"""Who may call: every route of the integration dialog and the client column, for each role and plan, through the
local HTTP front with dev tokens (issue 4 "Who may call", issue 5 authorization)."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
import requests

from local_stack.template import Template
from local_stack.tokens import issue_token
from tests.e2e.conftest import INTEGRATION, TIMEOUT, Api, Company, problem

pytestmark = pytest.mark.e2e

ROLES = ("owner", "admin", "member")
PLANS = ("free", "team", "elite")

#: Read routes of issues 4 and 5: open to every member of the company, whatever the plan.
READS = (
    INTEGRATION,
    f"{INTEGRATION}/settings",
    f"{INTEGRATION}/fields",
    f"{INTEGRATION}/diagnostics",
    "/v1/custom-task-fields",
    "/v1/topics",
    "/v1/clients",
    "/v1/clients/{client}/integration",
)


def _management_calls(company: Company, client_id: str, unlink_id: str) -> list[tuple[str, str, dict | None]]:
    """Every management route of issues 4 and 5 with a valid body (disable last: it stops the others)."""
    suffix = uuid4().hex[:6]
    return [
        ("POST", f"{INTEGRATION}/enable", None),
        ("PUT", f"{INTEGRATION}/credentials", {"apiKey": company.key["apiKey"], "apiSecret": company.key["apiSecret"]}),
        ("POST", f"{INTEGRATION}/test-connection", None),
        ("PUT", f"{INTEGRATION}/settings", company.settings()),
        ("GET", f"{INTEGRATION}/companies", None),
        ("POST", "/v1/custom-task-fields", {"name": f"Field {suffix}", "type": "number"}),
        ("POST", "/v1/topics", {"name": f"Topic {suffix}"}),
        ("POST", "/v1/clients", {"name": f"Client {suffix}"}),
        ("PUT", f"/v1/clients/{client_id}/integration", {"integration": "smartaccounts", "companyId": "co-medium"}),
        ("DELETE", f"/v1/clients/{unlink_id}/integration", None),
        ("POST", f"{INTEGRATION}/disable", None),
    ]


def _expected_refusal(role: str, plan: str) -> str | None:
    if role not in ("owner", "admin"):
        return "ROLE_NOT_ALLOWED"
    if plan not in ("team", "elite"):
        return "PLAN_NOT_ALLOWED"
    return None


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("role", ROLES)
def test_management_routes_need_owner_or_admin_on_team_or_elite_and_reads_are_open(
    configured_company: Company, api_as, role: str, plan: str
) -> None:
    # Given a configured company (settings, a linked client, a second linked client to unlink)
    owner = configured_company.api
    client_id = configured_company.extra["client_id"]
    unlink_id = configured_company.client("To unlink")
    configured_company.link(unlink_id, "co-small")
    caller = api_as(configured_company.company_id, role, plan)
    refusal = _expected_refusal(role, plan)

    # When the caller reads, Then every read answers 200, whatever the role and plan
    with ThreadPoolExecutor(len(READS)) as pool:
        answers = list(pool.map(lambda path: caller.get(path.format(client=client_id)), READS))
    for path, response in zip(READS, answers, strict=True):
        assert response.status_code == 200, f"{role}/{plan} GET {path}: {response.status_code} {response.text}"

    before = owner.state()
    topics_before = owner.ok("GET", "/v1/topics")
    clients_before = owner.ok("GET", "/v1/clients")

    # When the caller uses every management route (in order when they take effect, at once when refused)
    calls = _management_calls(configured_company, client_id, unlink_id)

    def call(spec: tuple[str, str, dict | None]):
        method, path, body = spec
        return caller.request(method, path, json=body) if body is not None else caller.request(method, path)

    if refusal is None:
        answers = [call(spec) for spec in calls]
    else:
        with ThreadPoolExecutor(len(calls)) as pool:
            answers = list(pool.map(call, calls))
    for (method, path, _), response in zip(calls, answers, strict=True):
        # Then members are refused for their role and owners/admins on free for their plan; the others pass
        if refusal is None:
            assert response.status_code in (200, 201, 204), f"{role}/{plan} {method} {path}: {response.text}"
        else:
            body_ = problem(response, 403, refusal)
            assert role in body_["detail"] or plan in body_["detail"]

    # And a refused caller changed nothing
    if refusal is not None:
        assert owner.state() == before
        assert owner.ok("GET", "/v1/topics") == topics_before
        assert owner.ok("GET", "/v1/clients") == clients_before
    else:
        after = owner.state()
        assert after["enabled"] is False  # the last call (disable) went through
        assert owner.ok("GET", f"/v1/clients/{unlink_id}/integration")["status"] == "NOT_LINKED"
        assert owner.ok("GET", f"/v1/clients/{client_id}/integration")["companyId"] == "co-medium"


@functools.cache
def _other_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


@pytest.mark.parametrize("route", [r for r in Template().http_routes() if r.authorized], ids=lambda r: r.route_key)
def test_every_authorized_route_answers_401_without_a_valid_token(anonymous: Api, route) -> None:
    # Given no token, a token signed by another key, and an expired token
    forged = issue_token("co-forged", "owner", "team", key=_other_key())
    expired = issue_token("co-expired", "owner", "team", now=1_000_000_000)
    path = _concrete(route.path)
    for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {expired}"}):
        # When the route is called
        response = anonymous.request(route.method, path, headers=headers, json={} if route.method != "GET" else None)
        # Then API Gateway's authorizer refuses it before the function runs
        assert response.status_code == 401, (route.route_key, headers.keys(), response.text)


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs"])
def test_public_routes_answer_without_a_token(anonymous: Api, path: str) -> None:
    # When a public route is called without a token, Then it answers 200
    assert anonymous.get(path).status_code == 200


def test_token_without_uku_claims_is_refused(stack) -> None:
    # Given a token signed by the local issuer but lacking the Uku claims
    import jwt

    from local_stack.tokens import LOCAL_AUDIENCE, LOCAL_ISSUER, signing_key

    token = jwt.encode(
        {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "sub": "someone", "exp": 4_000_000_000, "iat": 1_700_000_000},
        signing_key(),
        algorithm="RS256",
        headers={"kid": "local-dev"},
    )
    # When it reads the integration state
    response = requests.get(
        f"{stack.api_url}{INTEGRATION}", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    # Then it is refused with the claims named, and no company is assumed
    body = problem(response, 403, "TOKEN_CLAIMS_MISSING")
    assert "uku:companyId" in {e["field"] for e in body["errors"]}


def test_the_company_comes_from_the_token_only(configured_company: Company, api_as) -> None:
    # Given company A configured, and an owner of company B
    other = api_as()
    # When B reads the integration state and the client list, even naming A in the query string
    state = other.ok("GET", INTEGRATION, params={"companyId": configured_company.company_id})
    clients = other.ok("GET", "/v1/clients", params={"companyId": configured_company.company_id})
    # Then B sees its own (empty) integration, not A's
    assert state["enabled"] is False and state["maskedKey"] is None and state["linkedClients"] == 0
    assert clients["clients"] == []
