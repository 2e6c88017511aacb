"""Per-API-key request guard shared by every concurrent Lambda invocation.

SmartAccounts allows 60 requests per minute and 1000 per day per API key. The guard keeps the service under both:

* an EXACT sliding window of ``per_minute`` request **slots**: a slot may carry one request per window, so no rolling
  window of ``window_seconds`` ever holds more than ``per_minute`` requests (a token bucket would let twice as many
  through at its edges);
* a daily budget counted per Tallinn calendar day (the assumed reset rule, see ``protocol``), of which a caller may
  hold ``reserve`` calls back for higher-priority work.

The DynamoDB guard **leases** a small batch of slots per key with one conditional write (see
:class:`DynamoDbRateGuard`), so a run of requests costs one DynamoDB call per batch instead of several per request.
The raw API key is never stored: items are keyed by a SHA-256 prefix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random as _random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.protocol import seconds_until_quota_reset, tallinn_day

if TYPE_CHECKING:
    from smartaccounts_sync.settings import Settings

DEFAULT_PER_MINUTE = 60
DEFAULT_WINDOW_SECONDS = 61.0
DEFAULT_DAILY_BUDGET = 1000
DEFAULT_MAX_WAIT_SECONDS = 90.0
DEFAULT_LEASE_SIZE = 10
DEFAULT_LEASE_SECONDS = 5.0
CONFLICT_BACKOFF_SECONDS = 0.02  # doubled per conflict in a row, with full jitter
CONFLICT_BACKOFF_CAP_SECONDS = 0.25
ITEM_TTL_SECONDS = 2 * 86400

_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


@dataclass(frozen=True)
class QuotaUsage:
    """Today's use of one key's daily budget (Tallinn day)."""

    used_today: int
    daily_budget: int
    resets_at: dt.datetime


class RateGuard(Protocol):
    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        """Block until one more request with this key fits the limits, or raise ``SmartAccountsError``.

        ``reserve`` calls of today's budget are held back for higher-priority work: the request is refused when
        ``used_today + 1 > daily_budget - reserve``."""

    def usage(self, api_key: str) -> QuotaUsage:
        """Today's count for this key (a plain read, not for the hot path)."""


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


def window_pk(api_key: str) -> str:
    return f"RATE#{key_hash(api_key)}"


def resets_at(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now + seconds_until_quota_reset(now), dt.UTC)


def _daily_refusal(now: float, used: int, budget: int, reserve: int) -> SmartAccountsError:
    if reserve > 0 and used < budget:
        return SmartAccountsError(
            ErrorKind.DAILY_QUOTA_SPENT,
            f"The rest of today's {budget} SmartAccounts requests for this API key ({budget - used}) is reserved for "
            "the coming scheduled import.",
            retry_after=seconds_until_quota_reset(now),
            reason="reserved_for_schedule",
        )
    return SmartAccountsError(
        ErrorKind.DAILY_QUOTA_SPENT,
        f"The daily budget of {budget} SmartAccounts requests for this API key is spent; "
        "it resets at midnight Estonian time.",
        retry_after=seconds_until_quota_reset(now),
        reason="local_budget",
    )


def _wait_too_long(wait: float) -> SmartAccountsError:
    return SmartAccountsError(
        ErrorKind.RATE_LIMITED,
        "Too many SmartAccounts requests with this API key right now; the request was not sent.",
        retry_after=wait,
        reason="local_window",
    )


def _guard_unavailable(detail: str) -> SmartAccountsError:
    return SmartAccountsError(
        ErrorKind.UNAVAILABLE, f"The request rate guard is unavailable ({detail}).", reason="rate_guard_unavailable"
    )


class NoRateGuard:
    """Lets everything through (tests, tools)."""

    daily_budget = DEFAULT_DAILY_BUDGET

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        return None

    def usage(self, api_key: str) -> QuotaUsage:
        return QuotaUsage(used_today=0, daily_budget=self.daily_budget, resets_at=resets_at(time.time()))


