"""Schemathesis against the local stack: every operation of /openapi.json, with data that fits the contract and data
that does not, answers only documented statuses and content types with bodies that fit their schemas, never a 5xx.

Bounded so that it stays a test, not a campaign: hypothesis is derandomized (a fixed seed derived from each
operation), a few examples per operation and mode, no shrinking, no example database.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.e2e.conftest import INTEGRATION, Api, new_company_id

EXAMPLES_PER_OPERATION = 8
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

def _fuzz(operation, mode: GenerationMode, base_url: str, headers: dict[str, str], operation_checks: list):
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=operation_checks, timeout=30)

    return run


@pytest.fixture(scope="module")
def fuzzed_company(stack) -> Api:
    """An enabled company with one client, as an owner on Team: every route is open to it."""
    company = new_company_id()
    api = Api(stack.api_url, stack.token(company), company)
    api.ok("POST", f"{INTEGRATION}/enable")
    api.ok("POST", "/v1/clients", 201, json={"name": "Fuzzed Client OÜ"})
    return api


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(stack, fuzzed_company: Api, mode: GenerationMode) -> None:
    document = requests.get(f"{stack.api_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {fuzzed_company.token}"}
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        if operation.method.upper() == "POST" and operation.path.endswith("/disable"):
            continue  # disabling would turn every later management call into the same 409

        run = _fuzz(operation, mode, stack.api_url, headers, CHECKS)

        try:
            run()
        except Unsatisfiable:
            continue  # nothing to negate: an operation without parameters or body (GET /health)
        except Exception as failure:  # noqa: BLE001 - collected per operation, reported together below
            failures[operation.label] = str(failure)[:2000]

    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
