"""Events of one kind published together: ten to a `PutEvents` call, in their order, every one not published counted
(EventBridge via in-process moto, a queue subscribed to the bus)."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from moto import mock_aws

from smartaccounts_sync.adapters.event_publisher import EventBridgePublisher
from smartaccounts_sync.observability import metrics
from smartaccounts_sync.service import notifications
from tests.support.fakes import in_memory_dependencies

REGION = "eu-north-1"


class CountingClient:
    def __init__(self, client) -> None:
        self._client = client
        self.entries: list[int] = []  # entries per put_events call

    def put_events(self, **kwargs):
        self.entries.append(len(kwargs["Entries"]))
        return self._client.put_events(**kwargs)


@pytest.fixture
def bus():
    """The bus, a queue receiving everything on it, and a publisher counting its PutEvents calls."""
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events.create_event_bus(Name="service")
        url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName="service", EventPattern=json.dumps({"source": ["uku.smartaccounts"]}))
        events.put_targets(Rule="all", EventBusName="service", Targets=[{"Id": "q", "Arn": arn}])
        counting = CountingClient(events)

        def received() -> list[dict]:
            out: list[dict] = []
            while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                out += [json.loads(m["Body"]) for m in batch]
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
                )
            return out

        yield EventBridgePublisher(counting, "service"), counting, received


def test_twelve_events_are_two_calls_and_all_arrive(bus) -> None:
    publisher, counting, received = bus
    deps = in_memory_dependencies(events=publisher)
    # When a 12-month reload's twelve task events are published together
    notifications.publish_all(
        deps, notifications.SUMMARY_TASK_UPDATED, [{"month": f"2026-{m:02}"} for m in range(1, 13)]
    )
    # Then two PutEvents calls carried them (ten, then two), and the subscriber got each of them once
    assert counting.entries == [10, 2]
    got = received()
    assert sorted(e["detail"]["month"] for e in got) == [f"2026-{m:02}" for m in range(1, 13)]
    assert {(e["source"], e["detail-type"]) for e in got} == {("uku.smartaccounts", "SummaryTaskUpdated")}
    # and nothing published makes no call
    notifications.publish_all(deps, notifications.SUMMARY_TASK_UPDATED, [])
    assert counting.entries == [10, 2]


class Flaky:
    """Fails its first call, refuses one entry of its second, publishes the rest."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def publish_all(self, detail_type: str, details: list[dict]) -> int:
        self.calls.append([d["month"] for d in details])
        if len(self.calls) == 1:
            raise RuntimeError("EventBridge said no")
        return 1 if len(self.calls) == 2 else 0


def test_a_failed_call_counts_its_events_and_the_next_calls_are_still_made() -> None:
    flaky = Flaky()
    deps = in_memory_dependencies(events=flaky)
    metrics.clear_metrics()
    months = [f"m{i}" for i in range(25)]
    notifications.publish_all(deps, notifications.SUMMARY_TASK_UPDATED, [{"month": m} for m in months])
    # every event was tried, in order, ten to a call
    assert flaky.calls == [months[:10], months[10:20], months[20:]]
    # the failed call's ten and the one refused entry are counted as not published
    assert metrics.metric_set["EventsNotPublished"]["Value"] == [10.0, 1.0]
    assert metrics.metric_set["EventsNotPublished"]["Unit"] == MetricUnit.Count.value
    metrics.clear_metrics()
