"""Large clients and large firms within SmartAccounts' quota, on a simulated clock.

What is real: the service's own code end to end in-process - `import_client` (checkpoints, time budget, lease,
reservation, parking), `run_scheduled_import`, `wake_parked`, the rate guard (`InMemoryRateGuard`, 60 a rolling
minute and 1,000 a Tallinn day per key, with the reserve), the statistics and the summary-task upserts. What is
simulated: the clock (every SmartAccounts call takes 0.25 s, guard waits and queue delays advance it), the SQS queue
(one worker at a time: the key's 60 a minute, not the workers, set the pace) and the Lambda timeout (900 s).

1. `co-large` alone: a 12-month reload against the sandbox over HTTP (real documents, real paging); the figures are
   compared with the sandbox's own documents (its admin oracle), calls with the theoretical minimum; peak memory of
   the worker's import (tracemalloc).
2. A firm key with 300 clients of mixed sizes (4 `co-large`-sized, 20 medium, the rest small), a 12-month reload
   while the following days' scheduled imports go on (the company's import day falls inside the reload). For speed
   SmartAccounts is simulated in-process here (documents drawn per client, kind and month in the sandbox's volume
   ranges, 100 a page), and it counts every call against its own quota independently of the service's guard.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import os
import random
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, deque
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # thousands of simulated invocations: figures only

from smartaccounts_sync.adapters.client_link_repository import InMemoryClientLinkRepository
from smartaccounts_sync.adapters.import_progress_repository import InMemoryImportProgressRepository
from smartaccounts_sync.adapters.integration_repository import InMemoryIntegrationRepository
from smartaccounts_sync.adapters.secrets import InMemoryCredentialStore
from smartaccounts_sync.adapters.uku_store import InMemoryUkuStore
from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.import_day import ImportDay, reload_window
from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.domain.integration import (
    CompanyIntegration,
    Connection,
    ConnectionStatus,
    StoredCredentials,
    SummaryTaskSettings,
)
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from smartaccounts_sync.domain.sync_records import ImportOutcome
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.observability import metrics
from smartaccounts_sync.service import reload
from smartaccounts_sync.service.monthly_import import ImportRun, RetryLater, import_client
from smartaccounts_sync.service.resumable_import import TimeBudget, wake_parked
from smartaccounts_sync.service.scheduled_import import run_scheduled_import
from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.client import ListPage, SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from tests.support.fakes import in_memory_dependencies
from tests.support.local_company import ALL_FIELDS

TALLINN = protocol.TALLINN
CALL_SECONDS = 0.25
LAMBDA_TIMEOUT_MS = 900_000
COMPANY = "firm-1"
FIRM_KEY = "firm-key"
RULE = ImportDay.last_work_day()


class SimClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start.timestamp()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now, dt.UTC)


class SimQueue:
    """SQS as the worker sees it: messages become visible at a time; one worker takes them in order."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, ImportWork]] = []
        self._seq = itertools.count()
        self.woken_ids: set[int] = set()

    def send(self, works) -> None:
        for work in works:
            heapq.heappush(self._heap, (self.clock.now, next(self._seq), work))

    def send_later(self, work: ImportWork, delay_seconds: int) -> None:
        heapq.heappush(self._heap, (self.clock.now + min(900, delay_seconds), next(self._seq), work))

    def next_visible(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop(self) -> ImportWork:
        return heapq.heappop(self._heap)[2]


class SimulatedSmartAccounts:
    """SmartAccounts in-process: documents per (client, kind, month) in the sandbox's volume ranges, 100 a page.

    It keeps its own books: calls per Tallinn day and in any rolling minute, so calls over quota are counted by
    SmartAccounts' side, not by the service's guard."""

    RANGES = {  # sandbox volumes (docs/sandbox.md): client invoices, vendor invoices, payments, manual entries
        "small": ((5, 40), (5, 40), (5, 40), (1, 5)),
        "medium": ((150, 400), (100, 300), (200, 500), (5, 20)),
        "large": ((2500, 3500), (600, 1200), (2500, 4000), (20, 60)),
    }

    def __init__(self, clock: SimClock, sizes: dict[str, str]) -> None:
        self.clock = clock
        self.sizes = sizes  # SmartAccounts company id -> volume
        self.calls = 0
        self.by_day: Counter[dt.date] = Counter()
        self.recent: deque[float] = deque()
        self.over_minute = 0
        self._counts: dict[tuple[str, str, YearMonth], int] = {}

    def count(self, company: str, kind: str, month: YearMonth) -> int:
        key = (company, kind, month)
        if key not in self._counts:
            ranges = self.RANGES[self.sizes[company]]
            rng = random.Random(f"{company}:{month}")
            sales, purchases, payments, manual = (rng.randint(*r) for r in ranges)
            self._counts[(company, "clientinvoices", month)] = sales
            self._counts[(company, "vendorinvoices", month)] = purchases
            self._counts[(company, "payments", month)] = payments
            self._counts[(company, "entries", month)] = sales + purchases + payments + manual + 3
        return self._counts[key]

    def minimum_calls(self, company: str, months: list[YearMonth]) -> int:
        kinds = ("clientinvoices", "vendorinvoices", "payments", "entries")
        return sum(max(1, math.ceil(sum(self.count(company, k, m) for m in months) / 100)) for k in kinds)

    def over_day(self) -> int:
        return sum(max(0, n - 1000) for n in self.by_day.values())

    def page(self, company: str, kind: str, date_from: dt.date, date_to: dt.date, page: int) -> tuple[list[dict], bool]:
        self.calls += 1
        self.clock.sleep(CALL_SECONDS)
        now = self.clock.now
        self.by_day[tallinn_today(self.clock.dt())] += 1
        self.recent.append(now)
        while self.recent and self.recent[0] <= now - 60:
            self.recent.popleft()
        if len(self.recent) > 60:
            self.over_minute += 1
        months = YearMonth.range(YearMonth(date_from.year, date_from.month), YearMonth(date_to.year, date_to.month))
        counts = [(m, self.count(company, kind, m)) for m in months]
        total = sum(n for _, n in counts)
        start, end = (page - 1) * 100, min(page * 100, total)
        items: list[dict] = []
        offset = 0
        for month, n in counts:
            lo, hi = max(start, offset), min(end, offset + n)
            for i in range(lo, hi):
                j = i - offset
                day = month.first_day + dt.timedelta(days=j % month.last_day.day)
                items.append(_document(kind, f"{company}-{kind}-{month}-{j}", day, j))
            offset += n
            if offset >= end:
                break
        return items, end < total


def _document(kind: str, doc_id: str, day: dt.date, j: int) -> dict:
    date = day.strftime("%d.%m.%Y")
    if kind == "clientinvoices":
        return {"id": doc_id, "type": "CRE" if j % 25 == 0 else "INV", "date": date, "amount": 100, "vatAmount": 24}
    if kind == "vendorinvoices":
        return {"id": doc_id, "date": date, "amount": "50.00"}
    if kind == "payments":
        return {"id": doc_id, "date": date, "accountType": "CASH" if j % 5 == 0 else "BANK", "amount": 10}
    return {"id": doc_id, "date": date, "docType": ("LEDGER_ENTRY", "SALARY", "PAYMENT")[j % 3]}


class SimClient:
    """The service's view of the simulated SmartAccounts: `list_page` behind the real rate guard with the reserve."""

    def __init__(self, sa: SimulatedSmartAccounts, guard: InMemoryRateGuard, company: str) -> None:
        self.sa, self.guard, self.company = sa, guard, company
        self.calls_made = 0
        self.daily_reserve = 0
        self.deadline: float | None = None

    def list_page(self, endpoint, params, model, page, previous_ids=None) -> ListPage:
        self.guard.acquire(FIRM_KEY, reserve=self.daily_reserve)
        self.calls_made += 1
        values = dict(params)
        date_from = dt.datetime.strptime(values["dateFrom"], "%d.%m.%Y").date()
        date_to = dt.datetime.strptime(values["dateTo"], "%d.%m.%Y").date()
        items, more = self.sa.page(self.company, endpoint.resource, date_from, date_to, page)
        return ListPage([model.model_validate(i) for i in items], more, [str(i["id"]) for i in items])


def firm_world(clock: SimClock, clients: dict[str, str], factory) -> Any:
    """One Uku company with every client linked to its own SmartAccounts company, all on the firm key."""
    integrations, links, uku, credentials = (
        InMemoryIntegrationRepository(),
        InMemoryClientLinkRepository(),
        InMemoryUkuStore(),
        InMemoryCredentialStore(),
    )
    queue = SimQueue(clock)
    deps = in_memory_dependencies(
        integrations=integrations,
        links=links,
        uku=uku,
        credentials=credentials,
        smartaccounts=factory,
        work_queue=queue,
        progress=InMemoryImportProgressRepository(),
        now=clock.dt,
    )
    secret = deps.secret_name(COMPANY)
    credentials.save(secret, ApiCredentials(api_key=FIRM_KEY, api_secret="firm-secret"))  # noqa: S106 - a simulated key
    linked = clock.dt() - dt.timedelta(days=400)
    integrations.save(
        CompanyIntegration(
            company_id=COMPANY,
            enabled=True,
            credentials=StoredCredentials(secret_name=secret, masked_key="firm…key", saved_at=linked),
            connection=Connection(status=ConnectionStatus.CONNECTED, company_name="Firm"),
            settings=SummaryTaskSettings(
                task_title="{client} {monthName} {year}",
                topic_id="topic-1",
                import_day=RULE,
                field_mapping={k: f"field-{k}" for k in ALL_FIELDS},
            ),
        )
    )
    uku.owners[COMPANY] = "owner-1"
    for client_id, sa_company in clients.items():
        uku.clients[(COMPANY, client_id)] = UkuClient(id=client_id, name=f"Client {client_id}")
        links.put(
            COMPANY, ClientLink(client_id=client_id, company_id=sa_company, company_name=sa_company, linked_at=linked)
        )
    return deps, queue


class Runner:
    """Drives the simulated days: the worker takes visible messages; 20:00 the schedule, 00:01 the wake-up."""

    def __init__(self, deps, queue: SimQueue, clock: SimClock) -> None:
        self.deps, self.queue, self.clock = deps, queue, clock
        self.invocations: Counter[str] = Counter()
        self.woken = 0
        self.scheduled_runs: list[dt.date] = []

    def _next_local(self, hour: int, minute: int) -> float:
        local = self.clock.dt().astimezone(TALLINN)
        at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if at.timestamp() <= self.clock.now:
            at = (at + dt.timedelta(days=1)).replace(hour=hour, minute=minute)
        return at.timestamp()

    def run(self, done, until: float) -> None:
        schedule_at, wake_at = self._next_local(20, 0), self._next_local(0, 1)
        while not done() and self.clock.now < until:
            visible = self.queue.next_visible()
            nxt = min(t for t in (visible, schedule_at, wake_at) if t is not None)
            if nxt > self.clock.now:
                self.clock.now = nxt
            if self.clock.now >= schedule_at:
                today = tallinn_today(self.clock.dt())
                run_scheduled_import(self.deps, today)
                self.scheduled_runs.append(today)
                schedule_at = self._next_local(20, 0)
                continue
            if self.clock.now >= wake_at:
                self.woken += wake_parked(self.deps, tallinn_today(self.clock.dt()))
                wake_at = self._next_local(0, 1)
                continue
            work = self.queue.pop()
            self.invocations[work.client_id] += 1
            run = ImportRun(budget=TimeBudget.from_remaining_ms(LAMBDA_TIMEOUT_MS, self.clock.time))
            try:
                import_client(self.deps, work, run)
            except RetryLater:
                self.queue.send_later(work, 300)
            metrics.clear_metrics()  # a Lambda flushes them after each invocation


# --- 1. co-large alone over HTTP ------------------------------------------------------------------------------------


class _BenchClient(SmartAccountsClient):
    """The real client; the worker's deadline (simulated time) is translated into the same remaining real seconds."""

    sim_clock: SimClock

    @property
    def deadline(self) -> float | None:
        return self._real_deadline

    @deadline.setter
    def deadline(self, value: float | None) -> None:
        self._real_deadline = None if value is None else time.time() + max(0.0, value - self.sim_clock.now)


def _sandbox_process() -> tuple[subprocess.Popen, str]:
    """The sandbox in its own process, so the worker's peak memory is the worker's alone."""
    from local_stack.net import free_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "sandbox")}
    args = [sys.executable, "-m", "sa_sandbox", "--port", str(port), "--per-minute", "1000000", "--per-day", "10000000"]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(100):
        try:
            requests.get(f"{url}/_sandbox/health", timeout=1).raise_for_status()
            return process, url
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the sandbox did not start")


