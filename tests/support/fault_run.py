"""The fault-injection scenario, shared by `tests/integration/faults` (modest size) and `bench/bench_faults.py`.

One run: Uku companies, each with linked clients, get their monthly import (the schedule fired on the import day)
and then a Reload data of every client, on the local stack. A faulty run does the same on fresh Uku companies linked
to the same SmartAccounts companies while:

- the sandbox answers 20% server errors, 5% time-outs, a latency spike, 503 `Too many requests` bursts and 429
  bursts of SmartAccounts' proxies (per key), and for the exports loses the answer to the first writes after
  carrying them out (`crashAfterAccept`),
- the pump delivers some messages twice (a copy with a new id, delayed) and every batch out of order,
- a worker fails after writing part of its work (once per client: the first summary task written, then a crash),
- DynamoDB throttles some writes (`ProvisionedThroughputExceededException` at the repository boundary: summary
  tasks, history, export records, buyer links),
- DynamoDB loses the answers of some writes after applying them (`LostAnswers`, at botocore's transport: the write
  is sent and applied, then the connection times out; botocore sends it again, the rate guard's client leaves that
  to the guard),
- and two messages invalid by construction are put on the import queue.

`lost` then says what differs from the clean run: every summary task value must equal it, every job complete,
nothing lost; the report prints faults by kind, retries, duplicates suppressed, items lost, the calls ratio next to
the floor the injected mix implies (`calls_floor`), and where the calls go (`where_calls_go`: the sandbox's request
log per endpoint, clean against faulty, with retries and repeats of requests already answered).

An export run (`run_exports`): a firm issues a batch of invoices (buyers SmartAccounts knows by registry code and by
name, new buyers, a second invoice of a new buyer, a credit invoice right behind its original, one invoice published
twice) as `InvoiceIssued` events on Uku's bus; `export_problems` then checks that every invoice exists exactly once
in the firm's SmartAccounts company (read back over HTTP) and every export record is EXPORTED with its number.
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
from botocore.exceptions import ClientError, ReadTimeoutError

from local_stack.net import REGION
from local_stack.pump import PumpFaults
from scripts import redrive
from smartaccounts_sync.adapters import export_record_repository, summary_task_repository, sync_history_repository
from smartaccounts_sync.adapters.aws_clients import shared_client
from smartaccounts_sync.domain.import_day import ImportDay, next_import
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.service import intake, invoice_export
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.invoices import Firm, credit_detail, invoice_detail
from tests.support.local_company import INTEGRATION, Admin, Company

FIELDS = ("saleEntries", "purchaseEntries", "bankEntries", "creditInvoices", "salesTotal", "bankTurnover")
SANDBOX_FAULTS = {"errorRate": 0.2, "errorStatus": 500, "timeoutRate": 0.05, "timeoutSeconds": 3}
BURSTS = {"latencyMs": 100, "rateLimitBurst": 3, "proxyRateLimitBurst": 3}
EXPORT_FUNCTION = "InvoiceExportFunction"
READ_TIMEOUT_SECONDS = "1.5"  # below the sandbox's time-out, so a time-out is a real client time-out
#: The share of requests that fail at random: an injected error or a time-out (drawn independently), 24 %.
FAILING_SHARE = 1 - (1 - SANDBOX_FAULTS["errorRate"]) * (1 - SANDBOX_FAULTS["timeoutRate"])
#: Requests refused by one arming of the bursts: the sandbox's bursts refuse the next N requests of the key however
#: long the caller waits, so they cost exactly this many calls each time the faults are set on a key.
BURST_CALLS = BURSTS["rateLimitBurst"] + BURSTS["proxyRateLimitBurst"]
CRASH_AFTER_ACCEPT = 2  # the firm's first writes carried out with their answer lost


@dataclass
class RunResult:
    #: (SmartAccounts company, month) -> {field key: value}
    values: dict[tuple[str, str], dict[str, Decimal]] = field(default_factory=dict)
    jobs: list[dict] = field(default_factory=list)
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    companies: list[Company] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)  # the sandbox's request log of the run's keys


@dataclass
class Injected:
    """What the repository-boundary faults did, and what the service suppressed."""

    crashes: int = 0
    throttles: int = 0
    throttled: Counter = field(default_factory=Counter)  # by repository
    duplicates_suppressed: int = 0
    redeliveries: int = 0
    #: exports: messages delivered to the export function, exports run, and runs that found the invoice EXPORTED
    export_deliveries: int = 0
    export_runs: int = 0
    export_already_done: int = 0
    #: how often the sandbox faults were set on a key (each arming brings its bursts), by flow
    arms: Counter = field(default_factory=Counter)
    pump: PumpFaults = field(default_factory=PumpFaults)
    #: DynamoDB writes applied whose answers were lost (`faults(..., lose_answers=True)`)
    lost_answers: LostAnswers | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def sandbox_companies(admin: Admin, count: int, tag: str) -> list[str]:
    """`count` SmartAccounts companies of small volume (distinct seeds), plus the empty one."""
    ids = ["co-empty"]
    for i in range(count - 1):
        created = admin.post("companies", {"id": f"co-f{tag}{i}", "name": f"Fault Test {tag} {i} OÜ",
                                           "volume": "small", "seed": 1000 + i})
        ids.append(created["id"])
    return ids


def request_log(admin: Admin, api_key: str, settle_timeout: float = 60) -> list[dict]:
    """The sandbox's request log of one key, once no request is being answered any more: a request the client gave
    up on (a time-out) is still sleeping in the sandbox and is logged when it ends, and every call counts."""
    deadline = time.monotonic() + settle_timeout
    while True:
        answer = admin.get("requests", apiKey=api_key)
        if answer.get("inFlight", 0) == 0 or time.monotonic() > deadline:
            return answer["requests"]
        time.sleep(0.2)


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
        log = request_log(admin, company.api_key)
        result.log += log
        result.calls += len(log)
        result.statuses.update(str(r["status"]) for r in log)
    return result


# ---------------------------------------------------------------- invoice exports
@dataclass
class ExportRun:
    firm: Firm
    invoices: list[dict] = field(default_factory=list)  # the invoices issued (each once), in issue order
    events: int = 0  # InvoiceIssued events put on the bus
    known: dict[str, str] = field(default_factory=dict)  # invoiceId -> the SmartAccounts client it must go to
    new_clients: int = 0  # Uku clients SmartAccounts does not know: one buyer each must be created
    records: dict[str, dict] = field(default_factory=dict)  # invoiceId -> the export record (HTTP route)
    booked: list[dict] = field(default_factory=list)  # the firm's invoices in SmartAccounts (sandbox, HTTP)
    buyers_created: list[dict] = field(default_factory=list)
    calls: int = 0
    statuses: Counter = field(default_factory=Counter)
    log: list[dict] = field(default_factory=list)  # the sandbox's request log of the firm key during the run
    retried: int = 0  # exports the user retried after SmartAccounts' passing failures outlasted every delivery


def export_batch(firm_id: str, known: list[Any], new_buyers: int = 4) -> tuple[list[dict], dict[str, str]]:
    """Invoices of one firm: two to buyers SmartAccounts knows by registry code (named differently in Uku), one to a
    buyer it knows by exact name, `new_buyers` to buyers it does not know (the first of them twice) and a credit
    invoice of the first new buyer's invoice, right behind it. Returns them and the expected buyer of the known."""
    invoices, expected = [], {}
    for buyer in known[:2]:
        detail = invoice_detail(firm_id)
        detail["buyer"].update(name=f"Another spelling of {buyer.name}", registryCode=buyer.reg_code)
        invoices.append(detail)
        expected[detail["invoiceId"]] = buyer.id
    named = invoice_detail(firm_id)
    named["buyer"].update(name=known[2].name, registryCode=None)
    invoices.append(named)
    expected[named["invoiceId"]] = known[2].id
    fresh = [invoice_detail(firm_id) for _ in range(new_buyers)]
    invoices += [fresh[0], credit_detail(fresh[0]), *fresh[1:]]
    invoices.append(invoice_detail(firm_id, clientId=fresh[0]["clientId"], buyer=fresh[0]["buyer"]))
    return invoices, expected


