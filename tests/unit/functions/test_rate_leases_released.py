"""When an invocation ends, well or not, the rate guards give back the request tickets it leased and did not use."""

from __future__ import annotations

import connection_api
import daily_refresh
import pytest

from local_stack.front import LambdaContext
from tests.support.events import load_event
from tests.support.fakes import in_memory_dependencies


def test_a_worker_releases_its_leases_even_when_its_invocation_fails(monkeypatch) -> None:
    calls: list[str] = []
    deps = in_memory_dependencies()
    deps.release_leases = lambda: calls.append("released")

    def failing(_deps):
        raise RuntimeError("the refresh failed")

    monkeypatch.setattr(daily_refresh, "run_daily_refresh", failing)
    with pytest.raises(RuntimeError):
        daily_refresh.lambda_handler({}, LambdaContext("DailyRefreshFunction", 60), deps=deps)
    assert calls == ["released"]


def test_an_http_function_releases_its_leases_after_answering() -> None:
    calls: list[str] = []
    deps = in_memory_dependencies()
    deps.release_leases = lambda: calls.append("released")
    result = connection_api.lambda_handler(
        load_event("http_api", "integration-enable"), LambdaContext("ConnectionApiFunction", 29), deps=deps
    )
    assert result["statusCode"] < 500
    assert calls == ["released"]
