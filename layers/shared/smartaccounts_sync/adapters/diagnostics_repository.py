"""The last troubleshooting report per company in the configuration table: `pk = COMPANY#<companyId>`,
`sk = DIAGNOSTICS`, the report as JSON in `data`. Overwritten by every live check of an owner or admin."""

from __future__ import annotations

from typing import Any, Protocol

from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.domain.diagnostics import DiagnosticsReport

SORT_KEY = "DIAGNOSTICS"


class DiagnosticsRepository(Protocol):
    def save(self, report: DiagnosticsReport) -> None: ...
    def last(self, company_id: str) -> DiagnosticsReport | None: ...


class DynamoDbDiagnosticsRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def save(self, report: DiagnosticsReport) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": company_pk(report.company_id)},
                "sk": {"S": SORT_KEY},
                "data": {"S": report.model_dump_json(exclude={"live"})},
            },
        )

    def last(self, company_id: str) -> DiagnosticsReport | None:
        item = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": company_pk(company_id)}, "sk": {"S": SORT_KEY}}
        ).get("Item")
        return DiagnosticsReport.model_validate_json(item["data"]["S"]) if item else None