#: Export failures that are SmartAccounts' passing trouble (the record says so; a retry fixes them), and a credit
#: invoice refused because its original had failed that way (the help page: export the original, then retry it).
PASSING_FAILURES = frozenset({"SA_UNAVAILABLE", "SA_RATE_LIMITED", "BUYER_BEING_CREATED"})
AFTER_ITS_ORIGINAL = "ORIGINAL_NOT_EXPORTED"
USER_RETRY_ROUNDS = 3


def run_exports(stack: Any, admin: Admin, firm: Firm, *, on_firm: Callable[[Firm], None] = lambda _f: None,
                new_buyers: int = 4, timeout: float = 300) -> ExportRun:
    """The batch of `export_batch` issued at once (one invoice published twice), exported on the local stack."""
    reader = admin.new_key(firm.sa_company)  # reads the known buyers without touching the firm key's figures
    known = SmartAccountsClient(
        ApiCredentials(api_key=reader[0], api_secret=reader[1]), base_url=stack.sandbox.api_url,
        connect_timeout=3, read_timeout=10,
    ).buyers()
    run = ExportRun(firm=firm)
    run.invoices, run.known = export_batch(firm.id, known, new_buyers)
    run.new_clients = len({d["clientId"] for d in run.invoices if d["invoiceId"] not in run.known})
    before = len(request_log(admin, firm.company.api_key))
    on_firm(firm)
    for detail in [*run.invoices, run.invoices[-1]]:  # the last one is published again (a new event)
        firm.issue(detail)
        run.events += 1
    stack.wait_until_idle(timeout=timeout)
    # The local stack redelivers within a second where SQS waits the visibility timeout (12 minutes), so a burst of
    # SmartAccounts failures can outlast all five deliveries of one export: its record says FAILED with the passing
    # kind, and the user retries it (the help page's fix), and a credit invoice refused because that original had
    # failed, with it (the credit waits for its original). Round by round, as a user would; each must still end
    # exactly once.
    for _ in range(USER_RETRY_ROUNDS):
        retried = 0
        for detail in run.invoices:
            record = firm.export(detail["invoiceId"])
            if record["status"] == "FAILED" and record.get("reason") in {*PASSING_FAILURES, AFTER_ITS_ORIGINAL}:
                firm.company.call("POST", f"/v1/invoices/{detail['invoiceId']}/export/retry", expect=202)
                retried += 1
        if not retried:
            break
        run.retried += retried
        stack.wait_until_idle(timeout=timeout)
    run.records = {d["invoiceId"]: firm.export(d["invoiceId"]) for d in run.invoices}
    run.booked = firm.booked()
    run.buyers_created = firm.created_buyers()
    log = request_log(admin, firm.company.api_key)[before:]
    run.log = log
    run.calls = len(log)
    run.statuses.update(str(r["status"]) for r in log)
    return run


