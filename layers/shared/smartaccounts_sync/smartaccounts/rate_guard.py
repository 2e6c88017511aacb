"""Per-API-key request guard shared by every concurrent Lambda invocation.

SmartAccounts allows 60 requests per minute and 1000 per day per API key. The guard keeps the service under both:

* an EXACT sliding window: the last ``per_minute`` request times of a key are kept in a ring; a request may go when
  the slot it would overwrite (the oldest) is older than ``window_seconds``, so no rolling window of that length
  ever holds more than ``per_minute`` requests (a token bucket would let twice as many through at its edges);
* a daily budget counted per Tallinn calendar day (the assumed reset rule, see ``protocol``).

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
from dataclasses import dataclass
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
CONFLICT_BACKOFF_CAP_SECONDS = 0.25
DAY_ITEM_TTL_SECONDS = 2 * 86400
WINDOW_ITEM_TTL_SECONDS = 86400

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
    """A key's day so far: requests counted today (Tallinn), the day's budget and when it renews."""

    used_today: int
    daily_budget: int
    resets_at: dt.datetime


class RateGuard(Protocol):
    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        """Block until one more request with this key fits the limits, or raise ``SmartAccountsError``.

        ``reserve`` is the number of today's requests of the key held back for higher-priority work (the coming
        scheduled import): the request is refused with ``DAILY_QUOTA_SPENT``/``reserved_for_schedule`` when
        ``used_today + 1 > daily_budget - reserve``."""

    def usage(self, api_key: str) -> QuotaUsage:
        """A plain read of the key's day (not on the hot path)."""


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


def window_pk(api_key: str) -> str:
    return f"RATE#{key_hash(api_key)}"


def day_pk(api_key: str, now: float) -> str:
    return f"DAY#{key_hash(api_key)}#{tallinn_day(now).isoformat()}"


