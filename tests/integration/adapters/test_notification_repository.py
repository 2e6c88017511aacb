"""Notifications in DynamoDB (the moto server, tables from the template): one stored per notification, also when the
write's answer is lost and botocore sends it again."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from smartaccounts_sync.adapters.notification_repository import DynamoDbNotificationRepository
from smartaccounts_sync.domain.sync_records import Notification, NotificationKind
from tests.support.lost_answers import AnswerLost

pytestmark = pytest.mark.integration


def test_a_notification_whose_answer_is_lost_is_stored_once_and_no_error_is_raised(tables, aws) -> None:
    company = f"uku-{uuid.uuid4().hex[:6]}"
    lossy = AnswerLost(aws("dynamodb"), "put_item")
    notification = Notification(
        id=f"20261101T090000-{uuid.uuid4().hex[:6]}",
        company_id=company,
        kind=NotificationKind.RELOAD_COMPLETED,
        title="Reload data finished",
        message="Reload data finished for 1 of 1 client(s).",
        created_at=dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC),
        data={},
    )
    DynamoDbNotificationRepository(lossy, tables["ConfigTable"]).add(notification)
    assert lossy.lost == 1
    stored = DynamoDbNotificationRepository(aws("dynamodb"), tables["ConfigTable"]).list(company)
    assert [n.id for n in stored] == [notification.id]
