"""Company notifications in the configuration table: `pk = COMPANY#<companyId>`, `sk = NOTIFICATION#<id>`.

Ids start with the creation time, so the sort key orders notifications by time. Attributes: data (the notification
as JSON), readAt (set when read), expiresAt (epoch seconds, DynamoDB TTL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from botocore.exceptions import ClientError

from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.domain.sync_records import NOTIFICATION_RETENTION, Notification


class NotificationRepository(Protocol):
    def add(self, notification: Notification) -> None: ...
    def list(self, company_id: str, limit: int = 100) -> list[Notification]: ...
    def mark_read(self, company_id: str, notification_id: str, at: dt.datetime) -> Notification | None: ...


class DynamoDbNotificationRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def _key(self, company_id: str, notification_id: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": f"NOTIFICATION#{notification_id}"}}

    def add(self, notification: Notification) -> None:
        item = self._key(notification.company_id, notification.id) | {
            "data": {"S": notification.model_dump_json()},
            "expiresAt": {"N": str(int((notification.created_at + NOTIFICATION_RETENTION).timestamp()))},
        }
        try:
            self._ddb.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            # ids are the creation time and a random tail: an item with this id is this notification, stored by
            # this write's first attempt (applied, its answer lost, and botocore's retry found it)
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    @staticmethod
    def _parse(item: dict[str, Any]) -> Notification:
        notification = Notification.model_validate_json(item["data"]["S"])
        if "readAt" in item:
            notification = notification.model_copy(
                update={"read_at": dt.datetime.fromisoformat(item["readAt"]["S"])}
            )
        return notification

    def list(self, company_id: str, limit: int = 100) -> list[Notification]:
        page = self._ddb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": company_pk(company_id)}, ":prefix": {"S": "NOTIFICATION#"}},
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [self._parse(item) for item in page.get("Items", [])]

    def mark_read(self, company_id: str, notification_id: str, at: dt.datetime) -> Notification | None:
        try:
            updated = self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, notification_id),
                UpdateExpression="SET readAt = if_not_exists(readAt, :at)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":at": {"S": at.isoformat()}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return self._parse(updated["Attributes"])


class InMemoryNotificationRepository:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Notification] = {}

    def add(self, notification: Notification) -> None:
        self.items[(notification.company_id, notification.id)] = notification

    def list(self, company_id: str, limit: int = 100) -> list[Notification]:
        mine = [n for (c, _), n in self.items.items() if c == company_id]
        return sorted(mine, key=lambda n: n.id, reverse=True)[:limit]

    def mark_read(self, company_id: str, notification_id: str, at: dt.datetime) -> Notification | None:
        current = self.items.get((company_id, notification_id))
        if current is None:
            return None
        if current.read_at is None:
            current = current.model_copy(update={"read_at": at})
            self.items[(company_id, notification_id)] = current
        return current
