"""Writes conditioned on the version read, applied with their answer lost (`tests/support/lost_answers.py`): botocore
sends the same put again, its condition fails on the item the first attempt wrote. The write is this call's own,
not another writer's: the caller goes on as after a plain success (the announcement it owes is made, no false 409).
Real DynamoDB adapters on in-process moto; another writer's item must still be a conflict."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from smartaccounts_sync.adapters import aws_clients
from smartaccounts_sync.adapters.conditional_put import put_conditionally
from smartaccounts_sync.adapters.export_record_repository import DynamoDbExportRecordRepository
from smartaccounts_sync.adapters.integration_repository import DynamoDbIntegrationRepository
from smartaccounts_sync.adapters.summary_task_repository import DynamoDbSummaryTaskRepository, StaleWrite
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import ConnectionStatus, SummaryTaskSettings
from smartaccounts_sync.domain.invoice_export import ExportRecord, ExportStatus, PaymentStatus, SmartAccountsInvoice
from smartaccounts_sync.domain.invoice_issued import parse_invoice_issued
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.service import connection, payment_status, summary_task_settings
from smartaccounts_sync.service.summary_tasks import upsert, upsert_all
from smartaccounts_sync.smartaccounts.errors import ErrorKind
from tests.support.lost_answers import AnswerLost
from tests.support.summary_tasks import proposal

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


# --- summary tasks: one month and many ------------------------------------------------------------------------------
def test_one_months_task_written_with_the_answer_lost_is_counted_and_announced(deps, ddb) -> None:
    lost = AnswerLost(ddb, "put_item")
    deps.summary_tasks = DynamoDbSummaryTaskRepository(lost, "tasks")

    # When one month's task is written (the one-item put, not a transaction) and the answer is lost
    written = upsert_all(deps, [proposal(YearMonth(2026, 11), "1.50", company_id=CO)])

    # Then it counts as written and `SummaryTaskUpdated` is published, as for several months at once
    assert lost.lost == 1 and written == 1
    (event,) = deps.events.of_type("SummaryTaskUpdated")
    assert event["created"] is True and event["version"] == 1


def test_upsert_of_a_changed_task_with_the_answer_lost_is_announced(deps, ddb) -> None:
    deps.summary_tasks = DynamoDbSummaryTaskRepository(ddb, "tasks")
    upsert(deps, proposal(YearMonth(2026, 11), "1", company_id=CO))
    lost = AnswerLost(ddb, "put_item")
    deps.summary_tasks = DynamoDbSummaryTaskRepository(lost, "tasks")

    assert upsert(deps, proposal(YearMonth(2026, 11), "2.10", T0 + dt.timedelta(hours=1), company_id=CO)) is True

    assert lost.lost == 1
    updated = deps.events.of_type("SummaryTaskUpdated")
    assert [(e["version"], e["values"]["invoices"]) for e in updated] == [(1, 1), (2, 2.1)]


def test_another_writers_task_is_still_stale(ddb) -> None:
    repository = DynamoDbSummaryTaskRepository(ddb, "tasks")
    month = YearMonth(2026, 11)
    repository.put(proposal(month, "1", company_id=CO).model_copy(update={"version": 1}), expected_version=0)
    # another writer's version 2 with other values: this writer's version 2 is refused
    repository.put(proposal(month, "2", company_id=CO).model_copy(update={"version": 2}), expected_version=1)
    with pytest.raises(StaleWrite):
        repository.put(proposal(month, "3", company_id=CO).model_copy(update={"version": 2}), expected_version=1)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs):
        yield self._body


def test_several_months_sent_again_by_botocore_with_their_token_are_counted_and_announced(deps) -> None:
    # Several months are one TransactWriteItems. botocore fills in its ClientRequestToken once per call, so its retry
    # of a transaction whose answer was lost carries the same token, and DynamoDB answers that as done (idempotent
    # for 10 minutes). moto does not model the token, so this stands in for DynamoDB: the first attempt is applied
    # by moto and its answer replaced by a 500; a retry with a token seen before is answered as done.
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION, config=aws_clients._config())  # the ports' retries
        _table(client, "tasks")
        tokens: list[str] = []

        def dynamodb_with_the_first_answer_lost(request, **_kwargs):
            token = json.loads(request.body)["ClientRequestToken"]
            seen = token in tokens
            tokens.append(token)
            if not seen:
                return AWSResponse(request.url, 500, {}, _Raw(b'{"__type":"InternalServerError","message":"lost"}'))
            return AWSResponse(request.url, 200, {}, _Raw(b"{}"))

        client.meta.events.register_first(
            "before-send.dynamodb.TransactWriteItems", dynamodb_with_the_first_answer_lost
        )
        deps.summary_tasks = DynamoDbSummaryTaskRepository(client, "tasks")

        written = upsert_all(deps, [proposal(YearMonth(2026, m), "1", company_id=CO) for m in (10, 11)])

        assert len(tokens) == 2 and tokens[0] == tokens[1]  # sent again, with the same token
        assert written == 2 and len(deps.events.of_type("SummaryTaskUpdated")) == 2
        assert [t.version for t in deps.summary_tasks.list(CO, "k", YearMonth(2026, 10), YearMonth(2026, 11))] == [1, 1]


# --- payment status -------------------------------------------------------------------------------------------------
class _PaidInFull:
    """The company's SmartAccounts: no invoice is unpaid any more."""

    calls_made = 0

    def unpaid_client_invoices(self, date_from: dt.date) -> list:
        self.calls_made += 1
        return []


