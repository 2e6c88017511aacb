"""The per-key rate guards: exact sliding window, daily budget, conditional writes (DynamoDB via in-process moto)."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.protocol import seconds_until_quota_reset
from smartaccounts_sync.smartaccounts.rate_guard import (
    DynamoDbRateGuard,
    InMemoryRateGuard,
    NoRateGuard,
    key_hash,
    window_pk,
)

TABLE = "rate-limit-unit"
KEY = "company-api-key-that-must-never-be-stored"


def _max_in_window(times: list[float], window: float) -> int:
    """The most requests any half-open window (t - window, t] holds."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t - window < u <= t) for t in ordered)


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-north-1")
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
        yield client


@pytest.fixture(params=["memory", "dynamodb"])
def make_guard(request, fake_clock_factory):
    """A guard of either kind on a fake clock: ``make_guard(per_minute, window, budget) -> (guard, clock)``."""

    def factory(per_minute: int = 3, window: float = 10.0, budget: int = 1000, max_wait: float = 1000.0):
        clock = fake_clock_factory()
        if request.param == "memory":
            guard = InMemoryRateGuard(
                per_minute, window, budget, clock=clock.time, sleep=clock.sleep, max_wait_seconds=max_wait
            )
        else:
            guard = DynamoDbRateGuard(
                TABLE,
                per_minute=per_minute,
                window_seconds=window,
                daily_budget=budget,
                dynamodb_client=request.getfixturevalue("dynamodb"),
                clock=clock.time,
                sleep=clock.sleep,
                max_wait_seconds=max_wait,
                random=lambda: 0.0,
            )
        return guard, clock

    return factory


# --- both guards -----------------------------------------------------------------------------------------------


def test_first_requests_pass_then_wait_for_the_oldest_to_leave_the_window(make_guard) -> None:
    guard, clock = make_guard(per_minute=3, window=10.0)
    start = clock.now
    for _ in range(3):
        guard.acquire(KEY)
    assert clock.sleeps == []
    # the fourth waits exactly until the first is a whole window old: no burst at the window edge
    guard.acquire(KEY)
    assert clock.sleeps == [pytest.approx(10.0)]
    assert clock.now == pytest.approx(start + 10.0)


def test_no_rolling_window_ever_holds_more_than_the_limit(make_guard) -> None:
    # Given requests at irregular moments (a token bucket would let 2x through around a window edge)
    guard, clock = make_guard(per_minute=5, window=10.0)
    rng = random.Random(7)
    times: list[float] = []
    for _ in range(60):
        clock.now += rng.choice([0.0, 0.0, 0.3, 1.7, 4.0, 9.9])
        guard.acquire(KEY)
        times.append(clock.now)
    # Then every window of 10 s saw at most 5, and the guard never waited needlessly
    assert _max_in_window(times, 10.0 - 1e-6) == 5  # (a request exactly one window later is allowed)
    assert all(s > 0 for s in clock.sleeps)


def test_keys_are_guarded_separately(make_guard) -> None:
    guard, clock = make_guard(per_minute=1, window=10.0)
    guard.acquire("key-a")
    guard.acquire("key-b")
    assert clock.sleeps == []


def test_waiting_longer_than_allowed_is_rate_limited(make_guard) -> None:
    guard, _clock = make_guard(per_minute=1, window=60.0, max_wait=5.0)
    guard.acquire(KEY)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.kind is ErrorKind.RATE_LIMITED
    assert info.value.retry_after == pytest.approx(60.0)


def test_daily_budget_is_spent_until_tallinn_midnight(make_guard) -> None:
    guard, clock = make_guard(per_minute=100, budget=3)
    # 23:00 Tallinn (summer) is 20:00 UTC
    clock.now = datetime(2024, 6, 15, 20, 0, 0, tzinfo=UTC).timestamp()
    for _ in range(3):
        guard.acquire(KEY)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert info.value.retry_after == pytest.approx(3600.0)
    assert KEY not in str(info.value)
    # a new Tallinn day brings a new budget
    clock.now += 3600.0
    guard.acquire(KEY)


