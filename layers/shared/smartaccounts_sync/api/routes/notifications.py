"""Company notifications: connection failing, reload ready, export failed; list and mark read."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.models import IdPath, Out
from smartaccounts_sync.domain.sync_records import Notification
from smartaccounts_sync.service import notifications

router = APIGatewayHttpRouter()
TAGS = ["Notifications"]


class NotificationOut(Out):
    id: str
    kind: Literal["CONNECTION_FAILING", "RELOAD_COMPLETED", "EXPORT_FAILED"]
    title: str
    message: str
    created_at: dt.datetime
    read: bool
    read_at: dt.datetime | None = None
    data: dict[str, Any]


class NotificationsOut(Out):
    notifications: list[NotificationOut]
    unread: int


def notification_out(n: Notification) -> NotificationOut:
    return NotificationOut(
        id=n.id,
        kind=n.kind.value,
        title=n.title,
        message=n.message,
        created_at=n.created_at,
        read=n.read_at is not None,
        read_at=n.read_at,
        data=n.data,
    )


@router.get("/notifications", summary="Company notifications, newest first", tags=TAGS)
def list_notifications() -> NotificationsOut:
    deps, who = dependencies(router), caller(router)
    found = notifications.list_notifications(deps, who.company_id)
    return NotificationsOut(
        notifications=[notification_out(n) for n in found], unread=sum(1 for n in found if n.read_at is None)
    )


@router.post("/notifications/<notificationId>/read", summary="Mark a notification read", tags=TAGS)
def read_notification(notificationId: IdPath) -> NotificationOut:
    return notification_out(notifications.mark_read(dependencies(router), caller(router).company_id, notificationId))
