"""The per-key rate guards: rolling window, daily budget, ticket leases (DynamoDB via in-process moto)."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
from moto import mock_aws

from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.protocol import seconds_until_quota_reset
from smartaccounts_sync.smartaccounts.rate_guard import (
    DynamoDbRateGuard,
    InMemoryRateGuard,
    NoRateGuard,
    key_hash,
    window_pk,
)
from tests.support.rate_table import create_rate_limit_table

TABLE = "rate-limit-unit"
KEY = "company-api-key-that-must-never-be-stored"
OTHER_KEY = "another-company-s-api-key"


def _max_in_window(times: list[float], window: float) -> int:
    """The most requests any half-open window (t - window, t] holds."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t - window < u <= t) for t in ordered)


@pytest.fixture
def dynamodb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-north-1")
        create_rate_limit_table(client, TABLE)
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


def test_in_memory_first_requests_pass_then_wait_for_the_oldest_to_leave_the_window(clock) -> None:
    guard = InMemoryRateGuard(3, 10.0, 1000, clock=clock.time, sleep=clock.sleep, max_wait_seconds=1000.0)
    start = clock.now
    for _ in range(3):
        guard.acquire(KEY)
    assert clock.sleeps == []
    # the fourth waits exactly until the first is a whole window old: no burst at the window edge
    guard.acquire(KEY)
    assert clock.sleeps == [pytest.approx(10.0)]
    assert clock.now - start == pytest.approx(10.0)


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
    # (a request exactly one window later is allowed; the in-memory guard fills the window, the DynamoDB one's buckets
    # let 2 go per 5 s here)
    assert _max_in_window(times, 10.0 - 1e-6) <= 5
    assert all(s > 0 for s in clock.sleeps)


def test_keys_are_guarded_separately(make_guard) -> None:
    guard, clock = make_guard(per_minute=2, window=10.0)
    guard.acquire("key-a")
    guard.acquire("key-b")
    assert clock.sleeps == []


def test_waiting_longer_than_allowed_is_rate_limited(make_guard) -> None:
    guard, clock = make_guard(per_minute=2, window=60.0, max_wait=5.0)
    guard.acquire(KEY)
    guard.acquire(KEY)
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.kind is ErrorKind.RATE_LIMITED
    # the next request may go a window after the first (in-memory), or when the bucket after the window's worth
    # starts (one bucket of a window here, so a window and a bucket on): either way later than the 5 s it may wait
    assert 5.0 < info.value.retry_after <= 120.0
    assert clock.sleeps == []


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


def _item(dynamodb) -> dict:
    return dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": window_pk(KEY)}})["Item"]


def _counter(guard: DynamoDbRateGuard, dynamodb) -> int:
    (name,) = [n for n in _item(dynamodb) if n.startswith("ticket-")]
    return int(_item(dynamodb)[name]["N"])


def test_a_limit_of_one_request_a_window_is_refused(dynamodb, clock) -> None:
    # buckets of any length let two requests meet in one window at a bucket's edge
    with pytest.raises(ValueError, match="at least 2"):
        _guard(dynamodb, clock, per_minute=1)


