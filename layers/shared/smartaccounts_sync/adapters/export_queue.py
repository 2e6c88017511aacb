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

    def send(self, body: str) -> None:
        answer = self._sqs.send_message(QueueUrl=self._url, MessageBody=body)
        if not answer.get("MessageId"):
            raise ExportNotQueued("The export retry could not be queued.")