def co_large_alone() -> None:
    import requests

    from tests.support.local_company import Admin, expected_month

    # SmartAccounts' quota is kept by the service's guard on the simulated clock; the sandbox's own quota runs on real
    # time, so it is opened wide (its request log still counts every call)
    process, url = _sandbox_process()
    admin_url, api_url = f"{url}/_sandbox", f"{url}/api/"
    try:
        clock = SimClock(dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.UTC))  # 00:00 Tallinn, 3 November
        guard = InMemoryRateGuard(clock=clock.time, sleep=clock.sleep)
        credentials = ApiCredentials(api_key="demo-large-key", api_secret="demo-large-secret")  # noqa: S106 - the sandbox's demo key
        clients: list[SmartAccountsClient] = []
        _BenchClient.sim_clock = clock

        def factory(creds, company=None):
            client = _BenchClient(
                credentials,
                base_url=api_url,
                connect_timeout=3,
                read_timeout=60,
                rate_guard=guard,
                company_id=company,
            )
            clients.append(client)
            return client

        deps, queue = firm_world(clock, {"large-1": "co-large"}, factory)
        deps.credentials.save(deps.secret_name(COMPANY), credentials)
        guard_key = credentials.api_key
        window = reload_window(tallinn_today(clock.dt()), RULE)
        requested = reload.request_reload(deps, COMPANY, "owner-1")
        runner = Runner(deps, queue, clock)
        started_sim = clock.now
        tracemalloc.start()
        started = time.perf_counter()
        runner.run(lambda: deps.jobs.get(COMPANY, requested.job.job_id).status.finished, clock.now + 10 * 86400)
        wall = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        job = deps.jobs.get(COMPANY, requested.job.job_id)
        admin = Admin(admin_url)
        exact = 0
        for month in window:
            expected = expected_month(admin, "co-large", str(month))
            task = deps.summary_tasks.get(COMPANY, "large-1", month)
            if task is not None and all(Decimal(task.values[k]) == expected[k] for k in ALL_FIELDS):
                exact += 1
        sandbox_calls = requests.get(f"{admin_url}/requests/counts", timeout=5).json()["byKey"].get(guard_key, 0)

        def documents(kind: str) -> int:
            found = admin.get(
                "companies/co-large/documents",
                kind=kind,
                dateFrom=str(window[0].first_day),
                dateTo=str(window[-1].last_day),
                fetchRows="false",
            )
            return int(found["count"])

        minimum = sum(
            max(1, math.ceil(documents(k) / 100)) for k in ("clientinvoices", "vendorinvoices", "payments", "entries")
        )
        days = (clock.now - started_sim) / 86400
        history = [e for e in deps.history.entries if e.client_id == "large-1"]
        print("co-large alone: 12-month reload, sandbox over HTTP, service guard on a simulated clock")
        print(
            f"  job {job.status.value}: {job.clients_done}/{job.clients_total} client, window {window[0]}..{window[-1]}"
        )
        print(
            f"  figures exact against the sandbox's documents: {exact}/{len(window)} months, {len(ALL_FIELDS)} fields"
        )
        print(
            f"  calls: {job.calls_used} used (sandbox log: {sandbox_calls}) / {minimum} minimum = "
            f"{job.calls_used / minimum:.3f}; job expected {requested.job.calls_expected} at the start, "
            f"{job.calls_expected} at the end"
        )
        print(
            f"  invocations {runner.invocations['large-1']}, nights waited {runner.woken}, history entries "
            f"{len(history)} ({sum(e.outcome is ImportOutcome.DEFERRED for e in history)} DEFERRED)"
        )
        print(f"  simulated time {days:.2f} days; wall {wall:.1f} s; peak traced memory {peak / 2**20:.1f} MiB")
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- 2. a firm of 300 clients -------------------------------------------------------------------------------------

