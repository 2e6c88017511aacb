"""Resumable client imports: larger than the page cap, stopped by the time budget or the daily quota and resumed
from the checkpoint with the same figures as a clean run, the scheduled import's reservation, the wake-up."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from smartaccounts_sync.domain.field_catalogue import DocumentSource
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts
from smartaccounts_sync.domain.import_work import ImportReason, ImportWork
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.reload_job import ReloadStatus
from smartaccounts_sync.domain.sync_records import ImportOutcome
from smartaccounts_sync.service import quota_plan
from smartaccounts_sync.service.monthly_import import ImportRun, import_client
from smartaccounts_sync.service.resumable_import import TimeBudget, wake_parked
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ClientInvoice, JournalEntry, Payment, VendorInvoice
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from tests.support.reload_jobs import one_client_reload

COMPANY = "uku-1"
WINDOW = YearMonth.range(YearMonth(2025, 11), YearMonth(2026, 10))


JOB = "reload-under-test"


def reload_work(job_id: str = JOB) -> ImportWork:
    return ImportWork(
        company_id=COMPANY, client_id="client-1", months=WINDOW, reason=ImportReason.RELOAD, job_id=job_id
    )


def start_job(world, job_id: str) -> None:
    """A running one-client reload: reload work that names no job, or a finished one, is acknowledged unrun."""
    world.deps.jobs.start(one_client_reload(job_id, COMPANY, WINDOW, world.deps.now()))


@pytest.fixture(autouse=True)
def running_job(world) -> None:
    start_job(world, JOB)


def load_documents(world, per_month: int, seed: int = 7) -> None:
    """`per_month` documents of every kind in every month of the window, deterministic."""
    rng = random.Random(seed)
    n = 0
    for month in WINDOW:
        for i in range(per_month):
            n += 1
            day = f"{1 + (i % month.last_day.day):02d}.{month.month:02d}.{month.year}"
            amount = f"{rng.randint(1, 99999) / 100:.2f}"
            world.sa.sales.append(
                ClientInvoice.model_validate(
                    {
                        "id": n,
                        "type": "CRE" if i % 9 == 0 else "INV",
                        "date": day,
                        "amount": amount,
                        "vatAmount": "1.11",
                    }
                )
            )
            world.sa.purchases.append(VendorInvoice.model_validate({"id": n, "date": day, "amount": amount}))
            account = "CASH" if i % 4 == 0 else "BANK"
            world.sa.payments_.append(
                Payment.model_validate({"id": n, "date": day, "accountType": account, "amount": amount})
            )
            kind = ("LEDGER_ENTRY", "SALARY", "CLIENT_INVOICE")[i % 3]
            world.sa.entries.append(JournalEntry.model_validate({"id": n, "date": day, "docType": kind}))


def task_values(world) -> dict[str, dict[str, Decimal]]:
    return {str(m): dict(world.deps.summary_tasks.get(COMPANY, "client-1", m).values) for m in WINDOW}


@pytest.fixture
def large(world):
    """A client larger than the page cap: 10 documents a page, a cap of 3 pages (a query here needs 36)."""
    world.sa.page_size = 10
    world.deps.settings = Settings(smartaccounts_max_pages=3)
    load_documents(world, per_month=30)
    return world


def clean_run(world) -> tuple[dict, int]:
    """A clean run's figures and calls (a job of its own); then the tasks and counters are emptied for the run under
    test."""
    world.deps.jobs.locks.pop(COMPANY, None)  # the job under test waits; the clean run has its own
    start_job(world, "reload-clean")
    entry = import_client(world.deps, reload_work("reload-clean"))
    world.deps.jobs.locks[COMPANY] = JOB
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    values, calls = task_values(world), world.sa.calls_made
    world.deps.summary_tasks.tasks.clear()
    world.deps.history.entries.clear()
    world.sa.calls_made = 0
    return values, calls


def test_a_client_larger_than_the_page_cap_imports_correctly_with_the_minimum_calls(large) -> None:
    entry = import_client(large.deps, reload_work())
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    values, calls = task_values(large), large.sa.calls_made
    assert calls == 4 * 36  # one query per kind over the whole window, 36 pages each: the theoretical minimum
    assert large.sa.calls == {"clientinvoices": 1, "vendorinvoices": 1, "payments": 1, "entries": 1}
    assert values["2026-10"]["saleEntries"] == 30 and values["2025-11"]["documents"] == 20
    assert entry.calls_used == calls
    assert [(q["source"], q["pages"], q["calls"], q["documents"]) for q in entry.queries] == [
        (s.value, 36, 36, 360)
        for s in (
            DocumentSource.CLIENT_INVOICES,
            DocumentSource.VENDOR_INVOICES,
            DocumentSource.PAYMENTS,
            DocumentSource.JOURNAL_ENTRIES,
        )
    ]
    assert large.deps.progress.get_counts(COMPANY, "client-1").per_month[DocumentSource.PAYMENTS] == 30


def test_a_small_client_stores_its_checkpoint_once_and_a_large_one_as_time_passes(world, monkeypatch) -> None:
    from smartaccounts_sync.service import resumable_import

    stored: list[int] = []
    original = world.deps.progress.put_checkpoint
    monkeypatch.setattr(
        world.deps.progress, "put_checkpoint", lambda cp: (stored.append(cp.calls), original(cp))[1]
    )
    load_documents(world, per_month=2)  # every kind fits one page
    entry = import_client(world.deps, reload_work())
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert stored == [4]  # once, with the last of its four pages, before the final writes

    # a large client: every page when CHECKPOINT_SECONDS has passed since the last store (here: always)
    stored.clear()
    world.sa.page_size, world.sa.calls_made = 10, 0
    load_documents(world, per_month=30, seed=8)
    monkeypatch.setattr(resumable_import, "CHECKPOINT_SECONDS", 0.0)
    start_job(world, "reload-large")
    entry = import_client(world.deps, reload_work("reload-large"))
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert stored == list(range(1, world.sa.calls_made + 1))


def test_a_worker_stopped_by_its_time_budget_resumes_from_the_checkpoint(large) -> None:
    expected, clean_calls = clean_run(large)
    invocations = 0
    work = reload_work()
    while True:
        invocations += 1
        clock = lambda: float(large.sa.calls_made)  # noqa: E731 - one simulated second per call
        run = ImportRun(budget=TimeBudget(deadline=large.sa.calls_made + 25.0, clock=clock))
        entry = import_client(large.deps, work, run)
        if entry is not None:
            break
        handed_back, delay = large.deps.work_queue.delayed.pop()
        assert handed_back == work and delay == 0
    assert invocations == 6  # 144 pages at 25 a worker
    assert entry.outcome is ImportOutcome.SUCCEEDED
    assert large.sa.calls_made == clean_calls  # nothing fetched twice
    assert entry.calls_used == clean_calls
    assert task_values(large) == expected


def test_a_worker_that_stops_as_it_hands_back_leaves_no_call_uncounted_on_the_job(large, monkeypatch) -> None:
    # Given a worker whose time budget ends after 25 pages, and that stops (a Lambda timeout) as it stores the
    # checkpoint it hands back
    work = reload_work()
    original = large.deps.progress.put_checkpoint
    stops = {"left": 1}

    def stop_once(checkpoint) -> None:
        if stops["left"] and checkpoint.calls == 25:
            stops["left"] -= 1
            raise TimeoutError("the Lambda stopped")
        original(checkpoint)

    monkeypatch.setattr(large.deps.progress, "put_checkpoint", stop_once)
    clock = lambda: float(large.sa.calls_made)  # noqa: E731 - one simulated second per call
    with pytest.raises(TimeoutError):
        import_client(large.deps, work, ImportRun(budget=TimeBudget(deadline=25.0, clock=clock)))
    # When SQS delivers the work again and the client's import runs to its end
    while True:
        run = ImportRun(budget=TimeBudget(deadline=large.sa.calls_made + 1000.0, clock=clock))
        if import_client(large.deps, work, run) is not None:
            break
        large.deps.work_queue.delayed.pop()
    # Then the job counted every call made, the pages read twice too (they were asked for twice)
    job = large.deps.jobs.get(COMPANY, JOB)
    assert large.sa.calls_made > 4 * 36  # some pages were asked for again
    assert job.calls_used == large.sa.calls_made


def test_a_large_client_shows_its_progress_on_the_reload_job_while_it_runs(large, monkeypatch) -> None:
    # Given progress is shown after every page (in production: every 15 s), and a worker's time budget of 50 pages
    from smartaccounts_sync.service import resumable_import

    monkeypatch.setattr(resumable_import, "PROGRESS_SECONDS", 0.0)
    seen: list[tuple[int, int, int]] = []  # (calls made, job's callsUsed, job's callsExpected) at each report
    jobs = large.deps.jobs
    original_add = jobs.add_calls

    def add_calls(company_id: str, job_id: str, calls: int) -> None:
        original_add(company_id, job_id, calls)
        job = jobs.get(company_id, job_id)
        seen.append((large.sa.calls_made, job.calls_used, job.calls_expected))

    monkeypatch.setattr(jobs, "add_calls", add_calls)

    # When the reload of a client never imported before runs (one call a simulated second), handed back twice
    work = reload_work().model_copy(update={"calls_expected": 0})  # as the job says (start_job: 0 expected)
    while True:
        clock = lambda: float(large.sa.calls_made)  # noqa: E731
        entry = import_client(large.deps, work, ImportRun(budget=TimeBudget(large.sa.calls_made + 50.0, clock)))
        if entry is not None:
            break
        large.deps.work_queue.delayed.pop()

    # Then the job's calls used followed the calls made page by page, never ahead and never counted twice
    assert len(seen) > 100
    assert all(used == made for made, used, _ in seen)
    job = jobs.get(COMPANY, JOB)
    assert job.calls_used == large.sa.calls_made == 4 * 36 and job.calls_expected == job.calls_used
    # And from the first pages on, the estimate extrapolated from how far into the window the pages reached is
    # close to the truth (the client's first import: nothing was known of its size before)
    estimates = [expected for made, _, expected in seen if made >= 8]
    assert all(0.75 * 144 <= expected <= 1.25 * 144 for expected in estimates), estimates[:10]


def test_a_worker_stopped_by_the_daily_quota_is_parked_woken_once_and_equals_a_clean_run(large) -> None:
    expected, clean_calls = clean_run(large)
    large.sa.fail_after_pages = 50
    large.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "Daily limit exceeded", retry_after=14400)
    work = reload_work()
    entry = import_client(large.deps, work)
    assert entry is not None and entry.outcome is ImportOutcome.DEFERRED
    assert entry.calls_used == 51  # 50 pages and the refused one
    assert large.deps.work_queue.delayed == [] and large.deps.work_queue.sent == []
    tomorrow = dt.date(2026, 12, 1)  # NOW is 30 November 20:00 in Tallinn
    assert wake_parked(large.deps, dt.date(2026, 11, 30)) == 0  # not before the quota renews
    large.sa.fail_after_pages = None
    assert wake_parked(large.deps, tomorrow) == 1
    assert wake_parked(large.deps, tomorrow) == 0  # woken once
    woken = large.deps.work_queue.sent.pop()
    entry = import_client(large.deps, woken)
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert large.sa.calls_made == clean_calls + 1  # only the refused page was asked for again
    assert entry.calls_used == clean_calls + 1
    assert task_values(large) == expected
    deferred = [e for e in large.deps.history.entries if e.outcome is ImportOutcome.DEFERRED]
    assert len(deferred) == 1


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        (None, "This API key has used its daily SmartAccounts request budget"),
        ("smartaccounts_spent", "a program other than Uku may use the same key"),
    ],
)
def test_the_wait_for_the_quota_says_whose_word_it_is(large, reason, says) -> None:
    # Given SmartAccounts refusing the key for its daily limit: itself, or the guard once SmartAccounts said so
    large.sa.fail_after_pages = 5
    refusal = (
        "SmartAccounts said today's requests for this API key are spent (a program other than Uku may use the same "
        "key); no request is sent with it until SmartAccounts' limit resets."
    )
    large.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, refusal, retry_after=14400, reason=reason)
    # When the import stops on it
    entry = import_client(large.deps, reload_work())
    # Then the sync history's entry says why in plain words, and that the import goes on by itself
    assert entry is not None and entry.outcome is ImportOutcome.DEFERRED and entry.error_kind == "DAILY_QUOTA_SPENT"
    assert says in entry.message
    assert entry.message.count("midnight") <= 1 and "continues by itself after midnight Estonian time" in entry.message


def test_a_worker_stopped_right_after_parking_shows_the_wait_once_when_delivered_again(large, monkeypatch) -> None:
    # Given the daily quota is spent, and the worker that parks the work stops before it stores its checkpoint (a
    # Lambda timeout; on AWS also a park whose answer was lost, sent again by botocore)
    large.sa.fail_after_pages = 20
    large.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "Daily limit exceeded", retry_after=14400)
    original = large.deps.progress.put_checkpoint

    def stop_once_parked(checkpoint) -> None:
        if checkpoint.parked_until is not None:
            monkeypatch.setattr(large.deps.progress, "put_checkpoint", original)
            raise TimeoutError("the Lambda stopped")
        original(checkpoint)

    monkeypatch.setattr(large.deps.progress, "put_checkpoint", stop_once_parked)
    with pytest.raises(TimeoutError):
        import_client(large.deps, reload_work())
    # When SQS delivers the work again (the quota still spent)
    entry = import_client(large.deps, reload_work())
    # Then the wait is in the sync history once, and the work is parked once until the quota renews
    assert entry is not None and entry.outcome is ImportOutcome.DEFERRED
    deferred = [e for e in large.deps.history.entries if e.outcome is ImportOutcome.DEFERRED]
    assert len(deferred) == 1
    assert len(large.deps.progress.parked(dt.date(2026, 12, 1))) == 1
    assert import_client(large.deps, reload_work()) is None  # a third delivery within the same wait: no new entry
    assert sum(e.outcome is ImportOutcome.DEFERRED for e in large.deps.history.entries) == 1


def test_a_quota_renewing_within_minutes_is_waited_for_with_one_delayed_message_and_one_entry(large) -> None:
    large.sa.fail_after_pages = 10
    large.sa.fail_with = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "Daily limit exceeded", retry_after=120)
    work = reload_work()
    first = import_client(large.deps, work)
    assert first is not None and first.outcome is ImportOutcome.DEFERRED
    assert "continues by itself in about 2 minutes" in first.message and "midnight" not in first.message
    assert large.deps.work_queue.delayed == [(work, 120)]
    assert import_client(large.deps, large.deps.work_queue.delayed.pop()[0]) is None  # still refused: same wait
    assert large.deps.work_queue.delayed == [(work, 120)]
    large.sa.fail_after_pages = None
    done = import_client(large.deps, large.deps.work_queue.delayed.pop()[0])
    assert done is not None and done.outcome is ImportOutcome.SUCCEEDED
    assert sum(e.outcome is ImportOutcome.DEFERRED for e in large.deps.history.entries) == 1
    assert large.deps.progress.parked(dt.date(2026, 12, 1)) == []


def test_a_passing_failure_loses_at_most_the_page_in_flight(large) -> None:
    from smartaccounts_sync.service.monthly_import import RetryLater

    expected, clean_calls = clean_run(large)
    large.sa.fail_after_pages = 70
    with pytest.raises(RetryLater):
        import_client(large.deps, reload_work())
    large.sa.fail_after_pages = None
    entry = import_client(large.deps, reload_work())  # SQS delivers it again
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert large.sa.calls_made == clean_calls + 1
    assert task_values(large) == expected


def test_a_history_write_that_fails_after_the_import_costs_no_smartaccounts_call_again(large) -> None:
    # Given every page was read and the tasks written, then DynamoDB refuses the sync history entry once
    expected, clean_calls = clean_run(large)
    original_add = large.deps.history.add

    def throttled_once(entry, *args, **kwargs):
        if not getattr(throttled_once, "done", 0):
            throttled_once.done = 1
            raise RuntimeError("ProvisionedThroughputExceededException")
        return original_add(entry, *args, **kwargs)

    large.deps.history.add = throttled_once
    with pytest.raises(RuntimeError):
        import_client(large.deps, reload_work())

    # When SQS delivers the work again
    entry = import_client(large.deps, reload_work())

    # Then it continues from the checkpoint: no page is read twice, the figures equal a clean run's
    assert entry is not None and entry.outcome is ImportOutcome.SUCCEEDED
    assert large.sa.calls_made == clean_calls and task_values(large) == expected


@pytest.mark.parametrize("link_changed", [False, True], ids=["in-one-write", "link-changed-meanwhile"])
def test_a_reload_client_whose_count_on_the_job_fails_after_its_entry_is_counted_again_without_importing(
    large, link_changed: bool
) -> None:
    # Given a reload client whose import ended with its history entry (in one write with the link's bookkeeping, or,
    # the link changed meanwhile, written one by one), and whose count on the job then failed once (a throttled
    # write, or the Lambda stopped between the two)
    expected, clean_calls = clean_run(large)
    if link_changed:
        put_all = large.deps.summary_tasks.put_all

        def change_the_link(writes):
            link = large.deps.links.get(COMPANY, "client-1")
            large.deps.links.update(COMPANY, link.model_copy(update={"message": "checked meanwhile"}))
            return put_all(writes)

        large.deps.summary_tasks.put_all = change_the_link
    client_done = large.deps.jobs.client_done

    def fails_once(*args, **kwargs):
        large.deps.jobs.client_done = client_done
        raise RuntimeError("ProvisionedThroughputExceededException")

    large.deps.jobs.client_done = fails_once
    with pytest.raises(RuntimeError):
        import_client(large.deps, reload_work())
    assert large.deps.jobs.get(COMPANY, JOB).done_clients == []

    # When SQS delivers the work again
    again = import_client(large.deps, reload_work())

    # Then the client is counted with the calls it used and the job completes, without a page read again or a second
    # history entry, and its checkpoint is gone
    assert again is None
    assert large.sa.calls_made == clean_calls
    job = large.deps.jobs.get(COMPANY, JOB)
    assert job.done_clients == ["client-1"] and job.status is ReloadStatus.COMPLETED
    assert job.calls_used == clean_calls
    assert [e.outcome for e in large.deps.history.entries] == [ImportOutcome.SUCCEEDED]
    assert task_values(large) == expected
    assert large.deps.progress.checkpoints == {}


def test_a_client_whose_import_runs_elsewhere_is_handed_back_not_run_twice(large) -> None:
    large.deps.progress.acquire_lease(
        COMPANY, "client-1", "other-worker", large.deps.now() + dt.timedelta(minutes=10), large.deps.now()
    )
    assert import_client(large.deps, reload_work()) is None
    assert large.sa.calls_made == 0
    assert large.deps.work_queue.delayed == [(reload_work(), 60)]


# --- the firm key's day ------------------------------------------------------------------------------------------


class GuardedSmartAccounts:
    """The fake SmartAccounts behind a real in-memory rate guard: each page asks it with the client's reserve."""

    def __init__(self, sa, guard: InMemoryRateGuard) -> None:
        self._sa, self._guard = sa, guard

    def __getattr__(self, name):
        return getattr(self._sa, name)

    def __setattr__(self, name, value):
        if name in ("_sa", "_guard"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._sa, name, value)

    def list_page(self, *args, **kwargs):
        self._guard.acquire("company-key", reserve=self._sa.daily_reserve)
        return self._sa.list_page(*args, **kwargs)


