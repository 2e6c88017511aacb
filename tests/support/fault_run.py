"""The fault-injection scenario, shared by `tests/integration/faults` (modest size) and `bench/bench_faults.py`.

One run: Uku companies, each with linked clients, get their monthly import (the schedule fired on the import day)
and then a Reload data of every client, on the local stack. A faulty run does the same on fresh Uku companies linked
to the same SmartAccounts companies while:

- the sandbox answers 20% server errors, 5% time-outs, a latency spike and 503 `Too many requests` bursts (per key),
- the pump delivers some messages twice (a copy with a new id, delayed) and every batch out of order,
- a worker fails after writing part of its work (once per client: the first summary task written, then a crash),
- DynamoDB throttles some writes (`ProvisionedThroughputExceededException` at the repository boundary),
- and two messages invalid by construction are put on the import queue.

`compare` then says what differs from the clean run: every summary task value must equal it, every job complete,
nothing lost; the report prints faults by kind, retries, duplicates suppressed, items lost and the calls ratio.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from botocore.exceptions import ClientError

from local_stack.pump import PumpFaults
from scripts import redrive
from smartaccounts_sync.adapters import summary_task_repository, sync_history_repository
from smartaccounts_sync.domain.import_day import ImportDay, next_import
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.service import intake
from tests.support.local_company import INTEGRATION, Admin, Company

FIELDS = ("saleEntries", "purchaseEntries", "bankEntries", "creditInvoices", "salesTotal", "bankTurnover")
SANDBOX_FAULTS = {"errorRate": 0.2, "errorStatus": 500, "timeoutRate": 0.05, "timeoutSeconds": 3}
READ_TIMEOUT_SECONDS = "1.5"  # below the sandbox's time-out, so a time-out is a real client time-out


@dataclass
class RunResult:
    #: (SmartAccounts company, month) -> {field key: value}
    values: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)
    jobs: list[dict] = field(default_factory=list)
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    companies: list[Company] = field(default_factory=list)


@dataclass
class Injected:
    """What the repository-boundary faults did, and what the service suppressed."""

    crashes: int = 0
    throttles: int = 0
    duplicates_suppressed: int = 0
    redeliveries: int = 0
    pump: PumpFaults = field(default_factory=PumpFaults)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sandbox_companies(admin: Admin, count: int, tag: str) -> list[str]:
    """`count` SmartAccounts companies of small volume (distinct seeds), plus the empty one."""
    ids = ["co-empty"]
    for i in range(count - 1):
        created = admin.post("companies", {"id": f"co-f{tag}{i}", "name": f"Fault Test {tag} {i} OÜ",
                                           "volume": "small", "seed": 1000 + i})
        ids.append(created["id"])
    return ids


def _values(company: Company, sa_company: str, months: list[str]) -> dict[tuple[str, str], dict[str, Decimal]]:
    by_id = {field_id: key for key, field_id in company.fields.items()}
    tasks = company.tasks(sa_company, months[0], months[-1])
    return {
        (sa_company, month): {by_id[f]: Decimal(str(v)) for f, v in task["fieldValues"].items() if f in by_id}
        for month, task in tasks.items()
    }


def _wait_for_job(company: Company, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = company.call("GET", f"/v1/reload-jobs/{job_id}")
        if job["status"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"reload {job_id} did not finish in {timeout} s")


def run(
    stack: Any,
    admin: Admin,
    make_company: Callable[..., Company],
    groups: list[list[str]],
    *,
    on_companies: Callable[[list[Company]], None] = lambda _c: None,
    before_reload: Callable[[list[Company]], None] = lambda _c: None,
    timeout: float = 300,
) -> RunResult:
    """Monthly import, then Reload data, for one Uku company per group of SmartAccounts companies."""
    result = RunResult()
    companies = [make_company(group, mapped=FIELDS) for group in groups]
    result.companies = companies
    on_companies(companies)
    rule = ImportDay.last_work_day()
    first, first_date = next_import(tallinn_today(), rule, None)
    stack.fire_scheduled_import(first_date)
    stack.wait_until_idle(timeout=timeout)
    before_reload(companies)
    jobs = [c.call("POST", f"{INTEGRATION}/reload", expect=202)["jobId"] for c in companies]
    result.jobs = [_wait_for_job(c, j, timeout) for c, j in zip(companies, jobs, strict=True)]
    stack.wait_until_idle(timeout=timeout)
    for company, job in zip(companies, result.jobs, strict=True):
        months = sorted({*job["window"], str(first)})
        for sa_company in company.clients:
            result.values |= _values(company, sa_company, months)
        log = admin.get("requests", apiKey=company.api_key)["requests"]
        result.calls += len(log)
        result.statuses.update(str(r["status"]) for r in log)
    return result


# ---------------------------------------------------------------- the faults
def _throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected throttle"}}, operation
    )


@contextmanager
def faults(stack: Any, admin: Admin, monkeypatch: Any, *, duplicate_rate: float = 0.3,
           throttle_every: int = 3, max_throttles: int = 4) -> Iterator[tuple[Injected, Callable[[list], None]]]:
    """Every fault of the suite, on for the duration; yields the counters and the hook that sets the sandbox faults
    on the run's keys (faults are per key, so other companies on the shared stack are untouched)."""
    injected = Injected(pump=PumpFaults(duplicate_rate=duplicate_rate))
    crashed_clients: set[str] = set()
    writes = Counter()

    def throttle(kind: str) -> None:
        with injected.lock:
            writes[kind] += 1
            if injected.throttles < max_throttles and writes[kind] % throttle_every == 0:
                injected.throttles += 1
                raise _throttled("PutItem")

    original_put_all = summary_task_repository.DynamoDbSummaryTaskRepository.put_all

    def put_all(self: Any, writes: list[tuple[Any, int]]) -> None:
        """A client's months are written in one transaction (summary_tasks.upsert_all): throttled before it, and the
        first write of each client is followed by a crash of the worker (the rest of its work is not done)."""
        throttle("summary_task")
        original_put_all(self, writes)
        client_id = writes[0][0].client_id if writes else None
        with injected.lock:
            crash = client_id is not None and client_id not in crashed_clients
            if crash:
                crashed_clients.add(client_id)
                injected.crashes += 1
        if crash:  # the worker dies after writing part of its work
            raise RuntimeError("injected crash after a partial write")

    original_add = sync_history_repository.DynamoDbSyncHistoryRepository.add

    def add(self: Any, entry: Any) -> None:
        throttle("history")
        original_add(self, entry)

    original_suppressed = intake.suppressed_duplicate

    def suppressed(deps: Any, work: Any) -> bool:
        answer = original_suppressed(deps, work)
        if answer:
            with injected.lock:
                injected.duplicates_suppressed += 1
        return answer

    original_deliver = stack.pump.deliver

    def deliver(binding: Any, messages: list[dict]) -> None:
        again = sum(int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1 for m in messages)
        with injected.lock:
            injected.redeliveries += again
        original_deliver(binding, messages)

    def on_companies(companies: list[Company]) -> None:
        for company in companies:
            admin.post("faults", {**SANDBOX_FAULTS, "latencyMs": 100, "rateLimitBurst": 3, "apiKey": company.api_key})

    monkeypatch.setattr(summary_task_repository.DynamoDbSummaryTaskRepository, "put_all", put_all)
    monkeypatch.setattr(sync_history_repository.DynamoDbSyncHistoryRepository, "add", add)
    monkeypatch.setattr(intake, "suppressed_duplicate", suppressed)
    monkeypatch.setattr(stack.pump, "deliver", deliver)
    monkeypatch.setenv("SMARTACCOUNTS_READ_TIMEOUT", READ_TIMEOUT_SECONDS)
    stack.pump.faults = injected.pump
    try:
        yield injected, on_companies
    finally:
        stack.pump.faults = None
        requests.delete(f"{admin.url}/faults", timeout=10)