def export_problems(run: ExportRun) -> list[str]:
    """Every way the batch is not exported exactly once and right: an empty list when it is."""
    problems = []
    by_number: dict[str, list[dict]] = {}
    for invoice in run.booked:
        by_number.setdefault(invoice["invoiceNumber"], []).append(invoice)
    for detail in run.invoices:
        record, booked = run.records[detail["invoiceId"]], by_number.get(detail["number"], [])
        if len(booked) != 1:
            problems.append(f"{detail['number']}: {len(booked)} invoices in SmartAccounts")
            continue
        sa = record.get("smartAccounts") or {}
        if record["status"] != "EXPORTED" or sa.get("invoiceId") != booked[0]["id"]:
            problems.append(f"{detail['number']}: record {record['status']} {record.get('reason')} names {sa}")
        elif str(sa.get("number")) != str(booked[0]["number"]) or not record["totals"]["matches"]:
            problems.append(f"{detail['number']}: record number {sa.get('number')} != {booked[0]['number']}")
        if detail["invoiceId"] in run.known and booked[0]["clientId"] != run.known[detail["invoiceId"]]:
            problems.append(f"{detail['number']}: booked to buyer {booked[0]['clientId']}, not the known one")
        if detail["kind"] == "credit":
            original = by_number.get(next(d["number"] for d in run.invoices
                                          if d["invoiceId"] == detail["originalInvoiceId"]), [{}])[0]
            if booked[0]["type"] != "CRE" or booked[0]["baseForCreditInvoiceId"] != original.get("id"):
                problems.append(f"{detail['number']}: credit invoice not linked to its original")
    if len(run.booked) != len(run.invoices):
        problems.append(f"{len(run.booked)} invoices in SmartAccounts for {len(run.invoices)} issued")
    if len(run.buyers_created) != run.new_clients:
        problems.append(f"{len(run.buyers_created)} buyers created for {run.new_clients} new Uku clients")
    return problems


