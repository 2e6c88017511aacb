"""Hostile input gets a 4xx problem, never a 500, and stores nothing."""

from __future__ import annotations

import json

import pytest

from tests.unit.security.conftest import COMPANY, Call

CREDENTIALS = "/v1/integrations/smartaccounts/credentials"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream", "image/png"])
def test_a_body_that_is_not_json_is_415(call: Call, deps, content_type: str) -> None:
    status, headers, problem = call("PUT", CREDENTIALS, '{"apiKey": "k", "apiSecret": "s"}', content_type=content_type)
    assert status == 415 and headers["Content-Type"] == "application/problem+json"
    assert problem["code"] == "UNSUPPORTED_MEDIA_TYPE" and "application/json" in problem["detail"]
    assert deps.credentials.secrets == {}


@pytest.mark.parametrize("depth", [100_000, 1_000_000])
def test_a_deeply_nested_body_is_400(call: Call, depth: int) -> None:
    status, headers, problem = call("POST", "/v1/topics", "[" * depth)
    assert status == 400 and headers["Content-Type"] == "application/problem+json"
    assert problem["code"] == "VALIDATION_FAILED" and problem["errors"][0]["field"] == "body"
    assert "nested too deeply" in problem["errors"][0]["message"]


def test_a_body_that_is_not_json_at_all_is_400(call: Call) -> None:
    status, _, problem = call("POST", "/v1/topics", "{name: x")
    assert status == 400 and problem["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "query",
    [{"to": "0000-01"}, {"from": "0000-12"}, {"to": "2026-13"}, {"to": "2026-00"}, {"to": "20261"},
     {"to": "0001-03"}, {"from": "2026-05", "to": "2026-01"}],
)
def test_impossible_months_are_400(call: Call, query: dict[str, str]) -> None:
    status, headers, problem = call("GET", "/v1/clients/client-empty/summary-tasks", query=query)
    assert status == 400 and headers["Content-Type"] == "application/problem+json", problem
    assert problem["code"] == "VALIDATION_FAILED"


def test_the_first_possible_months_are_listed(call: Call) -> None:
    status, _, body = call("GET", "/v1/clients/client-empty/summary-tasks", query={"from": "0001-01", "to": "0001-12"})
    assert status == 200 and body["tasks"] == []


@pytest.mark.parametrize("path", ["/v1/topics", "/v1/custom-task-fields"])
def test_names_are_limited_after_trimming(call: Call, deps, path: str) -> None:
    extra = {"type": "number"} if "fields" in path else {}
    # A name of 120 characters with surrounding spaces is the 120 characters
    status, _, body = call("POST", path, json.dumps({"name": "   " + "n" * 120 + "  ", **extra}))
    assert status == 201 and body["name"] == "n" * 120
    # One more character is refused, as is a name of spaces only
    for name in ["n" * 121, "  " + "m" * 121, "    ", ""]:
        status, _, problem = call("POST", path, json.dumps({"name": name, **extra}))
        assert status == 400 and problem["errors"][0]["field"] == "name", name
    topics = deps.uku.list_topics(COMPANY) if "topics" in path else deps.uku.list_custom_fields(COMPANY)
    assert [t.name for t in topics] == ["n" * 120]
