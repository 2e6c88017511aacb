"""Resumable client imports in the jobs table: checkpoints, a lease per client, document counts, parked work.

Items:
- `pk = COMPANY#<companyId>`, `sk = CHECKPOINT#<clientId>#<workKey>`: the import's checkpoint (JSON in `data`),
  rewritten after every page (a reload's also when it ends, until its job counted the client); TTL 30 days (an
  abandoned import does not linger).
- `sk = LEASE#<clientId>`: who imports the client now, until when (conditional writes: a client's import never
  overlaps itself; an expired lease may be taken over).
- `sk = COUNTS#<clientId>`: documents per month per kind counted by the client's last completed import (planning
  figures for reservations and the reload's ETA).
- `pk = PARKED#<YYYY-MM-DD>` (the Tallinn day the quota renews), `sk = <companyId>#<clientId>#<workKey>`: work
  waiting for the daily quota, with its message; sent again that day, then deleted (`docs/reload.md`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError as BotoClientError

from smartaccounts_sync.adapters.batch_read import Read, read_all
from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.adapters.transact import Write
from smartaccounts_sync.domain.import_checkpoint import DocumentCounts, ImportCheckpoint

CHECKPOINT_TTL = dt.timedelta(days=30)
PARKED_TTL = dt.timedelta(days=14)


@dataclass(frozen=True)
class ParkedWork:
    company_id: str
    client_id: str
    work_key: str
    message: str  # the import work message to send again


class ImportProgressRepository(Protocol):
    def get_checkpoint(self, company_id: str, client_id: str, work_key: str) -> ImportCheckpoint | None: ...
    def put_checkpoint(self, checkpoint: ImportCheckpoint) -> None: ...
    def delete_checkpoint(self, company_id: str, client_id: str, work_key: str) -> None: ...
    def acquire_lease(
        self, company_id: str, client_id: str, owner: str, until: dt.datetime, now: dt.datetime
    ) -> bool: ...
    def release_lease(self, company_id: str, client_id: str, owner: str) -> None: ...
    def get_counts(self, company_id: str, client_id: str) -> DocumentCounts | None: ...
    def put_counts(self, company_id: str, client_id: str, counts: DocumentCounts) -> None: ...
    def counts_and_checkpoint(
        self, company_id: str, client_id: str, work_key: str
    ) -> tuple[DocumentCounts | None, ImportCheckpoint | None]:
        """`get_counts` and `get_checkpoint` in one read."""
    def finished_writes(
        self,
        company_id: str,
        client_id: str,
        work_key: str,
        counts: DocumentCounts,
        *,
        lease_owner: str,
        keep: ImportCheckpoint | None = None,
    ) -> list[Write]:
        """`put_counts`, `delete_checkpoint` (with `keep`: `checkpoint_write(keep)` instead) and `release_lease` as
        parts of a group (`adapters/transact.py`); the group is refused when the lease is no longer the owner's."""
    def checkpoint_write(self, checkpoint: ImportCheckpoint) -> Write:
        """`put_checkpoint` as a part of a group."""
    def park(self, work: ParkedWork, wake_on: dt.date) -> None:
        """Parks the work until `wake_on`; parking it again (the same wait, or a write sent again) changes nothing."""
    def parked(self, wake_on: dt.date) -> list[ParkedWork]: ...
    def unpark(self, work: ParkedWork, wake_on: dt.date) -> None:
        """Deletes the parked work once it was sent again; nothing when it is gone already (a delete sent again)."""


