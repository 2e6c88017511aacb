"""Company notifications and the service's published events (schemas in docs/events.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from smartaccounts_sync.adapters.event_publisher import MAX_ENTRIES_PER_CALL
from smartaccounts_sync.domain.sync_records import Notification, NotificationKind
from smartaccounts_sync.errors import NotFound
from smartaccounts_sync.observability import logger, metrics
from smartaccounts_sync.service.dependencies import Dependencies

SUMMARY_TASK_UPDATED = "SummaryTaskUpdated"
CONNECTION_FAILING = "ConnectionFailing"
CONNECTION_RESTORED = "ConnectionRestored"
RELOAD_COMPLETED = "ReloadCompleted"


def new_id(now: dt.datetime) -> str:
    """Time-ordered ids: the creation time (UTC, to the microsecond) and a random tail."""
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def notify(
    deps: Dependencies,
    company_id: str,
    kind: NotificationKind,
    title: str,
    message: str,
    data: dict[str, Any] | None = None,
) -> Notification:
    now = deps.now()
    notification = Notification(
        id=new_id(now),
        company_id=company_id,
        kind=kind,
        title=title,
        message=message,
        created_at=now,
        data=data or {},
    )
    deps.notifications.add(notification)
    return notification


def publish(deps: Dependencies, detail_type: str, detail: dict[str, Any]) -> None:
    """Publishes one event; a failure is logged, never turned into a failed import (the data is already written)."""
    try:
        deps.events.publish(detail_type, detail)
    except Exception:  # noqa: BLE001 - the event is a courtesy; the stored state is the truth
        logger.exception("event not published", extra={"detail_type": detail_type})
        metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=1)  # its alarm watches this


def publish_all(deps: Dependencies, detail_type: str, details: list[dict[str, Any]]) -> None:
    """Publishes several events of one type in their order, ten to a `PutEvents` call (a 12-month reload's twelve
    tasks: two calls, not twelve). Each event not published is logged and counted as `publish` does; a failed call
    does not keep the next ones from being made."""
    for start in range(0, len(details), MAX_ENTRIES_PER_CALL):
        chunk = details[start : start + MAX_ENTRIES_PER_CALL]
        try:
            refused = deps.events.publish_all(detail_type, chunk)
        except Exception:  # noqa: BLE001 - the events are a courtesy; the stored state is the truth
            logger.exception("event not published", extra={"detail_type": detail_type, "events": len(chunk)})
            refused = len(chunk)
        else:
            if refused:
                logger.error("event not published", extra={"detail_type": detail_type, "events": refused})
        if refused:
            metrics.add_metric(name="EventsNotPublished", unit=MetricUnit.Count, value=refused)


def list_notifications(deps: Dependencies, company_id: str) -> list[Notification]:
    return deps.notifications.list(company_id)


def mark_read(deps: Dependencies, company_id: str, notification_id: str) -> Notification:
    found = deps.notifications.mark_read(company_id, notification_id, deps.now())
    if found is None:
        raise NotFound(f"There is no notification {notification_id!r} for this company.")
    return found
