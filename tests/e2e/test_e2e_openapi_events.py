"""The OpenAPI document is current and served with Swagger UI; `events/http_api/` has a sample per route family and
every sample matches a route of template.yaml (issue 4 "Done when")."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests

from local_stack.template import Template
from tests.e2e.conftest import Api
from tests.support.events import EVENTS, load_event

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((EVENTS / "http_api").glob("*.json"))
ROUTES = Template().http_routes()


def family(path: str) -> str:
    """A route family: the first path segment after the version prefix (`integrations/<name>` for integrations);
    the unversioned documentation routes (/openapi.json, /docs) are one family."""
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] == "v1":
        parts = parts[1:]
    if parts[0] in ("openapi.json", "docs"):
        return "docs"
    return "/".join(parts[:2]) if parts[0] == "integrations" else parts[0]


def test_openapi_json_is_served_and_equals_the_committed_document(anonymous: Api) -> None:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    committed = json.loads((REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert response.json() == committed, "docs/openapi.json is stale: run `make openapi`"


def test_openapi_documents_every_route_of_the_dialog_with_problem_codes(anonymous: Api) -> None:
    document = anonymous.get("/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/v1/integrations/smartaccounts", "get"),
        ("/v1/integrations/smartaccounts/enable", "post"),
        ("/v1/integrations/smartaccounts/disable", "post"),
        ("/v1/integrations/smartaccounts/credentials", "put"),
        ("/v1/integrations/smartaccounts/test-connection", "post"),
        ("/v1/integrations/smartaccounts/settings", "get"),
        ("/v1/integrations/smartaccounts/settings", "put"),
        ("/v1/integrations/smartaccounts/fields", "get"),
        ("/v1/integrations/smartaccounts/diagnostics", "get"),
        ("/v1/integrations/smartaccounts/companies", "get"),
        ("/v1/custom-task-fields", "get"),
        ("/v1/custom-task-fields", "post"),
        ("/v1/topics", "get"),
        ("/v1/topics", "post"),
        ("/v1/clients", "get"),
        ("/v1/clients", "post"),
        ("/v1/clients/{clientId}/integration", "get"),
        ("/v1/clients/{clientId}/integration", "put"),
        ("/v1/clients/{clientId}/integration", "delete"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not in the OpenAPI document"


def test_swagger_ui_is_served(anonymous: Api) -> None:
    response = anonymous.get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "swagger" in response.text.lower()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_sample_is_a_route_of_the_template(sample: Path) -> None:
    event = load_event("http_api", sample.stem)
    route_keys = {r.route_key for r in ROUTES}
    assert event["routeKey"] in route_keys
    assert event["requestContext"]["routeKey"] == event["routeKey"]
    method = event["routeKey"].split(" ", 1)[0]
    route = next(r for r in ROUTES if r.route_key == event["routeKey"])
    assert event["requestContext"]["http"]["method"] == method
    assert route.match(method, event["rawPath"]) is not None, "rawPath does not fit the route"
    assert ("authorizer" in event["requestContext"]) == route.authorized


FAMILIES = sorted({family(r.path) for r in ROUTES})
@pytest.mark.parametrize("route_family", FAMILIES)
def test_every_route_family_has_a_sample(route_family: str) -> None:
    sampled = {family(load_event("http_api", s.stem)["rawPath"]) for s in SAMPLES}
    assert route_family in sampled


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/integrations/smartaccounts/vat-types", 200, None),
        ("POST", "/v1/integrations/smartaccounts/vat-types/refresh", 409, "INTEGRATION_DISABLED"),
        ("GET", "/v1/invoices/inv-1/export", 404, "NOT_FOUND"),
        ("POST", "/v1/invoices/inv-1/export/retry", 404, "NOT_FOUND"),
    ],
)
def test_vat_type_and_export_routes_answer(stack, method: str, path: str, status: int, code: str | None) -> None:
    token = stack.token(f"co-{uuid.uuid4().hex[:8]}", "owner", "team")
    response = requests.request(method, stack.api_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == status, response.text
    if code is None:
        assert response.json() == {"vatTypes": [], "fetchedAt": None}
    else:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