def test_a_reserve_holds_back_the_days_last_requests_and_usage_reads_the_day(make_guard) -> None:
    guard, clock = make_guard(per_minute=100, budget=5)
    clock.now = datetime(2024, 6, 15, 9, 0, 0, tzinfo=UTC).timestamp()  # 12:00 Tallinn
    for _ in range(3):
        guard.acquire(KEY, reserve=2)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY, reserve=2)  # 3 used + 1 > 5 - 2
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert info.value.reason == "reserved_for_schedule"
    assert info.value.retry_after == pytest.approx(12 * 3600.0)
    guard.acquire(KEY)  # the scheduled import (no reserve) still has its calls
    guard.acquire(KEY)
    usage = guard.usage(KEY)
    assert usage.used_today == 5 and usage.daily_budget == 5
    assert usage.resets_at == datetime(2024, 6, 15, 21, 0, 0, tzinfo=UTC)  # midnight in Tallinn (summer)


def test_no_rate_guard_lets_everything_through() -> None:
    guard = NoRateGuard()
    for _ in range(1000):
        guard.acquire(KEY)


def test_in_memory_guard_is_thread_safe() -> None:
    # Given 8 threads sharing a guard of 5 requests per 0.15 s (real clock)
    guard = InMemoryRateGuard(per_minute=5, window_seconds=0.15, daily_budget=10_000)
    times: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(3):
            guard.acquire(KEY)
            with lock:
                times.append(time.time())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the guard's own record never holds more than 5 in any window
    recorded = guard.request_times(KEY)
    assert len(times) == 24
    assert len(recorded) == 5
    assert _max_in_window(times, 0.15 - 0.03) <= 5


# --- DynamoDB specifics ----------------------------------------------------------------------------------------


def _guard(dynamodb, clock, **kwargs) -> DynamoDbRateGuard:
    options = {
        "per_minute": 3,
        "window_seconds": 10.0,
        "daily_budget": 100,
        "clock": clock.time,
        "sleep": clock.sleep,
        "random": lambda: 0.0,
    }
    options.update(kwargs)
    return DynamoDbRateGuard(TABLE, dynamodb_client=dynamodb, **options)


def test_items_are_keyed_by_hash_and_never_hold_the_key(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock)
    guard.acquire(KEY)
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert [item["pk"]["S"] for item in items] == [window_pk(KEY)]
    assert window_pk(KEY) == "RATE#" + key_hash(KEY)
    assert len(key_hash(KEY)) == 32
    assert KEY not in repr(items)
    (item,) = items
    # the minute slots and the day's count live in one item; the first lease took every free slot (3 < 10)
    assert item["day"]["S"] == "2024-06-15"
    assert int(item["used"]["N"]) == 3
    assert len(item["slots"]["L"]) == 3
    assert int(item["expiresAt"]["N"]) == int(clock.now) + 2 * 86400
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"


def test_a_lease_serves_a_batch_of_requests_with_one_write(dynamodb, clock) -> None:
    # Given a guard leasing 5 slots of 60 at a time
    guard = _guard(dynamodb, clock, per_minute=60, lease_size=5, daily_budget=1000)
    # When one worker makes 20 requests in quick succession
    for _ in range(20):
        guard.acquire(KEY)
        clock.now += 0.1
    # Then the guard spoke to DynamoDB once per 5 requests (no reads at all) and counted all 20 for today
    assert guard.calls == 4
    assert guard.usage(KEY).used_today == 20
    assert clock.sleeps == []


