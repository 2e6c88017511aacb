"""The local stand-in for Lambda's SQS event source mappings.

For every `Type: SQS` event in `template.yaml` it polls the queue in the moto server, hands batches to the real
handler as SQS events and honours partial batch failures: succeeded items are deleted, failed items stay on the
queue and come back after a short local retry delay (AWS waits for the queue's visibility timeout; locally that
would be half an hour). moto moves a message to the dead-letter queue once it has been received more often than
the queue's redrive policy allows, as SQS does.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from local_stack.template import QueueSource

logger = Logger(service="local-stack")


@dataclass
class QueueBinding:
    source: QueueSource
    queue_url: str
    queue_arn: str


def to_lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = {
        key: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for key, value in (message.get("MessageAttributes") or {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class PumpFaults:
    """Delivery faults for the fault-injection suite: at-least-once and unordered, as SQS is allowed to be.

    With probability `duplicate_rate` a received message is also sent again as a copy (a new message id, the same
    body, a random delay of up to `max_delay_seconds`), so it is delivered twice and out of order; every batch is
    delivered shuffled.
    """

    duplicate_rate: float = 0.0
    max_delay_seconds: int = 2
    seed: int = 7
    duplicates_sent: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - test faults, not cryptography
        self._lock = threading.Lock()

    def disorder(self, sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._lock:
            copies = [m for m in messages if self._random.random() < self.duplicate_rate]
            delays = [self._random.randint(0, self.max_delay_seconds) for _ in copies]
            messages = list(messages)
            self._random.shuffle(messages)
            self.duplicates_sent += len(copies)
        for message, delay in zip(copies, delays, strict=True):
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"], DelaySeconds=delay)
        return messages


class QueuePump:
    def __init__(
        self,
        sqs: Any,
        bindings: list[QueueBinding],
        invoke: Callable[[str, dict], Any],
        *,
        region: str,
        retry_delay_seconds: int = 2,
        wait_seconds: int = 1,
        faults: PumpFaults | None = None,
    ) -> None:
        self.sqs = sqs
        self.bindings = bindings
        self.invoke = invoke
        self.region = region
        self.retry_delay_seconds = retry_delay_seconds
        self.wait_seconds = wait_seconds
        self.faults = faults
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._busy = {b.queue_url: 0 for b in bindings}  # deliveries in flight per queue
        self.max_in_flight = {b.queue_url: 0 for b in bindings}  # the most concurrent deliveries seen
        self.deliveries = 0  # batches handed to a handler so far (whoever waits for quiet sees any new one)

    def start(self) -> None:
        """One poller per concurrent delivery the event source allows (`MaximumConcurrency`), as Lambda scales."""
        for binding in self.bindings:
            for worker in range(max(1, binding.source.maximum_concurrency)):
                thread = threading.Thread(
                    target=self._run, args=(binding,), name=f"pump-{binding.source.queue}-{worker}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self, timeout: float = 3.0) -> None:
        """Stops polling; waits at most `timeout` seconds in all for deliveries in flight (the threads are daemons:
        a handler still running when the process ends is cut off, as a Lambda timeout would)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def idle(self) -> bool:
        with self._lock:
            return not any(self._busy.values())

    def activity(self) -> tuple[bool, int]:
        """(idle, batches delivered so far), read together."""
        with self._lock:
            return not any(self._busy.values()), self.deliveries

    def _run(self, binding: QueueBinding) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(binding)
            except Exception:
                if self._stop.is_set():
                    return  # the moto server is going away with the stack
                logger.exception("pump cycle failed", extra={"queue": binding.source.queue})
                self._stop.wait(1)

    def poll_once(self, binding: QueueBinding) -> int:
        """Receives one batch and delivers it; returns how many messages were delivered."""
        received = self.sqs.receive_message(
            QueueUrl=binding.queue_url,
            MaxNumberOfMessages=min(binding.source.batch_size, 10),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        with self._lock:
            self.deliveries += 1
            self._busy[binding.queue_url] += 1
            in_flight = self._busy[binding.queue_url]
            self.max_in_flight[binding.queue_url] = max(self.max_in_flight[binding.queue_url], in_flight)
        try:
            if self.faults is not None:
                received = self.faults.disorder(self.sqs, binding.queue_url, received)
            self.deliver(binding, received)
        finally:
            with self._lock:
                self._busy[binding.queue_url] -= 1
        return len(received)

    def deliver(self, binding: QueueBinding, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [to_lambda_record(m, binding.queue_arn, self.region) for m in messages]}
        try:
            result = self.invoke(binding.source.function, event)
        except Exception:
            logger.exception("handler failed the whole batch", extra={"function": binding.source.function})
            failed_ids = {m["MessageId"] for m in messages}
        else:
            failed_ids = set()
            if binding.source.report_batch_item_failures and isinstance(result, dict):
                failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures") or []}
        for message in messages:
            if message["MessageId"] in failed_ids:
                self.sqs.change_message_visibility(
                    QueueUrl=binding.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay_seconds,
                )
            else:
                self.sqs.delete_message(QueueUrl=binding.queue_url, ReceiptHandle=message["ReceiptHandle"])
