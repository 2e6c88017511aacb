"""Reload jobs in the jobs table, with progress updated atomically by concurrent workers.

Items under `pk = COMPANY#<companyId>`:
- `RELOAD#<jobId>`: the job. Progress is native attributes so workers update it with single atomic writes:
  `clientsDone`, `callsUsed` and `callsExpected` (ADD), `doneClients` (a string set; a client already in it is not
  counted again, so a duplicate delivery changes nothing), `errors` (a map per client), `status` and times.
  `countWrite#<writer>`: the token of the last `ADD` to `callsUsed` (`add_calls`) by one writer (this repository in
  one thread: a worker container's). Each such write carries a new token and a condition refusing the token its
  writer last wrote: when a write is applied and its answer lost, botocore's retry (the identical request) is
  refused and taken as applied, so the calls count once instead of twice. A writer's writes follow one another, so
  nothing of its own comes between the two attempts; another writer's write has a slot of its own. The slot is
  removed when that writer counts a client (`client_done`), so an item holds the slots of the writers that reported
  calls since they last counted a client.
  `expected#<clientId>`: the calls expected of a client still running, as the job counts them in `callsExpected`
  (`expect_calls`), from its estimate's first refinement until the client is counted (`client_done` removes it:
  an item holds the figures of the clients in progress, not one per client of the job). A refinement is a
  compare-and-set: it sets the client's figure on condition that it still holds the one the worker last stored in
  its checkpoint (or none yet: the job then counts that one, the work's estimate at first), and moves
  `callsExpected` by the difference in the same write. So `callsExpected` is always the sum of the clients'
  figures: a retry of a write applied with its answer lost, or a delivery again after the Lambda stopped between
  the estimate and its checkpoint, finds the client's figure set already and adds nothing.
- `RELOAD_RUNNING`: the company's one running reload (a lock written in the same transaction as the job).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from typing import Any, Protocol

from botocore.exceptions import ClientError as BotoClientError

from smartaccounts_sync.adapters.integration_repository import company_pk
from smartaccounts_sync.domain.reload_job import ClientError, ReloadJob, ReloadStatus

JOB_TTL = dt.timedelta(days=90)
LOCK_TTL = dt.timedelta(days=3)
#: A condition on an open job (not finished), with the values it names.
OPEN = "#status IN (:queued, :running, :waiting)"
_OPEN_VALUES: dict[str, Any] = {
    ":queued": {"S": ReloadStatus.QUEUED.value},
    ":running": {"S": ReloadStatus.RUNNING.value},
    ":waiting": {"S": ReloadStatus.WAITING_FOR_QUOTA.value},
}


#: Compare-and-set attempts of one estimate (`expect_calls`): one is the rule; a second follows a figure written by an
#: earlier delivery; more only when two workers refine one client's estimate at the same moment.
_EXPECT_TRIES = 4


class ReloadJobRepository(Protocol):
    def start(self, job: ReloadJob) -> ReloadJob | None: ...
    def get(self, company_id: str, job_id: str) -> ReloadJob | None: ...
    def running(self, company_id: str) -> ReloadJob | None: ...
    def client_done(
        self, company_id: str, job_id: str, client_id: str, calls: int, error: ClientError | None, now: dt.datetime
    ) -> ReloadJob | None: ...
    def add_calls(self, company_id: str, job_id: str, calls: int) -> None:
        """callsUsed += calls, once however often the write is sent."""

    def expect_calls(self, company_id: str, job_id: str, client_id: str, expected: int, *, previous: int) -> None:
        """The client's calls expected are `expected` now; callsExpected moves by the difference to the client's figure
        on the job (`previous`, as the caller last stored it, unless the job holds another), once however often the
        write is sent or the work delivered."""

    def started(self, company_id: str, job_id: str, now: dt.datetime) -> None: ...
    def waiting_for_quota(self, company_id: str, job_id: str, resumes_at: dt.datetime) -> None: ...
    def finish(self, company_id: str, job_id: str, status: ReloadStatus, now: dt.datetime) -> bool: ...


class DynamoDbReloadJobRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._ddb = client
        self._table = table_name
        self._writers = threading.local()  # this repository's writer id in each thread (`_count_slot`)

    def _count_slot(self) -> str:
        """The job item's attribute holding the token of this writer's last count write (the module's docstring)."""
        writer = getattr(self._writers, "id", None)
        if writer is None:
            writer = self._writers.id = uuid.uuid4().hex[:16]
        return f"countWrite#{writer}"

    def _key(self, company_id: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": company_pk(company_id)}, "sk": {"S": sk}}

    # ------------------------------------------------------------------ read
    def get(self, company_id: str, job_id: str) -> ReloadJob | None:
        item = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, f"RELOAD#{job_id}"), ConsistentRead=True
        ).get("Item")
        return self._job(item) if item else None

    def running(self, company_id: str) -> ReloadJob | None:
        lock = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, "RELOAD_RUNNING"), ConsistentRead=True
        ).get("Item")
        if not lock or int(lock["expiresAt"]["N"]) < int(dt.datetime.now(dt.UTC).timestamp()):
            return None  # none, or left by a job that died (DynamoDB's TTL deletion may lag)
        job = self.get(company_id, lock["jobId"]["S"])
        return job if job and not job.status.finished else None

    @staticmethod
    def _job(item: dict[str, Any]) -> ReloadJob:
        static = json.loads(item["data"]["S"])

        def opt(name: str) -> str | None:
            value = item.get(name, {"NULL": True})
            return None if "NULL" in value else value["S"]

        return ReloadJob(
            **static,
            status=ReloadStatus(item["status"]["S"]),
            clients_total=int(item["clientsTotal"]["N"]),
            clients_done=int(item.get("clientsDone", {"N": "0"})["N"]),
            done_clients=sorted(item.get("doneClients", {"SS": []})["SS"]),
            errors={
                client: ClientError(kind=v["M"]["kind"]["S"], message=v["M"]["message"]["S"])
                for client, v in item.get("errors", {"M": {}})["M"].items()
            },
            calls_used=int(item.get("callsUsed", {"N": "0"})["N"]),
            calls_expected=int(item.get("callsExpected", {"N": "0"})["N"]),
            started_at=opt("startedAt"),
            finished_at=opt("finishedAt"),
            resumes_at=opt("resumesAt"),
        )

    # ------------------------------------------------------------------ write
    def start(self, job: ReloadJob) -> ReloadJob | None:
        """Creates the job unless the company already runs one; returns None when the lock is taken."""
        static = job.model_dump(
            mode="json",
            include={"job_id", "company_id", "scope", "client_ids", "window", "requested_by", "created_at"},
        )
        expires = int((job.created_at + JOB_TTL).timestamp())
        item = self._key(job.company_id, f"RELOAD#{job.job_id}") | {
            "data": {"S": json.dumps(static)},
            "status": {"S": job.status.value},
            "clientsTotal": {"N": str(job.clients_total)},
            "clientsDone": {"N": "0"},
            "callsUsed": {"N": "0"},
            "callsExpected": {"N": str(job.calls_expected)},
            "errors": {"M": {}},
            # no startedAt/finishedAt yet: the first finished client sets startedAt with if_not_exists
            "expiresAt": {"N": str(expires)},
        }
        lock = self._key(job.company_id, "RELOAD_RUNNING") | {
            "jobId": {"S": job.job_id},
            "expiresAt": {"N": str(int((job.created_at + LOCK_TTL).timestamp()))},
        }
        if self._put_with_lock(item, lock, job.created_at):
            return job
        # the lock is taken; when the job holding it has ended (its worker stopped before it freed the lock), it is
        # freed and the job started once more
        if self._free_lock_of_ended_job(job.company_id) and self._put_with_lock(item, lock, job.created_at):
            return job
        return None

    def _put_with_lock(self, item: dict[str, Any], lock: dict[str, Any], now: dt.datetime) -> bool:
        """The job and the company's lock in one transaction; False when the lock is taken."""
        try:
            self._ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": lock,
                            # a lock left by a crashed job expires; DynamoDB's TTL deletion may lag, so check too
                            "ConditionExpression": "attribute_not_exists(pk) OR expiresAt < :now",
                            "ExpressionAttributeValues": {":now": {"N": str(int(now.timestamp()))}},
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": item}},
                ]
            )
        except BotoClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    def _free_lock_of_ended_job(self, company_id: str) -> bool:
        """Deletes the company's lock when the job holding it has ended (the worker that ended it stopped before it
        could free the lock); True when the lock is free now."""
        lock = self._ddb.get_item(
            TableName=self._table, Key=self._key(company_id, "RELOAD_RUNNING"), ConsistentRead=True
        ).get("Item")
        if not lock:
            return True  # freed meanwhile
        holder = self.get(company_id, lock["jobId"]["S"])
        if holder is not None and not holder.status.finished:
            return False
        self._free_lock(company_id, lock["jobId"]["S"])
        return True

    def client_done(
        self, company_id: str, job_id: str, client_id: str, calls: int, error: ClientError | None, now: dt.datetime
    ) -> ReloadJob | None:
        """Counts a client once; returns the updated job, or None when this client was already counted."""
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":calls": {"N": str(calls)},
            ":client": {"SS": [client_id]},
            ":client_id": {"S": client_id},
            ":now": {"S": now.isoformat()},
            **_OPEN_VALUES,
        }
        update = (
            "ADD clientsDone :one, callsUsed :calls, doneClients :client "
            "SET #status = :running, startedAt = if_not_exists(startedAt, :now)"
        )
        if error is not None:
            names["#client"] = client_id
            values[":error"] = {"M": {"kind": {"S": error.kind}, "message": {"S": error.message}}}
            update += ", errors.#client = :error"
        names["#slot"] = self._count_slot()
        names["#expected"] = f"expected#{client_id}"
        # this writer's count writes so far are done with, and the client's estimate is final (the module's docstring)
        update += " REMOVE #slot, #expected"
        try:
            item = self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, f"RELOAD#{job_id}"),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND NOT contains(doneClients, :client_id) AND {OPEN}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return self._job(item)

    def add_calls(self, company_id: str, job_id: str, calls: int) -> None:
        """callsUsed += calls: SmartAccounts calls of a client not counted yet (progress, a stop, a retry)."""
        if calls:
            self._count(company_id, job_id, "ADD callsUsed :n", calls)

    def expect_calls(self, company_id: str, job_id: str, client_id: str, expected: int, *, previous: int) -> None:
        """The client's estimate was refined (pages counted, a stop, the client finished): its figure on the job
        becomes `expected` and callsExpected moves by the difference, in one compare-and-set (the module's docstring).

        The first attempt assumes the job holds `previous` for the client, the figure in the caller's checkpoint (a
        client without a figure yet is counted at that: the work's estimate, which the job started with, until the
        first refinement is stored): no read, one write. When the job holds another figure (an earlier delivery's
        write, applied before the Lambda stopped short of storing its checkpoint; or this very write, applied with its
        answer lost and sent again by botocore), the refusal returns the item: nothing more is written when it holds
        `expected` already, else the write is made again from the figure found. A refusal without an item (no such
        job) raises as it did."""
        slot = f"expected#{client_id}"
        held = previous
        for attempt in range(_EXPECT_TRIES):
            if held == expected:
                return
            try:
                self._ddb.update_item(
                    TableName=self._table,
                    Key=self._key(company_id, f"RELOAD#{job_id}"),
                    UpdateExpression="ADD callsExpected :delta SET #client = :expected",
                    ConditionExpression="attribute_exists(pk) AND (#client = :held OR attribute_not_exists(#client))",
                    ExpressionAttributeNames={"#client": slot},
                    ExpressionAttributeValues={
                        ":delta": {"N": str(expected - held)},
                        ":expected": {"N": str(expected)},
                        ":held": {"N": str(held)},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except BotoClientError as failure:
                if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                item = failure.response.get("Item")
                if not item or slot not in item or attempt == _EXPECT_TRIES - 1:
                    raise
                held = int(item[slot]["N"])

    def _count(self, company_id: str, job_id: str, update: str, n: int) -> None:
        """An `ADD` to the job applied once: the write carries a new token, remembered in this writer's slot, and is
        refused when the slot holds it already. A refusal finding this token there is botocore's retry of this very
        write, whose first attempt was applied with its answer lost: taken as applied. Any other refusal (no such
        job) raises as it did."""
        slot = self._count_slot()
        token = uuid.uuid4().hex
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, f"RELOAD#{job_id}"),
                UpdateExpression=f"{update} SET #slot = :token",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#slot) OR #slot <> :token)",
                ExpressionAttributeNames={"#slot": slot},
                ExpressionAttributeValues={":n": {"N": str(n)}, ":token": {"S": token}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            if failure.response.get("Item", {}).get(slot, {}).get("S") != token:
                raise

    def started(self, company_id: str, job_id: str, now: dt.datetime) -> None:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, f"RELOAD#{job_id}"),
                # a job waiting for the quota runs again when a woken client starts
                UpdateExpression="SET #status = :running, startedAt = if_not_exists(startedAt, :now) REMOVE resumesAt",
                ConditionExpression=OPEN,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":now": {"S": now.isoformat()}, **_OPEN_VALUES},
            )
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def waiting_for_quota(self, company_id: str, job_id: str, resumes_at: dt.datetime) -> None:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, f"RELOAD#{job_id}"),
                UpdateExpression="SET #status = :waiting, resumesAt = :resumes",
                ConditionExpression=OPEN,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":resumes": {"S": resumes_at.isoformat()}, **_OPEN_VALUES},
            )
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def finish(self, company_id: str, job_id: str, status: ReloadStatus, now: dt.datetime) -> bool:
        """Moves the job to its final status once (True for the one caller that did it) and frees the lock.

        The write carries a token of this call: when its answer is lost and botocore's retry finds the job ended,
        the token on the item says whether this call ended it (then it is still this caller's: it notifies)."""
        token = uuid.uuid4().hex
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=self._key(company_id, f"RELOAD#{job_id}"),
                UpdateExpression="SET #status = :final, finishedAt = :now, resumesAt = :null, finishedBy = :token",
                ConditionExpression=OPEN,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":final": {"S": status.value},
                    ":now": {"S": now.isoformat()},
                    ":null": {"NULL": True},
                    ":token": {"S": token},
                    **_OPEN_VALUES,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            if failure.response.get("Item", {}).get("finishedBy", {}).get("S") != token:
                return False  # another caller ended it (or there is no such job)
        self._free_lock(company_id, job_id)
        return True

    def _free_lock(self, company_id: str, job_id: str) -> None:
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key=self._key(company_id, "RELOAD_RUNNING"),
                ConditionExpression="jobId = :job",
                ExpressionAttributeValues={":job": {"S": job_id}},
            )
        except BotoClientError as failure:
            if failure.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


