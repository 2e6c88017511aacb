"""The local stand-in for Lambda's SQS event source mappings.

For every `Type: SQS` event in `template.yaml` it polls the queue in the moto server, hands batches to the real
handler as SQS events and honours partial batch failures: succeeded items are deleted, failed items stay on the
queue and come back after a short local retry delay (AWS waits for the queue's visibility timeout; locally that
would be half an hour). moto moves a message to the dead-letter queue once it has been received more often than
the queue's redrive policy allows, as SQS does.
"""

from __future__ import annotations

import hashlib
import threading
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
    ) -> None:
        self.sqs = sqs
        self.bindings = bindings
        self.invoke = invoke
        self.region = region
        self.retry_delay_seconds = retry_delay_seconds
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy = {b.queue_url: False for b in bindings}

    def start(self) -> None:
        for binding in self.bindings:
            thread = threading.Thread(target=self._run, args=(binding,), name=f"pump-{binding.source.queue}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_seconds + 5)

    def idle(self) -> bool:
        return not any(self._busy.values())

    def _run(self, binding: QueueBinding) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(binding)
            except Exception:
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
        self._busy[binding.queue_url] = True
        try:
            self.deliver(binding, received)
        finally:
            self._busy[binding.queue_url] = False
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
