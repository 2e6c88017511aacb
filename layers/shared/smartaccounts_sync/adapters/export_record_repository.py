"""Export records and buyer links in the configuration table.

- Export record: `pk = COMPANY#<companyId>`, `sk = INVOICE#<invoiceId>`; the record as JSON in `data`, its `status`
  and a `version` number. Every write is conditional: the first write of an invoice on the item not existing, every
  later one on the version read, so of two workers only one claims an invoice (the other sees the claim).
- Buyer link: `pk = COMPANY#<companyId>`, `sk = BUYER#<ukuClientId>`, `smartAccountsClientId`: the SmartAccounts
  client an Uku client's invoices go to, so the next invoice costs no look-up. Before the link exists, the same item
  holds the claim of the export creating that buyer (`creatingOwner`, `creatingUntil`, epoch seconds): two
  invoices of one new Uku client exported at the same moment create one buyer, not two.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from smartaccounts_sync.adapters.conditional_put import put_conditionally, version_condition
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.service.export_ports import BuyerClaim

if TYPE_CHECKING:
    from smartaccounts_sync.domain.invoice_export import ExportRecord

# The export domain (the invoice event's and the export record's models) is imported where a record is read: every
# function wires this repository, few of them export invoices.

INVOICE_PREFIX = "INVOICE#"
BUYER_PREFIX = "BUYER#"


def _conflict(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoDbExportRecordRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def _key(self, company_id: str, invoice_id: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": f"{INVOICE_PREFIX}{invoice_id}"}}

    @staticmethod
    def _parse(item: dict[str, Any]) -> ExportRecord:
        from smartaccounts_sync.domain.invoice_export import ExportRecord

        record = ExportRecord.model_validate_json(item["data"]["S"])
        return record.model_copy(update={"version": int(item["version"]["N"])})

    def get(self, company_id: str, invoice_id: str) -> ExportRecord | None:
        item = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, invoice_id), ConsistentRead=True
        ).get("Item")
        return self._parse(item) if item else None

    def save(self, record: ExportRecord) -> ExportRecord:
        """Writes the record if nobody wrote it since it was read (version 0: if it does not exist); else CONFLICT."""
        saved = record.model_copy(update={"version": record.version + 1})
        item = self._key(record.company_id, record.invoice_id) | {
            "data": {"S": saved.model_dump_json(exclude={"version"})},
            "status": {"S": saved.status.value},
            "version": {"N": str(saved.version)},
        }
        # its own write applied with the answer lost and sent again by botocore is not "changed meanwhile"
        if not put_conditionally(self._ddb, TableName=self._table, Item=item, **version_condition(record.version)):
            raise Conflict(f"The export record of invoice {record.invoice_id} was changed meanwhile.")
        return saved

    def exported(self, company_id: str) -> list[ExportRecord]:
        """The company's EXPORTED records (the paid-status run picks those still awaiting payment)."""
        from smartaccounts_sync.domain.invoice_export import ExportStatus

        records: list[ExportRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "#status = :exported",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pk": {"S": company_pk(company_id)},
                ":prefix": {"S": INVOICE_PREFIX},
                ":exported": {"S": ExportStatus.EXPORTED.value},
            },
        }
        while True:
            page = self._ddb.query(**kwargs)
            records += [self._parse(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoDbBuyerLinkRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def _key(self, company_id: str, uku_client_id: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": f"{BUYER_PREFIX}{uku_client_id}"}}

    def get(self, company_id: str, uku_client_id: str) -> str | None:
        item = self._ddb.get_item(TableName=self._table, Key=self._key(company_id, uku_client_id)).get("Item")
        return item["smartAccountsClientId"]["S"] if item and "smartAccountsClientId" in item else None

    def claim_creation(
        self, company_id: str, uku_client_id: str, owner: str, until: dt.datetime, now: dt.datetime
    ) -> BuyerClaim:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, uku_client_id),
                UpdateExpression="SET creatingOwner = :owner, creatingUntil = :until",
                ConditionExpression="attribute_not_exists(smartAccountsClientId) AND (attribute_not_exists("
                "creatingUntil) OR creatingUntil < :now OR creatingOwner = :owner)",
                ExpressionAttributeValues={
                    ":owner": {"S": owner},
                    ":until": {"N": str(int(until.timestamp()))},
                    ":now": {"N": str(int(now.timestamp()))},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _conflict(error):
                raise
            item = error.response.get("Item") or {}
            return BuyerClaim(
                granted=False,
                linked=item.get("smartAccountsClientId", {}).get("S"),
                holder=item.get("creatingOwner", {}).get("S"),
            )
        return BuyerClaim(granted=True)

    def put(self, company_id: str, uku_client_id: str, smartaccounts_client_id: str) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item=self._key(company_id, uku_client_id) | {"smartAccountsClientId": {"S": smartaccounts_client_id}},
        )
