"""Per-API-key request guard shared by every concurrent Lambda invocation.

SmartAccounts allows 60 requests per minute and 1000 per day per API key. The guard keeps the service under both:

* a rolling window of ``window_seconds`` never holds more than ``per_minute`` requests (a token bucket would let
  twice as many through at its edges): the in-memory guard keeps the window's request times; the DynamoDB guard cuts
  time into buckets that each let a few requests go (see :class:`DynamoDbRateGuard`);
* a daily budget counted per Tallinn calendar day (the assumed reset rule, see ``protocol``), of which a caller may
  hold ``reserve`` calls back for higher-priority work;
* when SmartAccounts itself says the key's day is spent (another program using the same key spent it, or its count
  differs from ours), :meth:`~RateGuard.note_spent_by_smartaccounts` records until when, and every container refuses
  requests with that key until then instead of sending each one to be refused.

The DynamoDB guard **leases** a small batch of request tickets per key with one write that concurrent containers do
not fight over (additions to a counter), so a run of requests costs one DynamoDB call per batch, alone or not.
The raw API key is never stored: items are keyed by a SHA-256 prefix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random as _random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from smartaccounts_sync.smartaccounts.credentials import key_hash
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.protocol import seconds_until_quota_reset, tallinn_day

if TYPE_CHECKING:
    from smartaccounts_sync.settings import Settings

DEFAULT_PER_MINUTE = 60
DEFAULT_WINDOW_SECONDS = 61.0
DEFAULT_DAILY_BUDGET = 1000
DEFAULT_MAX_WAIT_SECONDS = 90.0
DEFAULT_LEASE_SIZE = 10
DEFAULT_BURST = 5  # requests a bucket lets go (docs/performance.md)
CONFLICT_BACKOFF_SECONDS = 0.02  # doubled per conflict in a row, with full jitter
CONFLICT_BACKOFF_CAP_SECONDS = 0.25
ITEM_TTL_SECONDS = 2 * 86400
SPENT_ATTRIBUTE = "spentUntil"  # until when SmartAccounts refuses the key for its daily limit (epoch seconds)
#: How far ahead a daily refusal stops the key at most, whatever wait SmartAccounts asked for: its limit is 1000
#: requests per 24 hours, so a longer wait (a wrong header) would otherwise hold the key back for as long as it said.
SPENT_AT_MOST_SECONDS = 86400.0
USAGE_READ_SECONDS = 3.0  # how long `usage` tries again after transient failures

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
    per_minute: float = DEFAULT_PER_MINUTE  # requests a minute the guard lets go when the key is busy all the time
    #: Until when SmartAccounts refuses the key for its daily limit, as it said (None: it has not said so): the
    #: guard's own count may be lower when another program uses the same key.
    spent_until: dt.datetime | None = None

    @property
    def left_today(self) -> int:
        """Requests the key may still make today as far as the guard knows (0 while SmartAccounts says spent)."""
        return 0 if self.spent_until is not None else max(0, self.daily_budget - self.used_today)


class RateGuard(Protocol):
    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        """Block until one more request with this key fits the limits, or raise ``SmartAccountsError``.

        ``reserve`` calls of today's budget are held back for higher-priority work: the request is refused when
        ``used_today + 1 > daily_budget - reserve``."""

    def usage(self, api_key: str) -> QuotaUsage:
        """Today's count for this key (a plain read, not for the hot path)."""

    def usage_of(self, fingerprint: str) -> QuotaUsage:
        """`usage` of the key whose `key_hash` this is: read without the key itself (from a stored fingerprint, by a
        function that may not read secrets)."""

    def release_unused(self) -> None:
        """At the end of an invocation: give back what this container reserved and did not use (best effort)."""

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        """SmartAccounts refused a request with this key for its daily limit until `until` (epoch seconds): refuse
        every request with it until then. Best effort: never raises; False when it could not be recorded."""


def window_pk(api_key: str) -> str:
    return _pk(key_hash(api_key))


def _pk(fingerprint: str) -> str:
    return f"RATE#{fingerprint}"


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