def export_dead_letters(stack: Any, firm: Firm) -> list[dict]:
    sqs = stack.boto3_client("sqs")
    messages = redrive.list_messages(sqs, stack.provisioned.queue_urls["ExportDeadLetterQueue"])
    return [m for m in messages if firm.id in m["Body"]]


def export_report(clean: ExportRun, faulty: ExportRun, injected: Injected, problems: list[str],
                  dead: list[dict]) -> str:
    ratio = faulty.calls / clean.calls if clean.calls else float("nan")
    floor = calls_floor(clean.log, injected.arms["exports"], CRASH_AFTER_ACCEPT)
    suppressed = injected.export_deliveries - injected.export_runs + injected.export_already_done
    exported = sum(r["status"] == "EXPORTED" for r in faulty.records.values())
    reconciled = sum(bool(r.get("reconciled")) for r in faulty.records.values())
    return "\n".join([
        f"invoice exports: {len(faulty.invoices)} invoices, {faulty.events} InvoiceIssued events",
        f"  sandbox answered: 500 {faulty.statuses.get('500', 0)}, 503 {faulty.statuses.get('503', 0)}, "
        f"429 {faulty.statuses.get('429', 0)}; DynamoDB writes throttled: "
        f"{injected.throttled.get('export_record', 0)} export records, {injected.throttled.get('buyer_link', 0)} "
        "buyer links",
        f"  exports done: {exported} EXPORTED ({reconciled} reconciled by reading after a lost answer), "
        f"{len(faulty.booked)} invoices and {len(faulty.buyers_created)} new buyers in SmartAccounts; "
        f"{faulty.retried} retried by the user after passing failures outlasted every delivery",
        f"  duplicates suppressed: {suppressed} of {injected.export_deliveries} deliveries "
        "(idempotency or already EXPORTED, no post)",
        f"  SmartAccounts export calls: clean {clean.calls}, faulty {faulty.calls}, ratio {ratio:.2f} (goal <= 1.25; "
        f"floor of this fault mix {floor / clean.calls:.2f})",
        f"  items lost: {len(problems)}; on the export DLQ: {len(dead)}",
    ])


# ---------------------------------------------------------------- the faults
class LostAnswers:
    """Every `every`-th single-item or batch write of the stack's DynamoDB clients (at most `cap`) is sent by this
    hook itself, applied, and then its answer is lost: botocore sees a read time-out, and sends the same request again
    (its standard retries), or the caller sees the time-out (the rate guard's client, botocore's retries off).
    Transactions are left alone: DynamoDB makes a retried `TransactWriteItems` idempotent by the client request token
    botocore fills in, which moto does not model. So is Powertools idempotency's table (`spare`): its in-progress
    record applied with the answer lost is taken by Powertools for another invocation's, and the message comes back
    after its visibility timeout, by when that record has expired (the local stack's pump sends it again within
    seconds, before it expires, and it would end on the dead-letter queue here only)."""

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")

    def __init__(self, every: int = 9, cap: int = 60, spare: tuple[str, ...] = ()) -> None:
        self.every = every
        self.cap = cap
        self.spare = tuple(f'"TableName": "{table}"'.encode() for table in spare)
        self.writes = 0
        self.lost: Counter = Counter()  # by operation
        self._lock = threading.Lock()
        self._clients: list[Any] = []

    def attach(self, *clients: Any) -> None:
        for client in clients:
            for operation in self.WRITES:
                client.meta.events.register(
                    f"before-send.dynamodb.{operation}", self._sent, unique_id=f"lost-answers-{operation}"
                )
            self._clients.append(client)

    def detach(self) -> None:
        for client in self._clients:
            for operation in self.WRITES:
                client.meta.events.unregister(
                    f"before-send.dynamodb.{operation}", unique_id=f"lost-answers-{operation}"
                )
        self._clients.clear()

    def _sent(self, request: Any, **_kwargs: Any) -> None:
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if any(table in body for table in self.spare):
            return None
        with self._lock:
            self.writes += 1
            lose = self.writes % self.every == 0 and sum(self.lost.values()) < self.cap
        if not lose:
            return None
        operation = request.headers.get("X-Amz-Target", b"")
        operation = (operation.decode() if isinstance(operation, bytes) else operation).rsplit(".", 1)[-1]
        answer = requests.request(  # the write reaches DynamoDB and is applied
            request.method, request.url, data=request.body, headers=dict(request.headers), timeout=30
        )
        if answer.status_code != 200:
            return None  # refused outright (a condition): no answer to lose, botocore sends it as it was
        with self._lock:
            self.lost[operation] += 1
        raise ReadTimeoutError(endpoint_url=request.url)