def _conditional_failed(error: BotoClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDbImportProgressRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name

    def _key(self, company_id: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": sk}}

    # --- checkpoints ---------------------------------------------------------------------------------------------
    def get_checkpoint(self, company_id: str, client_id: str, work_key: str) -> ImportCheckpoint | None:
        item = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, f"CHECKPOINT#{client_id}#{work_key}"), ConsistentRead=True
        ).get("Item")
        return ImportCheckpoint.model_validate_json(item["data"]["S"]) if item else None

    def _checkpoint_item(self, checkpoint: ImportCheckpoint) -> dict[str, Any]:
        key = self._key(checkpoint.company_id, f"CHECKPOINT#{checkpoint.client_id}#{checkpoint.work_key}")
        expires = int((checkpoint.updated_at + CHECKPOINT_TTL).timestamp())
        return {**key, "data": {"S": checkpoint.model_dump_json()}, "expiresAt": {"N": str(expires)}}

    def put_checkpoint(self, checkpoint: ImportCheckpoint) -> None:
        self._ddb.put_item(TableName=self._table, Item=self._checkpoint_item(checkpoint))

    def delete_checkpoint(self, company_id: str, client_id: str, work_key: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key=self._key(company_id, f"CHECKPOINT#{client_id}#{work_key}"))

    # --- lease ---------------------------------------------------------------------------------------------------
    def acquire_lease(self, company_id: str, client_id: str, owner: str, until: dt.datetime, now: dt.datetime) -> bool:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **self._key(company_id, f"LEASE#{client_id}"),
                    "owner": {"S": owner},
                    "leaseUntil": {"S": until.isoformat()},
                    "expiresAt": {"N": str(int(until.timestamp()) + 86400)},
                },
                ConditionExpression="attribute_not_exists(pk) OR leaseUntil < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"S": now.isoformat()}, ":owner": {"S": owner}},
            )
            return True
        except BotoClientError as error:
            if _conditional_failed(error):
                return False
            raise

    def release_lease(self, company_id: str, client_id: str, owner: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key=self._key(company_id, f"LEASE#{client_id}"),
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except BotoClientError as error:
            if not _conditional_failed(error):
                raise

    # --- counts --------------------------------------------------------------------------------------------------
    def get_counts(self, company_id: str, client_id: str) -> DocumentCounts | None:
        item = self._ddb.get_item(TableName=self._table, Key=self._key(company_id, f"COUNTS#{client_id}")).get("Item")
        return DocumentCounts.model_validate_json(item["data"]["S"]) if item else None

    def put_counts(self, company_id: str, client_id: str, counts: DocumentCounts) -> None:
        self._ddb.put_item(
            TableName=self._table,
            Item={**self._key(company_id, f"COUNTS#{client_id}"), "data": {"S": counts.model_dump_json()}},
        )

    def counts_and_checkpoint(
        self, company_id: str, client_id: str, work_key: str
    ) -> tuple[DocumentCounts | None, ImportCheckpoint | None]:
        def parse(model: type[DocumentCounts] | type[ImportCheckpoint]) -> Any:
            return lambda item: model.model_validate_json(item["data"]["S"]) if item else None

        counts, checkpoint = read_all(
            Read(parse(DocumentCounts), self._ddb, self._table, self._key(company_id, f"COUNTS#{client_id}")),
            Read(
                parse(ImportCheckpoint),
                self._ddb,
                self._table,
                self._key(company_id, f"CHECKPOINT#{client_id}#{work_key}"),
            ),
        )
        return counts, checkpoint

    def finished_writes(
        self,
        company_id: str,
        client_id: str,
        work_key: str,
        counts: DocumentCounts,
        *,
        lease_owner: str,
        keep: ImportCheckpoint | None = None,
    ) -> list[Write]:
        counts_item = self._key(company_id, f"COUNTS#{client_id}") | {"data": {"S": counts.model_dump_json()}}
        release = {
            "TableName": self._table,
            "Key": self._key(company_id, f"LEASE#{client_id}"),
            "ConditionExpression": "#o = :owner",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":owner": {"S": lease_owner}},
        }
        return [
            Write(part={"Put": {"TableName": self._table, "Item": counts_item}}),
            Write(part={"Delete": release}),
            Write(
                part={
                    "Delete": {
                        "TableName": self._table,
                        "Key": self._key(company_id, f"CHECKPOINT#{client_id}#{work_key}"),
                    }
                }
            )
            if keep is None
            else self.checkpoint_write(keep),
        ]

    def checkpoint_write(self, checkpoint: ImportCheckpoint) -> Write:
        return Write(part={"Put": {"TableName": self._table, "Item": self._checkpoint_item(checkpoint)}})

    # --- parked work ---------------------------------------------------------------------------------------------
    @staticmethod
    def _parked_key(work: ParkedWork, wake_on: dt.date) -> dict[str, Any]:
        return {
            "pk": {"S": f"PARKED#{wake_on.isoformat()}"},
            "sk": {"S": f"{work.company_id}#{work.client_id}#{work.work_key}"},
        }

    def park(self, work: ParkedWork, wake_on: dt.date) -> None:
        # one item per work and day, the same however often it is written: no condition, so a put whose answer was
        # lost and that botocore sent again is no different from the first
        expires = dt.datetime.combine(wake_on, dt.time(0), tzinfo=dt.UTC) + PARKED_TTL
        self._ddb.put_item(
            TableName=self._table,
            Item={
                **self._parked_key(work, wake_on),
                "companyId": {"S": work.company_id},
                "clientId": {"S": work.client_id},
                "workKey": {"S": work.work_key},
                "message": {"S": work.message},
                "expiresAt": {"N": str(int(expires.timestamp()))},
            },
        )

    def parked(self, wake_on: dt.date) -> list[ParkedWork]:
        found: list[ParkedWork] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"PARKED#{wake_on.isoformat()}"}},
            "ConsistentRead": True,
        }
        while True:
            answer = self._ddb.query(**kwargs)
            found.extend(
                ParkedWork(i["companyId"]["S"], i["clientId"]["S"], i["workKey"]["S"], i["message"]["S"])
                for i in answer.get("Items", [])
            )
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def unpark(self, work: ParkedWork, wake_on: dt.date) -> None:
        self._ddb.delete_item(TableName=self._table, Key=self._parked_key(work, wake_on))


