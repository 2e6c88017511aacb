"""Concurrent requests of two companies on the local front: no response carries the other company's data.

The local stack runs every handler in one process; Powertools keeps the current event on the resolver, so without
one invocation at a time per function (as one Lambda environment does) a request could see another's event.
Without `LocalStack.invoke`'s per-function lock this test fails (checked: 500s and crossed answers).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import INTEGRATION, TIMEOUT, Api, new_company_id

REQUESTS_PER_COMPANY = 120


def _company(stack, topic: str) -> Api:
    company = new_company_id()
    api = Api(stack.api_url, stack.token(company), company)
    api.ok("POST", "/v1/topics", 201, json={"name": topic})
    return api


def test_concurrent_requests_of_two_companies_never_cross(stack) -> None:
    # Given two companies, each with a topic named after itself
    a, b = _company(stack, "Topic of A"), _company(stack, "Topic of B")
    calls = [(a, "Topic of A"), (b, "Topic of B")] * REQUESTS_PER_COMPANY

    def read(call: tuple[Api, str]) -> tuple[str, list[str], bool]:
        api, own = call
        session = requests.Session()
        topics = session.get(f"{api.base}/v1/topics", headers={"Authorization": f"Bearer {api.token}"}, timeout=TIMEOUT)
        state = session.get(f"{api.base}{INTEGRATION}", headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
        assert topics.status_code == 200 and state.status_code == 200
        return own, [t["name"] for t in topics.json()["topics"]], state.json()["enabled"]

    # When both read their topics and integration state at the same time, many times over
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(read, calls))

    # Then every answer holds exactly its own company's data
    assert len(results) == 2 * REQUESTS_PER_COMPANY
    for own, names, enabled in results:
        assert names == [own] and enabled is False