class InMemoryRateGuard:
    """The same limits as :class:`DynamoDbRateGuard` within one process, one request at a time; thread-safe."""

    def __init__(
        self,
        per_minute: int = DEFAULT_PER_MINUTE,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        daily_budget: int = DEFAULT_DAILY_BUDGET,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
    ) -> None:
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.daily_budget = daily_budget
        self.max_wait_seconds = max_wait_seconds
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}
        self._days: dict[tuple[str, dt.date], int] = {}

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        start = self._clock()
        self._spend_daily(api_key, reserve)
        while True:
            with self._lock:
                now = self._clock()
                ring = self._windows.setdefault(window_pk(api_key), deque(maxlen=self.per_minute))
                if len(ring) < self.per_minute or ring[0] <= now - self.window_seconds:
                    ring.append(now)
                    return
                wait = ring[0] + self.window_seconds - now
            if now + wait > start + self.max_wait_seconds:
                raise _wait_too_long(wait)
            self._sleep(wait)

    def usage(self, api_key: str) -> QuotaUsage:
        now = self._clock()
        with self._lock:
            used = self._days.get((key_hash(api_key), tallinn_day(now)), 0)
        return QuotaUsage(used_today=used, daily_budget=self.daily_budget, resets_at=resets_at(now))

    def _spend_daily(self, api_key: str, reserve: int) -> None:
        with self._lock:
            now = self._clock()
            day = (key_hash(api_key), tallinn_day(now))
            used = self._days.get(day, 0)
            if used + 1 > self.daily_budget - max(0, reserve):
                raise _daily_refusal(now, used, self.daily_budget, reserve)
            self._days[day] = used + 1

    def request_times(self, api_key: str) -> list[float]:
        with self._lock:
            return list(self._windows.get(window_pk(api_key), ()))


@dataclass
class _Window:
    """The key's item as this container last saw it."""

    slots: list[float]
    day: str
    used: int
    version: int  # unused by the writes (kept for older items' shape)
    exists: bool


@dataclass
class _Lease:
    """Slots this container holds: each may carry one request until ``stamp`` (the time written into them)."""

    stamp: float
    day: str
    free: list[int]
    used: dict[int, float] = field(default_factory=dict)
    before: dict[int, float] = field(default_factory=dict)  # each slot's value before the lease, to give it back


@dataclass
class _KeyState:
    window: _Window | None = None
    lease: _Lease | None = None
    conflict_at: float = float("-inf")  # when this container last lost a write for the key
    lock: threading.Lock = field(default_factory=threading.Lock)


