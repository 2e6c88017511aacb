"""The import path against the moto server and an instant sandbox, with the real DynamoDB rate guard.

Part 1 (the local stack: moto server, sandbox, our handlers in this process): companies set up through the HTTP API
as the Uku front end does, one linked client each (`co-small`); then `import_client` over 12 months (a reload) and
over one month (the monthly import) for fresh companies, so every summary task is written. The guard has its
production limits; each key's requests fit the window's worth an idle key may send at once, so it never waits (its
cost is measured, not the quota). Printed: client-months per second with the guard,
DynamoDB calls per client-month (counted with a botocore event hook on the container's client; the
guard's separately), guard calls per SmartAccounts request, peak Python memory. Every table counts, the jobs table's
checkpoints, leases and counts included; the calls are also printed per client by table and item kind, and the
checkpoint written after every page is shown apart. The 12-month reload runs as a reload job of one client (as Reload
data starts it), the one-month import as the schedule's work for a freshly linked client (its first month).
Then, on a second stack of its own (moto copies a whole table for each item of a transaction, so its transactions
slow down as earlier runs fill the tables, which DynamoDB's do not: a fresh stack keeps the comparison fair): the same
12-month reload without the guard, and the reload's fan-out, `WORKERS` import worker processes at once (each its own
container, as the import queue runs several invocations) over `FAN_OUT_COMPANIES` clients with the real guard.
`--part1` runs part 1 only.

Part 2 (the guard alone, on a moto server that applies one request at a time as DynamoDB does): one container
sending 240 requests of one key, 8 containers sharing a key for 240, and 16 containers starting at the same moment
for 90 (about 6 each), under 60 requests per (2 s scaled) window: guard calls per request. Goals: >= 30
client-months/s, <= 8 DynamoDB calls per client-month, <= 0.2 guard calls per request alone, <= 1 under contention.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import threading
import time
import tracemalloc
import uuid
from collections import Counter

import boto3
import requests

from local_stack.stack import LocalStack
from local_stack.template import Template
from smartaccounts_sync.adapters.aws_clients import shared_client
from smartaccounts_sync.adapters.tenant_secrets import tenant_scope
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork, first_month_for
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from smartaccounts_sync.domain.reload_job import ReloadJob
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.service.monthly_import import import_client
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, NoRateGuard
from tests.support.local_company import Admin, company_factory
from tests.support.serial_moto import serial_moto_server

COMPANIES = 6
#: Import worker invocations at once in the fan-out run: a reload sends one message per client and the import queue
#: feeds up to 10 workers (`MaximumConcurrency`), each in its own container; 3 processes on this 2-core box.
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))  # BENCH_WORKERS=2 ... to try other counts
FAN_OUT_COMPANIES = 12


class DynamoDbCalls:
    """Counts the container's DynamoDB calls by operation and by what they touch (every table: the jobs table's
    checkpoints, leases and counts too), and those on the rate-limit table separately."""

    def __init__(self, clients: list, rate_table: str) -> None:
        self.ops: Counter[str] = Counter()
        self.items: Counter[str] = Counter()  # "<table kind>:<item kind>" per call (a transaction: its items joined)
        self.guard = 0
        self._rate_table = rate_table
        for client in clients:  # the container's client, and the rate guard's own (botocore's retries off)
            client.meta.events.register("before-parameter-build.dynamodb", self._count)

    def _count(self, model, params, **_kwargs) -> None:
        if params.get("TableName") == self._rate_table:
            self.guard += 1
            return
        self.ops[model.name] += 1
        if "RequestItems" in params:  # a batch read
            requested = params["RequestItems"].items()
            parts = sorted({_what({"TableName": t, "Key": k}) for t, r in requested for k in r["Keys"]})
            self.items["batch " + "+".join(parts)] += 1
        elif "TransactItems" in params:
            parts = sorted({_what(next(iter(i.values()))) for i in params["TransactItems"]})
            self.items["transaction " + "+".join(parts)] += 1
        else:
            self.items[_what(params)] += 1

    def reset(self) -> None:
        self.ops.clear()
        self.items.clear()
        self.guard = 0


def _what(params: dict) -> str:
    """The table and the kind of item a call (or a transaction's part) touches: `jobs:CHECKPOINT`, `config:LINK`."""
    table = str(params.get("TableName", "?"))
    table = next((t for t in ("config", "jobs", "history", "task", "uku") if t in table.lower()), table)
    key = params.get("Key") or params.get("Item") or {}
    sk = key.get("sk", {}).get("S", "") if isinstance(key, dict) else ""
    if not sk:
        return table
    return f"{table}:{sk.split('#', 1)[0]}"


def sa_requests(admin_url: str) -> int:
    return sum(requests.get(f"{admin_url}/requests/counts", timeout=10).json()["byKey"].values())


def run_imports(deps: Dependencies, works: list[ImportWork]) -> tuple[int, float]:
    started = time.perf_counter()
    months = 0
    for work in works:
        with tenant_scope(work.company_id):  # as the import worker serves each record's company
            entry = import_client(deps, work)
        assert entry is not None and entry.outcome.value == "SUCCEEDED", entry
        months += len(work.months)
    return months, time.perf_counter() - started


def _fan_out_worker(warm_up: str, works: list[str], start, results) -> None:
    """One import worker container: its own process and composition root, warmed by one client import first (as a
    warm container), then its share of the clients once every worker is ready."""
    deps = container_dependencies()
    run_imports(deps, [ImportWork.model_validate_json(warm_up)])
    start.wait(timeout=300)
    results.put(run_imports(deps, [ImportWork.model_validate_json(w) for w in works]))


def fan_out(warm_ups: list[ImportWork], works: list[ImportWork]) -> tuple[int, float]:
    """The clients imported by `WORKERS` worker processes at once (each takes every `WORKERS`-th client, as SQS hands
    messages to concurrent invocations): client-months over the wall time from the common start to the last done."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each: no threads or sockets inherited
    start, results = spawn.Barrier(WORKERS + 1), spawn.Queue()
    processes = [
        spawn.Process(
            target=_fan_out_worker,
            args=(warm_ups[i].to_message(), [w.to_message() for w in works[i::WORKERS]], start, results),
        )
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=300)  # every worker warm and waiting (a worker that died breaks the barrier: no hang)
    started = time.perf_counter()
    months = sum(results.get(timeout=600)[0] for _ in processes)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
    return months, seconds


def import_path(*, second: bool = False) -> None:
    # the guard's production limits (60 per 61 s, bursts of 5): each key here makes fewer requests than a window's
    # worth after its idle window (its connection test, a 12-month reload, a month), so the guard never waits and
    # works on every request (raised limits would shrink its buckets to milliseconds and void leased tickets instead)
    os.environ.pop("SMARTACCOUNTS_RATE_PER_MINUTE", None)
    os.environ.pop("SMARTACCOUNTS_RATE_WINDOW_SECONDS", None)
    os.environ["SMARTACCOUNTS_DAILY_BUDGET"] = "1000000"
    stack = LocalStack(port=0, sandbox_port=0, retry_delay_seconds=1).start()
    try:
        admin_url = stack.sandbox.admin_url
        requests.put(f"{admin_url}/quota", json={"perMinute": 1_000_000, "perDay": 1_000_000}, timeout=10)
        make = company_factory(stack, Admin(admin_url))
        deps = container_dependencies()
        settings = deps.settings
        where = (settings.aws_region, settings.aws_endpoint_url)
        calls = DynamoDbCalls(
            [shared_client("dynamodb", *where), shared_client("dynamodb", *where, single_attempt=True)],
            settings.rate_limit_table_name,
        )
        last = YearMonth.of(tallinn_today()).previous()
        year = [last.plus(-i) for i in range(11, -1, -1)]

        def works(months: list[YearMonth], count: int) -> list[ImportWork]:
            """A reload job of one client per company (as Reload data starts it), or, for one month, the monthly
            schedule's work for a freshly linked client (its first month, as the schedule sends it)."""
            companies = [make(["co-small"]) for _ in range(count)]
            out = []
            for c in companies:
                client_id = c.clients["co-small"]
                if len(months) == 1:
                    link = deps.links.get(c.id, client_id)
                    rule = deps.integrations.get(c.id).settings.import_day
                    first = first_month_for(link.linked_at, rule)
                    out.append(ImportWork(company_id=c.id, client_id=client_id, months=[first]))
                    continue
                job_id = f"bench-{uuid.uuid4().hex[:8]}"
                deps.jobs.start(
                    ReloadJob(
                        job_id=job_id,
                        company_id=c.id,
                        scope="ONE_CLIENT",
                        client_ids=[client_id],
                        window=months,
                        clients_total=1,
                        requested_by="bench",
                        created_at=deps.now(),
                    )
                )
                out.append(
                    ImportWork(
                        company_id=c.id, client_id=client_id, months=months, reason=ImportReason.RELOAD, job_id=job_id
                    )
                )
            return out

        if second:
            # On a stack of its own, so these runs stand on the same footing as the 12-month reload above: moto copies
            # a whole table for each item of a transaction, so its transactions slow down as earlier runs fill the
            # tables (DynamoDB's do not). First the same reload without the guard (after the same warm-up)...
            unguarded = dataclasses.replace(
                deps,
                smartaccounts=lambda credentials, company_id=None: SmartAccountsClient.from_settings(
                    credentials, settings, rate_guard=NoRateGuard(), company_id=company_id
                ),
            )
            run_imports(unguarded, works(year, 1))
            done, seconds = run_imports(unguarded, works(year, COMPANIES))
            print(f"  12-month reload without the guard (same footing): {done / seconds:.1f} client-months/s")
            # ...then the reload's fan-out: several worker containers at once, as the import queue runs them (moto
            # and our code then use both cores at once instead of taking turns), each with the real guard.
            done, seconds = fan_out(works(year, WORKERS), works(year, FAN_OUT_COMPANIES))
            print(
                f"  12-month reload, {WORKERS} import workers at once (processes), {FAN_OUT_COMPANIES} "
                f"clients: {done / seconds:.1f} client-months/s"
            )
            return
        print(f"import path: moto server + instant sandbox, {COMPANIES} companies x one co-small client")
        run_imports(deps, works(year, 1))  # warm-up: first clients, first secret, first paths compiled
        for label, months in (("12-month reload", year), ("one month", [last])):
            batch = works(months, COMPANIES)
            calls.reset()
            sent_before = sa_requests(admin_url)
            done, seconds = run_imports(deps, batch)
            sent = sa_requests(admin_url) - sent_before
            other = sum(calls.ops.values())
            print(f"  {label}: {done} client-months in {seconds:.2f} s = {done / seconds:.1f} client-months/s")
            print(
                f"    DynamoDB calls per client-month: {other / done:.2f} (+ guard {calls.guard / done:.2f}); "
                f"in all: {dict(sorted(calls.ops.items()))}"
            )
            pages = calls.items["jobs:CHECKPOINT"]  # the checkpoint stored after every page read
            print(
                f"    of which per-page checkpoint writes: {pages / done:.2f}; "
                f"without them: {(other - pages) / done:.2f} per client-month"
            )
            print(f"    per client: { {k: round(v / len(batch), 2) for k, v in sorted(calls.items.items())} }")
            print(f"    SmartAccounts requests: {sent}, guard calls per request: {calls.guard / max(1, sent):.2f}")
        # memory on a batch of its own: tracemalloc slows Python down several times, so it stays off the timed runs
        memory_batch = works(year, 2)
        tracemalloc.start()
        run_imports(deps, memory_batch)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  peak Python memory of two 12-month reloads: {peak / 2**20:.1f} MiB")
    finally:
        stack.stop()


def guard_alone() -> None:
    per_minute, window = 60, 2.0
    with serial_moto_server() as url:
        props = Template().resources["RateLimitTable"]["Properties"]
        ddb = boto3.client("dynamodb", region_name="eu-north-1", endpoint_url=url)
        table = f"bench-{uuid.uuid4().hex[:6]}"
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            BillingMode=props["BillingMode"],
        )
        print(f"rate guard alone: {per_minute} requests per {window:.0f} s window, requests of one key")
        # one container; 8 containers sharing the key; 16 containers starting at the same moment for about 6
        # requests each (the burst of tests/integration/smartaccounts/test_sa_concurrency.py)
        for containers, requests_total in ((1, 240), (8, 240), (16, 90)):
            guards = [
                DynamoDbRateGuard(
                    table,
                    per_minute=per_minute,
                    window_seconds=window,
                    daily_budget=10**6,
                    dynamodb_client=ddb,
                )
                for _ in range(containers)
            ]
            key = f"key-{containers}-{uuid.uuid4().hex[:6]}"
            left = iter(range(requests_total))
            lock = threading.Lock()

            sent: list[float] = []

            def send(guard: DynamoDbRateGuard, key: str, left, lock: threading.Lock, sent: list[float]) -> None:
                while True:
                    with lock:
                        if next(left, None) is None:
                            return
                    guard.acquire(key)
                    with lock:
                        sent.append(time.time())

            started = time.perf_counter()
            threads = [threading.Thread(target=send, args=(g, key, left, lock, sent)) for g in guards]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            used = sum(g.calls for g in guards)
            print(
                f"  {containers} container(s), {requests_total} requests: "
                f"{used / requests_total:.2f} guard calls per request "
                f"({used} calls, {sum(g.conflicts for g in guards)} lost writes), {seconds:.1f} s, "
                f"at most {_most_in_window(sent, window)} in a {window:.0f} s window"
            )


def _most_in_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    start = most = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        most = max(most, end - start + 1)
    return most


def main() -> None:
    import sys

    part = sys.argv[1] if len(sys.argv) > 1 else ""  # "--part1": the import path only (while iterating on it)
    import_path()
    import_path(second=True)
    if part != "--part1":
        guard_alone()


if __name__ == "__main__":
    main()