NOVEMBER = YearMonth(2026, 11)


def firm(with_reload: bool) -> dict[str, Any]:
    """The firm's 30 November scheduled import, alone or with a 12-month reload requested on 16 November."""
    clock = SimClock(dt.datetime(2026, 11, 15, 22, 0, tzinfo=dt.UTC))  # 00:00 Tallinn, 16 November
    sizes: dict[str, str] = {}
    clients: dict[str, str] = {}
    for i in range(300):
        clients[f"client-{i:03d}"] = f"sa-{i:03d}"
        sizes[f"sa-{i:03d}"] = "large" if i < 4 else "medium" if i < 24 else "small"
    sa = SimulatedSmartAccounts(clock, sizes)
    guard = InMemoryRateGuard(clock=clock.time, sleep=clock.sleep)
    deps, queue = firm_world(clock, clients, lambda creds, company=None: SimClient(sa, guard, company))
    deps.quota = guard
    record = deps.integrations.get(COMPANY)
    deps.integrations.save(
        record.model_copy(
            update={
                "next_import_month": NOVEMBER,
                "next_import_date": dt.date(2026, 11, 30),  # the last work day: inside the reload
                "last_imported_month": NOVEMBER.minus(1),
            }
        )
    )
    for client_id in clients:
        link = deps.links.get(COMPANY, client_id)
        deps.links.update(COMPANY, link.model_copy(update={"last_imported_month": NOVEMBER.minus(1)}))
    if not with_reload:
        clock.now = dt.datetime(2026, 11, 29, 22, 0, tzinfo=dt.UTC).timestamp()  # 30 November
    start = clock.now
    window = reload_window(tallinn_today(clock.dt()), RULE)
    job_id = reload.request_reload(deps, COMPANY, "owner-1").job.job_id if with_reload else None
    expected_at_start = deps.jobs.get(COMPANY, job_id).calls_expected if job_id else 0

    def scheduled_done() -> bool:
        return all((link.last_imported_month or NOVEMBER.minus(1)) >= NOVEMBER for link in deps.links.list(COMPANY))

    def done() -> bool:
        reloaded = job_id is None or deps.jobs.get(COMPANY, job_id).status.finished
        return reloaded and scheduled_done()

    runner = Runner(deps, queue, clock)
    started = time.perf_counter()
    runner.run(done, start + 60 * 86400)
    wall = time.perf_counter() - started
    finished_on = {
        e.client_id: tallinn_today(e.at)
        for e in sorted(deps.history.entries, key=lambda e: e.at)
        if e.reason in ("SCHEDULE", "CATCH_UP") and e.outcome is ImportOutcome.SUCCEEDED and NOVEMBER in e.months
    }
    return {
        "deps": deps,
        "sa": sa,
        "clients": clients,
        "sizes": sizes,
        "window": window,
        "job_id": job_id,
        "runner": runner,
        "finished_on": finished_on,
        "start": start,
        "clock": clock,
        "wall": wall,
        "expected_at_start": expected_at_start,
    }


