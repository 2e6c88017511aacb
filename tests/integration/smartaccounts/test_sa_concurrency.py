"""THE concurrency test: 16 workers on one key, each with its own client, sharing one DynamoDB rate guard (and, in
a second run, each with a guard of its own, as separate Lambda containers would be) backed by a real moto server
over HTTP. The sandbox enforces 60 requests per (scaled) minute; the guard must keep every
rolling window under it, so no call is refused and every call succeeds.
"""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest

from local_stack.provision import Provisioner
from local_stack.template import Template
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard

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
LEASE_SECONDS = 5.0 / TIME_SCALE  # production's lease of 5 s, scaled like the minute


@pytest.fixture(scope="module")
def rate_table(moto_url: str) -> tuple[str, object]:
    """The rate-limit table exactly as template.yaml declares it, in the moto server process."""
    prefix = f"rg{uuid.uuid4().hex[:8]}"
    out = Provisioner(
        Template(),
        endpoint_url=moto_url,
        region=REGION,
        prefix=prefix,
        parameters={"Stage": prefix, "JwtIssuer": "https://issuer", "JwtAudience": "aud"},
    ).provision()
    return out.names["RateLimitTable"], boto3.client("dynamodb", region_name=REGION, endpoint_url=moto_url)


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
            lease_seconds=LEASE_SECONDS,
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
            try:
                client.company_info()
                outcome = "ok"
            except SmartAccountsError as error:
                outcome = error.kind.value
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
    # and the guard spoke to DynamoDB at most once per request even under contention
    print(f"guard calls per request: {sum(g.calls for g in pool) / sent:.2f}, conflicts {sum(g.conflicts for g in pool)}")
    assert sum(g.calls for g in pool) <= sent
