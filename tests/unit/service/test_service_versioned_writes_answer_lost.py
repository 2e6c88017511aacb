"""Writes conditioned on the version read, applied with their answer lost (`tests/support/lost_answers.py`): botocore
sends the same put again, its condition fails on the item the first attempt wrote. The write is this call's own,
not another writer's: the caller goes on as after a plain success (the announcement it owes is made, no false 409).
Real DynamoDB adapters on in-process moto; another writer's item must still be a conflict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from smartaccounts_sync.adapters.integration_repository import DynamoDbIntegrationRepository
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import ConnectionStatus, SummaryTaskSettings
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.service import connection, summary_task_settings
from smartaccounts_sync.smartaccounts.errors import ErrorKind
from tests.support.lost_answers import AnswerLost

CO = "uku-co-1"
REGION = "eu-north-1"
SAMPLE = Path(__file__).resolve().parents[3] / "events" / "invoice_export" / "eventbridge-invoice-issued.json"
T0 = dt.datetime(2026, 11, 30, 18, tzinfo=dt.UTC)


def _table(client, name: str, *, due_index: bool = False) -> None:
    """As `template.yaml` declares `ConfigTable` (with its `ImportDueByDate` index) and `SummaryTasksTable`."""
    keys = ["pk", "sk"] + (["importDue", "nextImportDate"] if due_index else [])
    kwargs = {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in keys],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if due_index:
        kwargs["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "ImportDueByDate",
                "KeySchema": [
                    {"AttributeName": "importDue", "KeyType": "HASH"},
                    {"AttributeName": "nextImportDate", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    client.create_table(**kwargs)


@pytest.fixture
def ddb():
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        _table(client, "config", due_index=True)
        _table(client, "tasks")
        yield client


def _integration_answer_lost(deps, ddb, when) -> AnswerLost:
    lost = AnswerLost(ddb, "put_item", when=when)
    deps.integrations = DynamoDbIntegrationRepository(lost, "config")
    return lost


def _connection_is(status: str):
    return lambda kwargs: f'"status":"{status}"' in kwargs["Item"]["data"]["S"]


# --- connection: failing and restored ------------------------------------------------------------------------------
def test_connection_failing_is_announced_when_its_write_answer_was_lost(deps, fake_sa, ddb) -> None:
    deps.integrations = DynamoDbIntegrationRepository(ddb, "config")
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    lost = _integration_answer_lost(deps, ddb, _connection_is("FAILING"))
    fake_sa.fail("firm-key-0001", ErrorKind.CREDENTIALS_REVOKED)

    # When the key is refused and the write marking the connection failing is applied, its answer lost
    with pytest.raises(connection.SmartAccountsProblem):
        connection.test_connection(deps, CO)

    # Then the transition is announced once, as after a plain write, and the record was written once
    assert lost.lost == 1
    record = deps.integrations.get(CO)
    assert record.connection.status is ConnectionStatus.FAILING and record.version == 3  # enable, key, failing
    (failing,) = deps.events.of_type("ConnectionFailing")
    assert failing["reason"] == "CREDENTIALS_REVOKED"
    assert [n.kind.value for n in deps.notifications.list(CO)] == ["CONNECTION_FAILING"]


def test_connection_restored_is_announced_when_its_write_answer_was_lost(deps, fake_sa, ddb) -> None:
    deps.integrations = DynamoDbIntegrationRepository(ddb, "config")
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    fake_sa.fail("firm-key-0001", ErrorKind.CREDENTIALS_REVOKED)
    with pytest.raises(connection.SmartAccountsProblem):
        connection.test_connection(deps, CO)
    lost = _integration_answer_lost(deps, ddb, _connection_is("CONNECTED"))
    fake_sa.accounts["firm-key-0001"].error = None

    # When the key works again and the write marking the connection restored is applied, its answer lost
    assert connection.test_connection(deps, CO).company_name == "Alpha OÜ"

    # Then `ConnectionRestored` is published with the failure it ends
    assert lost.lost == 1
    assert deps.integrations.get(CO).connection.status is ConnectionStatus.CONNECTED
    (restored,) = deps.events.of_type("ConnectionRestored")
    assert restored["previousReason"] == "CREDENTIALS_REVOKED"


def test_another_writers_integration_record_is_still_a_conflict(ddb) -> None:
    repository = DynamoDbIntegrationRepository(AnswerLost(ddb, "put_item", times=0), "config")
    created = repository.save(repository.get(CO))
    first, second = repository.get(CO), repository.get(CO)
    repository.save(first.model_copy(update={"enabled": True}))
    # the same version written by another writer with other data: refused
    with pytest.raises(Conflict):
        repository.save(second.model_copy(update={"enabled": False, "last_import_at": T0}))
    assert repository.get(CO).enabled is True and repository.get(CO).version == created.version + 1


# --- settings: no false 409 -----------------------------------------------------------------------------------------
def test_settings_saved_with_the_answer_lost_are_saved_not_a_conflict(deps, ddb) -> None:
    deps.integrations = DynamoDbIntegrationRepository(ddb, "config")
    connection.enable(deps, CO)
    topic = deps.uku.create_topic(CO, "Bookkeeping")
    sales = deps.uku.create_custom_field(CO, "Sales", "number")
    version = deps.integrations.get(CO).version
    lost = _integration_answer_lost(deps, ddb, lambda kwargs: '"settings":{' in kwargs["Item"]["data"]["S"])
    settings = SummaryTaskSettings(
        task_title="Summary {month}",
        topic_id=topic.id,
        import_day=ImportDay.last_calendar_day(),
        field_mapping={"saleEntries": sales.id},
    )

    # When the save is applied with its answer lost
    saved = summary_task_settings.save_settings(deps, CO, settings, expected_version=version)

    # Then it is saved (no 409 for a change that was made), once
    assert lost.lost == 1
    assert saved.record.version == version + 1 and saved.mapping_changed
    assert deps.integrations.get(CO) == saved.record
