"""Dead-letter queues the service writes to itself: input that can never be handled goes there at once, with its
reason as message attributes (`deadLetterReason`, `deadLetterSource`), instead of wasting SQS's retries on it.

SQS's own redrive (after `maxReceiveCount` receives) keeps the message as it was; `docs/operations.md` says how an
operator reads either kind and redrives them after a fix (`make redrive`).
"""

from __future__ import annotations

from typing import Any, Protocol

REASON_ATTRIBUTE = "deadLetterReason"
SOURCE_ATTRIBUTE = "deadLetterSource"
MESSAGE_ID_ATTRIBUTE = "originalMessageId"


class DeadLetters(Protocol):
    def send(self, body: str, *, reason: str, source: str, message_id: str | None = None) -> None: ...


class SqsDeadLetters:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, body: str, *, reason: str, source: str, message_id: str | None = None) -> None:
        attributes = {
            REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:1000]},
            SOURCE_ATTRIBUTE: {"DataType": "String", "StringValue": source},
        }
        if message_id:
            attributes[MESSAGE_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": message_id}
        self._sqs.send_message(QueueUrl=self._url, MessageBody=body or "{}", MessageAttributes=attributes)


class InMemoryDeadLetters:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, body: str, *, reason: str, source: str, message_id: str | None = None) -> None:
        self.sent.append({"body": body, "reason": reason, "source": source, "message_id": message_id})
