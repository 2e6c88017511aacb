"""The company integration record in the configuration table, written with optimistic locking.

Item: `pk = COMPANY#<companyId>`, `sk = INTEGRATION`, the record as JSON in `data`, a `version` number, and -
while imports are due for the company - `importDue = "DUE"` with `nextImportDate`, the keys of the
`ImportDueByDate` index that the scheduled import queries instead of scanning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from smartaccounts_sync.adapters import keys
from smartaccounts_sync.adapters.batch_read import Read
from smartaccounts_sync.adapters.conditional_put import put_conditionally, version_condition
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.errors import Conflict

IMPORT_DUE = "DUE"
IMPORT_DUE_INDEX = "ImportDueByDate"


def company_pk(company_id: str) -> str:
    return keys.company_pk(company_id)


class IntegrationRepository(Protocol):
    def get(self, company_id: str) -> CompanyIntegration: ...

    def get_read(self, company_id: str) -> Read:
        """`get` as one read of a batch (`adapters/batch_read.py`)."""

    def save(self, integration: CompanyIntegration) -> CompanyIntegration: ...

    def companies_due(self, on: dt.date) -> list[str]: ...


def _record(company_id: str, item: dict[str, Any] | None) -> CompanyIntegration:
    if item is None:
        return CompanyIntegration(company_id=company_id)
    record = CompanyIntegration.model_validate_json(item["data"]["S"])
    return record.model_copy(update={"version": int(item["version"]["N"])})


class DynamoDbIntegrationRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def get(self, company_id: str) -> CompanyIntegration:
        item = self._ddb.get_item(
            TableName=self._table,
            Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": "INTEGRATION"}},
            ConsistentRead=True,
        ).get("Item")
        return _record(company_id, item)

    def get_read(self, company_id: str) -> Read:
        key = {"pk": {"S": company_pk(company_id)}, "sk": {"S": "INTEGRATION"}}
        return Read(lambda item: _record(company_id, item), self._ddb, self._table, key)

    def save(self, integration: CompanyIntegration) -> CompanyIntegration:
        """Writes the record if nobody changed it since it was read (same version); else CONFLICT."""
        saved = integration.model_copy(update={"version": integration.version + 1})
        item: dict[str, Any] = {
            "pk": {"S": company_pk(integration.company_id)},
            "sk": {"S": "INTEGRATION"},
            "data": {"S": saved.model_dump_json(exclude={"version"})},
            "version": {"N": str(saved.version)},
        }
        if saved.enabled and saved.settings is not None and saved.next_import_date is not None:
            item["importDue"] = {"S": IMPORT_DUE}
            item["nextImportDate"] = {"S": saved.next_import_date.isoformat()}
        # its own write applied with the answer lost and sent again by botocore is not "someone else"
        if not put_conditionally(self._ddb, TableName=self._table, Item=item, **version_condition(integration.version)):
            raise Conflict(
                "The SmartAccounts integration was changed by someone else meanwhile; reload it and try again."
            )
        return saved

    def companies_due(self, on: dt.date) -> list[str]:
        companies: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": IMPORT_DUE_INDEX,
            "KeyConditionExpression": "importDue = :due AND nextImportDate <= :on",
            "ExpressionAttributeValues": {":due": {"S": IMPORT_DUE}, ":on": {"S": on.isoformat()}},
        }
        while True:
            page = self._ddb.query(**kwargs)
            companies += [keys.company_of_pk(item["pk"]["S"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return companies
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class InMemoryIntegrationRepository:
    def __init__(self) -> None:
        self.records: dict[str, CompanyIntegration] = {}

    def get(self, company_id: str) -> CompanyIntegration:
        return self.records.get(company_id, CompanyIntegration(company_id=company_id)).model_copy()

    def get_read(self, company_id: str) -> Read:
        return Read(value=lambda: self.get(company_id))

    def save(self, integration: CompanyIntegration) -> CompanyIntegration:
        current = self.records.get(integration.company_id)
        if (current.version if current else 0) != integration.version:
            raise Conflict("The SmartAccounts integration was changed by someone else meanwhile.")
        saved = integration.model_copy(update={"version": integration.version + 1})
        self.records[integration.company_id] = saved
        return saved

    def companies_due(self, on: dt.date) -> list[str]:
        return sorted(
            r.company_id
            for r in self.records.values()
            if r.enabled and r.settings and r.next_import_date and r.next_import_date <= on
        )