def _daily_spent(now: float, budget: int, reserve: int = 0, used: int | None = None) -> SmartAccountsError:
    if reserve > 0 and (used is None or used < budget):
        return SmartAccountsError(
            ErrorKind.DAILY_QUOTA_SPENT,
            f"Today's remaining SmartAccounts requests for this API key ({reserve}) are reserved for the coming "
            "scheduled import; the work continues after midnight Estonian time.",
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

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        return None

    def usage(self, api_key: str) -> QuotaUsage:
        return QuotaUsage(used_today=0, daily_budget=DEFAULT_DAILY_BUDGET, resets_at=_resets_at(time.time()))


class InMemoryRateGuard:
    """The same semantics as :class:`DynamoDbRateGuard` within one process; thread-safe."""

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
        self._days: dict[str, int] = {}

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

    def _spend_daily(self, api_key: str, reserve: int = 0) -> None:
        with self._lock:
            now = self._clock()
            pk = day_pk(api_key, now)
            used = self._days.get(pk, 0)
            if used >= self.daily_budget - max(0, reserve):
                raise _daily_spent(now, self.daily_budget, reserve, used)
            self._days[pk] = used + 1

    def usage(self, api_key: str) -> QuotaUsage:
        with self._lock:
            now = self._clock()
            used = self._days.get(day_pk(api_key, now), 0)
        return QuotaUsage(used_today=used, daily_budget=self.daily_budget, resets_at=_resets_at(now))

    def request_times(self, api_key: str) -> list[float]:
        with self._lock:
            return list(self._windows.get(window_pk(api_key), ()))


class DynamoDbRateGuard:
    """The guard over a DynamoDB table (partition key ``pk`` (S), TTL attribute ``expiresAt``).

    Items: ``RATE#<hash>`` holds ``slots`` (the last ``per_minute`` request times, a ring), ``idx`` (the ring's
    oldest slot, the next to overwrite) and ``version`` (optimistic lock); ``DAY#<hash>#<YYYY-MM-DD>`` holds
    ``count``. Every write is conditional, so concurrent invocations never both take the same slot.
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
        client_factory: Callable[[], Any] | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.table_name = table_name
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.daily_budget = daily_budget
        self.max_wait_seconds = max_wait_seconds
        self._client = dynamodb_client
        self._client_factory = client_factory
        self._client_lock = threading.Lock()
        self._local_lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.conflicts = 0  # conditional-write conflicts seen (observability and tests)

    @classmethod
    def from_settings(cls, settings: Settings, dynamodb_client: Any | None = None) -> DynamoDbRateGuard:
        def factory() -> Any:
            import boto3

            return boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url)

        return cls(
            settings.rate_limit_table_name,
            per_minute=settings.smartaccounts_rate_per_minute,
            window_seconds=settings.smartaccounts_rate_window_seconds,
            daily_budget=settings.smartaccounts_daily_budget,
            dynamodb_client=dynamodb_client,
            client_factory=factory,
        )

    # --- public --------------------------------------------------------------------------------------------------

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        deadline = self._clock() + self.max_wait_seconds
        self._spend_daily(api_key, deadline, reserve)
        # threads of one process queue here instead of racing each other in DynamoDB; other processes (other
        # Lambda containers) are kept apart by the conditional writes
        with self._local_lock:
            self._take_slot(window_pk(api_key), deadline)

    # --- sliding window ------------------------------------------------------------------------------------------

    def _take_slot(self, pk: str, deadline: float) -> None:
        transient = 0
        streak = 0  # conflicts in a row: back off with jitter so contenders spread out instead of stampeding
        while True:
            now = self._clock()
            try:
                current = self._read_window(pk)
                slots, idx, version = self._normalise(current)
                oldest = slots[idx]
                if oldest > now - self.window_seconds:
                    wait = oldest + self.window_seconds - now
                    if now + wait > deadline:
                        raise _wait_too_long(wait)
                    self._sleep(wait)
                    continue
                slots[idx] = now
                self._write_window(pk, slots, (idx + 1) % self.per_minute, version, exists=current is not None, now=now)
                return
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    self.conflicts += 1  # another invocation took a slot first: read again
                    streak += 1
                    self._sleep(self._random() * min(CONFLICT_BACKOFF_CAP_SECONDS, 0.005 * 2**streak))
                    continue
                transient = self._transient_pause(code, transient, deadline)
            except BotoCoreError as error:
                transient = self._transient_pause(type(error).__name__, transient, deadline)

    def _normalise(self, current: dict[str, Any] | None) -> tuple[list[float], int, int]:
        if current is None:
            return [0.0] * self.per_minute, 0, 0
        slots = [float(v["N"]) for v in current.get("slots", {}).get("L", [])]
        idx = int(current.get("idx", {}).get("N", "0"))
        version = int(current.get("version", {}).get("N", "0"))
        if len(slots) != self.per_minute or not 0 <= idx < len(slots):
            # the limit changed since the item was written: keep the newest times, oldest first
            ordered = sorted(slots)[-self.per_minute :]
            slots = [0.0] * (self.per_minute - len(ordered)) + ordered
            idx = 0
        return slots, idx, version

    def _read_window(self, pk: str) -> dict[str, Any] | None:
        response = self._dynamodb().get_item(TableName=self.table_name, Key={"pk": {"S": pk}}, ConsistentRead=True)
        return response.get("Item")

    def _write_window(self, pk: str, slots: list[float], idx: int, version: int, *, exists: bool, now: float) -> None:
        item = {
            "pk": {"S": pk},
            "slots": {"L": [{"N": _num(v)} for v in slots]},
            "idx": {"N": str(idx)},
            "version": {"N": str(version + 1)},
            "expiresAt": {"N": str(int(now) + WINDOW_ITEM_TTL_SECONDS)},
        }
        if exists:
            condition = {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        else:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        self._dynamodb().put_item(TableName=self.table_name, Item=item, **condition)

    # --- daily budget --------------------------------------------------------------------------------------------

    def usage(self, api_key: str) -> QuotaUsage:
        now = self._clock()
        try:
            response = self._dynamodb().get_item(
                TableName=self.table_name, Key={"pk": {"S": day_pk(api_key, now)}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise _guard_unavailable(type(error).__name__) from None
        used = int(response.get("Item", {}).get("count", {}).get("N", "0"))
        return QuotaUsage(used_today=used, daily_budget=self.daily_budget, resets_at=_resets_at(now))

    def _spend_daily(self, api_key: str, deadline: float, reserve: int = 0) -> None:
        transient = 0
        while True:
            now = self._clock()
            try:
                self._dynamodb().update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": day_pk(api_key, now)}},
                    UpdateExpression="SET #e = if_not_exists(#e, :exp) ADD #c :one",
                    ConditionExpression="attribute_not_exists(#c) OR #c < :budget",
                    ExpressionAttributeNames={"#c": "count", "#e": "expiresAt"},
                    ExpressionAttributeValues={
                        ":one": {"N": "1"},
                        ":budget": {"N": str(self.daily_budget - max(0, reserve))},
                        ":exp": {"N": str(int(now) + DAY_ITEM_TTL_SECONDS)},
                    },
                )
                return
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    raise _daily_spent(now, self.daily_budget, reserve) from None
                transient = self._transient_pause(code, transient, deadline)
            except BotoCoreError as error:
                transient = self._transient_pause(type(error).__name__, transient, deadline)

    # --- plumbing ------------------------------------------------------------------------------------------------

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


def _resets_at(now: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(now + seconds_until_quota_reset(now), dt.UTC)


def _num(value: float) -> str:
    return f"{value:.6f}"
