"""The local stack builds its AWS resources from template.yaml, and EventBridge rules route as in AWS."""

from __future__ import annotations

import json
import uuid

import pytest

from local_stack.provision import Provisioner
from local_stack.template import Template
from tests.support.events import load_event

pytestmark = pytest.mark.integration


@pytest.fixture
def provisioned(moto_url: str):
    # Given a fresh prefix in the standalone moto server
    prefix = f"t{uuid.uuid4().hex[:8]}"
    template = Template()
    out = Provisioner(
        template,
        endpoint_url=moto_url,
        region="eu-north-1",
        prefix=prefix,
        parameters={"Stage": prefix, "JwtIssuer": "https://issuer", "JwtAudience": "aud"},
    ).provision()
    return template, out, prefix


def test_tables_queues_bus_rules_and_schedule_are_exactly_the_templates(provisioned, aws) -> None:
    template, out, prefix = provisioned

    # Then every declared table exists with the template's keys and indexes, and no other table of this stack
    pages = aws("dynamodb").get_paginator("list_tables").paginate()  # the shared moto server holds other tests' too
    tables = {t for page in pages for t in page["TableNames"] if t.startswith(prefix)}
    declared_tables = template.of_type("AWS::DynamoDB::Table")
    assert tables == {out.names[t] for t in declared_tables}
    for logical_id, resource in declared_tables.items():
        described = aws("dynamodb").describe_table(TableName=out.names[logical_id])["Table"]
        assert described["KeySchema"] == resource["Properties"]["KeySchema"]
        declared_indexes = {i["IndexName"] for i in resource["Properties"].get("GlobalSecondaryIndexes", [])}
        assert {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])} == declared_indexes
        ttl = aws("dynamodb").describe_time_to_live(TableName=out.names[logical_id])["TimeToLiveDescription"]
        declared_ttl = resource["Properties"].get("TimeToLiveSpecification")
        assert (ttl.get("AttributeName") if ttl["TimeToLiveStatus"] == "ENABLED" else None) == (
            declared_ttl["AttributeName"] if declared_ttl else None
        )

    # And the queues, with the template's redrive policies and visibility timeouts
    queue_urls = aws("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    declared_queues = template.of_type("AWS::SQS::Queue")
    assert {u.rsplit("/", 1)[1] for u in queue_urls} == {out.names[q] for q in declared_queues}
    for logical_id, resource in declared_queues.items():
        attributes = aws("sqs").get_queue_attributes(QueueUrl=out.queue_urls[logical_id], AttributeNames=["All"])[
            "Attributes"
        ]
        props = resource["Properties"]
        if "VisibilityTimeout" in props:
            assert int(attributes["VisibilityTimeout"]) == props["VisibilityTimeout"]
        if "RedrivePolicy" in props:
            redrive = json.loads(attributes["RedrivePolicy"])
            dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert redrive["deadLetterTargetArn"] == out.arns[dlq]
            assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]

    # And the service's bus, the rules on their buses, and the daily schedule in Tallinn time
    for bus in template.of_type("AWS::Events::EventBus"):
        assert aws("events").describe_event_bus(Name=out.names[bus])["Name"] == out.names[bus]
    for logical_id, resource in template.of_type("AWS::Events::Rule").items():
        bus = resource["Properties"]["EventBusName"]
        bus_name = "default" if isinstance(bus, dict) else bus
        rule = aws("events").describe_rule(Name=out.names[logical_id], EventBusName=bus_name)
        assert json.loads(rule["EventPattern"]) == resource["Properties"]["EventPattern"]
    pages = aws("scheduler").get_paginator("list_schedules").paginate(NamePrefix=prefix)
    schedules = {s["Name"]: s for page in pages for s in page["Schedules"]}
    assert set(schedules) == {out.names[s] for s in template.of_type("AWS::Scheduler::Schedule")}
    for logical_id in template.of_type("AWS::Scheduler::Schedule"):
        schedule = aws("scheduler").get_schedule(Name=out.names[logical_id])
        assert schedule["ScheduleExpressionTimezone"] == "Europe/Tallinn"


def test_every_function_environment_name_resolves_to_a_created_resource(provisioned) -> None:
    _, out, _ = provisioned
    env = out.environment
    assert env["CONFIG_TABLE_NAME"] == out.names["ConfigTable"]
    assert env["IMPORT_QUEUE_URL"] == out.queue_urls["ImportQueue"]
    assert env["EXPORT_QUEUE_URL"] == out.queue_urls["ExportQueue"]
    assert env["EVENT_BUS_NAME"] == out.names["ServiceBus"]
    assert all("Ref" not in value and "Fn::" not in value for value in env.values())


def test_invoice_issued_put_with_boto3_arrives_on_the_export_queue(provisioned, aws) -> None:
    _, out, _ = provisioned
    sample = load_event("invoice_export", "eventbridge-invoice-issued")

    # When Uku's billing publishes InvoiceIssued on its bus (the default bus)
    result = aws("events").put_events(
        Entries=[
            {
                "Source": sample["source"],
                "DetailType": sample["detail-type"],
                "Detail": json.dumps(sample["detail"]),
                "EventBusName": "default",
            }
        ]
    )
    assert result["FailedEntryCount"] == 0

    # Then the rule from the template delivers it to the export queue, as the whole EventBridge event
    messages = aws("sqs").receive_message(QueueUrl=out.queue_urls["ExportQueue"], WaitTimeSeconds=2)["Messages"]
    delivered = [json.loads(m["Body"]) for m in messages]
    assert [(e["source"], e["detail-type"]) for e in delivered] == [("uku.billing", "InvoiceIssued")]
    assert delivered[0]["detail"]["invoiceId"] == sample["detail"]["invoiceId"]

    # And an event of another kind is not routed there
    aws("events").put_events(
        Entries=[{"Source": "uku.billing", "DetailType": "InvoiceVoided", "Detail": "{}", "EventBusName": "default"}]
    )
    again = aws("sqs").receive_message(QueueUrl=out.queue_urls["ExportQueue"], WaitTimeSeconds=1)
    assert again.get("Messages", []) == []
