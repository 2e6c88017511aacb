"""Imported VAT registers in the configuration table: `pk = COMPANY#<companyId>`, `sk = VAT_TYPES` (the register as
JSON in `data`), and one marker per company under `pk = VAT_REGISTERS`, `sk = COMPANY#<companyId>`, so the daily
refresh finds every company with a register by one query instead of a scan."""

from __future__ import annotations

from typing import Any

from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.domain.vat_types import VatRegister

REGISTER_SK = "VAT_TYPES"
MARKER_PK = "VAT_REGISTERS"


class DynamoDbVatTypeRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def get(self, company_id: str) -> VatRegister | None:
        item = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": REGISTER_SK}}
        ).get("Item")
        return VatRegister.model_validate_json(item["data"]["S"]) if item else None

    def save(self, register: VatRegister) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": company_pk(register.company_id)},
                "sk": {"S": REGISTER_SK},
                "data": {"S": register.model_dump_json()},
            },
        )
        self._ddb.put_item(
            TableName=self._table,
            Item={"pk": {"S": MARKER_PK}, "sk": {"S": company_pk(register.company_id)}},
        )

    def companies(self) -> list[str]:
        companies: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": MARKER_PK}},
        }
        while True:
            page = self._ddb.query(**kwargs)
            companies += [item["sk"]["S"].removeprefix("COMPANY#") for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return companies
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
