"""Summary tasks in the SummaryTasksTable: `pk = COMPANY#<companyId>`, `sk = TASK#<clientId>#<YYYY-MM>`.

Plain attributes (numbers as DynamoDB Numbers): clientId, month, title, topicId, recurrence, periodStart, periodEnd,
assigneeId, fieldValues {customFieldId: N}, values {smartAccountsKey: N}, computedAt, version, createdAt, updatedAt.
Writes are conditional: a new task must not exist yet, an update must find the version it read and no later
`computedAt`; otherwise `StaleWrite` and the caller reads again (a put that botocore sent again after its answer was
lost finds its own task and is no `StaleWrite`: `adapters/conditional_put.py`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from smartaccounts_sync.adapters.conditional_put import put_conditionally
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.keys import company_of_pk, item_key
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.task_record import SummaryTask

_SER = TypeSerializer()
MAX_TRANSACTION_ITEMS = 100
_DES = TypeDeserializer()


class StaleWrite(Exception):
    """The task changed since it was read (another version or later values)."""


class SummaryTaskRepository(Protocol):
    def get(self, company_id: str, client_id: str, month: YearMonth) -> SummaryTask | None: ...
    def put(self, task: SummaryTask, expected_version: int) -> None: ...
    def put_all(self, writes: list[tuple[SummaryTask, int]]) -> None: ...
    def list(self, company_id: str, client_id: str, first: YearMonth, last: YearMonth) -> list[SummaryTask]: ...


def task_sk(client_id: str, month: YearMonth) -> str:
    return item_key("TASK", client_id, str(month))


def _to_item(task: SummaryTask) -> dict[str, Any]:
    plain: dict[str, Any] = {
        "pk": company_pk(task.company_id),
        "sk": task_sk(task.client_id, task.month),
        "clientId": task.client_id,
        "month": str(task.month),
        "title": task.title,
        "topicId": task.topic_id,
        "recurrence": task.recurrence,
        "periodStart": task.period_start.isoformat(),
        "periodEnd": task.period_end.isoformat(),
        "fieldValues": {k: Decimal(v) for k, v in task.field_values.items()},
        "values": {k: Decimal(v) for k, v in task.values.items()},
        "computedAt": task.computed_at.isoformat(),
        "version": task.version,
    }
    if task.assignee_id:
        plain["assigneeId"] = task.assignee_id
    if task.created_at:
        plain["createdAt"] = task.created_at.isoformat()
    if task.updated_at:
        plain["updatedAt"] = task.updated_at.isoformat()
    return {key: _SER.serialize(value) for key, value in plain.items()}


def _from_item(item: dict[str, Any]) -> SummaryTask:
    plain = {key: _DES.deserialize(value) for key, value in item.items()}
    return SummaryTask(
        company_id=company_of_pk(plain["pk"]),
        client_id=plain["clientId"],
        month=YearMonth.parse(plain["month"]),
        title=plain["title"],
        topic_id=plain["topicId"],
        recurrence=plain.get("recurrence", "MONTHLY"),
        period_start=dt.date.fromisoformat(plain["periodStart"]),
        period_end=dt.date.fromisoformat(plain["periodEnd"]),
        assignee_id=plain.get("assigneeId"),
        field_values=dict(plain.get("fieldValues") or {}),
        values=dict(plain.get("values") or {}),
        computed_at=dt.datetime.fromisoformat(plain["computedAt"]),
        version=int(plain["version"]),
        created_at=dt.datetime.fromisoformat(plain["createdAt"]) if plain.get("createdAt") else None,
        updated_at=dt.datetime.fromisoformat(plain["updatedAt"]) if plain.get("updatedAt") else None,
    )


class DynamoDbSummaryTaskRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def get(self, company_id: str, client_id: str, month: YearMonth) -> SummaryTask | None:
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": task_sk(client_id, month)}},
            ConsistentRead=True,
        ).get("Item")
        return _from_item(item) if item else None

    def _conditional_put(self, task: SummaryTask, expected_version: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": _to_item(task)}
        if expected_version == 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            # ISO times of one service in UTC compare as strings
            kwargs["ConditionExpression"] = "version = :read AND computedAt <= :computed"
            kwargs["ExpressionAttributeValues"] = {
                ":read": {"N": str(expected_version)},
                ":computed": {"S": task.computed_at.isoformat()},
            }
        return kwargs

    def put(self, task: SummaryTask, expected_version: int) -> None:
        # its own write applied with the answer lost and sent again by botocore is not stale (as a transaction sent
        # again with its ClientRequestToken is not)
        if not put_conditionally(self._ddb, **self._conditional_put(task, expected_version)):
            raise StaleWrite(str(task.month))

    def put_all(self, writes: list[tuple[SummaryTask, int]]) -> None:
        """Every write or none, each under its own condition, in one call (a transaction of up to 100)."""
        if len(writes) == 1:
            self.put(*writes[0])
            return
        for start in range(0, len(writes), MAX_TRANSACTION_ITEMS):
            chunk = writes[start : start + MAX_TRANSACTION_ITEMS]
            try:
                self._ddb.transact_write_items(
                    TransactItems=[{"Put": self._conditional_put(task, version)} for task, version in chunk]
                )
            except ClientError as error:
                if error.response["Error"]["Code"] in ("TransactionCanceledException", "TransactionConflictException"):
                    raise StaleWrite(", ".join(str(task.month) for task, _ in chunk)) from None
                raise

    def list(self, company_id: str, client_id: str, first: YearMonth, last: YearMonth) -> list[SummaryTask]:
        tasks: list[SummaryTask] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": company_pk(company_id)},
                ":first": {"S": task_sk(client_id, first)},
                ":last": {"S": task_sk(client_id, last)},
            },
            "ConsistentRead": True,
        }
        while True:
            page = self._ddb.query(**kwargs)
            tasks += [_from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return tasks
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class InMemorySummaryTaskRepository:
    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str, YearMonth], SummaryTask] = {}
        self.writes = 0

    def get(self, company_id: str, client_id: str, month: YearMonth) -> SummaryTask | None:
        return self.tasks.get((company_id, client_id, month))

    def put(self, task: SummaryTask, expected_version: int) -> None:
        key = (task.company_id, task.client_id, task.month)
        current = self.tasks.get(key)
        if (current.version if current else 0) != expected_version or (
            current is not None and current.computed_at > task.computed_at
        ):
            raise StaleWrite(str(task.month))
        self.tasks[key] = task
        self.writes += 1

    def put_all(self, writes: list[tuple[SummaryTask, int]]) -> None:
        for task, expected_version in writes:
            current = self.tasks.get((task.company_id, task.client_id, task.month))
            if (current.version if current else 0) != expected_version or (
                current is not None and current.computed_at > task.computed_at
            ):
                raise StaleWrite(str(task.month))
        for task, expected_version in writes:
            self.put(task, expected_version)

    def list(self, company_id: str, client_id: str, first: YearMonth, last: YearMonth) -> list[SummaryTask]:
        return sorted(
            (t for (c, cl, m), t in self.tasks.items() if c == company_id and cl == client_id and first <= m <= last),
            key=lambda t: t.month,
        )
