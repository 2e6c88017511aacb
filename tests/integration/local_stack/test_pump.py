"""The local SQS pump behaves like Lambda's event source mapping with ReportBatchItemFailures."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from local_stack.pump import QueueBinding, QueuePump
from local_stack.template import QueueSource

pytestmark = pytest.mark.integration


@pytest.fixture
def queues(aws):
    sqs = aws("sqs")
    name = f"pump-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn, dlq_url


def _bodies(sqs, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def test_succeeded_items_are_deleted_failed_ones_stay_then_dead_letter(queues) -> None:
    sqs, url, arn, dlq_url = queues
    seen: list[dict] = []

    def handler(function: str, event: dict) -> dict:
        seen.append(event)
        failures = [r["messageId"] for r in event["Records"] if r["body"].startswith("bad")]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failures]}

    source = QueueSource(function="Worker", queue="Q", batch_size=10, report_batch_item_failures=True)
    pump = QueuePump(sqs, [QueueBinding(source, url, arn)], handler, region="eu-north-1", retry_delay_seconds=0)
    binding = pump.bindings[0]

    # Given one good and one bad message
    for body in ("good-1", "bad-1"):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    # When the pump delivers them
    while pump.poll_once(binding) < 2:
        pass

    # Then the handler got a Lambda-shaped SQS event
    record = seen[0]["Records"][0]
    assert set(record) >= {"messageId", "receiptHandle", "body", "attributes", "eventSource", "eventSourceARN"}
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn

    # And the good one is gone while the bad one is back on the queue; after the redrive count it dead-letters
    deliveries_of_bad = 1
    while True:
        delivered = pump.poll_once(binding)
        if delivered == 0:
            break
        deliveries_of_bad += delivered
    assert deliveries_of_bad == 2
    assert _bodies(sqs, url) == []
    assert _bodies(sqs, dlq_url) == ["bad-1"]
    assert all(r["body"] != "good-1" for e in seen[1:] for r in e["Records"])


def test_a_raising_handler_fails_the_whole_batch(queues) -> None:
    sqs, url, arn, _ = queues

    def handler(function: str, event: dict) -> dict:
        raise RuntimeError("boom")

    source = QueueSource(function="Worker", queue="Q", batch_size=10, report_batch_item_failures=True)
    pump = QueuePump(sqs, [QueueBinding(source, url, arn)], handler, region="eu-north-1", retry_delay_seconds=0)
    sqs.send_message(QueueUrl=url, MessageBody="one")
    assert pump.poll_once(pump.bindings[0]) == 1
    assert _bodies(sqs, url) == ["one"]


def test_the_pump_delivers_with_the_concurrency_the_template_allows(queues) -> None:
    sqs, url, arn, _dlq = queues
    together = threading.Barrier(3, timeout=20)  # passes only when three deliveries run at the same time
    delivered: list[str] = []

    def handler(function: str, event: dict) -> dict:
        together.wait()
        delivered.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}

    source = QueueSource(
        function="Worker", queue="Q", batch_size=1, report_batch_item_failures=True, maximum_concurrency=3
    )
    pump = QueuePump(sqs, [QueueBinding(source, url, arn)], handler, region="eu-north-1", retry_delay_seconds=0)
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    pump.start()
    try:
        while len(delivered) < 3 and not together.broken:
            threading.Event().wait(0.1)
    finally:
        pump.stop()
    assert sorted(delivered) == ["m0", "m1", "m2"] and pump.max_in_flight[url] == 3


def test_the_local_stack_gives_queue_workers_their_concurrency_and_the_http_functions_one_environment() -> None:
    from local_stack.stack import LocalStack

    stack = LocalStack(port=0, sandbox_port=0)  # not started: the environments come from the template
    assert stack.environments["ImportWorkerFunction"] == 10
    http = sorted({route.function for route in stack.template.http_routes()})
    assert len(http) > 1 and all(stack.environments[f] == 1 for f in http)
    # Powertools keeps the current event on a class attribute shared by every resolver of the process: the HTTP
    # functions take turns in one environment
    assert len({id(stack._environments[f]) for f in http}) == 1


def test_waiting_until_idle_waits_for_a_message_sent_with_a_delay(stack) -> None:
    from scripts import redrive

    # Given work that arrives later: a message sent with a delay (a hand-back, a delayed duplicate), here one that is
    # dead-lettered with its reason once handled
    sqs = stack.boto3_client("sqs")
    body = f"not json delayed-{uuid.uuid4().hex[:8]}"
    sqs.send_message(QueueUrl=stack.provisioned.queue_urls["ImportQueue"], MessageBody=body, DelaySeconds=2)

    # When the test waits until the stack is idle
    stack.wait_until_idle()

    # Then the delayed message had been handled by then
    dead = redrive.list_messages(sqs, stack.provisioned.queue_urls["ImportDeadLetterQueue"])
    assert body in [m["Body"] for m in dead]
