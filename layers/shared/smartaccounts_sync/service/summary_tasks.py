"""Upserting and reading monthly summary tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from smartaccounts_sync.adapters.summary_task_repository import StaleWrite
from smartaccounts_sync.domain.integration import SummaryTaskSettings
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.statistics import StatisticValue
from smartaccounts_sync.domain.summary_task import render_task_title
from smartaccounts_sync.domain.task_record import SummaryTask, plan_upsert
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.errors import FieldProblem, NotFound, ValidationFailed
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.notifications import SUMMARY_TASK_UPDATED, publish, publish_all

_ATTEMPTS = 4
MAX_LISTED_MONTHS = 36


def proposed_task(
    company_id: str,
    client: UkuClient,
    month: YearMonth,
    settings: SummaryTaskSettings,
    values: Mapping[str, StatisticValue],
    *,
    owner_id: str | None,
    computed_at: dt.datetime,
) -> SummaryTask:
    """The task as this import sees it: mapped SmartAccounts values also by custom task field id."""
    mapping = settings.mapped()
    numbers = {key: Decimal(value) for key, value in values.items()}
    return SummaryTask(
        company_id=company_id,
        client_id=client.id,
        month=month,
        title=render_task_title(settings.task_title, month=month, client_name=client.name),
        topic_id=settings.topic_id,
        period_start=month.first_day,
        period_end=month.last_day,
        assignee_id=client.default_user_id or owner_id,
        field_values={mapping[key]: value for key, value in numbers.items() if key in mapping},
        values=numbers,
        computed_at=computed_at,
    )


def upsert(deps: Dependencies, proposed: SummaryTask) -> bool:
    """Writes the task when it changes; publishes `SummaryTaskUpdated` when values or title changed. Returns whether
    something was written. Concurrent writers: conditional on the version read, retried on a fresh read."""
    for _ in range(_ATTEMPTS):
        existing = deps.summary_tasks.get(proposed.company_id, proposed.client_id, proposed.month)
        plan = plan_upsert(existing, proposed)
        if plan.task is None:
            if plan.stale:
                logger.info("stale values not written", extra={"month": str(proposed.month)})
            return False
        try:
            deps.summary_tasks.put(plan.task, expected_version=existing.version if existing else 0)
        except StaleWrite:
            continue
        if plan.notify:
            publish(deps, SUMMARY_TASK_UPDATED, task_event(plan.task, created=existing is None))
        return True
    logger.warning("summary task kept changing; left to the next import", extra={"month": str(proposed.month)})
    return False


def upsert_all(deps: Dependencies, proposals: list[SummaryTask]) -> int:
    """`upsert` for the months of one client at once: one read of their tasks, one all-or-nothing write of those
    that change (re-read and planned again when another writer got there first). Returns how many were written."""
    if not proposals:
        return 0
    company_id, client_id = proposals[0].company_id, proposals[0].client_id
    if any((p.company_id, p.client_id) != (company_id, client_id) for p in proposals):
        raise ValueError("upsert_all takes the months of one client")
    first, last = min(p.month for p in proposals), max(p.month for p in proposals)
    for _ in range(_ATTEMPTS):
        existing = {task.month: task for task in deps.summary_tasks.list(company_id, client_id, first, last)}
        plans = [(existing.get(p.month), plan_upsert(existing.get(p.month), p)) for p in proposals]
        for (_old, plan), proposed in zip(plans, proposals, strict=True):
            if plan.task is None and plan.stale:
                logger.info("stale values not written", extra={"month": str(proposed.month)})
        writes = [(plan.task, old.version if old else 0) for old, plan in plans if plan.task is not None]
        if not writes:
            return 0
        try:
            deps.summary_tasks.put_all(writes)
        except StaleWrite:
            continue
        # the months' events together: ten to a PutEvents call instead of one call each
        events = [
            task_event(plan.task, created=old is None) for old, plan in plans if plan.task is not None and plan.notify
        ]
        publish_all(deps, SUMMARY_TASK_UPDATED, events)
        return len(writes)
    logger.warning("summary tasks kept changing; left to the next import", extra={"client_id": client_id})
    return 0


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def task_event(task: SummaryTask, *, created: bool) -> dict:
    return {
        "companyId": task.company_id,
        "clientId": task.client_id,
        "month": str(task.month),
        "title": task.title,
        "topicId": task.topic_id,
        "recurrence": task.recurrence,
        "periodStart": task.period_start.isoformat(),
        "periodEnd": task.period_end.isoformat(),
        "assigneeId": task.assignee_id,
        "fieldValues": {k: _json_number(v) for k, v in task.field_values.items()},
        "values": {k: _json_number(v) for k, v in task.values.items()},
        "version": task.version,
        "created": created,
        "computedAt": task.computed_at.isoformat(),
    }


def list_tasks(
    deps: Dependencies, company_id: str, client_id: str, first: YearMonth, last: YearMonth
) -> list[SummaryTask]:
    if deps.uku.get_client(company_id, client_id) is None:
        raise NotFound(f"There is no client {client_id!r} in this Uku company.")
    if last < first:
        raise ValidationFailed([FieldProblem("to", "must not be before from")])
    if first.months_until(last) >= MAX_LISTED_MONTHS:
        raise ValidationFailed([FieldProblem("to", f"at most {MAX_LISTED_MONTHS} months at a time")])
    return deps.summary_tasks.list(company_id, client_id, first, last)


def remember_owner(deps: Dependencies, company_id: str, user_id: str) -> None:
    """Keeps the company owner's user id (assignee of tasks whose client has no default user) once it is seen."""
    if deps.uku.company_owner(company_id) is None:
        deps.uku.set_company_owner(company_id, user_id)