def test_payment_status_change_with_the_answer_lost_is_announced(deps, ddb, fake_sa) -> None:
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    deps.smartaccounts = lambda credentials, company=None: _PaidInFull()
    invoice = parse_invoice_issued(json.loads(SAMPLE.read_text(encoding="utf-8"))["detail"] | {"companyId": CO})
    lost = AnswerLost(ddb, "put_item", when=lambda kwargs: '"status":"PAID"' in kwargs["Item"]["data"]["S"])
    deps.exports = DynamoDbExportRecordRepository(lost, "config")
    deps.exports.save(
        ExportRecord(
            company_id=CO,
            invoice_id=invoice.invoice_id,
            number=invoice.number,
            kind=invoice.kind,
            status=ExportStatus.EXPORTED,
            smartaccounts=SmartAccountsInvoice(invoice_id="sa-1"),
            invoice=invoice,
            created_at=T0,
            updated_at=T0,
        )
    )

    # When the paid state is saved with its answer lost
    run = payment_status.refresh_company(deps, CO)

    # Then the change is counted and `InvoicePaymentStatusChanged` published
    assert lost.lost == 1 and run.changed == [invoice.invoice_id]
    assert deps.exports.get(CO, invoice.invoice_id).payment.status is PaymentStatus.PAID
    (changed,) = deps.events.of_type("InvoicePaymentStatusChanged")
    assert changed["status"] == "PAID"


def test_another_writers_export_record_is_still_a_conflict(ddb) -> None:
    repository = DynamoDbExportRecordRepository(ddb, "config")
    record = repository.save(ExportRecord(company_id=CO, invoice_id="inv-9", created_at=T0, updated_at=T0))
    repository.save(record.model_copy(update={"attempts": 1}))
    with pytest.raises(Conflict):
        repository.save(record.model_copy(update={"attempts": 2}))


class _RefusedOn:
    """A client whose put_item fails its condition on `found`, as DynamoDB answers with ALL_OLD."""

    def __init__(self, found: dict) -> None:
        self.found = found

    def put_item(self, **put):
        assert put["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
        error = {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
        raise ClientError({"Error": error, "Item": self.found}, "PutItem")


def test_the_own_item_is_recognised_with_numbers_as_dynamodb_stores_them() -> None:
    # DynamoDB keeps numbers normalised ("1.50" comes back as "1.5"): still the item this call put
    mine = {"pk": {"S": "p"}, "version": {"N": "2"}, "values": {"M": {"invoices": {"N": "1.50"}}}}
    stored = {"pk": {"S": "p"}, "version": {"N": "2"}, "values": {"M": {"invoices": {"N": "1.5"}}}}
    assert put_conditionally(_RefusedOn(stored), TableName="t", Item=mine, ConditionExpression="version = :r")
    other = stored | {"values": {"M": {"invoices": {"N": "1.51"}}}}
    assert not put_conditionally(_RefusedOn(other), TableName="t", Item=mine, ConditionExpression="version = :r")