def test_unused_slots_return_at_the_next_lease(dynamodb, clock) -> None:
    # Given a lease of 5 slots of which only 2 carried a request before it ended
    guard = _guard(dynamodb, clock, per_minute=5, lease_size=5, lease_seconds=2.0)
    guard.acquire(KEY)
    guard.acquire(KEY)
    clock.now += 3.0
    # When the next request takes a new lease
    guard.acquire(KEY)
    # Then the three unused slots came back and were leased again at once (no wait): today counts the 2 requests
    # sent and the 3 slots leased now, not the 3 returned ones twice
    assert guard.usage(KEY).used_today == 2 + 3
    assert clock.sleeps == []
    # and the used slots are held one window after their requests, not after the lease's end: the sixth request
    # within the window waits for a lease's worth of slots (all 5 here) to be a window old, not one at a time
    for _ in range(2):
        guard.acquire(KEY)
    guard.acquire(KEY)
    assert clock.sleeps == [pytest.approx(10.0)]


def test_a_rival_container_s_write_is_seen_without_a_read(dynamodb, clock) -> None:
    # Given two containers on one key of 2 slots, leasing one slot at a time
    rival = _guard(dynamodb, clock, per_minute=2, lease_size=1)
    ours = _guard(dynamodb, clock, per_minute=2, lease_size=1, random=lambda: 0.5)
    start = clock.now
    rival.acquire(KEY)
    rival.acquire(KEY)
    # When we acquire with no idea of the item: our write fails and brings back the rival's item
    ours.acquire(KEY)
    # Then we waited (a jittered pause after the lost write, then for a slot) until the rival's first request was a
    # window old, instead of overbooking
    assert ours.conflicts == 1
    assert len(clock.sleeps) == 2
    assert clock.now >= start + 10.0
    assert ours.calls == 2
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": window_pk(KEY)}})["Item"]
    assert int(item["used"]["N"]) == 3


def test_reserve_holds_back_today_s_last_calls(make_guard) -> None:
    guard, clock = make_guard(per_minute=100, budget=10)
    for _ in range(6):
        guard.acquire(KEY, reserve=4)
    # the seventh would eat into the four kept for the schedule
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY, reserve=4)
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert info.value.reason == "reserved_for_schedule"
    assert info.value.retry_after == pytest.approx(seconds_until_quota_reset(clock.now))
    # the schedule itself (no reserve) still gets the rest, then the budget is spent
    for _ in range(4):
        guard.acquire(KEY)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.reason == "local_budget"
    usage = guard.usage(KEY)
    assert (usage.used_today, usage.daily_budget) == (10, 10)
    assert usage.resets_at.timestamp() == pytest.approx(clock.now + seconds_until_quota_reset(clock.now))


def test_changing_the_limit_keeps_the_newest_times(dynamodb, clock) -> None:
    small = _guard(dynamodb, clock, per_minute=2, lease_size=1)
    small.acquire(KEY)
    clock.now += 1
    small.acquire(KEY)
    bigger = _guard(dynamodb, clock, per_minute=4, lease_size=1)
    for _ in range(2):
        bigger.acquire(KEY)
    assert len(clock.sleeps) == 1  # the conflict's jittered pause: bigger had not seen the item
    bigger.acquire(KEY)  # the fifth within 10 s must wait for the first to expire
    assert clock.sleeps[-1] == pytest.approx(9.0 - clock.sleeps[0])


class _Flaky:
    def __init__(self, client, code: str, failures: int) -> None:
        self._client = client
        self._code = code
        self.failures = failures

    def put_item(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": self._code, "Message": "x"}}, "PutItem")
        return self._client.put_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_throttling_is_retried_briefly(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock)
    guard._client = _Flaky(dynamodb, "ProvisionedThroughputExceededException", 2)
    guard.acquire(KEY)
    assert clock.sleeps == [pytest.approx(0.05), pytest.approx(0.1)]


def test_a_missing_table_is_unavailable(dynamodb, clock) -> None:
    guard = DynamoDbRateGuard("no-such-table", dynamodb_client=dynamodb, clock=clock.time, sleep=clock.sleep)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.reason == "rate_guard_unavailable"


def test_daily_quota_retry_after_matches_protocol(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock, daily_budget=1)
    guard.acquire(KEY)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.retry_after == pytest.approx(seconds_until_quota_reset(clock.now))
