"""The documentation function: /health from a resolver with that route alone, /openapi.json and /docs from the one
with every route, built at the first of them and kept for the container."""

from __future__ import annotations

import json
from pathlib import Path

import api_docs
import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.api import handler
from tests.support.events import load_event
from tests.support.fakes import in_memory_dependencies

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list:
    """The concerns whose resolver the documentation function builds, in order."""
    concerns: list = []
    real = handler.build_app

    def build_app(concern: str | None = None):
        concerns.append(concern)
        return real(concern)

    monkeypatch.setattr(handler, "build_app", build_app)
    handler._documentation.cache_clear()
    yield concerns
    handler._documentation.cache_clear()


def _get(name: str) -> dict:
    return api_docs.lambda_handler(
        load_event("http_api", name), LambdaContext("ApiDocsFunction", 29), deps=in_memory_dependencies()
    )


def test_health_answers_without_building_the_resolver_of_every_route(built: list) -> None:
    response = _get("health")
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}
    assert _get("health")["statusCode"] == 200
    assert built == ["health"]


def test_the_document_and_swagger_ui_come_from_one_resolver_with_every_route(built: list) -> None:
    document = _get("openapi-get")
    assert document["statusCode"] == 200
    assert json.loads(document["body"]) == json.loads(COMMITTED.read_text(encoding="utf-8"))
    docs = _get("docs-get")
    assert docs["statusCode"] == 200 and docs["headers"]["Content-Type"].startswith("text/html")
    assert built == [None]
