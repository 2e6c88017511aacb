"""The invoice export queue (SQS): a retry requested through the API goes through the same queue and worker as
Uku's `InvoiceIssued` events, so one worker path exports every invoice."""

from __future__ import annotations

from typing import Any

from smartaccounts_sync.errors import ServiceError


class ExportNotQueued(ServiceError):
    code = "INTERNAL"
    status = 500
    title = "The export could not be queued"


class SqsExportQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, body: str, delay_seconds: int = 0) -> None:
        delay = max(0, min(900, delay_seconds))  # SQS allows up to 15 minutes
        answer = self._sqs.send_message(QueueUrl=self._url, MessageBody=body, DelaySeconds=delay)
        if not answer.get("MessageId"):
            raise ExportNotQueued("The export retry could not be queued.")