class DynamoDbRateGuard:
    """The guard over a DynamoDB table (partition key ``pk`` (S), TTL attribute ``expiresAt``).

    One item per key, ``RATE#<hash>``: ``slots`` (``per_minute`` numbers: the latest moment each slot's last request
    may have been sent), ``day`` and ``used`` (the Tallinn day and the requests granted that day) and ``version``.

    A container **leases** up to ``lease_size`` slots whose time is at least one window old, stamps them with the
    lease's end (``lease_seconds`` from now) and adds them to ``used``, in one conditional ``PutItem`` on the version
    it last saw. Its requests then go out without DynamoDB until the lease is spent or ends. The next lease's write
    also settles the previous one: a slot that carried a request gets that request's time, an unused one gets its
    old value back (and ``used`` its count back). So each slot carries at most one request per window whatever the
    containers do: a slot's requests are ``window_seconds`` apart at least, and ``per_minute`` slots let at most
    ``per_minute`` requests into any rolling window. A lease a container never settles (it stopped) holds its unused
    slots until its stamp plus a window, and its daily count until midnight: at most ``lease_size`` requests.

    No read on the way: the write is based on the item as this container last wrote or saw it; when another
    container has written since, the write fails and returns the current item (``ReturnValuesOnConditionCheckFailure``)
    and is made again on it. ``calls`` counts the DynamoDB calls, ``conflicts`` the writes lost to another container.
    """

    def __init__(
        self,
        table_name: str,
        per_minute: int = DEFAULT_PER_MINUTE,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        daily_budget: int = DEFAULT_DAILY_BUDGET,
        dynamodb_client: Any | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        *,
        lease_size: int = DEFAULT_LEASE_SIZE,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        client_factory: Callable[[], Any] | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        if lease_size < 1 or lease_seconds <= 0:
            raise ValueError("a lease holds at least one slot for some time")
        self.table_name = table_name
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.daily_budget = daily_budget
        self.max_wait_seconds = max_wait_seconds
        self.lease_size = lease_size
        self.lease_seconds = lease_seconds
        self._client = dynamodb_client
        self._client_factory = client_factory
        self._client_lock = threading.Lock()
        self._states_lock = threading.Lock()
        self._states: dict[str, _KeyState] = {}
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.calls = 0  # DynamoDB calls made (observability, bench and tests)
        self.conflicts = 0  # conditional writes lost to another container

    @classmethod
    def from_settings(cls, settings: Settings, dynamodb_client: Any | None = None) -> DynamoDbRateGuard:
        def factory() -> Any:
            from smartaccounts_sync.adapters.aws_clients import aws_client

            return aws_client("dynamodb", settings)

        return cls(
            settings.rate_limit_table_name,
            per_minute=settings.smartaccounts_rate_per_minute,
            window_seconds=settings.smartaccounts_rate_window_seconds,
            daily_budget=settings.smartaccounts_daily_budget,
            dynamodb_client=dynamodb_client,
            lease_size=settings.smartaccounts_rate_lease_size,
            lease_seconds=settings.smartaccounts_rate_lease_seconds,
            client_factory=factory,
        )

    # --- public --------------------------------------------------------------------------------------------------

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        deadline = self._clock() + self.max_wait_seconds
        reserve = max(0, reserve)
        state = self._state(api_key)
        # threads of one container share its lease and queue here; containers are kept apart by conditional writes
        with state.lock:
            while True:
                now = self._clock()
                day = tallinn_day(now).isoformat()
                lease, window = state.lease, state.window
                if lease is not None and window is not None and lease.free and now < lease.stamp and lease.day == day:
                    used = window.used - len(lease.free)  # as far as this container knows
                    if used + 1 > self.daily_budget - reserve:
                        raise _daily_refusal(now, used, self.daily_budget, reserve)
                    slot = lease.free.pop(0)
                    lease.used[slot] = now
                    return
                self._take_lease(api_key, state, reserve, deadline)

    def usage(self, api_key: str) -> QuotaUsage:
        now = self._clock()
        try:
            self.calls += 1
            item = self._dynamodb().get_item(TableName=self.table_name, Key={"pk": {"S": window_pk(api_key)}})
        except (ClientError, BotoCoreError) as error:
            raise _guard_unavailable(type(error).__name__) from None
        window = self._parse(item.get("Item"))
        used = window.used if window.day == tallinn_day(now).isoformat() else 0
        return QuotaUsage(used_today=used, daily_budget=self.daily_budget, resets_at=resets_at(now))

    # --- leasing -------------------------------------------------------------------------------------------------

    def _take_lease(self, api_key: str, state: _KeyState, reserve: int, deadline: float) -> None:
        """One conditional write that settles the previous lease and takes new slots; waits when none is free."""
        transient = 0
        streak = 0
        while True:
            now = self._clock()
            day = tallinn_day(now).isoformat()
            cutoff = now - self.window_seconds
            current = state.window or self._parse(None)
            slots = self._normalise(current.slots)
            reshaped = current.exists and len(current.slots) != self.per_minute
            same_day = current.exists and current.day == day
            settled, returned = self._settlement(state.lease, now, day if same_day else None, reshaped)
            for i, value in settled.items():
                slots[i] = value
            used = max(0, (current.used if same_day else 0) - returned)
            if used + 1 > self.daily_budget - reserve:
                raise _daily_refusal(now, used, self.daily_budget, reserve)
            wanted = min(self.lease_size, self.daily_budget - reserve - used)
            free = [i for i, t in enumerate(slots) if t <= cutoff]
            if not free:
                self._wait_for_slots(state, slots, wanted, now, deadline)
                continue
            # containers that lost a write lately pick one of the free runs at random, so that they seldom want the
            # same slots; alone, the first run
            runs = [free[k : k + wanted] for k in range(0, len(free), wanted)]
            contended = now - state.conflict_at < self.window_seconds
            take = runs[int(self._random() * len(runs))] if contended and len(runs) > 1 else runs[0]
            stamp = float(_num(now + self.lease_seconds))
            before = {i: slots[i] for i in take}
            changes = dict(settled)
            for i in take:
                slots[i] = changes[i] = stamp
            try:
                if current.exists and not reshaped:
                    state.window = self._update(
                        api_key,
                        changes,
                        [i for i in take if i not in settled],
                        cutoff,
                        day,
                        used_delta=len(take) - returned if same_day else None,
                        new_used=used + len(take),
                        limit=self.daily_budget - reserve,
                        now=now,
                    )
                else:
                    state.window = self._put(api_key, _Window(slots, day, used + len(take), 0, True), current, now)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    self.conflicts += 1  # another container took some of these slots first: go again on its item
                    state.conflict_at = now
                    state.window = self._parse(error.response.get("Item"))
                    streak += 1
                    self._sleep(
                        self._random() * min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**streak)
                    )
                    continue
                transient = self._transient_pause(code, transient, deadline)
                continue
            except BotoCoreError as error:
                transient = self._transient_pause(type(error).__name__, transient, deadline)
                continue
            state.lease = _Lease(stamp=stamp, day=day, free=list(take), before=before)
            return

    def _settlement(
        self, lease: _Lease | None, now: float, today: str | None, reshaped: bool
    ) -> tuple[dict[int, float], int]:
        """The previous lease's truth: a used slot gets its request's time, an unused one its old value back (and
        today's count one back). Only within a window of the lease's end: until then no other container can have
        taken its slots (they hold the stamp), so the write needs no condition on them."""
        if lease is None or reshaped or now >= lease.stamp + self.window_seconds:
            return {}, 0
        settled = dict(lease.used)
        settled.update({i: lease.before.get(i, 0.0) for i in lease.free})
        return settled, len(lease.free) if lease.day == today else 0

    def _wait_for_slots(self, state: _KeyState, slots: list[float], wanted: int, now: float, deadline: float) -> None:
        # wait for a whole lease's worth of slots (not one: that would cost a write per request), plus a little
        # jitter; when other containers wait too (a write was lost lately), for one of the coming batches picked at
        # random, so that the waiting containers do not all write for the same one
        batch = min(wanted, len(slots))
        batches = max(1, len(slots) // batch)
        contended = now - state.conflict_at < self.window_seconds
        nth = batch * (1 + int(self._random() * batches)) if contended else batch
        ready = sorted(slots)[min(nth, len(slots)) - 1] + self.window_seconds
        wait = ready - now + self._random() * min(CONFLICT_BACKOFF_CAP_SECONDS, self.window_seconds / 20)
        if now + wait > deadline:
            raise _wait_too_long(ready - now)
        self._sleep(wait)

    def _normalise(self, slots: list[float]) -> list[float]:
        if len(slots) == self.per_minute:
            return list(slots)
        # the limit changed since the item was written: keep the newest times
        newest = sorted(slots)[-self.per_minute :]
        return [0.0] * (self.per_minute - len(newest)) + newest

    def _parse(self, item: dict[str, Any] | None) -> _Window:
        if not item:
            return _Window([0.0] * self.per_minute, "", 0, 0, False)
        return _Window(
            slots=[float(v["N"]) for v in item.get("slots", {}).get("L", [])],
            day=item.get("day", {}).get("S", ""),
            used=int(item.get("used", {}).get("N", "0")),
            version=int(item.get("version", {}).get("N", "0")),
            exists=True,
        )

    def _put(self, api_key: str, window: _Window, seen: _Window, now: float) -> _Window:
        """The whole item: the first write for a key (or after the limit changed)."""
        item = {
            "pk": {"S": window_pk(api_key)},
            "slots": {"L": [{"N": _num(v)} for v in window.slots]},
            "day": {"S": window.day},
            "used": {"N": str(window.used)},
            "expiresAt": {"N": str(int(now) + ITEM_TTL_SECONDS)},
        }
        if seen.exists:
            condition = {
                "ConditionExpression": "size(slots) = :n",
                "ExpressionAttributeValues": {":n": {"N": str(len(seen.slots))}},
            }
        else:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        self.calls += 1
        self._dynamodb().put_item(
            TableName=self.table_name, Item=item, ReturnValuesOnConditionCheckFailure="ALL_OLD", **condition
        )
        return self._parse(item)

    def _update(
        self,
        api_key: str,
        changes: dict[int, float],
        taken: list[int],
        cutoff: float,
        day: str,
        *,
        used_delta: int | None,
        new_used: int,
        limit: int,
        now: float,
    ) -> _Window:
        """Sets the changed slots, conditional only on the newly taken ones being free and on today's count."""
        names = {"#d": "day", "#u": "used", "#e": "expiresAt"}
        values: dict[str, Any] = {
            ":day": {"S": day},
            ":exp": {"N": str(int(now) + ITEM_TTL_SECONDS)},
            ":n": {"N": str(self.per_minute)},
        }
        if taken:
            values[":cut"] = {"N": _num(cutoff)}
        sets = [f"slots[{i}] = :s{i}" for i in sorted(changes)]
        values.update({f":s{i}": {"N": _num(v)} for i, v in changes.items()})
        conditions = ["size(slots) = :n"] + [f"slots[{i}] <= :cut" for i in taken]
        if used_delta is None:  # the first lease of a Tallinn day starts the count again
            sets += ["#d = :day", "#u = :used"]
            values[":used"] = {"N": str(new_used)}
            conditions.append("(attribute_not_exists(#d) OR #d <> :day)")
        else:
            sets.append("#u = #u + :delta")
            values |= {":delta": {"N": str(used_delta)}, ":max": {"N": str(limit - used_delta)}}
            conditions.append("#d = :day AND #u <= :max")
        sets.append("#e = :exp")
        self.calls += 1
        response = self._dynamodb().update_item(
            TableName=self.table_name,
            Key={"pk": {"S": window_pk(api_key)}},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return self._parse(response.get("Attributes"))

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _state(self, api_key: str) -> _KeyState:
        pk = window_pk(api_key)
        with self._states_lock:
            return self._states.setdefault(pk, _KeyState())

    def _transient_pause(self, code: str, attempts: int, deadline: float) -> int:
        retryable = code in _TRANSIENT_CODES or code.endswith(("ConnectionError", "Timeout", "TimeoutError"))
        if not retryable or attempts >= 5:
            raise _guard_unavailable(code or "unknown error") from None
        pause = min(1.0, 0.05 * (2**attempts))
        if self._clock() + pause > deadline:
            raise _guard_unavailable(code) from None
        self._sleep(pause)
        return attempts + 1

    def _dynamodb(self) -> Any:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    if self._client_factory is not None:
                        self._client = self._client_factory()
                    else:
                        import boto3

                        self._client = boto3.client("dynamodb")
        return self._client


def _num(value: float) -> str:
    return f"{value:.6f}"
