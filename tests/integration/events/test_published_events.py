"""The service's events on its EventBridge bus, as a subscriber receives them: the documented kinds, and never a
key or a secret."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import boto3
import pytest

from smartaccounts_sync.domain.import_day import ImportDay, import_date_for, next_import
from smartaccounts_sync.domain.months import tallinn_today
from tests.support.events import EVENTS, shape
from tests.support.local_company import INTEGRATION

pytestmark = pytest.mark.integration


@pytest.fixture
def subscriber(stack):
    """A queue subscribed to everything the service publishes (source uku.smartaccounts) on its bus."""
    events = boto3.client("events", endpoint_url=stack.moto_url, region_name="eu-north-1")
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
    name = f"subscriber-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = stack.provisioned.names["ServiceBus"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["uku.smartaccounts"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict]:
        bodies = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if not batch:
                return bodies
            bodies += [m["Body"] for m in batch]

    yield received
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=name, EventBusName=bus)


def test_failing_restored_and_task_events_carry_no_key_or_secret(stack, admin, make_company, subscriber) -> None:
    # Given a company importing with its key, a revoked key, then a new pair
    # (dates from today's calendar: the first import day after linking, and the next month's)
    rule = ImportDay.last_work_day()
    first_month, first_day = next_import(tallinn_today(), rule, None)
    second_day = import_date_for(first_month.next(), rule)
    company = make_company(["co-small"], mapped=("saleEntries",))
    stack.fire_scheduled_import(first_day)
    stack.wait_until_idle()
    admin.post(f"keys/{company.api_key}/revoke")
    stack.fire_scheduled_import(second_day)
    stack.wait_until_idle()
    new_key, new_secret = admin.new_key("co-small")
    company.call("PUT", f"{INTEGRATION}/credentials", json={"apiKey": new_key, "apiSecret": new_secret})
    stack.fire_scheduled_import(second_day + dt.timedelta(days=3))
    stack.wait_until_idle()

    # Then the subscriber got each kind, shaped as the samples in events/published/ say
    bodies = subscriber()
    ours = [json.loads(b) for b in bodies if json.loads(b)["detail"].get("companyId") == company.id]
    kinds = {e["detail-type"] for e in ours}
    assert {"SummaryTaskUpdated", "ConnectionFailing", "ConnectionRestored"} <= kinds
    samples = {
        json.loads(p.read_text())["detail-type"]: json.loads(p.read_text())
        for p in (EVENTS / "published").glob("*.json")
    }
    for event in ours:
        assert event["source"] == "uku.smartaccounts"
        assert shape(event["detail"]).keys() == shape(samples[event["detail-type"]]["detail"]).keys(), event[
            "detail-type"
        ]

    # And no key or secret, old or new, appears in any of them
    text = "\n".join(bodies)
    for secret in (company.api_key, company.api_secret, new_key, new_secret):
        assert secret not in text
