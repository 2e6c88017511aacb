"""The embedded default store of Uku's topics, custom task fields and clients (configuration table).

Items under `pk = COMPANY#<companyId>`: `TOPIC#<id>`, `FIELD#<id>`, `CLIENT#<id>`, plus `NAME#<kind>#<name>`
guards so that two custom fields or topics of one company cannot share a name (written in one transaction), and
`OWNER` (the company owner's user id: summary tasks of clients without a default user are assigned to them).
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from smartaccounts_sync.adapters.batch_read import Read
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.keys import item_key
from smartaccounts_sync.domain.uku import CustomTaskField, Topic, UkuClient
from smartaccounts_sync.errors import Conflict

M = TypeVar("M", bound=BaseModel)


class UkuStore(Protocol):
    def list_topics(self, company_id: str) -> list[Topic]: ...
    def get_topic(self, company_id: str, topic_id: str) -> Topic | None: ...
    def create_topic(self, company_id: str, name: str) -> Topic: ...
    def list_custom_fields(self, company_id: str) -> list[CustomTaskField]: ...
    def get_custom_field(self, company_id: str, field_id: str) -> CustomTaskField | None: ...
    def create_custom_field(self, company_id: str, name: str, type: str) -> CustomTaskField: ...
    def list_clients(self, company_id: str) -> list[UkuClient]: ...
    def get_client(self, company_id: str, client_id: str) -> UkuClient | None: ...
    def create_client(self, company_id: str, client: UkuClient) -> UkuClient: ...
    def company_owner(self, company_id: str) -> str | None: ...
    def client_and_owner_reads(self, company_id: str, client_id: str) -> tuple[Read, Read]:
        """`get_client` and `company_owner` as reads of a batch (`adapters/batch_read.py`)."""
    def set_company_owner(self, company_id: str, user_id: str) -> None: ...


class DynamoDbUkuStore:
    _KINDS = {Topic: "TOPIC", CustomTaskField: "FIELD", UkuClient: "CLIENT"}

    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    # -------------------------------------------------------------- generic
    def _list(self, company_id: str, model: type[M]) -> list[M]:
        kind = self._KINDS[model]
        items: list[M] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :kind)",
            "ExpressionAttributeValues": {":pk": {"S": company_pk(company_id)}, ":kind": {"S": f"{kind}#"}},
        }
        while True:
            page = self._ddb.query(**kwargs)
            items += [model.model_validate_json(i["data"]["S"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda m: m.name.lower())  # type: ignore[attr-defined]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _get(self, company_id: str, model: type[M], item_id: str) -> M | None:
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": item_key(self._KINDS[model], item_id)}},
        ).get("Item")
        return model.model_validate_json(item["data"]["S"]) if item else None

    def _put_unique(self, company_id: str, value: BaseModel, unique_name: bool) -> None:
        kind = self._KINDS[type(value)]
        pk = {"S": company_pk(company_id)}
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {"pk": pk, "sk": {"S": item_key(kind, value.id)}, "data": {"S": value.model_dump_json()}},  # type: ignore[attr-defined]
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if unique_name:
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {"pk": pk, "sk": {"S": f"NAME#{kind}#{value.name.casefold()}"}},  # type: ignore[attr-defined]
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self._ddb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise Conflict(f"A {kind.lower()} with this name or id already exists.") from None
            raise

    # -------------------------------------------------------------- port
    def list_topics(self, company_id: str) -> list[Topic]:
        return self._list(company_id, Topic)

    def get_topic(self, company_id: str, topic_id: str) -> Topic | None:
        return self._get(company_id, Topic, topic_id)

    def create_topic(self, company_id: str, name: str) -> Topic:
        topic = Topic(id=f"topic-{uuid.uuid4().hex[:12]}", name=name)
        self._put_unique(company_id, topic, unique_name=True)
        return topic

    def list_custom_fields(self, company_id: str) -> list[CustomTaskField]:
        return self._list(company_id, CustomTaskField)

    def get_custom_field(self, company_id: str, field_id: str) -> CustomTaskField | None:
        return self._get(company_id, CustomTaskField, field_id)

    def create_custom_field(self, company_id: str, name: str, type: str) -> CustomTaskField:
        created = CustomTaskField(id=f"field-{uuid.uuid4().hex[:12]}", name=name, type=type)  # type: ignore[arg-type]
        self._put_unique(company_id, created, unique_name=True)
        return created

    def list_clients(self, company_id: str) -> list[UkuClient]:
        return self._list(company_id, UkuClient)

    def get_client(self, company_id: str, client_id: str) -> UkuClient | None:
        return self._get(company_id, UkuClient, client_id)

    def create_client(self, company_id: str, client: UkuClient) -> UkuClient:
        self._put_unique(company_id, client, unique_name=False)
        return client

    def company_owner(self, company_id: str) -> str | None:
        item = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": "OWNER"}}
        ).get("Item")
        return item["userId"]["S"] if item else None

    def client_and_owner_reads(self, company_id: str, client_id: str) -> tuple[Read, Read]:
        pk = {"S": company_pk(company_id)}
        return (
            Read(
                lambda item: UkuClient.model_validate_json(item["data"]["S"]) if item else None,
                self._ddb,
                self._table,
                {"pk": pk, "sk": {"S": item_key(self._KINDS[UkuClient], client_id)}},
            ),
            Read(
                lambda item: item["userId"]["S"] if item else None,
                self._ddb,
                self._table,
                {"pk": pk, "sk": {"S": "OWNER"}},
            ),
        )

    def set_company_owner(self, company_id: str, user_id: str) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={"pk": {"S": company_pk(company_id)}, "sk": {"S": "OWNER"}, "userId": {"S": user_id}},
        )


class InMemoryUkuStore:
    """The same behaviour in memory, for unit tests."""

    def __init__(self) -> None:
        self.topics: dict[tuple[str, str], Topic] = {}
        self.fields: dict[tuple[str, str], CustomTaskField] = {}
        self.clients: dict[tuple[str, str], UkuClient] = {}
        self.owners: dict[str, str] = {}

    def list_topics(self, company_id: str) -> list[Topic]:
        return [t for (c, _), t in self.topics.items() if c == company_id]

    def get_topic(self, company_id: str, topic_id: str) -> Topic | None:
        return self.topics.get((company_id, topic_id))

    def create_topic(self, company_id: str, name: str) -> Topic:
        if any(t.name.casefold() == name.casefold() for t in self.list_topics(company_id)):
            raise Conflict("A topic with this name already exists.")
        topic = Topic(id=f"topic-{uuid.uuid4().hex[:8]}", name=name)
        self.topics[(company_id, topic.id)] = topic
        return topic

    def list_custom_fields(self, company_id: str) -> list[CustomTaskField]:
        return [f for (c, _), f in self.fields.items() if c == company_id]

    def get_custom_field(self, company_id: str, field_id: str) -> CustomTaskField | None:
        return self.fields.get((company_id, field_id))

    def create_custom_field(self, company_id: str, name: str, type: str) -> CustomTaskField:
        created = CustomTaskField(id=f"field-{uuid.uuid4().hex[:8]}", name=name, type=type)
        self.fields[(company_id, created.id)] = created
        return created

    def list_clients(self, company_id: str) -> list[UkuClient]:
        return [c for (co, _), c in self.clients.items() if co == company_id]

    def get_client(self, company_id: str, client_id: str) -> UkuClient | None:
        return self.clients.get((company_id, client_id))

    def create_client(self, company_id: str, client: UkuClient) -> UkuClient:
        self.clients[(company_id, client.id)] = client
        return client

    def company_owner(self, company_id: str) -> str | None:
        return self.owners.get(company_id)

    def client_and_owner_reads(self, company_id: str, client_id: str) -> tuple[Read, Read]:
        client = Read(value=lambda: self.get_client(company_id, client_id))
        return client, Read(value=lambda: self.company_owner(company_id))

    def set_company_owner(self, company_id: str, user_id: str) -> None:
        self.owners[company_id] = user_id