def _throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected throttle"}}, operation
    )


@contextmanager
def faults(stack: Any, admin: Admin, monkeypatch: Any, *, duplicate_rate: float = 0.3,
           throttle_every: int = 3, max_throttles: int = 4, lose_answers: bool = False
           ) -> Iterator[tuple[Injected, Callable[[list], None], Callable[[Firm], None]]]:
    """Every fault of the suite, on for the duration; yields the counters and the hooks that set the sandbox faults
    on the run's keys, the import companies' and the exporting firm's (faults are per key, so other companies on the
    shared stack are untouched)."""
    injected = Injected(pump=PumpFaults(duplicate_rate=duplicate_rate))
    crashed_clients: set[str] = set()
    writes = Counter()

    def throttle(kind: str, every: int = throttle_every, cap: int = max_throttles) -> None:
        with injected.lock:
            writes[kind] += 1
            exports = kind in ("export_record", "buyer_link")
            spent = sum(n for k, n in injected.throttled.items() if (k in ("export_record", "buyer_link")) == exports)
            if spent < cap and writes[kind] % every == 0:
                injected.throttles += 1
                injected.throttled[kind] += 1
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

    def add(self: Any, entry: Any, *also: Any) -> bool:
        throttle("history")
        return original_add(self, entry, *also)

    original_save = export_record_repository.DynamoDbExportRecordRepository.save

    def save(self: Any, record: Any) -> Any:
        throttle("export_record", 5, 3)
        return original_save(self, record)

    original_link = export_record_repository.DynamoDbBuyerLinkRepository.put

    def link(self: Any, company_id: str, uku_client_id: str, smartaccounts_client_id: str) -> None:
        throttle("buyer_link", 3, 3)
        original_link(self, company_id, uku_client_id, smartaccounts_client_id)

    original_export_message = invoice_export.export_message
    original_claim = invoice_export._claim

    def export_message(deps: Any, body: str, **kwargs: Any) -> Any:
        with injected.lock:
            injected.export_runs += 1
        return original_export_message(deps, body, **kwargs)

    def claim(deps: Any, invoice: Any, *args: Any) -> Any:
        record, claimed = original_claim(deps, invoice, *args)
        if not claimed and record.status.value == "EXPORTED":
            with injected.lock:
                injected.export_already_done += 1
        return record, claimed

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
            if binding.source.function == EXPORT_FUNCTION:
                injected.export_deliveries += len(messages)
        original_deliver(binding, messages)

    def on_firm(firm: Firm) -> None:
        with injected.lock:
            injected.arms["exports"] += 1
        admin.post("faults", {**SANDBOX_FAULTS, **BURSTS, "crashAfterAccept": CRASH_AFTER_ACCEPT,
                              "apiKey": firm.company.api_key})

    def on_companies(companies: list[Company]) -> None:
        for company in companies:
            with injected.lock:
                injected.arms["imports"] += 1
            admin.post("faults", {**SANDBOX_FAULTS, **BURSTS, "apiKey": company.api_key})

    monkeypatch.setattr(summary_task_repository.DynamoDbSummaryTaskRepository, "put_all", put_all)
    monkeypatch.setattr(sync_history_repository.DynamoDbSyncHistoryRepository, "add", add)
    monkeypatch.setattr(intake, "suppressed_duplicate", suppressed)
    monkeypatch.setattr(export_record_repository.DynamoDbExportRecordRepository, "save", save)
    monkeypatch.setattr(export_record_repository.DynamoDbBuyerLinkRepository, "put", link)
    monkeypatch.setattr(invoice_export, "export_message", export_message)
    monkeypatch.setattr(invoice_export, "_claim", claim)
    monkeypatch.setattr(stack.pump, "deliver", deliver)
    monkeypatch.setenv("SMARTACCOUNTS_READ_TIMEOUT", READ_TIMEOUT_SECONDS)
    # a request the client gave up on is carried out by the sandbox at most its time-out after it came in
    monkeypatch.setenv("SMARTACCOUNTS_WRITE_SETTLE_SECONDS", str(SANDBOX_FAULTS["timeoutSeconds"]))
    stack.pump.faults = injected.pump
    if lose_answers:
        injected.lost_answers = LostAnswers(spare=(stack.provisioned.names["IdempotencyTable"],))
        injected.lost_answers.attach(  # the clients every function of the stack uses (one process: shared)
            shared_client("dynamodb", REGION, stack.moto_url),
            shared_client("dynamodb", REGION, stack.moto_url, single_attempt=True),
        )
    try:
        yield injected, on_companies, on_firm
    finally:
        stack.pump.faults = None
        if injected.lost_answers is not None:
            injected.lost_answers.detach()
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
        "  DynamoDB writes applied whose answer was lost: "
        + (
            ", ".join(f"{op} {n}" for op, n in sorted(injected.lost_answers.lost.items()))
            + f" (of {injected.lost_answers.writes} writes; botocore sent them again, the rate guard retried itself)"
            if injected.lost_answers is not None
            else "none (off)"
        ),
        f"  retries: {injected.redeliveries} SQS redeliveries, "
        f"{sum(v for k, v in faulty.statuses.items() if k != '200')} SmartAccounts answers other than 200",
        f"  duplicates suppressed (no call, no history): {injected.duplicates_suppressed}",
        f"  items lost: {items_lost}; on the DLQ: {len(dead)} (invalid by construction, each with its reason)",
        f"  SmartAccounts calls: clean {clean.calls}, faulty {faulty.calls}, ratio {ratio:.2f} (goal <= 1.25; "
        f"floor of this fault mix {calls_floor(clean.log, injected.arms['imports']) / clean.calls:.2f})",
    ]
    return "\n".join(lines)