def firm_of_300() -> None:
    alone = firm(with_reload=False)
    run = firm(with_reload=True)
    deps, sa, clients, window = run["deps"], run["sa"], run["clients"], run["window"]
    job = deps.jobs.get(COMPANY, run["job_id"])
    history = deps.history.entries
    reload_minimum = sum(sa.minimum_calls(c, window) for c in run["sizes"])
    scheduled = [e for e in history if e.reason in ("SCHEDULE", "CATCH_UP") and e.outcome is ImportOutcome.SUCCEEDED]
    schedule_minimum = sum(sa.minimum_calls(clients[e.client_id], e.months) for e in scheduled)
    schedule_calls = sum(e.calls_used for e in scheduled)  # a finished import's entry counts all its invocations
    minimum = reload_minimum + schedule_minimum
    days_used = len(sa.by_day)
    min_days = math.ceil(minimum / 1000)
    delayed = sum(
        1 for c, day in alone["finished_on"].items() if run["finished_on"].get(c) is None or run["finished_on"][c] > day
    )
    deferred = [e for e in history if e.outcome is ImportOutcome.DEFERRED]
    nights = Counter(e.client_id for e in deferred)
    waiting_nights = (
        sum(  # nights on which a client was waiting for the quota (from its first wait to its end)
            (
                run["finished_on"].get(c, tallinn_today(run["clock"].dt()))
                - tallinn_today(min(e.at for e in deferred if e.client_id == c))
            ).days
            for c in nights
        )
        or 1
    )
    woken = run["runner"].woken
    exact = sum(
        1
        for c, sa_company in clients.items()
        for m in window
        if (t := deps.summary_tasks.get(COMPANY, c, m)) is not None
        and int(t.values["saleEntries"]) == sa.count(sa_company, "clientinvoices", m)
    )
    print("firm key with 300 clients (4 large, 20 medium, 276 small), all 11 fields mapped (4 document kinds):")
    print("  a 12-month reload requested on 16 November; the company's scheduled import runs on 30 November")
    print(
        f"  job {job.status.value}: {job.clients_done}/{job.clients_total} clients; saleEntries equal SmartAccounts'"
        f" in {exact}/{300 * len(window)} client-months"
    )
    print(
        f"  calls used / theoretical minimum: {sa.calls} / {minimum} = {sa.calls / minimum:.3f} "
        f"(reload {job.calls_used} / {reload_minimum}, scheduled {schedule_calls} / {schedule_minimum})"
    )
    print(f"  days used / minimum days at 1,000 a day: {days_used} / {min_days} = {days_used / min_days:.3f}")
    print(
        f"  scheduled imports delayed by the reload: {delayed} of {len(alone['finished_on'])} "
        f"(alone, the schedule itself needs {len(alone['sa'].by_day)} day(s) of quota)"
    )
    print(f"  calls over quota (SmartAccounts' own books): {sa.over_day()} over a day, {sa.over_minute} in a minute")
    print(
        f"  waiting for the quota: {len(nights)} clients, {waiting_nights} client-nights; per client per waiting "
        f"night: {woken / waiting_nights:.2f} invocations (wake-ups), {len(deferred) / waiting_nights:.2f} history "
        f"entries"
    )
    print(
        f"  job estimate: {run['expected_at_start']} calls expected at the start (no previous counts: one a kind), "
        f"{job.calls_expected} at the end; invocations {sum(run['runner'].invocations.values())}"
    )
    print(
        f"  simulated {(run['clock'].now - run['start']) / 86400:.1f} days in {run['wall'] + alone['wall']:.0f} s wall"
    )


def main() -> None:
    co_large_alone()
    firm_of_300()


if __name__ == "__main__":
    main()
