"""The import work queue (SQS): one message per client, batches of ten, and delayed re-sends for the daily quota."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.errors import ServiceError

SQS_BATCH = 10
MAX_DELAY_SECONDS = 900  # SQS's limit


class WorkNotQueued(ServiceError):
    code = "INTERNAL"
    status = 500
    title = "Import work could not be queued"


class WorkQueue(Protocol):
    def send(self, works: Sequence[ImportWork]) -> None: ...
    def send_later(self, work: ImportWork, delay_seconds: int) -> None: ...


class SqsWorkQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._sqs = client
        self._url = queue_url

    def send(self, works: Sequence[ImportWork]) -> None:
        for start in range(0, len(works), SQS_BATCH):
            chunk = works[start : start + SQS_BATCH]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "MessageBody": w.to_message()} for i, w in enumerate(chunk)],
            )
            if answer.get("Failed"):
                failed = [chunk[int(f["Id"])].client_id for f in answer["Failed"]]
                raise WorkNotQueued(f"Import work for clients {failed} could not be queued.")

    def send_later(self, work: ImportWork, delay_seconds: int) -> None:
        delay = max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))
        self._sqs.send_message(QueueUrl=self._url, MessageBody=work.to_message(), DelaySeconds=delay)


class InMemoryWorkQueue:
    def __init__(self) -> None:
        self.sent: list[ImportWork] = []
        self.delayed: list[tuple[ImportWork, int]] = []

    def send(self, works: Sequence[ImportWork]) -> None:
        self.sent.extend(works)

    def send_later(self, work: ImportWork, delay_seconds: int) -> None:
        self.delayed.append((work, max(0, min(MAX_DELAY_SECONDS, int(delay_seconds)))))
