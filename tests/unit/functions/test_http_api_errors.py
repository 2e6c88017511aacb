"""Whatever fails inside the HTTP function, the caller gets a problem document, never a bare 500."""

from __future__ import annotations

import json

import connection_api
import pytest

from local_stack.front import LambdaContext
from smartaccounts_sync.service.dependencies import Dependencies
from tests.support.events import load_event
from tests.support.fakes import in_memory_dependencies


class BrokenRepository:
    def get(self, company_id: str):
        raise RuntimeError("DynamoDB is on fire: internal detail")


@pytest.fixture
def broken() -> Dependencies:
    return in_memory_dependencies(integrations=BrokenRepository())


def test_an_unexpected_failure_is_a_500_problem_without_its_details(broken: Dependencies) -> None:
    event = load_event("http_api", "integration-enable")
    result = connection_api.lambda_handler(event, LambdaContext("ConnectionApiFunction", 29), deps=broken)
    assert result["statusCode"] == 500
    assert result["headers"]["Content-Type"] == "application/problem+json"
    body = json.loads(result["body"])
    assert body["code"] == "INTERNAL" and body["status"] == 500
    assert "fire" not in result["body"]


def test_a_token_without_uku_claims_is_403_naming_them(broken: Dependencies) -> None:
    event = load_event("http_api", "integration-get")
    event["requestContext"]["authorizer"]["jwt"]["claims"] = {"sub": "someone"}
    result = connection_api.lambda_handler(event, LambdaContext("ConnectionApiFunction", 29), deps=broken)
    body = json.loads(result["body"])
    assert result["statusCode"] == 403 and body["code"] == "TOKEN_CLAIMS_MISSING"
    assert {"uku:companyId", "uku:role", "uku:plan"} <= {e["field"] for e in body["errors"]}
