"""Sync history in the SyncHistoryTable: `pk = COMPANY#<companyId>`, `sk = HISTORY#<clientId>#<iso time>#<id>`.

Attributes: id, clientId, at, reason, jobId, months [YYYY-MM], values {YYYY-MM: {key: N}}, tasksChanged, callsUsed,
outcome, errorKind, message, and `expiresAt` (epoch seconds, DynamoDB TTL, about 400 days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.keys import item_key
from smartaccounts_sync.adapters.transact import Write, apply_in_memory, transact
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.sync_records import HISTORY_RETENTION, ImportOutcome, SyncHistoryEntry

_SER = TypeSerializer()
_DES = TypeDeserializer()


class SyncHistoryRepository(Protocol):
    def add(self, entry: SyncHistoryEntry, also: Sequence[Write] = ()) -> bool:
        """Writes the entry, with `also` in the same all-or-nothing transaction. False (nothing written) when a
        condition of `also` refused it."""
    def list(self, company_id: str, client_id: str, limit: int = 50) -> list[SyncHistoryEntry]: ...


def _sk(entry: SyncHistoryEntry) -> str:
    return f"{item_key('HISTORY', entry.client_id)}#{entry.at.astimezone(dt.UTC).isoformat()}#{entry.id}"


class DynamoDbSyncHistoryRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def add(self, entry: SyncHistoryEntry, also: Sequence[Write] = ()) -> bool:
        plain: dict[str, Any] = {
            "pk": company_pk(entry.company_id),
            "sk": _sk(entry),
            "id": entry.id,
            "clientId": entry.client_id,
            "at": entry.at.isoformat(),
            "reason": entry.reason,
            "months": [str(m) for m in entry.months],
            "values": entry.values,
            "tasksChanged": entry.tasks_changed,
            "callsUsed": entry.calls_used,
            "outcome": entry.outcome.value,
            "queries": entry.queries,
            "expiresAt": int((entry.at + HISTORY_RETENTION).timestamp()),
        }
        for key, value in (("jobId", entry.job_id), ("errorKind", entry.error_kind), ("message", entry.message)):
            if value is not None:
                plain[key] = value
        item = {k: _SER.serialize(v) for k, v in plain.items()}
        if not also:
            self._ddb.put_item(TableName=self._table, Item=item)
            return True
        parts = [{"Put": {"TableName": self._table, "Item": item}}]
        return transact(self._ddb, parts + [w.part for w in also if w.part is not None])

    def list(self, company_id: str, client_id: str, limit: int = 50) -> list[SyncHistoryEntry]:
        page = self._ddb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": company_pk(company_id)},
                ":prefix": {"S": item_key("HISTORY", client_id) + "#"},
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        entries = []
        for item in page.get("Items", []):
            plain = {k: _DES.deserialize(v) for k, v in item.items()}
            entries.append(
                SyncHistoryEntry(
                    id=plain["id"],
                    company_id=company_id,
                    client_id=plain["clientId"],
                    at=dt.datetime.fromisoformat(plain["at"]),
                    reason=plain["reason"],
                    job_id=plain.get("jobId"),
                    months=[YearMonth.parse(m) for m in plain.get("months") or []],
                    values=plain.get("values") or {},
                    tasks_changed=int(plain.get("tasksChanged", 0)),
                    calls_used=int(plain.get("callsUsed", 0)),
                    outcome=ImportOutcome(plain["outcome"]),
                    error_kind=plain.get("errorKind"),
                    message=plain.get("message"),
                    queries=[
                        {k: (int(v) if k in _INT_QUERY_FIELDS else v) for k, v in q.items()}
                        for q in plain.get("queries") or []
                    ],
                )
            )
        return entries


_INT_QUERY_FIELDS = frozenset({"pages", "calls", "documents"})


class InMemorySyncHistoryRepository:
    def __init__(self) -> None:
        self.entries: list[SyncHistoryEntry] = []

    def add(self, entry: SyncHistoryEntry, also: Sequence[Write] = ()) -> bool:
        if not apply_in_memory(also):
            return False
        self.entries.append(entry)
        return True

    def list(self, company_id: str, client_id: str, limit: int = 50) -> list[SyncHistoryEntry]:
        mine = [e for e in self.entries if e.company_id == company_id and e.client_id == client_id]
        return sorted(mine, key=lambda e: e.at, reverse=True)[:limit]
