"""The firm key's day as a plan: the scheduled import first, Reload data with what is left, and honest estimates.

Reservation rule (`docs/reload.md`): on a company's import day (from Tallinn midnight until every client of the key
has imported the due month), a reload client using that key may not spend the calls the scheduled import still
needs: the sum, over the key's clients that have not imported the due month yet, of the calls their scheduled import
is expected to need (one per mapped document kind, more for clients whose previous counts need more pages). The
scheduled import itself uses the whole budget.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.field_catalogue import is_known_field, mapped_keys, sources_needed
from smartaccounts_sync.domain.import_checkpoint import expected_calls
from smartaccounts_sync.domain.import_day import latest_due_month
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from smartaccounts_sync.domain.reload_job import ReloadJob
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.rate_guard import QuotaUsage, resets_at


@dataclass(frozen=True)
class QuotaState:
    used_today: int
    reserved_for_schedule: int
    daily_limit: int
    resets_at: dt.datetime
    #: SmartAccounts refuses the key for its daily limit until then, whatever `used_today` counted (None: it has not)
    spent_until: dt.datetime | None = None


def _sources(record: CompanyIntegration) -> set:
    if record.settings is None:
        return set()
    return sources_needed([k for k in mapped_keys(record.settings.field_mapping) if is_known_field(k)])


#: How long after its run a scheduled import still holds its reservation for clients that have not finished it
#: (a firm whose scheduled import needs more than a day's quota finishes it first, the next day).
SCHEDULE_HOLD = dt.timedelta(days=3)


def _due_month(record: CompanyIntegration, today: dt.date) -> YearMonth | None:
    """The month the company's scheduled import imports today, or has handed out and not every client finished."""
    if record.settings is None or not record.enabled:
        return None
    if record.next_import_date is not None and record.next_import_date <= today:
        return latest_due_month(today, record.settings.import_day)
    if record.last_import_at is not None and today - tallinn_today(record.last_import_at) <= SCHEDULE_HOLD:
        return record.last_imported_month  # queued lately: held until every client has it
    return None


def reserve_for_schedule(deps: Dependencies, record: CompanyIntegration, key_link: ClientLink | None = None) -> int:
    """Today's calls of the key that the company's scheduled import still needs (0 on other days).

    `key_link`: a client with its own key (only that client's scheduled import uses it); None: the company key."""
    today = tallinn_today(deps.now())
    due = _due_month(record, today)
    if due is None:
        return 0
    sources = _sources(record)
    if not sources:
        return 0
    if key_link is not None:
        links = [key_link]
    else:
        links = [link for link in deps.links.list(record.company_id) if not link.own_credentials]
    months = [due.minus(1), due]  # the scheduled run refreshes the month before too (late bookings)
    total = 0
    for link in links:
        if link.last_imported_month is not None and link.last_imported_month >= due:
            continue  # already imported
        total += expected_calls(months, sources, deps.progress.get_counts(record.company_id, link.client_id))
    return total


def reload_estimates(
    deps: Dependencies, record: CompanyIntegration, client_ids: list[str], window: list[YearMonth]
) -> dict[str, int]:
    """Each client's expected calls for a reload of `window`, from what its previous import counted."""
    sources = _sources(record)
    return {
        c: expected_calls(window, sources, deps.progress.get_counts(record.company_id, c)) if sources else 0
        for c in client_ids
    }


def quota_state(deps: Dependencies, record: CompanyIntegration) -> QuotaState | None:
    """The company key's day: calls used today, reserved for the scheduled import, the limit and the reset."""
    if record.credentials is None:
        return None
    usage = _usage(deps, record)
    if usage is None:
        return None
    return QuotaState(
        used_today=usage.used_today,
        reserved_for_schedule=reserve_for_schedule(deps, record),
        daily_limit=usage.daily_budget,
        resets_at=usage.resets_at,
        spent_until=usage.spent_until,
    )


def _usage(deps: Dependencies, record: CompanyIntegration) -> QuotaUsage | None:
    """The company key's usage today, read by the key's stored fingerprint: the reload function may not read secrets
    (a pair saved before fingerprints were kept is read from its secret, where the function may)."""
    try:
        if record.credentials is None:
            return None
        stored = record.credentials
        if stored.key_fingerprint:
            return deps.quota.usage_of(stored.key_fingerprint)
        return deps.quota.usage(deps.credentials.load(stored.secret_name, stored.saved_at).api_key)
    except Exception:  # noqa: BLE001 - an estimate: a secret or guard read failure leaves it out
        return None


def estimate_finish(
    now: dt.datetime,
    remaining: int,
    usage: QuotaUsage,
    reserved_today: int,
    per_minute: float,
    reserve_per_day: int = 0,
) -> dt.datetime:
    """When `remaining` calls are done at the key's limits: `per_minute` a minute (the guard's sustained rate), the
    day's budget less what is used and reserved today, then full days (less `reserve_per_day`) from each Tallinn
    midnight."""
    if remaining <= 0:
        return now
    today_left = max(0, usage.left_today - reserved_today)
    if remaining <= today_left:
        return now + dt.timedelta(minutes=remaining / per_minute)
    rest = remaining - today_left
    per_day = max(1, usage.daily_budget - reserve_per_day)
    days = math.ceil(rest / per_day)  # the last day is partly used
    last_day_calls = rest - (days - 1) * per_day
    return usage.resets_at + dt.timedelta(days=days - 1, minutes=last_day_calls / per_minute)


def with_estimate(deps: Dependencies, job: ReloadJob) -> ReloadJob:
    """The job with `estimatedFinishAt` (none once finished, or when the key's usage cannot be read)."""
    if job.status.finished:
        return job
    record = deps.integrations.get(job.company_id)
    usage = _usage(deps, record)
    if usage is None:
        return job
    remaining = max(0, job.calls_expected - job.calls_used)
    reserved = reserve_for_schedule(deps, record)
    start = deps.now()
    waits_until = max((t for t in (job.resumes_at, usage.spent_until) if t is not None), default=None)
    if waits_until is not None and waits_until > start:
        # waiting for the quota: SmartAccounts refused (another app may have spent the key's day, whatever the guard
        # counted), so nothing more goes before then; from the renewal on, that day's whole budget
        start = waits_until
        usage = dataclasses.replace(usage, spent_until=None)
        if start >= usage.resets_at:
            usage = dataclasses.replace(usage, used_today=0, resets_at=resets_at(start.timestamp() + 1))
            reserved = 0
    finish = estimate_finish(start, remaining, usage, reserved, usage.per_minute)
    return job.model_copy(update={"estimated_finish_at": finish})
