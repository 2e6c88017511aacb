"""Requests as API Gateway delivers them, resolved by the whole API on in-memory ports."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.api.app import build_app
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.service.dependencies import Dependencies
from tests.support.events import load_event
from tests.support.fakes import in_memory_dependencies

COMPANY = "demo-company"


@pytest.fixture
def deps() -> Dependencies:
    deps = in_memory_dependencies()
    deps.uku.create_client(COMPANY, UkuClient(id="client-empty", name="Tühi Holding OÜ"))
    return deps


Call = Callable[..., tuple[int, dict[str, str], Any]]


@pytest.fixture
def call(deps: Dependencies) -> Call:
    """call(method, path, body=None, *, company=COMPANY, role="owner", content_type=..., query=None)."""
    template = load_event("http_api", "integration-get")
    app = build_app()

    def _call(
        method: str,
        path: str,
        body: str | None = None,
        *,
        company: str = COMPANY,
        role: str = "owner",
        content_type: str | None = "application/json",
        query: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        event = copy.deepcopy(template)
        event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["requestContext"]["http"]["method"] = method
        event["requestContext"]["authorizer"]["jwt"]["claims"].update({"uku:companyId": company, "uku:role": role})
        if content_type:
            event["headers"]["content-type"] = content_type
        if body is not None:
            event["body"] = body
        if query:
            event["queryStringParameters"] = query
            event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
        app.append_context(deps=deps)
        result = app.resolve(event, LambdaContext("HttpApiFunction", 29))
        text = result.get("body") or ""
        return result["statusCode"], result.get("headers", {}), json.loads(text) if text else None

    return _call
