"""Adversarial randomized check of ``DynamoDbRateGuard``: several containers (guards) on one key, with different lease
sizes and waits, whose DynamoDB writes and sleeps are interleaved with the other containers' requests and releases
(a write computed at one moment lands later, after others wrote; a container sleeping for its bucket lets others
act meanwhile), cold starts that abandon leases, pauses of fractions of a bucket, restarts in every position, a daily
budget near its limit. Every rolling window of every run is checked, and the day's count against the requests sent.

    PYTHONPATH=.:layers/shared .venv/bin/python -m bench.rate_guard_fuzz --seeds 2000
    ... --check-fake   # replays seeds on moto too and compares every DynamoDB answer with the fake's
    ... --ambiguous    # also lets DynamoDB writes apply and then fail (a lost answer, retried)

Exits 1 on the first violation, printing the seed and the run's log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.smartaccounts.protocol import tallinn_day
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, window_pk
from tests.support.fake_dynamodb import FakeDynamoDb
from tests.support.rate_table import create_rate_limit_table

TABLE = "rate-fuzz"
KEY = "fuzz-api-key"
SHAPES = [  # per_minute, window, burst
    (60, 61.0, 5),
    (12, 10.0, 3),
    (2, 10.0, 5),
    (3, 10.0, 5),
    (10, 10.0, 5),
    (7, 10.0, 3),
    (13, 10.0, 3),
    (9, 10.0, 2),
    (60, 61.0, 1),
    (60, 61.0, 30),
    (5, 10.0, 2),
]


class Violation(AssertionError):
    def __init__(self, message: str, start: float = 0.0, end: float = float("inf")) -> None:
        super().__init__(message)
        self.start, self.end = start, end


@dataclass
class World:
    rng: random.Random
    db: Any
    now: float
    per_minute: int
    window: float
    burst: int
    budget: int
    ambiguous: bool
    log: list[str] = field(default_factory=list)
    uses: list[float] = field(default_factory=list)
    guards: list[DynamoDbRateGuard] = field(default_factory=list)
    active: set[int] = field(default_factory=set)
    depth: int = 0
    interleave_p: float = 0.3
    refusals: int = 0
    writes: int = 0  # DynamoDB writes since the current top-level action began
    ops: int = 0

    def time(self) -> float:
        return self.now

    # --- containers --------------------------------------------------------------------------------------------
    def new_guard(self, index: int) -> DynamoDbRateGuard:
        rng = self.rng
        bucket = self.window / max(1, self.per_minute // max(1, min(self.burst, self.per_minute // 2)) - 1)
        guard = DynamoDbRateGuard(
            TABLE,
            per_minute=self.per_minute,
            window_seconds=self.window,
            daily_budget=self.budget,
            dynamodb_client=_Hooked(self, index),
            clock=self.time,
            sleep=lambda seconds, i=index: self.sleep(i, seconds),
            max_wait_seconds=rng.choice([0.0, 0.3 * bucket, 2.0, bucket * 1.5, 20.0, 90.0, 1000.0]),
            lease_size=rng.choice([1, 2, 3, 5, 10, 60]),
            burst=self.burst,
            random=rng.random,
        )
        return guard

    def act(self, index: int, top: bool = False) -> None:
        """One container action: a request (recorded when the guard lets it go) or the end of an invocation."""
        rng = self.rng
        guard = self.guards[index]
        self.ops += 1
        roll = rng.random()
        if roll < 0.12:
            self.log.append(f"{self.now:.4f} g{index} release")
            if index in self.active:
                guard.release_unused()  # skips the key: its lock is held (a request of it in flight)
                return
            self.active.add(index)
            try:
                guard.release_unused()
            finally:
                self.active.discard(index)
            return
        if roll < 0.14 and index not in self.active and top:
            self.log.append(f"{self.now:.4f} g{index} cold start (lease abandoned)")
            self.guards[index] = self.new_guard(index)
            return
        if index in self.active:
            return  # a thread of this container holds the key's lock: this one would queue behind it
        reserve = rng.choice([0, 0, 0, 1, 3])
        self.active.add(index)
        try:
            guard.acquire(KEY, reserve=reserve)
        except SmartAccountsError as error:
            self.refusals += 1
            self.log.append(f"{self.now:.4f} g{index} refused {error.kind.name} {error.reason}")
            return
        finally:
            self.active.discard(index)
        self.uses.append(self.now)
        self.log.append(f"{self.now:.4f} g{index} SENT (bucket {guard._bucket(self.now)})")

    def interleave(self, exclude: int) -> None:
        if self.depth >= 3:
            return
        self.depth += 1
        try:
            while self.rng.random() < self.interleave_p:
                if self.rng.random() < 0.3:
                    self.pause()
                others = [i for i in range(len(self.guards)) if i != exclude]
                for _ in range(self.rng.randint(1, 4)):
                    self.act(self.rng.choice(others))
        finally:
            self.depth -= 1

    def pause(self) -> None:
        bucket = self.guards[0].bucket_seconds
        self.now += self.rng.choice([0.0, 0.001, 0.1 * bucket, 0.5 * bucket, 0.97 * bucket, bucket, 2.3 * bucket])

    def sleep(self, index: int, seconds: float) -> None:
        target = self.now + max(0.0, seconds)
        if self.depth < 3 and self.rng.random() < 0.5:
            self.now += self.rng.random() * max(0.0, seconds)
            self.interleave(index)
        self.now = max(self.now, target + (self.rng.choice([0.0, 0.0, 0.01]) if self.rng.random() < 0.2 else 0.0))

    # --- checks ------------------------------------------------------------------------------------------------
    def check(self) -> None:
        times = sorted(self.uses)
        lo = 0
        for hi, t in enumerate(times):
            while times[lo] <= t - self.window:  # a request exactly a window earlier has left it
                lo += 1
            if hi - lo + 1 > self.per_minute:
                raise Violation(
                    f"{hi - lo + 1} requests in ({t - self.window:.4f}, {t:.4f}]: "
                    + ", ".join(f"{u:.4f}" for u in times[lo : hi + 1]),
                    t - 2 * self.window,
                    t + 1e-6,
                )
        days: dict[str, int] = {}
        for t in self.uses:
            day = tallinn_day(t).isoformat()
            days[day] = days.get(day, 0) + 1
        for day, n in days.items():
            if n > self.budget:
                raise Violation(f"{n} requests on {day}, budget {self.budget}")
        item = self.db.get_item(TableName=TABLE, Key={"pk": {"S": window_pk(KEY)}}).get("Item", {})
        today = tallinn_day(self.now).isoformat()
        counted = int(item.get(f"used-{today}", {}).get("N", 0))
        if counted < days.get(today, 0):
            raise Violation(f"the day's count {counted} is below the {days.get(today, 0)} requests sent today")


class _Hooked:
    """The DynamoDB client as one container sees it: its write may land after others acted, and its answer may come
    back late (or, with ``ambiguous``, be lost after the write applied)."""

    def __init__(self, world: World, index: int) -> None:
        self.world = world
        self.index = index

    def update_item(self, **kwargs: Any) -> Any:
        world = self.world
        world.writes += 1
        if world.writes > 20_000:  # within one top-level action: a guard going round without end
            raise Violation(f"livelock: {world.writes} writes in one action", world.now - 100, world.now)
        world.interleave(self.index)  # computed earlier, lands now
        what = _describe(kwargs)
        try:
            response = world.db.update_item(**kwargs)
        except ClientError as error:
            world.log.append(f"{world.now:.4f} g{self.index} {what} FAILED -> {_brief(error.response.get('Item'))}")
            raise
        world.log.append(f"{world.now:.4f} g{self.index} {what} -> {_brief(response.get('Attributes'))}")
        world.interleave(self.index)  # the answer comes back later
        if world.ambiguous and world.rng.random() < 0.05:
            world.log.append(f"{world.now:.4f} g{self.index} write applied, answer lost")
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, "UpdateItem")
        return response

    def get_item(self, **kwargs: Any) -> Any:
        return self.world.db.get_item(**kwargs)


def _describe(kwargs: dict[str, Any]) -> str:
    values = {k[1:]: v.get("N") for k, v in kwargs.get("ExpressionAttributeValues", {}).items()}
    keep = (
        "restart",
        "assumed",
        "early",
        "seen_restart",
        "seen_early",
        "wanted",
        "floor",
        "last",
        "first",
        "end",
        "unused",
        "delta",
        "most",
    )
    return "write " + " ".join(f"{k}={values[k]}" for k in keep if k in values)


def _brief(item: Any) -> str:
    if not item:
        return "{}"
    out = []
    for name, value in sorted(item.items()):
        if name.startswith(("ticket-", "restart-", "early-", "used-")):
            out.append(f"{name.split('-')[0]}={value['N']}")
    return "{" + " ".join(out) + "}"


def run(seed: int, db: Any, *, ambiguous: bool = False, steps: int = 120) -> World:
    rng = random.Random(seed)
    per_minute, window, burst = rng.choice(SHAPES)
    start = 1_718_451_000.0 + rng.random() * 1000
    if rng.random() < 0.15:  # around Tallinn midnight
        start = dt.datetime(2024, 6, 15, 20, 59, 0, tzinfo=dt.UTC).timestamp() + rng.random() * 90
    budget = rng.choice([10**6, 10**6, 40, 120, 300])
    world = World(rng, db, start, per_minute, window, burst, budget, ambiguous)
    world.interleave_p = rng.choice([0.0, 0.2, 0.4, 0.6])
    world.guards = [world.new_guard(i) for i in range(rng.randint(2, 5))]
    world.log.append(
        f"seed {seed}: per_minute {per_minute} window {window} burst {burst} budget {budget} "
        f"interleave {world.interleave_p} guards "
        + ", ".join(f"(lease {g.lease_size}, wait {g.max_wait_seconds:.2f})" for g in world.guards)
    )
    bucket = world.guards[0].bucket_seconds
    for _ in range(steps):
        world.now += rng.choice(
            [0.0, 0.0, 0.001, 0.3 * bucket, 0.9 * bucket, bucket, 2.5 * bucket, window - bucket, window, 1.7 * window]
        )
        index = rng.randrange(len(world.guards))
        for _ in range(rng.randint(1, 12)):
            world.writes = 0
            world.act(index, top=True)
            if rng.random() < 0.2:
                index = rng.randrange(len(world.guards))
    world.check()
    return world


def compare_with_moto(seeds: range, *, steps: int = 60) -> list[str]:
    """Replays each seed on moto and on the fake with the same choices, comparing every DynamoDB answer; returns the
    differences (none: the fake answered as moto did)."""
    problems: list[str] = []
    import boto3
    from moto import mock_aws

    class Recording:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.answers: list[Any] = []

        def reset(self) -> None:
            if hasattr(self.inner, "reset"):
                self.inner.reset()
            else:
                self.inner.delete_item(TableName=TABLE, Key={"pk": {"S": window_pk(KEY)}})

        def update_item(self, **kwargs: Any) -> Any:
            try:
                answer = self.inner.update_item(**kwargs)
                self.answers.append(("ok", _norm(answer.get("Attributes"))))
            except ClientError as error:
                self.answers.append(("err", error.response["Error"]["Code"], _norm(error.response.get("Item"))))
                raise
            return answer

        def get_item(self, **kwargs: Any) -> Any:
            answer = self.inner.get_item(**kwargs)
            self.answers.append(("get", _norm(answer.get("Item"))))
            return answer

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-north-1")
        create_rate_limit_table(client, TABLE)
        moto, fake = Recording(client), Recording(FakeDynamoDb())
        for seed in seeds:
            results = []
            for db in (moto, fake):
                db.reset()
                db.answers = []
                try:
                    run(seed, db, steps=steps)
                    results.append("ok")
                except Violation as error:
                    results.append(f"violation {error}")
            if moto.answers != fake.answers or results[0] != results[1]:
                first = next(
                    (i for i, (a, b) in enumerate(zip(moto.answers, fake.answers, strict=False)) if a != b), None
                )
                problem = f"seed {seed}: the fake differs from moto at answer {first}: {results}"
                if first is not None:
                    problem += f"\n moto: {moto.answers[first]}\n fake: {fake.answers[first]}"
                problems.append(problem)
    return problems


def _norm(item: Any) -> Any:
    if not item:
        return None
    return sorted(
        (k, tuple(sorted((t, str(v) if t != "N" else str(int(float(v)))) for t, v in val.items())))
        for k, val in item.items()
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--ambiguous", action="store_true")
    parser.add_argument("--check-fake", type=int, default=0, metavar="N", help="compare fake and moto on N seeds")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.check_fake:
        problems = compare_with_moto(range(args.first, args.first + args.check_fake))
        print("\n".join(problems) or f"{args.check_fake} seeds: every answer of the fake as moto's")
        return 1 if problems else 0
    db = FakeDynamoDb()
    started = time.perf_counter()
    sent = refused = ops = 0
    for seed in range(args.first, args.first + args.seeds):
        db.reset()
        try:
            world = run(seed, db, ambiguous=args.ambiguous, steps=args.steps)
        except Violation as error:
            print(f"VIOLATION seed {seed}: {error}")
            log = _replay_log(seed, args)
            print(log[0])
            print("\n".join(line for line in log[1:] if error.start <= float(line.split()[0]) <= error.end))
            return 1
        sent += len(world.uses)
        refused += world.refusals
        ops += world.ops
        if not args.quiet and (seed - args.first + 1) % 250 == 0:
            print(f"{seed - args.first + 1} seeds done, no violation", flush=True)
    print(
        f"{args.seeds} seeds (from {args.first}), {sent} requests sent, {refused} refused, {ops} container actions, "
        f"no violation; {time.perf_counter() - started:.1f} s"
    )
    return 0


def _replay_log(seed: int, args: argparse.Namespace) -> list[str]:
    holder: list[World] = []
    original = World.check

    def keep(self: World) -> None:
        holder.append(self)
        original(self)

    World.check = keep  # type: ignore[method-assign]
    try:
        run(seed, FakeDynamoDb(), ambiguous=args.ambiguous, steps=args.steps)
    except Violation:
        pass
    finally:
        World.check = original  # type: ignore[method-assign]
    return holder[0].log if holder else []


if __name__ == "__main__":
    sys.exit(main())
