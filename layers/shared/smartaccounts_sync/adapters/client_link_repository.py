"""Client links and the short-lived SmartAccounts company-list cache, in the configuration table.

Items under `pk = COMPANY#<companyId>`: `LINK#<clientId>` (one per linked client) and `SA_COMPANIES#<keyHash>`
(the company list a key pair sees, with `expiresAt` for DynamoDB's TTL and an explicit freshness check).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

from botocore.exceptions import ClientError

from smartaccounts_sync.adapters.batch_read import Read
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.keys import item_key
from smartaccounts_sync.adapters.transact import Write
from smartaccounts_sync.domain.client_link import ClientLink


class ClientLinkRepository(Protocol):
    def get(self, company_id: str, client_id: str) -> ClientLink | None: ...
    def get_read(self, company_id: str, client_id: str) -> Read: ...
    def list(self, company_id: str) -> list[ClientLink]: ...
    def put(self, company_id: str, link: ClientLink) -> None: ...
    def update(self, company_id: str, link: ClientLink) -> bool: ...
    def update_write(self, company_id: str, link: ClientLink, seen: ClientLink) -> Write: ...
    def delete(self, company_id: str, client_id: str) -> None: ...
    def cached_companies(self, company_id: str, cache_key: str, now: dt.datetime) -> list[dict] | None: ...
    def cache_companies(
        self, company_id: str, cache_key: str, companies: list[dict], now: dt.datetime, ttl: dt.timedelta
    ) -> None: ...


def _data(link: ClientLink) -> str:
    """The link as stored. Without a latest import the field is left out, so a link written before there was one reads
    and writes back to the very same text (`update_write`'s condition compares it)."""
    return link.model_dump_json(exclude={"latest_import"} if link.latest_import is None else None)


class DynamoDbClientLinkRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def _key(self, company_id: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": sk}}

    def get(self, company_id: str, client_id: str) -> ClientLink | None:
        item = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, item_key("LINK", client_id)), ConsistentRead=True
        ).get("Item")
        return ClientLink.model_validate_json(item["data"]["S"]) if item else None

    def get_read(self, company_id: str, client_id: str) -> Read:
        """`get` as one read of a batch (`adapters/batch_read.py`)."""

        def parse(item: dict[str, Any] | None) -> ClientLink | None:
            return ClientLink.model_validate_json(item["data"]["S"]) if item else None

        return Read(parse, self._ddb, self._table, self._key(company_id, item_key("LINK", client_id)))

    def list(self, company_id: str) -> list[ClientLink]:
        links: list[ClientLink] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :link)",
            "ExpressionAttributeValues": {":pk": {"S": company_pk(company_id)}, ":link": {"S": "LINK#"}},
            "ConsistentRead": True,
        }
        while True:
            page = self._ddb.query(**kwargs)
            links += [ClientLink.model_validate_json(i["data"]["S"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return links
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put(self, company_id: str, link: ClientLink) -> None:
        """A user's link or relink: replaces whatever was there."""
        self._ddb.put_item(TableName=self._table, Item=self._item(company_id, link))

    def update(self, company_id: str, link: ClientLink) -> bool:
        """A background change (import bookkeeping, health) to the same link: False when the client was unlinked or
        relinked meanwhile, so such a write never brings back or overrides what the user did."""
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=self._item(company_id, link),
                ConditionExpression="linkedAt = :linked",
                ExpressionAttributeValues={":linked": {"S": link.linked_at.isoformat()}},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update_write(self, company_id: str, link: ClientLink, seen: ClientLink) -> Write:
        """`update` as part of a group (`adapters/transact.py`), made from the link as read earlier (`seen`): refused
        when the link is no longer exactly that (unlinked, relinked, or changed by anyone meanwhile)."""
        return Write(
            part={
                "Put": {
                    "TableName": self._table,
                    "Item": self._item(company_id, link),
                    "ConditionExpression": "linkedAt = :linked AND #d = :seen",
                    "ExpressionAttributeNames": {"#d": "data"},
                    "ExpressionAttributeValues": {
                        ":linked": {"S": seen.linked_at.isoformat()},
                        ":seen": {"S": _data(seen)},
                    },
                }
            }
        )

    def _item(self, company_id: str, link: ClientLink) -> dict[str, Any]:
        return self._key(company_id, item_key("LINK", link.client_id)) | {
            "data": {"S": _data(link)},
            "linkedAt": {"S": link.linked_at.isoformat()},
        }

    def delete(self, company_id: str, client_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key=self._key(company_id, item_key("LINK", client_id)))

    def cached_companies(self, company_id: str, cache_key: str, now: dt.datetime) -> list[dict] | None:
        item = self._ddb.get_item(TableName=self._table, Key=self._key(company_id, f"SA_COMPANIES#{cache_key}")).get(
            "Item"
        )
        if not item or int(item["expiresAt"]["N"]) <= int(now.timestamp()):
            return None
        return json.loads(item["data"]["S"])

    def cache_companies(
        self, company_id: str, cache_key: str, companies: list[dict], now: dt.datetime, ttl: dt.timedelta
    ) -> None:
        item = self._key(company_id, f"SA_COMPANIES#{cache_key}") | {
            "data": {"S": json.dumps(companies)},
            "expiresAt": {"N": str(int((now + ttl).timestamp()))},
        }
        self._ddb.put_item(TableName=self._table, Item=item)


class InMemoryClientLinkRepository:
    """The same behaviour in memory, for unit tests."""

    def __init__(self) -> None:
        self.links: dict[tuple[str, str], ClientLink] = {}
        self.cache: dict[tuple[str, str], tuple[list[dict], dt.datetime]] = {}

    def get(self, company_id: str, client_id: str) -> ClientLink | None:
        return self.links.get((company_id, client_id))

    def get_read(self, company_id: str, client_id: str) -> Read:
        return Read(value=lambda: self.get(company_id, client_id))

    def list(self, company_id: str) -> list[ClientLink]:
        return [link for (c, _), link in self.links.items() if c == company_id]

    def put(self, company_id: str, link: ClientLink) -> None:
        self.links[(company_id, link.client_id)] = link

    def update(self, company_id: str, link: ClientLink) -> bool:
        current = self.links.get((company_id, link.client_id))
        if current is None or current.linked_at != link.linked_at:
            return False
        self.links[(company_id, link.client_id)] = link
        return True

    def update_write(self, company_id: str, link: ClientLink, seen: ClientLink) -> Write:
        def apply() -> None:
            self.links[(company_id, link.client_id)] = link

        return Write(holds=lambda: self.links.get((company_id, link.client_id)) == seen, apply=apply)

    def delete(self, company_id: str, client_id: str) -> None:
        self.links.pop((company_id, client_id), None)

    def cached_companies(self, company_id: str, cache_key: str, now: dt.datetime) -> list[dict] | None:
        entry = self.cache.get((company_id, cache_key))
        return entry[0] if entry and entry[1] > now else None

    def cache_companies(
        self, company_id: str, cache_key: str, companies: list[dict], now: dt.datetime, ttl: dt.timedelta
    ) -> None:
        self.cache[(company_id, cache_key)] = (companies, now + ttl)
