"""All months of a client in one read and one all-or-nothing write (DynamoDB via in-process moto)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import boto3
import pytest
from moto import mock_aws

from smartaccounts_sync.adapters.summary_task_repository import DynamoDbSummaryTaskRepository
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.service.summary_tasks import upsert_all
from tests.support.fakes import in_memory_dependencies
from tests.support.summary_tasks import T0, proposal

MONTHS = [YearMonth(2026, 9), YearMonth(2026, 10), YearMonth(2026, 11)]


class CountingClient:
    def __init__(self, client) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self._client, name)


@pytest.fixture
def repository():
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-north-1")
        ddb.create_table(
            TableName="tasks",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            BillingMode="PAY_PER_REQUEST",
        )
        counting = CountingClient(ddb)
        yield DynamoDbSummaryTaskRepository(counting, "tasks"), counting


def test_three_months_are_one_read_and_one_write(repository) -> None:
    repo, counting = repository
    deps = in_memory_dependencies(summary_tasks=repo)
    # When a client's three months are upserted
    written = upsert_all(deps, [proposal(m, 3) for m in MONTHS])
    # Then one query read them and one transaction wrote all three, each announced
    assert written == 3
    assert counting.calls == ["query", "transact_write_items"]
    assert [t.version for t in repo.list("c", "k", MONTHS[0], MONTHS[-1])] == [1, 1, 1]
    assert len(deps.events.of_type("SummaryTaskUpdated")) == 3
    # and the same values again cost the read only
    counting.calls.clear()
    assert upsert_all(deps, [proposal(m, 3, T0 + dt.timedelta(hours=1)) for m in MONTHS]) == 0
    assert counting.calls == ["query"]


def test_a_month_changed_meanwhile_writes_none_then_all_on_a_fresh_read(repository) -> None:
    repo, _counting = repository
    deps = in_memory_dependencies(summary_tasks=repo)
    upsert_all(deps, [proposal(m, 1) for m in MONTHS])
    real_list = repo.list
    raced = []

    def list_then_race(*args):
        found = real_list(*args)
        if not raced:  # another writer changes October between our read and our write
            raced.append(True)
            october = next(t for t in found if t.month == MONTHS[1])
            repo.put(october.model_copy(update={"version": october.version + 1}), expected_version=october.version)
        return found

    repo.list = list_then_race  # type: ignore[method-assign]
    written = upsert_all(deps, [proposal(m, 2, T0 + dt.timedelta(hours=1)) for m in MONTHS])
    # Then the first transaction was refused as a whole and the second, on a fresh read, wrote all three
    assert written == 3
    tasks = real_list("c", "k", MONTHS[0], MONTHS[-1])
    assert [t.field_values["f1"] for t in tasks] == [Decimal(2)] * 3
    assert [t.version for t in tasks] == [2, 3, 2]