class InMemoryReloadJobRepository:
    """The same semantics in memory, for unit tests (no answer is lost here: each report of calls counts once, as
    the DynamoDB repository's does; `test_the_in_memory_fake_counts_as_dynamodb_does`)."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], ReloadJob] = {}
        self.locks: dict[str, str] = {}
        self.expected: dict[tuple[str, str, str], int] = {}  # a running client's calls expected, once refined

    def start(self, job: ReloadJob) -> ReloadJob | None:
        if job.company_id in self.locks:
            return None
        self.locks[job.company_id] = job.job_id
        self.jobs[(job.company_id, job.job_id)] = job
        return job

    def get(self, company_id: str, job_id: str) -> ReloadJob | None:
        return self.jobs.get((company_id, job_id))

    def running(self, company_id: str) -> ReloadJob | None:
        job_id = self.locks.get(company_id)
        return self.jobs.get((company_id, job_id)) if job_id else None

    def client_done(
        self, company_id: str, job_id: str, client_id: str, calls: int, error: ClientError | None, now: dt.datetime
    ) -> ReloadJob | None:
        job = self.jobs.get((company_id, job_id))
        if job is None or client_id in job.done_clients or job.status.finished:
            return None
        errors = {**job.errors, client_id: error} if error else job.errors
        self.expected.pop((company_id, job_id, client_id), None)
        job = job.model_copy(
            update={
                "clients_done": job.clients_done + 1,
                "done_clients": sorted([*job.done_clients, client_id]),
                "calls_used": job.calls_used + calls,
                "errors": errors,
                "status": ReloadStatus.RUNNING,
                "started_at": job.started_at or now,
            }
        )
        self.jobs[(company_id, job_id)] = job
        return job

    def add_calls(self, company_id: str, job_id: str, calls: int) -> None:
        job = self.jobs[(company_id, job_id)]
        self.jobs[(company_id, job_id)] = job.model_copy(update={"calls_used": job.calls_used + calls})

    def expect_calls(self, company_id: str, job_id: str, client_id: str, expected: int, *, previous: int) -> None:
        """As DynamoDB's compare-and-set ends: the client's figure (`previous` until set) becomes `expected`, the job's
        total moves by the difference."""
        job = self.jobs[(company_id, job_id)]
        held = self.expected.get((company_id, job_id, client_id), previous)
        self.expected[(company_id, job_id, client_id)] = expected
        self.jobs[(company_id, job_id)] = job.model_copy(
            update={"calls_expected": job.calls_expected + expected - held}
        )

    def started(self, company_id: str, job_id: str, now: dt.datetime) -> None:
        job = self.jobs[(company_id, job_id)]
        if not job.status.finished:
            self.jobs[(company_id, job_id)] = job.model_copy(
                update={"status": ReloadStatus.RUNNING, "started_at": job.started_at or now, "resumes_at": None}
            )

    def waiting_for_quota(self, company_id: str, job_id: str, resumes_at: dt.datetime) -> None:
        job = self.jobs[(company_id, job_id)]
        if not job.status.finished:
            self.jobs[(company_id, job_id)] = job.model_copy(
                update={"status": ReloadStatus.WAITING_FOR_QUOTA, "resumes_at": resumes_at}
            )

    def finish(self, company_id: str, job_id: str, status: ReloadStatus, now: dt.datetime) -> bool:
        job = self.jobs[(company_id, job_id)]
        if job.status.finished:
            return False
        self.jobs[(company_id, job_id)] = job.model_copy(
            update={"status": status, "finished_at": now, "resumes_at": None}
        )
        if self.locks.get(company_id) == job_id:
            del self.locks[company_id]
        return True
