"""Move dead-lettered messages back to the queue they came from, after the cause is fixed (`make redrive`).

    python scripts/redrive.py --from <DLQ url or name> [--to <queue url or name>] [--endpoint-url URL] [--list]

- Without `--to`, the destination is the queue whose redrive policy names this DLQ (SQS's
  `list_dead_letter_source_queues`); the InvoiceIssued rule's DLQ needs `--to` (its source is EventBridge: pass the
  export queue).
- In AWS it starts SQS's own `start_message_move_task` (the console's "Start DLQ redrive"); where that API is not
  available (the local moto server) it receives, re-sends and deletes each message itself.
- Messages the service dead-lettered itself because they can never be handled (attribute `deadLetterReason`) are
  listed with their reason and left in place unless `--include-rejected` is given: sending them back cannot help.
- `--list` only prints what is there (id, receive count, reason).

The schedule's DLQ needs no redrive: a failed evening run leaves the companies due and the next run catches them up
(docs/operations.md, ScheduleDeadLetterAlarm).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import ClientError

REASON = "deadLetterReason"
REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-north-1")


def queue_url(sqs: Any, name_or_url: str) -> str:
    if name_or_url.startswith(("http://", "https://")):
        return name_or_url
    return sqs.get_queue_url(QueueName=name_or_url)["QueueUrl"]


def queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def source_of(sqs: Any, dlq_url: str) -> str:
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        raise SystemExit(f"{dlq_url} is the DLQ of {len(sources)} queues; say where to with --to")
    return sources[0]


def _receive(sqs: Any, url: str) -> list[dict]:
    return sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=0,
        VisibilityTimeout=30,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])


def reason_of(message: dict) -> str | None:
    attribute = message.get("MessageAttributes", {}).get(REASON)
    return attribute["StringValue"] if attribute else None


def list_messages(sqs: Any, dlq_url: str) -> list[dict]:
    """Every message on the DLQ, each made visible again at once (nothing is consumed)."""
    seen: dict[str, dict] = {}
    while batch := _receive(sqs, dlq_url):
        fresh = [m for m in batch if m["MessageId"] not in seen]
        for m in batch:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        if not fresh:
            break
        seen.update({m["MessageId"]: m for m in fresh})
    return list(seen.values())


def move_by_hand(sqs: Any, dlq_url: str, to_url: str, include_rejected: bool) -> tuple[int, int]:
    """Receive, re-send, delete: the fallback where start_message_move_task does not exist. Returns (moved, kept)."""
    moved = kept = 0
    kept_ids: set[str] = set()
    while batch := _receive(sqs, dlq_url):
        if all(m["MessageId"] in kept_ids for m in batch):
            for m in batch:  # visible again for the operator
                sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            break
        for message in batch:
            if message["MessageId"] in kept_ids:
                sqs.change_message_visibility(
                    QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                continue
            reason = reason_of(message)
            if reason and not include_rejected:
                kept_ids.add(message["MessageId"])
                sqs.change_message_visibility(
                    QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
                kept += 1
                print(f"kept  {message['MessageId']}: {reason}")
                continue
            sqs.send_message(QueueUrl=to_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            print(f"moved {message['MessageId']}")
    return moved, kept


def redrive(sqs: Any, dlq_url: str, to_url: str, *, include_rejected: bool = False) -> tuple[int, int]:
    rejected = [m for m in list_messages(sqs, dlq_url) if reason_of(m)]
    if not rejected or include_rejected:
        try:
            task = sqs.start_message_move_task(SourceArn=queue_arn(sqs, dlq_url), DestinationArn=queue_arn(sqs, to_url))
            print(f"started SQS message move task {task['TaskHandle']}")
            return -1, 0
        except (ClientError, NotImplementedError) as error:
            print(f"start_message_move_task is not available here ({error}); moving message by message")
    return move_by_hand(sqs, dlq_url, to_url, include_rejected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="dlq", required=True, help="dead-letter queue URL or name")
    parser.add_argument("--to", help="destination queue URL or name (default: the DLQ's source queue)")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="e.g. the local moto")
    parser.add_argument("--list", action="store_true", help="only list the messages and their reasons")
    parser.add_argument("--include-rejected", action="store_true", help="also move messages rejected as invalid")
    args = parser.parse_args(argv)
    sqs = boto3.client("sqs", endpoint_url=args.endpoint_url, region_name=REGION)
    dlq_url = queue_url(sqs, args.dlq)
    if args.list:
        for m in list_messages(sqs, dlq_url):
            count = m.get("Attributes", {}).get("ApproximateReceiveCount")
            print(f"{m['MessageId']}  receives={count}  reason={reason_of(m) or '(redriven by SQS after retries)'}")
        return 0
    to_url = queue_url(sqs, args.to) if args.to else source_of(sqs, dlq_url)
    moved, kept = redrive(sqs, dlq_url, to_url, include_rejected=args.include_rejected)
    if moved >= 0:
        print(f"{moved} message(s) moved to {to_url}; {kept} rejected message(s) kept on the DLQ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