def test_items_are_keyed_by_hash_and_never_hold_the_key(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    guard.acquire(KEY)
    items = dynamodb.scan(TableName=TABLE)["Items"]
    assert [item["pk"]["S"] for item in items] == [window_pk(KEY)]
    assert window_pk(KEY) == "RATE#" + key_hash(KEY)
    assert len(key_hash(KEY)) == 32
    assert KEY not in repr(items)
    (item,) = items
    # the ticket counter (named after its buckets: 5 requests per 61/11 s) and the day's count live in one item; the
    # first lease took 10 tickets from the current bucket's first on
    assert set(item) == {"pk", "ticket-5-5545ms", "restart-5-5545ms", "early-5-5545ms", "used-2024-06-15", "expiresAt"}
    bucket = int(clock.now // (61.0 / 11))
    assert int(item["ticket-5-5545ms"]["N"]) == bucket * 5 + 10
    assert int(item["restart-5-5545ms"]["N"]) == bucket * 5  # the key was idle: its next 60 tickets may go at once
    assert int(item["early-5-5545ms"]["N"]) == 60
    assert int(item["used-2024-06-15"]["N"]) == 10
    assert int(item["expiresAt"]["N"]) == int(clock.now) + 2 * 86400
    ttl = dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"


def _send_from_a_bucket_start(guard: DynamoDbRateGuard, clock, requests: int) -> list[float]:
    """Moves the clock just past the next bucket's start, then sends `requests` as fast as the guard lets them go:
    when each went, in seconds from that bucket's start."""
    clock.now = (int(clock.now // guard.bucket_seconds) + 1) * guard.bucket_seconds + 0.001
    start = clock.now - 0.001
    times = []
    for _ in range(requests):
        guard.acquire(KEY)
        times.append(clock.now - start)
    return times


def test_buckets_let_a_burst_go_and_never_more_than_the_limit_in_a_window(dynamodb, clock) -> None:
    # Given the production shape: 60 a minute over a 61 s window, bursts of 5, so 11 buckets of 61/11 s
    guard = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=1000)
    assert (guard.burst, guard.buckets_per_window) == (5, 11)
    assert guard.sustained_per_minute == pytest.approx(55 * 60 / 61)
    assert guard.usage(KEY).per_minute == pytest.approx(55 * 60 / 61)  # what the reload's estimate counts with
    # When one worker asks for 120 requests as fast as it can on a key idle for a window
    times = _send_from_a_bucket_start(guard, clock, 120)
    # Then a window's worth (60) went at once, as a sliding window would let them; then five at the start of every
    # bucket from the twelfth on (the buckets those 60 tickets belong to are over)
    bucket = guard.bucket_seconds
    assert times[:60] == [pytest.approx(0.001, abs=1e-6)] * 60
    for i in range(60, 120, 5):
        assert times[i : i + 5] == [pytest.approx((12 + (i - 60) // 5) * bucket, abs=1e-6)] * 5
    # no rolling window of 61 s held more than 60, and one write served 10 requests
    assert _max_in_window(times, 61.0 - 1e-6) == 60
    assert guard.calls == 1 + 12  # the usage read, then a lease per 10 requests
    assert guard.conflicts == 0


def test_a_busy_key_lets_a_burst_go_per_bucket(dynamodb, clock) -> None:
    # Given a key whose counter is ahead of now (another container leased the next buckets' tickets)
    rival = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=60)
    rival.acquire(KEY)  # a whole window's tickets: the counter now stands a window ahead
    ours = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    # When we make 10 requests
    times = _send_from_a_bucket_start(ours, clock, 10)
    # Then they go five per bucket, in the buckets after the rival's tickets, never early
    bucket = ours.bucket_seconds
    assert times[:5] == [pytest.approx(11 * bucket, abs=1e-6)] * 5
    assert times[5:] == [pytest.approx(12 * bucket, abs=1e-6)] * 5


# seed 23 catches a restart that counts the tickets since the previous restart without what that one counted
@pytest.mark.parametrize("seed", [0, 1, 2, 23])
def test_containers_on_one_key_never_put_more_than_the_limit_in_a_window(dynamodb, clock, seed) -> None:
    # Given four containers on one key (12 per 10 s, bursts of 3: 3 buckets a window), working in runs of random
    # length with random pauses, idle windows among them (so the window's worth after an idle window is used again
    # and again, by whichever containers come first), invocations ending and giving unused tickets back
    rng = random.Random(seed)
    guards = [
        _guard(
            dynamodb,
            clock,
            per_minute=12,
            window_seconds=10.0,
            daily_budget=10**6,
            lease_size=rng.choice([1, 2, 3, 10]),
            burst=3,
        )
        for _ in range(4)
    ]
    times: list[float] = []
    for _ in range(60):
        clock.now += rng.choice([0.0, 0.1, 0.7, 2.5, 4.0, 5.5, 7.0, 11.0])
        for _ in range(rng.randint(1, 20)):
            rng.choice(guards).acquire(KEY)
            times.append(clock.now)
        if rng.random() < 0.5:
            rng.choice(guards).release_unused()  # an invocation ended: its unused tickets go back
    # Then no window of 10 s ever held more than 12 requests
    assert _max_in_window(times, 10.0 - 1e-6) <= 12
    assert len(times) > 300


def test_unused_tickets_go_back_at_the_end_of_an_invocation_when_nobody_leased_after_them(dynamodb, clock) -> None:
    # Given a container that leased 10 tickets of an idle key and used 3
    worker = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    for _ in range(3):
        worker.acquire(KEY)
    counter = _counter(worker, dynamodb)
    # When its invocation ends
    worker.release_unused()
    # Then the 7 unused tickets went back to the counter and to the day, in one write
    assert _counter(worker, dynamodb) == counter - 7
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == 3
    assert (worker.calls, worker.released) == (2, 1)
    # and another container gets them at once (they are of the window's worth after the idle window)
    other = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    for _ in range(7):
        other.acquire(KEY)
    assert clock.sleeps == []
    # a release with nothing left to give back makes no call
    worker.release_unused()
    assert worker.calls == 2


def test_the_rest_of_a_window_s_worth_goes_at_once_to_a_caller_that_cannot_wait_long(dynamodb, clock) -> None:
    # Given a worker that sent 57 requests at once on an idle key (of the 60 a window may hold) and ended its
    # invocation, and an HTTP route's guard (3 tickets a lease, 20 s at most to wait) that saw the key idle before
    worker = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=1000)
    route = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=3, max_wait_seconds=20.0)
    clock.now = (int(clock.now // worker.bucket_seconds) + 1) * worker.bucket_seconds + 0.001
    route.acquire(KEY)
    route.release_unused()
    clock.now += 2 * worker.bucket_seconds  # the route's view of the counter is now behind the current bucket
    for _ in range(56):
        worker.acquire(KEY)
    worker.release_unused()
    assert clock.sleeps == []
    # When the route asks for requests a few seconds later
    clock.now += 5.0
    for _ in range(3):
        route.acquire(KEY)
    # Then the three left of the window's worth went at once (not refused for the wait their own buckets would mean)
    assert clock.sleeps == []
    # and the next one is refused: it would wait for the bucket after the window's worth, longer than the route may
    with pytest.raises(SmartAccountsError) as refused:
        route.acquire(KEY)
    assert refused.value.kind is ErrorKind.RATE_LIMITED
    start = (int(clock.now // worker.bucket_seconds) - 1) * worker.bucket_seconds  # the restart's bucket
    assert refused.value.retry_after == pytest.approx(start + 12 * worker.bucket_seconds - clock.now, abs=0.01)
    assert clock.sleeps == []


def test_the_end_of_an_invocation_never_waits_for_a_request_waiting_for_its_bucket(dynamodb, clock) -> None:
    # Given a container whose request waits for its ticket's bucket (a rival holds the window's tickets), holding its
    # lease meanwhile, and an invocation of another function ending in the same process (the local stack runs every
    # function's invocations as threads of one process, sharing the guard)
    waiting, go_on = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        waiting.set()
        go_on.wait(30)
        clock.now += seconds

    rival = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=60)
    rival.acquire(KEY)
    ours = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, sleep=sleep)
    worker = threading.Thread(target=ours.acquire, args=(KEY,))
    worker.start()
    assert waiting.wait(30)
    counter = _counter(ours, dynamodb)
    # When the other invocation ends and gives back unused tickets
    ending = threading.Thread(target=ours.release_unused)
    ending.start()
    ending.join(30)
    # Then it returned at once, leaving the waiting request's lease alone (the key is in use)
    assert not ending.is_alive()
    assert ours.released == 0
    assert _counter(ours, dynamodb) == counter
    # and the request goes in its bucket
    go_on.set()
    worker.join(30)
    assert not worker.is_alive()
    assert len(ours._state(KEY).lease.tickets) == 9


def test_tickets_another_container_leased_after_are_not_given_back(dynamodb, clock) -> None:
    # Given two containers: the first leased, used 1, and the second leased after it
    first = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    second = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    first.acquire(KEY)
    second.acquire(KEY)
    counter = _counter(first, dynamodb)
    # When the first one's invocation ends: as far as it knows, nobody leased after it, so it tries
    first.release_unused()
    # Then its write failed on the counter having moved (nothing given back twice, nothing taken from the second),
    # and the release raised nothing: the tickets stay the first's, counted back at its next lease
    assert _counter(first, dynamodb) == counter
    assert first.released == 0
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == 20
    first.acquire(KEY)  # uses one of its own tickets: no write
    assert first.calls == 2


class _AnswerLost:
    """A DynamoDB client whose next write containing ``writes`` is applied and whose answer is then lost: ``error`` is
    what the guard sees instead (botocore's retry failing on the condition the first attempt changed, a timeout, a
    server error)."""

    def __init__(self, client, error: Exception, writes: str = "#u - :unused") -> None:
        self._client = client
        self._error = error
        self._writes = writes
        self.lost = 0

    def update_item(self, **kwargs):
        answer = self._client.update_item(**kwargs)
        if not self.lost and self._writes in kwargs["UpdateExpression"]:
            self.lost += 1
            raise self._error
        return answer

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.mark.parametrize(
    "lost",
    [
        ClientError(
            {
                "Error": {"Code": "ConditionalCheckFailedException", "Message": "x"},
                "ResponseMetadata": {"RetryAttempts": 1},
            },
            "UpdateItem",
        ),
        ReadTimeoutError(endpoint_url="https://dynamodb.eu-north-1.amazonaws.com/"),
    ],
    ids=["retry-fails-on-the-condition", "read-timeout"],
)
def test_a_release_whose_answer_is_lost_gives_up_its_tickets(dynamodb, clock, lost) -> None:
    # Given a container that leased 3 tickets of an idle key (3 per 10 s: all 3 are the window's worth, usable at once),
    # used 1, and ended its invocation: its release write moved the counter back, but the answer never came
    first = _guard(dynamodb, clock, lease_size=3)
    first._client = _AnswerLost(dynamodb, lost)
    first.acquire(KEY)
    first.release_unused()
    # When another container and then the first one send requests right away
    second = _guard(dynamodb, clock)
    times = []
    for guard in (second, second, first, first):
        try:
            guard.acquire(KEY)
            times.append(clock.now)
        except SmartAccountsError:
            pass
    # Then the window still holds at most 3: the given-back tickets went to the other container only (the first one
    # cannot tell that its write was not applied, so it must not use them any more)
    assert _max_in_window([clock.now, *times], 10.0 - 1e-6) <= 3


def test_a_lease_whose_answer_is_lost_does_not_give_the_previous_lease_back_twice(dynamodb, clock) -> None:
    # Given a container that leased 10 tickets, sent 2 requests, and came back after their buckets ended (8 void, to be
    # given back to the day by its next lease), asking for a request that may use only the day's last but 97 calls
    guard = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=100)
    guard.acquire(KEY)
    guard.acquire(KEY)
    clock.now += 3 * guard.bucket_seconds
    # When its lease write is applied (one ticket, the 8 given back) and the answer is lost (a server error: the guard
    # retries)
    guard._client = _AnswerLost(
        dynamodb, ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "UpdateItem"), ":delta"
    )
    sent = 2
    with contextlib.suppress(SmartAccountsError):
        guard.acquire(KEY, reserve=97)
        sent += 1
    # Then the day still counts at least the requests sent: the retry gave nothing back a second time (it found the
    # day at 3 used, nothing left under the reserve, and refused; giving the 8 back again took the day's count below
    # zero and let the request go)
    assert guard._client.lost == 1
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) >= sent


def test_a_lease_serves_a_batch_of_requests_with_one_write(dynamodb, clock) -> None:
    # Given a guard leasing 5 tickets at a time
    guard = _guard(dynamodb, clock, per_minute=600, window_seconds=61.0, lease_size=5, daily_budget=1000)
    # When one worker makes 20 requests in quick succession
    for _ in range(20):
        guard.acquire(KEY)
        clock.now += 0.01
    # Then the guard spoke to DynamoDB once per 5 requests (no reads at all) and counted all 20 for today
    assert guard.calls == 4
    assert guard.usage(KEY).used_today == 20


def test_unused_tickets_are_void_when_their_bucket_ends_and_return_to_the_day_at_the_next_lease(
    dynamodb, clock
) -> None:
    # Given a lease of 10 tickets (two buckets of 5) of which only 2 carried a request
    guard = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=1000)
    guard.acquire(KEY)
    guard.acquire(KEY)
    assert guard.usage(KEY).used_today == 10  # leased
    # When the worker comes back after both buckets ended
    clock.now += 3 * guard.bucket_seconds
    guard.acquire(KEY)
    # Then its tickets were void (no request went on them, none waited), and the new lease's write gave the day's
    # count the 8 unused ones back: today counts the 2 requests sent and the 10 tickets leased now
    assert clock.sleeps == []
    assert guard.voided == 8
    assert guard.calls == 2 + 1  # two leases, one usage read
    assert guard.usage(KEY).used_today == 2 + 10


def test_a_rival_container_s_write_is_seen_without_a_read(dynamodb, clock) -> None:
    # Given a rival container that leased a whole window's tickets of an idle key
    rival = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=60)
    ours = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0)
    clock.now = (int(clock.now // rival.bucket_seconds) + 1) * rival.bucket_seconds + 0.001
    start = clock.now
    rival.acquire(KEY)
    # When we acquire with no idea of the item: our write (taking the key for idle) fails and brings the item back,
    # and the second write takes the tickets after the rival's
    ours.acquire(KEY)
    assert (ours.calls, ours.conflicts) == (2, 1)
    # Then our request waited for the first bucket the rival did not hold (a window on), instead of overbooking
    assert clock.now - start == pytest.approx(12 * ours.bucket_seconds - 0.001, abs=1e-6)
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == 60 + 10


def test_containers_writing_on_the_same_view_of_the_item_all_get_tickets(dynamodb, clock) -> None:
    # Given three containers that have all seen the key busy (the counter ahead of the current bucket)
    guards = [_guard(dynamodb, clock, per_minute=60, window_seconds=61.0) for _ in range(3)]
    guards[0].acquire(KEY)
    for guard in guards[1:]:
        guard.acquire(KEY)  # each learns the item by one lost write, then leases
    seen = _counter(guards[0], dynamodb)
    for guard in guards:
        guard._state(KEY).lease.tickets.clear()  # every ticket held is used up
        guard._state(KEY).item.next_ticket = seen  # and each saw the counter where it is now
    calls = [g.calls for g in guards]
    # When they all lease again on that same (soon stale) view of the item, at the same moment
    for guard in guards:
        guard._take_lease(KEY, guard._state(KEY), reserve=0, deadline=clock.now + 90.0)
    # Then every write succeeded at once (the additions commute): one call each, no conflict, disjoint tickets
    assert [g.calls - c for g, c in zip(guards, calls, strict=True)] == [1, 1, 1]
    assert _counter(guards[0], dynamodb) == seen + 30
    held = [set(g._state(KEY).lease.tickets) for g in guards]
    assert all(not (a & b) for i, a in enumerate(held) for b in held[i + 1 :])


def test_the_day_s_count_starts_again_at_tallinn_midnight_and_yesterday_s_is_removed(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=1000)
    clock.now = datetime(2024, 6, 15, 20, 59, 50, tzinfo=UTC).timestamp()  # 23:59:50 Tallinn
    guard.acquire(KEY)
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == 10
    clock.now += 20  # 00:00:10, the next day: the lease of yesterday is not used today
    guard.acquire(KEY)
    item = _item(dynamodb)
    assert int(item["used-2024-06-16"]["N"]) == 10
    assert "used-2024-06-15" not in item
    assert guard.usage(KEY).used_today == 10


def test_a_guard_configured_otherwise_counts_apart(dynamodb, clock) -> None:
    # Given a key in use under one bucket shape, and a container with another (a limit changed during a deploy)
    _guard(dynamodb, clock, per_minute=60, window_seconds=61.0).acquire(KEY)
    other = _guard(dynamodb, clock, per_minute=30, window_seconds=61.0)
    # Then the other reads no ticket numbers that mean other times: it keeps its own counter, and shares the day
    other.acquire(KEY)
    assert clock.sleeps == []
    item = _item(dynamodb)
    assert {n for n in item if n.startswith("ticket-")} == {"ticket-5-5545ms", "ticket-5-12200ms"}
    assert int(item["used-2024-06-15"]["N"]) == 20


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


class _Flaky:
    def __init__(self, client, code: str, failures: int) -> None:
        self._client = client
        self._code = code
        self.failures = failures

    def update_item(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": self._code, "Message": "x"}}, "UpdateItem")
        return self._client.update_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_throttling_is_retried_briefly(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock)
    guard._client = _Flaky(dynamodb, "ProvisionedThroughputExceededException", 2)
    guard.acquire(KEY)
    assert clock.sleeps == [pytest.approx(0.05), pytest.approx(0.1)]


class _FlakyReads:
    def __init__(self, client, error: Exception, failures: int) -> None:
        self._client = client
        self._error = error
        self.failures = failures

    def get_item(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise self._error
        return self._client.get_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_the_guard_tries_again_itself_after_a_dropped_connection_and_a_throttled_read(dynamodb, clock) -> None:
    # its client leaves every retry to it (botocore sends each request once)
    guard = _guard(dynamodb, clock)
    dropped = ConnectionClosedError(endpoint_url="https://dynamodb.eu-north-1.amazonaws.com/")
    guard._client = _AnswerLost(dynamodb, dropped, "if_not_exists")
    guard.acquire(KEY)  # the lease applied, the connection closed before its answer: leased again
    assert guard._client.lost == 1
    leased = int(_item(dynamodb)["used-2024-06-15"]["N"])  # both leases (the lost one's tickets stay counted)
    guard._client = _FlakyReads(dynamodb, ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem"), 2)
    assert guard.usage(KEY).used_today == leased
    assert guard._client.failures == 0
    assert clock.sleeps[-2:] == [pytest.approx(0.05), pytest.approx(0.1)]


def test_a_read_that_keeps_failing_is_unavailable(dynamodb, clock) -> None:
    guard = _guard(dynamodb, clock)
    guard._client = _FlakyReads(dynamodb, ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem"), 99)
    with pytest.raises(SmartAccountsError) as info:
        guard.usage(KEY)
    assert info.value.reason == "rate_guard_unavailable"
    assert guard._client.failures == 99 - 6  # the first attempt and 5 more


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


class _LostAnswers:
    """Loses the answer of the next lease write that adds to the counter, at botocore's HTTP layer: the write reaches
    DynamoDB and is applied (``table``, a client of the same moto, applies it as sent), then the connection times out
    before its answer is read."""

    def __init__(self, client, table) -> None:
        self.armed = False
        self._table = table
        client.meta.events.register("before-send.dynamodb.UpdateItem", self._sent, unique_id="lost-answers")

    def _sent(self, request, **_kwargs) -> None:
        if self.armed and b"#t + :wanted" in request.body:
            self.armed = False
            with contextlib.suppress(ClientError):
                self._table.update_item(**json.loads(request.body))
            raise ReadTimeoutError(endpoint_url=request.url)


def test_botocore_never_sends_a_guard_write_again_behind_its_back(dynamodb, clock) -> None:
    # Given the guard as production builds it (its own DynamoDB client), whose container leased 10 tickets of an idle
    # key and sent 2, while another container leased and sent the next 20
    settings = Settings(rate_limit_table_name=TABLE, aws_region="eu-north-1", smartaccounts_daily_budget=100)
    guard = DynamoDbRateGuard.from_settings(settings)
    guard._clock, guard._sleep = clock.time, clock.sleep
    lost = _LostAnswers(guard._dynamodb(), dynamodb)
    other = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, daily_budget=100, lease_size=20)
    guard.acquire(KEY)
    guard.acquire(KEY)
    for _ in range(20):
        other.acquire(KEY)
    sent = 2 + 20
    # When, after the buckets of its 8 unused tickets ended, it leases again (one ticket: the day's last but 77; the
    # write gives the 8 back to the day) and that write is applied but its answer lost (a read timeout)
    clock.now += 3 * guard.bucket_seconds
    lost.armed = True
    with contextlib.suppress(SmartAccountsError):
        guard.acquire(KEY, reserve=77)
        sent += 1
    # Then the day still counts every request sent. botocore's own retry of the write applied it a second time (the
    # counter was still within the write's condition), giving the 8 back to the day twice without the guard knowing:
    # 7 requests fewer than were sent. The guard saw the lost answer instead, and gave nothing back again.
    assert not lost.armed
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) >= sent


# --- SmartAccounts says the key's day is spent ------------------------------------------------------------------


def test_a_day_smartaccounts_says_is_spent_is_refused_until_then_whatever_the_guard_counted(make_guard) -> None:
    # Given a key the guard counted 2 requests of today, and SmartAccounts saying its day is spent for an hour
    # (another program used the same key)
    guard, clock = make_guard(per_minute=100, budget=1000)
    clock.now = datetime(2024, 6, 15, 20, 0, 0, tzinfo=UTC).timestamp()  # 23:00 Tallinn
    guard.acquire(KEY)
    guard.acquire(KEY)
    assert guard.note_spent_by_smartaccounts(KEY, clock.now + 3600.0) is True
    # When a request with the key asks to go half an hour later
    clock.now += 1800.0
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    # Then it is refused without being sent, for the rest of SmartAccounts' wait, in words that say whose limit it is
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert info.value.reason == "smartaccounts_spent"
    assert info.value.retry_after == pytest.approx(1800.0)
    assert "SmartAccounts said" in info.value.message and KEY not in str(info.value)
    # And the key's usage says so next to what the guard counted
    usage = guard.usage(KEY)
    assert usage.used_today < usage.daily_budget and usage.left_today == 0  # counted: 2 (a lease: 10)
    assert usage.spent_until == datetime(2024, 6, 15, 21, 0, 0, tzinfo=UTC)
    # And another key is not affected
    guard.acquire(OTHER_KEY)
    # And once SmartAccounts' wait is over, requests go again and the usage no longer says spent
    clock.now += 1800.0
    guard.acquire(KEY)
    assert guard.usage(KEY).spent_until is None


def test_an_earlier_spent_until_never_shortens_a_later_one(make_guard) -> None:
    guard, clock = make_guard(per_minute=100)
    guard.acquire(KEY)
    guard.note_spent_by_smartaccounts(KEY, clock.now + 600.0)
    guard.note_spent_by_smartaccounts(KEY, clock.now + 60.0)  # a slower container's older answer
    clock.now += 120.0
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.retry_after == pytest.approx(480.0)


def test_every_container_learns_a_spent_day_from_its_next_lease_write_without_a_read(dynamodb, clock) -> None:
    # Given two containers on one key, each with a lease of its own
    ours = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=2)
    other = _guard(dynamodb, clock, per_minute=60, window_seconds=61.0, lease_size=2)
    ours.acquire(KEY)
    other.acquire(KEY)
    # When SmartAccounts refuses one of ours for the key's daily limit
    assert ours.note_spent_by_smartaccounts(KEY, clock.now + 3600.0) is True
    assert int(float(_item(dynamodb)["spentUntil"]["N"])) == int(clock.now + 3600.0)
    # Then the other container uses what it already leased, and its next lease write fails on the mark and refuses
    other.acquire(KEY)
    calls = other.calls
    used = int(_item(dynamodb)["used-2024-06-15"]["N"])
    with pytest.raises(SmartAccountsError) as info:
        other.acquire(KEY)
    assert info.value.reason == "smartaccounts_spent"
    assert other.calls == calls + 1  # the lease write it would make anyway: no read was added
    # And nothing was leased past the mark; later requests are refused without any DynamoDB call at all
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == used
    with pytest.raises(SmartAccountsError):
        other.acquire(KEY)
    with pytest.raises(SmartAccountsError):
        ours.acquire(KEY)
    assert other.calls == calls + 1
    assert int(_item(dynamodb)["used-2024-06-15"]["N"]) == used


@pytest.mark.parametrize(("ahead", "held"), [(10**9, 86400.0), (float("inf"), None), (0.0, None), (-5.0, None)])
def test_a_spent_mark_is_held_a_day_at_most_and_never_for_no_wait(make_guard, ahead, held) -> None:
    # Given SmartAccounts asking for a wait of 31 years (a wrong header), for ever, for none, or one already over
    guard, clock = make_guard(per_minute=100)
    guard.acquire(KEY)
    noted = guard.note_spent_by_smartaccounts(KEY, clock.now + ahead)
    # Then the key is held back a day at most; a wait that is no wait (or no number) marks nothing
    assert noted is (held is not None)
    if held is None:
        guard.acquire(KEY)
        assert guard.usage(KEY).spent_until is None
        return
    with pytest.raises(SmartAccountsError) as info:
        guard.acquire(KEY)
    assert info.value.retry_after == pytest.approx(held)
    clock.now += held
    guard.acquire(KEY)


def test_a_failed_spent_mark_is_reported_not_raised(dynamodb, clock) -> None:
    class _Down:
        def update_item(self, **kwargs):
            raise ReadTimeoutError(endpoint_url="https://dynamodb")

    guard = _guard(_Down(), clock)
    assert guard.note_spent_by_smartaccounts(KEY, clock.now + 60.0) is False
    assert NoRateGuard().note_spent_by_smartaccounts(KEY, clock.now + 60.0) is False