def _spent_by_smartaccounts(now: float, until: float) -> SmartAccountsError:
    return SmartAccountsError(
        ErrorKind.DAILY_QUOTA_SPENT,
        "SmartAccounts said today's requests for this API key are spent (a program other than Uku may use the same "
        "key); no request is sent with it until SmartAccounts' limit resets.",
        retry_after=max(0.0, until - now),
        reason="smartaccounts_spent",
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

    def release_unused(self) -> None:
        return None

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        return False  # nothing is guarded

    def usage(self, api_key: str) -> QuotaUsage:
        return self.usage_of(key_hash(api_key))

    def usage_of(self, fingerprint: str) -> QuotaUsage:
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
        self._spent_until: dict[str, float] = {}  # per key fingerprint: SmartAccounts said the day is spent

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        start = self._clock()
        until = self._spent_until.get(key_hash(api_key))
        if until is not None and start < until:
            raise _spent_by_smartaccounts(start, until)
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
        return self.usage_of(key_hash(api_key))

    def usage_of(self, fingerprint: str) -> QuotaUsage:
        now = self._clock()
        with self._lock:
            used = self._days.get((fingerprint, tallinn_day(now)), 0)
            until = self._spent_until.get(fingerprint)
        return QuotaUsage(
            used_today=used,
            daily_budget=self.daily_budget,
            resets_at=resets_at(now),
            per_minute=self.per_minute * 60.0 / self.window_seconds if self.window_seconds > 0 else self.per_minute,
            spent_until=_moment(until, now),
        )

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        until = _spent_until(until, self._clock())
        if until is None:
            return False
        with self._lock:
            fingerprint = key_hash(api_key)
            self._spent_until[fingerprint] = max(until, self._spent_until.get(fingerprint, until))
        return True

    def _spend_daily(self, api_key: str, reserve: int) -> None:
        with self._lock:
            now = self._clock()
            day = (key_hash(api_key), tallinn_day(now))
            used = self._days.get(day, 0)
            if used + 1 > self.daily_budget - max(0, reserve):
                raise _daily_refusal(now, used, self.daily_budget, reserve)
            self._days[day] = used + 1

    def release_unused(self) -> None:
        return None  # nothing is reserved ahead in one process

    def request_times(self, api_key: str) -> list[float]:
        with self._lock:
            return list(self._windows.get(window_pk(api_key), ()))


@dataclass
class _Item:
    """The key's item as this container last wrote or saw it."""

    next_ticket: int | None  # the counter: the first ticket not yet leased (None: never seen)
    used: dict[str, int]  # requests leased per Tallinn day (``used-<day>``)
    restart: int | None = None  # where the counter last restarted (it was behind the current bucket)
    early: int = 0  # how many tickets from the restart on may be used before their bucket
    spent_until: float | None = None  # SmartAccounts refuses the key for its daily limit until then (``spentUntil``)

    def spent_at(self, now: float) -> bool:
        return self.spent_until is not None and now < self.spent_until

    def used_on(self, day: str) -> int:
        return self.used.get(day, 0)


@dataclass
class _Lease:
    """Tickets this container holds for one Tallinn day, in order: each lets one request go during its bucket (or at
    once, up to its bucket's end, when it is one of the window's worth after a restart of an idle key)."""

    day: str
    tickets: deque[int]
    early_until: int  # tickets below this (and at or above the restart) may be used before their bucket
    void: int = 0  # tickets whose bucket ended unused

    def unused(self) -> int:
        return len(self.tickets) + self.void


@dataclass
class _KeyState:
    item: _Item | None = None
    lease: _Lease | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class DynamoDbRateGuard:
    """The guard over a DynamoDB table (partition key ``pk`` (S), TTL attribute ``expiresAt``).

    Time is cut into **buckets** of ``window_seconds / m`` and each bucket lets ``burst`` requests go, with
    ``(m + 1) * burst <= per_minute``: a rolling window meets at most ``m + 1`` buckets, so it never holds more than
    ``per_minute`` requests, whatever the containers do (60 a minute, burst 5: 11 buckets of 5.5 s, 55 requests per
    61 s at most, sustained). Request **tickets** are numbered for ever: ticket ``t`` belongs to bucket
    ``t // burst`` and may be used only while that bucket lasts.

    One item per key, ``RATE#<hash>``: ``ticket-<burst>-<bucket ms>`` (the first ticket not yet handed out, named
    after the buckets it numbers), ``used-<day>`` (the requests leased that Tallinn day; yesterday's is removed) and,
    once SmartAccounts refused the key for its daily limit, ``spentUntil`` (epoch seconds, as SmartAccounts said: no
    lease is taken before then, a condition of the lease write itself, so containers learn it without a read).
    A container **leases** ``lease_size`` tickets with one ``UpdateItem`` that adds them to the counter and to the
    day's count, conditional only on inequalities (the counter is not behind the current bucket; the day's count
    leaves room), so containers writing at the same moment all succeed: additions commute. When the counter is
    behind the current bucket (the key was idle), the write moves it to the bucket's first ticket instead. The
    counter answers with the tickets (``ReturnValues``); the container's requests then go out without DynamoDB, each
    in its ticket's bucket (waiting for it when it lies ahead).

    **After an idle window**, a window's worth may go at once: when the counter is restarted with no ticket handed
    out for ``m`` buckets, the write also records the restart (``restart-<burst>-<bucket ms>``), and the
    ``(m + 1) * burst`` tickets from there may be used from the moment they are leased, each until its own bucket
    ends. The bound still holds. Take any ``m + 1`` consecutive buckets ``[s, s + m]`` and the restart ``R`` made in
    bucket ``j`` with its ``B = (m + 1) * burst`` tickets: a ticket is never used after its own bucket; tickets
    before ``R`` belong to buckets before ``j - m``; a ticket from ``R + B`` on is used only in its own bucket. If
    ``s <= j``, the window holds at most the ``B`` early tickets plus the later tickets whose own bucket is at most
    ``s + m``, at most ``(s + m + 1 - j) * burst - B``: together ``(s + m + 1 - j) * burst <= (m + 1) * burst``. If
    ``s > j``, an early ticket in the window has its own bucket at ``s`` or later: at most ``B - (s - j) * burst`` of
    them, plus at most ``(s + m + 1 - j) * burst - B`` later ones: again ``(m + 1) * burst``. (Buckets before ``j``
    hold no ticket's use after a window without tickets, and a window ending before ``j`` holds no early ticket.)
    **After any restart**, the same holds with ``B`` reduced by ``U``, the tickets handed out for buckets
    ``j - m .. j - 1`` (bounded by the counter as the writer saw it; the restart is conditional on the counter being
    no further, and records ``B`` as ``early-<burst>-<bucket ms>``): those tickets add at most ``U`` uses to a window
    that holds ``j``, and ``U + B = (m + 1) * burst``. When the previous restart ``R'`` lies within those buckets,
    ``U`` is also at most the counter's distance from ``R'`` plus the ``U'`` that ``R'`` counted (the tickets before
    ``R'`` were all handed out before it, and ``U'`` bounds those of its own window, which holds these); that restart
    write is also conditional on ``R'`` and its ``B'`` still standing. Both bounds rest on one invariant: every ticket
    handed out and not given back lies below the counter, and none is used twice. A lease adds to the counter,
    a restart moves it forward; a release moves it back only over the releaser's own unused tickets (conditional on
    the counter ending with them), and a release whose answer is lost (it may or may not have been applied) gives its
    tickets up, so a release applied unseen never leaves the container using tickets another one leases (a lease
    whose answer is lost never learns its tickets: they are lost; the guard's retry of it does not give the previous
    lease's unused tickets back to the day again). Every write is sent once: the guard's DynamoDB client has
    botocore's retries off (``from_settings``), since botocore would send a lease applied unseen again, and a second
    application within the write's condition takes a second lease and gives the day the same tickets back twice,
    unknown to the guard, which retries by itself instead.
    (Given the invariant, the distance bound holds even when a newer restart replaced ``R'``: the tickets from
    ``R'`` on are all below the counter; the condition on ``R'`` is kept as a margin, not needed by the count.)

    A caller may lease the early tickets whatever its deadline (they go at once), and beyond them only tickets
    whose bucket starts before its deadline.

    A ticket unused when its bucket ends is void, so leased capacity a container does not use is held at most until
    the end of the lease's last bucket (two buckets, 11 s, for a lease of 10); the container's next lease gives the
    day's count back its unused tickets. At the end of an invocation, :meth:`release_unused` gives them back at once
    when nobody leased after them.

    No read on the way: the write is based on the item as this container last wrote or saw it; when that was wrong
    (it took the counter for behind, and another container had moved it; or the day's count is spent), it fails and
    returns the current item (``ReturnValuesOnConditionCheckFailure``) and is made again on it. ``calls`` counts the
    DynamoDB calls, ``conflicts`` the writes that failed that way, ``voided`` the tickets whose bucket ended unused.
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
        burst: int = DEFAULT_BURST,
        client_factory: Callable[[], Any] | None = None,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if per_minute < 2:
            # a window meets two buckets, whatever their length: each letting one request go, a limit of one a
            # window cannot be kept by buckets
            raise ValueError("per_minute must be at least 2 for the DynamoDB guard")
        if lease_size < 1 or burst < 1:
            raise ValueError("a lease and a bucket hold at least one request")
        self.table_name = table_name
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.daily_budget = daily_budget
        self.max_wait_seconds = max_wait_seconds
        self.lease_size = lease_size
        # the largest burst that still leaves a window of at least one bucket (a limit of 2 or 3: one bucket a window)
        self.burst = max(1, min(burst, per_minute // 2))
        self.buckets_per_window = max(1, per_minute // self.burst - 1)
        self.bucket_seconds = window_seconds / self.buckets_per_window
        # the counter is named after the buckets it numbers: a guard configured otherwise (a limit changed, during a
        # deploy) counts apart instead of reading ticket numbers that mean other times
        shape = f"{self.burst}-{round(self.bucket_seconds * 1000)}ms"
        self._ticket_attribute = f"ticket-{shape}"
        self._restart_attribute = f"restart-{shape}"
        self._early_attribute = f"early-{shape}"
        self._window_tickets = (self.buckets_per_window + 1) * self.burst  # what a window may hold: <= per_minute
        self._client = dynamodb_client
        self._client_factory = client_factory
        self._client_lock = threading.Lock()
        self._states_lock = threading.Lock()
        self._states: dict[str, _KeyState] = {}
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self.calls = 0  # DynamoDB calls made (observability, bench and tests)
        self.conflicts = 0  # writes that failed on a condition (the item was not as this container thought)
        self.voided = 0  # leased tickets whose bucket ended unused
        self.released = 0  # leases whose unused tickets went back to the counter

    @classmethod
    def from_settings(cls, settings: Settings, dynamodb_client: Any | None = None) -> DynamoDbRateGuard:
        def factory() -> Any:
            from smartaccounts_sync.adapters.aws_clients import aws_client

            # botocore sends nothing again: the guard retries by itself, knowing a write whose answer was lost may
            # have been applied (a lease sent again by botocore could be applied twice, its give-back to the day too)
            return aws_client("dynamodb", settings, single_attempt=True)

        return cls(
            settings.rate_limit_table_name,
            per_minute=settings.smartaccounts_rate_per_minute,
            window_seconds=settings.smartaccounts_rate_window_seconds,
            daily_budget=settings.smartaccounts_daily_budget,
            dynamodb_client=dynamodb_client,
            lease_size=settings.smartaccounts_rate_lease_size,
            burst=settings.smartaccounts_rate_burst,
            client_factory=factory,
        )

    @property
    def sustained_per_minute(self) -> float:
        """Requests a minute the guard lets go when the key is busy all the time."""
        return self.burst / self.bucket_seconds * 60.0

    # --- public --------------------------------------------------------------------------------------------------

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        deadline = self._clock() + self.max_wait_seconds
        reserve = max(0, reserve)
        state = self._state(api_key)
        # threads of one container share its lease and queue here; containers are kept apart by the counter
        with state.lock:
            while True:
                now = self._clock()
                if state.item is not None and state.item.spent_at(now):
                    raise _spent_by_smartaccounts(now, state.item.spent_until or now)
                lease = state.lease
                if lease is not None and state.item is not None and lease.day == tallinn_day(now).isoformat():
                    while lease.tickets and self._bucket_end(lease.tickets[0]) <= now:
                        lease.tickets.popleft()  # its bucket is over
                        lease.void += 1
                        self.voided += 1
                    if lease.tickets:
                        sent = state.item.used_on(lease.day) - lease.unused()  # as far as this container knows
                        if sent + 1 > self.daily_budget - reserve:
                            raise _daily_refusal(now, sent, self.daily_budget, reserve)
                        ticket = lease.tickets[0]
                        start = now if ticket < lease.early_until else self._bucket_start(ticket)
                        if start > now:
                            if start > deadline:
                                raise _wait_too_long(start - now)
                            self._sleep(start - now)
                            continue
                        lease.tickets.popleft()
                        return
                self._take_lease(api_key, state, reserve, deadline)

    def release_unused(self) -> None:
        """At the end of an invocation: give back the tickets this container leased and did not use, when nobody
        leased after them (the counter still ends with them), so other containers may use them now instead of after
        their buckets. Best effort: never raises; tickets it cannot give back (another container leased after them)
        stay this container's (void when their bucket ends, and counted back into the day at its next lease), and
        tickets a write may or may not have given back (its answer lost) are given up. Never waits either: a key
        whose lease another thread holds (a request of it in flight, or waiting for its bucket: the local stack runs
        every function's invocations as threads of one process, sharing the guard) is in use, and keeps its tickets."""
        with self._states_lock:
            states = list(self._states.items())
        for pk, state in states:
            if not state.lock.acquire(blocking=False):
                continue
            try:
                with contextlib.suppress(ClientError, BotoCoreError):  # held back: see above
                    self._release(pk, state)
            finally:
                state.lock.release()

    def _release(self, pk: str, state: _KeyState) -> None:
        lease, item = state.lease, state.item
        now = self._clock()
        if lease is None or item is None or lease.day != tallinn_day(now).isoformat():
            return
        while lease.tickets and self._bucket_end(lease.tickets[0]) <= now:
            lease.tickets.popleft()
            lease.void += 1
            self.voided += 1
        if not lease.tickets or item.next_ticket != lease.tickets[-1] + 1:
            return  # nothing left to give back, or another container leased after these tickets
        self.calls += 1
        try:
            response = self._dynamodb().update_item(
                TableName=self.table_name,
                Key={"pk": {"S": pk}},
                UpdateExpression="SET #t = :first, #u = #u - :unused",
                ConditionExpression="#t = :end AND attribute_exists(#u)",
                ExpressionAttributeNames={"#t": self._ticket_attribute, "#u": _used_attribute(lease.day)},
                ExpressionAttributeValues={
                    ":first": {"N": str(lease.tickets[0])},
                    ":end": {"N": str(lease.tickets[-1] + 1)},
                    ":unused": {"N": str(lease.unused())},
                },
                ReturnValues="ALL_NEW",
            )
        except (ClientError, BotoCoreError) as error:
            if not _surely_not_applied(error):
                # the write may have been applied with its answer lost (a timeout, a server error; with a client
                # that retries, botocore's retry then fails on the counter it moved): the tickets may be another
                # container's by now, so they are not used here any more; when the write was not applied, the day
                # keeps counting them (the safe side)
                state.lease = None
            raise
        state.item = self._parse(response.get("Attributes"))
        state.lease = None
        self.released += 1

    def usage(self, api_key: str) -> QuotaUsage:
        return self.usage_of(key_hash(api_key))

    def usage_of(self, fingerprint: str) -> QuotaUsage:
        now = self._clock()
        attempts = 0
        while True:
            try:
                self.calls += 1
                item = self._dynamodb().get_item(TableName=self.table_name, Key={"pk": {"S": _pk(fingerprint)}})
                break
            except (ClientError, BotoCoreError) as error:  # a read: tried again after a transient failure
                attempts = self._transient_pause(error, attempts, now + USAGE_READ_SECONDS)
        parsed = self._parse(item.get("Item"))
        return QuotaUsage(
            used_today=parsed.used_on(tallinn_day(now).isoformat()),
            daily_budget=self.daily_budget,
            resets_at=resets_at(now),
            per_minute=self.sustained_per_minute,
            spent_until=_moment(parsed.spent_until, now),
        )

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        """One write: ``spentUntil`` becomes ``until`` unless it already reaches as far. Best effort: False when the
        write failed (the next request with the key is refused by SmartAccounts and noted again). The write is
        idempotent, so an answer lost after it was applied does no harm."""
        now = self._clock()
        bounded = _spent_until(until, now)
        if bounded is None:
            return False
        until = bounded
        state = self._state(api_key)
        with state.lock:
            self.calls += 1
            try:
                response = self._dynamodb().update_item(
                    TableName=self.table_name,
                    Key={"pk": {"S": window_pk(api_key)}},
                    UpdateExpression="SET #s = :until, #e = :exp",
                    ConditionExpression="attribute_not_exists(#s) OR #s < :until",
                    ExpressionAttributeNames={"#s": SPENT_ATTRIBUTE, "#e": "expiresAt"},
                    ExpressionAttributeValues={
                        ":until": {"N": repr(until)},
                        ":exp": {"N": str(int(max(now, until)) + ITEM_TTL_SECONDS)},
                    },
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as error:
                if error.response.get("Error", {}).get("Code", "") != "ConditionalCheckFailedException":
                    return False
                state.item = self._parse(error.response.get("Item"))  # already noted as far or further
                return True
            except BotoCoreError:
                return False
            state.item = self._parse(response.get("Attributes"))
            return True

    # --- leasing -------------------------------------------------------------------------------------------------

    def _take_lease(self, api_key: str, state: _KeyState, reserve: int, deadline: float) -> None:
        """One write that takes the next tickets and gives back the previous lease's unused ones."""
        transient = 0
        streak = 0
        while True:
            now = self._clock()
            day = tallinn_day(now).isoformat()
            item = state.item or _Item(None, {})
            if item.spent_at(now):  # another container learnt it (the lease's condition failed on it)
                raise _spent_by_smartaccounts(now, item.spent_until or now)
            lease = state.lease
            returned = lease.unused() if lease is not None and lease.day == day else 0
            limit = self.daily_budget - reserve
            used = max(0, item.used_on(day) - returned)
            if used + 1 > limit:
                raise _daily_refusal(now, used, self.daily_budget, reserve)
            bucket = self._bucket(now)
            floor = bucket * self.burst  # the current bucket's first ticket
            # where the counter is: idle for a whole window (no ticket of the buckets a window holds before this one),
            # behind the current bucket, or ahead (others hold tickets of it or later)
            idle = (bucket - self.buckets_per_window) * self.burst
            behind = item.next_ticket is None or item.next_ticket < floor
            # a restart assumes the counter at most where this container saw it (unknown: idle for a window); the
            # tickets handed out since the window's start leave the rest of a window's worth to go at once
            assumed = idle if item.next_ticket is None else max(idle, item.next_ticket)
            first = floor if behind else item.next_ticket
            # the tickets of the window's earlier buckets handed out: at most the counter's distance from the window's
            # start, and when it was restarted within the window, at most its distance from that restart plus what
            # that restart counted before it (the restart write then requires the restart it counted on)
            handed = assumed - idle
            seen_restart = None
            if item.next_ticket is not None and item.restart is not None and item.restart >= idle:
                since = max(0, assumed - item.restart) + self._window_tickets - item.early
                if since < handed:
                    handed, seen_restart = since, (item.restart, item.early)
            early = self._window_tickets - handed
            # the tickets worth leasing end with the bucket after the deadline, or with the early ones of the last
            # restart (usable at once) when those go further: a key that has just sent most of a window's worth
            # still lets the rest go now, instead of refusing for a wait its own bucket would mean
            early_end = floor + early if behind else (item.restart or 0) + item.early
            last = max((self._bucket(deadline) + 1) * self.burst, early_end)
            if first >= last:
                raise _wait_too_long(self._bucket_start(first) - now)
            wanted = min(self.lease_size, limit - used, last - first)
            try:
                state.item = self._lease(
                    api_key,
                    wanted,
                    floor=floor,
                    assumed=assumed,
                    early=early,
                    seen_restart=seen_restart,
                    behind=behind,
                    last=last,
                    day=day,
                    delta=wanted - returned,
                    most=limit - wanted + returned,
                    now=now,
                )
            except (ClientError, BotoCoreError) as error:
                if not _surely_not_applied(error):
                    # the write may have been applied with its answer lost: its give-back of the previous lease's
                    # unused tickets must not be made twice (the day would count less than was sent), so the retry
                    # gives nothing back (the day keeps counting them if it was not applied: the safe side)
                    state.lease = None
                if isinstance(error, BotoCoreError):
                    transient = self._transient_pause(error, transient, deadline)
                    continue
                code = error.response.get("Error", {}).get("Code", "")
                if code == "ConditionalCheckFailedException":
                    self.conflicts += 1  # the item was not as this container thought: go again on the current one
                    state.item = self._parse(error.response.get("Item"))
                    streak += 1
                    if streak > 1:  # the first retry is made on the item just returned; later ones back off
                        self._sleep(
                            self._random() * min(CONFLICT_BACKOFF_CAP_SECONDS, CONFLICT_BACKOFF_SECONDS * 2**streak)
                        )
                    continue
                transient = self._transient_pause(error, transient, deadline)
                continue
            end = state.item.next_ticket or 0
            restart = state.item.restart
            early_until = restart + state.item.early if restart is not None else end - wanted
            state.lease = _Lease(day=day, tickets=deque(range(end - wanted, end)), early_until=early_until)
            return

    def _lease(
        self,
        api_key: str,
        wanted: int,
        *,
        floor: int,
        assumed: int,
        early: int,
        seen_restart: tuple[int, int] | None,
        behind: bool,
        last: int,
        day: str,
        delta: int,
        most: int,
        now: float,
    ) -> _Item:
        """Adds ``wanted`` tickets to the counter, or restarts it at ``floor`` when it is behind (noting the restart and
        the ``early`` tickets from there that may go at once), and ``delta`` to the day's count; conditional on the
        counter being as assumed (at most ``assumed`` for a restart) and the day's count staying within its limit."""
        names = {"#t": self._ticket_attribute, "#u": _used_attribute(day), "#e": "expiresAt", "#s": SPENT_ATTRIBUTE}
        values: dict[str, Any] = {
            ":floor": {"N": str(floor)},
            ":now": {"N": repr(now)},
            ":exp": {"N": str(int(now) + ITEM_TTL_SECONDS)},
            ":delta": {"N": str(delta)},
            ":zero": {"N": "0"},
            ":most": {"N": str(most)},
        }
        if behind:
            names |= {"#r": self._restart_attribute, "#x": self._early_attribute}
            ticket_set = "#t = :restart, #r = :floor, #x = :early"
            values[":restart"] = {"N": str(floor + wanted)}
            values[":assumed"] = {"N": str(assumed)}
            values[":early"] = {"N": str(early)}
            ticket_condition = "(attribute_not_exists(#t) OR #t <= :assumed)"
            if seen_restart is not None:  # the early tickets were counted from this restart: it must still stand
                ticket_condition += " AND #r = :seen_restart AND #x = :seen_early"
                values[":seen_restart"] = {"N": str(seen_restart[0])}
                values[":seen_early"] = {"N": str(seen_restart[1])}
        else:
            ticket_set = "#t = #t + :wanted"
            values[":wanted"] = {"N": str(wanted)}
            values[":last"] = {"N": str(last - 1)}
            ticket_condition = "#t BETWEEN :floor AND :last"  # not behind, and its first ticket before the deadline
        update = f"SET {ticket_set}, #u = if_not_exists(#u, :zero) + :delta, #e = :exp"
        yesterday = _used_attribute((dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat())
        names["#y"] = yesterday
        update += " REMOVE #y"  # yesterday's count (absent or not): the item keeps today's only
        self.calls += 1
        response = self._dynamodb().update_item(
            TableName=self.table_name,
            Key={"pk": {"S": window_pk(api_key)}},
            UpdateExpression=update,
            ConditionExpression=(
                f"{ticket_condition} AND (attribute_not_exists(#u) OR #u <= :most) "
                "AND (attribute_not_exists(#s) OR #s <= :now)"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return self._parse(response.get("Attributes"))

    def _parse(self, item: dict[str, Any] | None) -> _Item:
        if not item:
            return _Item(None, {})
        ticket = item.get(self._ticket_attribute, {}).get("N")
        restart = item.get(self._restart_attribute, {}).get("N")
        early = item.get(self._early_attribute, {}).get("N")
        spent = item.get(SPENT_ATTRIBUTE, {}).get("N")
        used = {name[len("used-") :]: int(value["N"]) for name, value in item.items() if name.startswith("used-")}
        return _Item(
            int(ticket) if ticket is not None else None,
            used,
            int(restart) if restart is not None else None,
            int(early) if early is not None else 0,
            float(spent) if spent is not None else None,
        )

    # --- buckets -------------------------------------------------------------------------------------------------

    def _bucket(self, moment: float) -> int:
        return int(moment // self.bucket_seconds)

    def _bucket_start(self, ticket: int) -> float:
        return (ticket // self.burst) * self.bucket_seconds

    def _bucket_end(self, ticket: int) -> float:
        return (ticket // self.burst + 1) * self.bucket_seconds

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _state(self, api_key: str) -> _KeyState:
        pk = window_pk(api_key)
        with self._states_lock:
            return self._states.setdefault(pk, _KeyState())

    def _transient_pause(self, error: ClientError | BotoCoreError, attempts: int, deadline: float) -> int:
        """Sleeps before the next attempt after a transient failure (throttling, a server error, a connection that
        failed or timed out: the guard's client leaves every retry to it), and counts the attempt; or raises
        `rate_guard_unavailable`."""
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            retryable = code in _TRANSIENT_CODES or error.response.get("ResponseMetadata", {}).get(
                "HTTPStatusCode", 0
            ) in (500, 502, 503, 504)
        else:
            code = type(error).__name__
            retryable = isinstance(error, (HTTPClientError, BotoConnectionError))
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


def _spent_until(until: float, now: float) -> float | None:
    """A daily refusal's end as the guard keeps it: at most `SPENT_AT_MOST_SECONDS` ahead; None when it is not ahead
    (or not a number), as a refusal asking for no wait cannot be kept from being asked again."""
    if not math.isfinite(until) or until <= now:
        return None
    return min(until, now + SPENT_AT_MOST_SECONDS)


def _moment(epoch: float | None, now: float) -> dt.datetime | None:
    """`epoch` as a UTC time while it lies ahead of `now`, else None."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch is not None and epoch > now else None


def _surely_not_applied(error: ClientError | BotoCoreError) -> bool:
    """Whether a conditional write that raised ``error`` was certainly not applied: its condition failed on the first
    attempt. Any other failure (a timeout, a server error; with a client given that retries, a condition that failed
    on botocore's retry of an attempt whose answer was lost) leaves it unknown."""
    if not isinstance(error, ClientError):
        return False
    response = error.response
    return (
        response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
        and response.get("ResponseMetadata", {}).get("RetryAttempts", 0) == 0
    )


def _used_attribute(day: str) -> str:
    return f"used-{day}"