def send_invalid_messages(stack: Any, marker: str) -> list[str]:
    """Two messages invalid by construction on the import queue; returns their bodies."""
    bodies = [
        f"not json {marker}",
        json.dumps({"kind": "IMPORT", "companyId": marker, "months": ["2026-01"]}),  # no clientId
    ]
    sqs = stack.boto3_client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=stack.provisioned.queue_urls["ImportQueue"], MessageBody=body)
    return bodies


def dead_letters(stack: Any, markers: list[str]) -> list[dict]:
    """The import DLQ's messages that belong to this run (their body names one of `markers`)."""
    sqs = stack.boto3_client("sqs")
    messages = redrive.list_messages(sqs, stack.provisioned.queue_urls["ImportDeadLetterQueue"])
    return [m for m in messages if any(marker in m["Body"] for marker in markers)]


def lost(clean: RunResult, faulty: RunResult) -> list[str]:
    """Every (company, month) whose values differ from the clean run's, or that is missing."""
    problems = []
    for key, values in clean.values.items():
        if faulty.values.get(key) != values:
            problems.append(f"{key}: clean {values} != faulty {faulty.values.get(key)}")
    return problems


def report(clean: RunResult, faulty: RunResult, injected: Injected, items_lost: int, dead: list[dict]) -> str:
    ratio = faulty.calls / clean.calls if clean.calls else float("nan")
    lines = [
        "fault-injection run",
        f"  sandbox faults answered: server errors (500) {faulty.statuses.get('500', 0)}, "
        f"503 bursts {faulty.statuses.get('503', 0)}, 429 {faulty.statuses.get('429', 0)}; "
        f"time-outs at {SANDBOX_FAULTS['timeoutRate']:.0%} of requests, 100 ms latency on every request",
        f"  pump: {injected.pump.duplicates_sent} duplicate deliveries (copies, delayed), every batch shuffled",
        f"  workers crashed after a partial write: {injected.crashes}; DynamoDB writes throttled: {injected.throttles}",
        f"  retries: {injected.redeliveries} SQS redeliveries, "
        f"{sum(v for k, v in faulty.statuses.items() if k != '200')} SmartAccounts answers other than 200",
        f"  duplicates suppressed (no call, no history): {injected.duplicates_suppressed}",
        f"  items lost: {items_lost}; on the DLQ: {len(dead)} (invalid by construction, each with its reason)",
        f"  SmartAccounts calls: clean {clean.calls}, faulty {faulty.calls}, ratio {ratio:.2f} (goal <= 1.25)",
    ]
    return "\n".join(lines)


def new_tag() -> str:
    return uuid.uuid4().hex[:6]