class InMemoryImportProgressRepository:
    def __init__(self) -> None:
        self.checkpoints: dict[tuple[str, str, str], str] = {}
        self.leases: dict[tuple[str, str], tuple[str, dt.datetime]] = {}
        self.counts: dict[tuple[str, str], DocumentCounts] = {}
        self.parked_work: dict[dt.date, dict[tuple[str, str, str], ParkedWork]] = {}
        self.checkpoint_writes = 0

    def get_checkpoint(self, company_id: str, client_id: str, work_key: str) -> ImportCheckpoint | None:
        data = self.checkpoints.get((company_id, client_id, work_key))
        return ImportCheckpoint.model_validate_json(data) if data else None

    def put_checkpoint(self, checkpoint: ImportCheckpoint) -> None:
        self.checkpoint_writes += 1
        key = (checkpoint.company_id, checkpoint.client_id, checkpoint.work_key)
        self.checkpoints[key] = checkpoint.model_dump_json()

    def delete_checkpoint(self, company_id: str, client_id: str, work_key: str) -> None:
        self.checkpoints.pop((company_id, client_id, work_key), None)

    def acquire_lease(self, company_id: str, client_id: str, owner: str, until: dt.datetime, now: dt.datetime) -> bool:
        held = self.leases.get((company_id, client_id))
        if held is not None and held[0] != owner and held[1] >= now:
            return False
        self.leases[(company_id, client_id)] = (owner, until)
        return True

    def release_lease(self, company_id: str, client_id: str, owner: str) -> None:
        held = self.leases.get((company_id, client_id))
        if held is not None and held[0] == owner:
            del self.leases[(company_id, client_id)]

    def get_counts(self, company_id: str, client_id: str) -> DocumentCounts | None:
        return self.counts.get((company_id, client_id))

    def put_counts(self, company_id: str, client_id: str, counts: DocumentCounts) -> None:
        self.counts[(company_id, client_id)] = counts

    def counts_and_checkpoint(
        self, company_id: str, client_id: str, work_key: str
    ) -> tuple[DocumentCounts | None, ImportCheckpoint | None]:
        return self.get_counts(company_id, client_id), self.get_checkpoint(company_id, client_id, work_key)

    def finished_writes(
        self,
        company_id: str,
        client_id: str,
        work_key: str,
        counts: DocumentCounts,
        *,
        lease_owner: str,
        keep: ImportCheckpoint | None = None,
    ) -> list[Write]:
        return [
            Write(apply=lambda: self.put_counts(company_id, client_id, counts)),
            Write(
                holds=lambda: self.leases.get((company_id, client_id), ("",))[0] == lease_owner,
                apply=lambda: self.release_lease(company_id, client_id, lease_owner),
            ),
            Write(apply=lambda: self.delete_checkpoint(company_id, client_id, work_key))
            if keep is None
            else self.checkpoint_write(keep),
        ]

    def checkpoint_write(self, checkpoint: ImportCheckpoint) -> Write:
        key = (checkpoint.company_id, checkpoint.client_id, checkpoint.work_key)
        # a part of a group (one write with it), not a checkpoint stored on its own (`checkpoint_writes`)
        return Write(apply=lambda: self.checkpoints.__setitem__(key, checkpoint.model_dump_json()))

    def park(self, work: ParkedWork, wake_on: dt.date) -> None:
        self.parked_work.setdefault(wake_on, {})[(work.company_id, work.client_id, work.work_key)] = work

    def parked(self, wake_on: dt.date) -> list[ParkedWork]:
        return list(self.parked_work.get(wake_on, {}).values())

    def unpark(self, work: ParkedWork, wake_on: dt.date) -> None:
        self.parked_work.get(wake_on, {}).pop((work.company_id, work.client_id, work.work_key), None)