def calls_floor(clean_log: list[dict], arms: int, lost_answers: int = 0) -> float:
    """The fewest calls (expected) the faulty run can make for the clean run's work under the injected mix, with
    the rules kept: every call repeated until it gets through (1 / (1 - FAILING_SHARE) attempts), every burst
    answer (`BURST_CALLS` per arming), and for every write that failed or lost its answer one read by number (or
    search) before it is sent again (exactly once: never post again without reading first)."""
    p = FAILING_SHARE
    writes = sum(entry["endpoint"].endswith(":add") for entry in clean_log)
    return (len(clean_log) + lost_answers) / (1 - p) + writes * p / (1 - p) ** 2 + BURST_CALLS * arms


def where_calls_go(clean_log: list[dict], faulty_log: list[dict]) -> str:
    """The request logs of a clean and a faulty run side by side, per endpoint: calls, failed answers (statuses
    other than 200, and answers slower than the client's read time-out: time-outs to the client), and how each
    repeat of an identical request (same endpoint and query, signing aside) came about: a retry after a failed
    answer, or a repeat of one already answered 200 in time (work done again)."""
    timeout_ms = float(READ_TIMEOUT_SECONDS) * 1000

    def per_endpoint(log: list[dict]) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        last: dict[tuple, bool] = {}  # (key, endpoint, query) -> whether its latest answer was a success in time
        for entry in log:
            counter = out.setdefault(entry["endpoint"], Counter())
            counter["calls"] += 1
            timed_out = entry.get("durationMs", 0) >= timeout_ms
            if timed_out:
                counter["time-out"] += 1
            elif entry["status"] != 200:
                counter[str(entry["status"])] += 1
            same = (entry["apiKey"], entry["endpoint"], entry.get("query", ""))
            if same in last:
                counter["again after 200" if last[same] else "retry"] += 1
            last[same] = entry["status"] == 200 and not timed_out
        return out

    clean, faulty = per_endpoint(clean_log), per_endpoint(faulty_log)
    lines = ["  where the calls go (endpoint: clean calls -> faulty; failed answers; repeats of the same request)"]
    for endpoint in sorted(set(clean) | set(faulty), key=lambda e: -faulty.get(e, Counter())["calls"]):
        c, f = clean.get(endpoint, Counter()), faulty.get(endpoint, Counter())
        failed = ", ".join(f"{k} {v}" for k, v in sorted(f.items()) if k.isdigit() or k == "time-out")
        lines.append(
            f"    {endpoint}: {c['calls']} -> {f['calls']}; {failed or 'none failed'}; retries {f['retry']}, "
            f"repeated after 200: {f['again after 200']} (clean {c['again after 200']})"
        )
    return "\n".join(lines)


def new_tag() -> str:
    return uuid.uuid4().hex[:6]