def test_the_scheduled_import_keeps_its_reserved_calls_while_a_reload_of_the_key_runs(large) -> None:
    world = large
    now = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # the import day (last work day), 10:00 in Tallinn
    world.deps.now = lambda: now
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": YearMonth(2026, 11), "next_import_date": dt.date(2026, 11, 30)})
    )
    # the previous import counted 300 documents a month of each kind: 6 pages of 100 per kind for two months
    world.deps.progress.put_counts(COMPANY, "client-1", DocumentCounts(per_month={s: 300.0 for s in DocumentSource}))
    reserve = quota_plan.reserve_for_schedule(world.deps, world.integrations.get(COMPANY))
    assert reserve == 4 * 6
    guard = InMemoryRateGuard(daily_budget=100, clock=lambda: now.timestamp(), sleep=lambda s: None, window_seconds=0)
    guarded = GuardedSmartAccounts(world.sa, guard)
    world.deps.smartaccounts = lambda creds, company=None: guarded
    entry = import_client(world.deps, reload_work())
    assert entry is not None and entry.outcome is ImportOutcome.DEFERRED
    assert "reserved for the coming scheduled import" in (entry.message or "")
    assert guard.usage("company-key").used_today == 100 - reserve  # the reload stopped at the reservation
    scheduled = ImportWork(company_id=COMPANY, client_id="client-1", months=[YearMonth(2026, 11)])
    done = import_client(world.deps, scheduled)  # the scheduled import of the same key asks with no reserve
    assert done is not None and done.outcome is ImportOutcome.SUCCEEDED  # it had its calls
    assert 0 < guard.usage("company-key").used_today - (100 - reserve) <= reserve


def test_no_reservation_on_a_day_without_a_scheduled_import(world) -> None:
    record = world.integrations.get(COMPANY)
    world.integrations.save(
        record.model_copy(update={"next_import_month": YearMonth(2026, 12), "next_import_date": dt.date(2026, 12, 31)})
    )
    assert quota_plan.reserve_for_schedule(world.deps, world.integrations.get(COMPANY)) == 0


def test_the_finish_estimate_uses_the_minute_and_the_daily_limit() -> None:
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
    resets = dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC)
    usage = quota_plan.QuotaUsage(used_today=400, daily_budget=1000, resets_at=resets)
    assert quota_plan.estimate_finish(now, 120, usage, 0, 60) == now + dt.timedelta(minutes=2)
    # 600 left today, then 1000 a day: 2,100 more = 2 full days and 100 calls on the third
    finish = quota_plan.estimate_finish(now, 2700, usage, 0, 60)
    assert finish == resets + dt.timedelta(days=2, minutes=100 / 60)
