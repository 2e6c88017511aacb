"""THE concurrency test: 16 workers on one key, each with its own client, sharing one DynamoDB rate guard (and, in
a second run, each with a guard of its own, as separate Lambda containers would be) backed by a real moto server
over HTTP. The sandbox enforces 60 requests per (scaled) minute; the guard must keep every
rolling window under it, so no call is refused and every call succeeds.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import boto3
import pytest

from local_stack.template import Template
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard
from tests.support.serial_moto import serial_moto_server

pytestmark = pytest.mark.integration

REGION = "eu-north-1"
TIME_SCALE = 30.0  # a sandbox minute lasts 2 s
PER_MINUTE = 60
WORKERS = 16
CALLS = 200
# The guard stamps a request when it lets it go; the sandbox when it arrives. Everything shares one interpreter here,
# so a thread can stall a few hundred ms in between: the test's margin (production: 1 s of 60) is scaled up to match.
MARGIN_SECONDS = 0.35
MAX_REFUSED = 3


@pytest.fixture(scope="module")
def serial_moto_url() -> Iterator[str]:
    """moto over HTTP answering one request at a time, as DynamoDB applies conditional writes to an item (moto's own
    threaded server can let two concurrent conditional writes both pass: see tests/support/serial_moto.py)."""
    with serial_moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def rate_table(serial_moto_url: str) -> tuple[str, object]:
    """The rate-limit table exactly as template.yaml declares it (key schema, TTL), in the moto server process."""
    props = Template().resources["RateLimitTable"]["Properties"]
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=serial_moto_url)
    table = f"rg{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode=props["BillingMode"],
    )
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    return table, dynamodb


@pytest.mark.parametrize(
    ("guards", "calls"),
    [(1, CALLS), (WORKERS, 90)],
    ids=["one-shared-guard", "a-guard-per-worker"],
)
def test_sixteen_workers_never_exceed_the_per_minute_quota(rate_table, admin, make_client, guards, calls) -> None:
    table, dynamodb = rate_table
    # Given a fresh key, a sandbox minute of 2 s, and the guard's window scaled to match (with a margin)
    api_key, api_secret = admin.new_key("co-small")
    admin.put("quota", {"perMinute": PER_MINUTE, "perDay": 100_000, "timeScale": TIME_SCALE})
    admin.post("quota/reset")
    # one guard shared by all threads (one container), or one per worker (16 containers racing in DynamoDB)
    pool = [
        DynamoDbRateGuard(
            table,
            per_minute=PER_MINUTE,
            window_seconds=60.0 / TIME_SCALE + MARGIN_SECONDS,
            daily_budget=100_000,
            dynamodb_client=dynamodb,
            max_wait_seconds=30.0,
        )
        for _ in range(guards)
    ]
    remaining = iter(range(calls))
    lock = threading.Lock()
    results: list[str] = []
    calls_made: list[int] = []

    def worker(index: int) -> None:
        client = make_client(api_key, api_secret, rate_guard=pool[index % guards], max_retries=5)
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            outcome = _one_request(client)
            with lock:
                results.append(outcome)
        with lock:
            calls_made.append(client.calls_made)

    # When 16 threads make 200 calls as fast as the guard lets them
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every call succeeded, no sandbox minute saw more than the quota, and nothing was refused
    assert results == ["ok"] * calls
    window = admin.get("requests/max-per-window", apiKey=api_key, windowSeconds=60)
    assert window["maxRequests"] <= PER_MINUTE
    if guards == 1:
        assert window["maxRequests"] >= PER_MINUTE * 0.8, "the guard should not be needlessly slow either"
    else:
        assert sum(g.conflicts for g in pool) > 0, "separate guards did race in DynamoDB"
    sent = admin.requests_by_key(api_key)
    assert sent == sum(calls_made)
    refused = sent - calls
    assert refused <= MAX_REFUSED, f"{refused} requests were refused by the sandbox's own limit"
    # and the guard's DynamoDB calls stay few: one write per lease of 10 alone; 16 containers starting at the same
    # moment on an idle key for ~6 requests each (the worst case: each new container's first write takes the key for
    # idle and fails, once) about 0.4 a request, at most 1 (the bound under contention)
    guard_calls = sum(g.calls for g in pool)
    assert guard_calls <= (0.2 * sent if guards == 1 else 1.0 * sent)


class _Stamped:
    """The guard as the client sees it, noting when each request was let go."""

    def __init__(self, guard: DynamoDbRateGuard, stamps: list[float], lock: threading.Lock) -> None:
        self.guard, self._stamps, self._lock = guard, stamps, lock

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        self.guard.acquire(api_key, reserve=reserve)
        with self._lock:
            self._stamps.append(time.time())

    def usage(self, api_key: str):
        return self.guard.usage(api_key)

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        return self.guard.note_spent_by_smartaccounts(api_key, until)


def _one_request(client) -> str:
    """One SmartAccounts request: "ok", or the error kind it ended with."""
    try:
        client.company_info()
    except SmartAccountsError as error:
        return error.kind.value
    return "ok"


def _most_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    start = 0
    most = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_leases_that_expire_mid_batch_never_let_a_window_exceed_the_quota(rate_table, admin, make_client) -> None:
    table, dynamodb = rate_table
    # Given 16 containers on one key, and workers that stall now and then for longer than a bucket (0.21 s scaled),
    # so leases end mid-batch: the stalled worker's tickets go void, and it comes back to a lease whose buckets ended
    api_key, api_secret = admin.new_key("co-small")
    admin.put("quota", {"perMinute": PER_MINUTE, "perDay": 100_000, "timeScale": TIME_SCALE})
    admin.post("quota/reset")
    window = 60.0 / TIME_SCALE + MARGIN_SECONDS
    stamps: list[float] = []
    lock = threading.Lock()
    pool = [
        DynamoDbRateGuard(
            table,
            per_minute=PER_MINUTE,
            window_seconds=window,
            daily_budget=100_000,
            dynamodb_client=dynamodb,
            max_wait_seconds=30.0,
            lease_size=8,
        )
        for _ in range(WORKERS)
    ]
    remaining = iter(range(150))
    results: list[str] = []

    def worker(index: int) -> None:
        client = make_client(api_key, api_secret, rate_guard=_Stamped(pool[index], stamps, lock), max_retries=5)
        done = 0
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            outcome = _one_request(client)
            with lock:
                results.append(outcome)
            done += 1
            if done % 3 == index % 3:
                time.sleep(0.25)  # a stall longer than a bucket: the tickets it held for that bucket are void

    # When they make 150 calls
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    # Then every call succeeded; no rolling window of the guard's length let more than 60 requests go, by the guards'
    # own record and at the sandbox; and leases did end with tickets unused (more leases than 150 requests need)
    assert results == ["ok"] * 150
    assert _most_in_window(stamps, window - 1e-3) <= PER_MINUTE
    assert admin.get("requests/max-per-window", apiKey=api_key, windowSeconds=60)["maxRequests"] <= PER_MINUTE
    assert admin.requests_by_key(api_key) - 150 <= MAX_REFUSED
    assert sum(g.voided for g in pool) > 0, "leases ended before they were used up"
    assert sum(g.calls for g in pool) > 150 / 8


def test_a_day_smartaccounts_says_is_spent_stops_every_container_on_the_key(rate_table, admin, make_client) -> None:
    table, dynamodb = rate_table
    # Given a fresh key whose SmartAccounts day allows 3 requests (another program spent the rest: the guard, with its
    # budget of 1,000, does not know), and two containers on it, each with a guard of its own
    api_key, api_secret = admin.new_key("co-small")
    admin.put("quota", {"perMinute": PER_MINUTE, "perDay": 3, "timeScale": 1})
    admin.post("quota/reset")
    guards = [
        DynamoDbRateGuard(table, daily_budget=1000, dynamodb_client=dynamodb, max_wait_seconds=30.0, lease_size=2)
        for _ in range(2)
    ]
    first, second = (make_client(api_key, api_secret, rate_guard=g, max_retries=0) for g in guards)
    try:
        assert [_one_request(second)] == ["ok"]  # the second container has taken a lease and used one ticket of it
        # When the first container's requests use up the day and SmartAccounts refuses the next one
        outcomes = [_one_request(first) for _ in range(3)]
        assert outcomes == ["ok", "ok", "DAILY_QUOTA_SPENT"]
        sent = admin.requests_by_key(api_key)
        assert sent == 4
        # Then the second container sends what its lease already let go (one ticket), and after it nothing more
        later = [_one_request(second) for _ in range(3)]
        assert later == ["DAILY_QUOTA_SPENT"] * 3
        assert admin.requests_by_key(api_key) <= sent + 1
        after = admin.requests_by_key(api_key)
        # And neither container sends anything more with the key today, each refusing by itself
        with pytest.raises(SmartAccountsError) as info:
            first.company_info()
        assert info.value.reason == "smartaccounts_spent"
        assert admin.requests_by_key(api_key) == after
        # And the key's usage says until when SmartAccounts refuses it, next to the guard's own count
        usage = guards[1].usage(api_key)
        assert usage.spent_until is not None and usage.used_today < usage.daily_budget
    finally:
        admin.put("quota", {"perDay": 1000})
        admin.post("quota/reset")
