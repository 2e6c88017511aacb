"""HTTP routes that call SmartAccounts answer a problem within their deadline when SmartAccounts is slow or busy.

A real SmartAccountsClient with the routes' deadline (`SMARTACCOUNTS_ROUTE_DEADLINE_SECONDS`) over a fake transport
on a simulated clock: SmartAccounts that never answers in time, that keeps answering "too many requests", or a key
whose minute the rate guard has already filled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from smartaccounts_sync.service import connection
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from smartaccounts_sync.troubleshooting import SmartAccountsProblem
from tests.support.fakes import in_memory_dependencies

CO = "uku-1"
SETTINGS = Settings()
GATEWAY_LIMIT = 29.0


@dataclass
class SimClock:
    now: float = 1_780_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class SlowSmartAccounts:
    """A session: each request takes its whole read timeout and times out, or answers 503 with Retry-After."""

    clock: SimClock
    busy_retry_after: int | None = None
    requests_seen: int = 0
    timeouts: list[float] = field(default_factory=list)

    def request(self, method: str, url: str, *, timeout: tuple[float, float], **_: Any) -> Any:
        self.requests_seen += 1
        self.timeouts.append(timeout[1])
        if self.busy_retry_after is None:
            self.clock.now += timeout[1]
            raise requests.exceptions.ReadTimeout("slow")
        response = requests.Response()
        response.status_code = 503
        response.headers["Retry-After"] = str(self.busy_retry_after)
        response._content = b'{"errors":[{"message":"Too many requests"}]}'
        return response


def route_deps(session: SlowSmartAccounts, clock: SimClock, guard: InMemoryRateGuard | None = None):
    def factory(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
        return SmartAccountsClient(
            credentials,
            base_url="http://sa.invalid/api/",
            connect_timeout=SETTINGS.smartaccounts_connect_timeout,
            read_timeout=SETTINGS.smartaccounts_read_timeout,
            max_retries=SETTINGS.smartaccounts_max_retries,
            rate_guard=guard,
            session=session,  # type: ignore[arg-type]
            clock=clock.time,
            sleep=clock.sleep,
            random=lambda: 1.0,
            deadline_seconds=SETTINGS.smartaccounts_route_deadline_seconds,
        )

    deps = in_memory_dependencies(smartaccounts=None, smartaccounts_now=factory)
    connection.enable(deps, CO)
    return deps


def test_a_slow_smartaccounts_answers_sa_unavailable_within_the_deadline() -> None:
    clock = SimClock()
    session = SlowSmartAccounts(clock)
    deps = route_deps(session, clock)
    start = clock.now
    with pytest.raises(SmartAccountsProblem) as info:
        connection.test_connection(deps, CO, "some-key", "some-secret")
    assert info.value.code == "SA_UNAVAILABLE" and info.value.status == 502
    assert clock.now - start <= SETTINGS.smartaccounts_route_deadline_seconds < GATEWAY_LIMIT
    assert max(session.timeouts) <= SETTINGS.smartaccounts_route_deadline_seconds


def test_rate_limited_answers_sa_rate_limited_with_retry_after_instead_of_waiting_past_the_gateway() -> None:
    clock = SimClock()
    session = SlowSmartAccounts(clock, busy_retry_after=45)
    deps = route_deps(session, clock)
    start = clock.now
    with pytest.raises(SmartAccountsProblem) as info:
        connection.test_connection(deps, CO, "some-key", "some-secret")
    assert info.value.code == "SA_RATE_LIMITED" and info.value.status == 429
    assert info.value.headers == {"Retry-After": "45"}
    assert clock.now - start < GATEWAY_LIMIT and session.requests_seen == 1


def test_a_full_minute_in_the_rate_guard_answers_sa_rate_limited_at_once() -> None:
    clock = SimClock()
    guard = InMemoryRateGuard(
        per_minute=1,
        window_seconds=60,
        clock=clock.time,
        sleep=clock.sleep,
        max_wait_seconds=SETTINGS.smartaccounts_route_deadline_seconds,
    )
    guard.acquire("some-key")  # a worker took the key's minute a moment ago
    session = SlowSmartAccounts(clock, busy_retry_after=1)
    deps = route_deps(session, clock, guard)
    with pytest.raises(SmartAccountsProblem) as info:
        connection.test_connection(deps, CO, "some-key", "some-secret")
    assert info.value.code == "SA_RATE_LIMITED" and info.value.headers == {"Retry-After": "60"}
    assert session.requests_seen == 0
