"""Invoice export function: Uku's `InvoiceIssued` events (EventBridge rule -> export queue) and retries requested
through the API, in SQS batches with partial failures reported.

A message is handled once per EventBridge event (Powertools idempotency keyed on the event id; a retry message on
its message id). Exactly-once towards SmartAccounts is the export record's job (`service/invoice_export.py`). A
message comes back only while the outcome is open (another worker holds the invoice, SmartAccounts unreachable);
on its last delivery it is recorded as FAILED instead. Messages reach the dead-letter queue at once, with their
reason (`deadLetterReason`), when they can never be exported: one that names no company or invoice, and an invoice
whose id is not an identifier (announced as `InvoiceExportFailed` first); and after its receives one whose every
delivery, the last included, failed with an unexpected error (the export record stays PENDING; a redrive after the
fix reads SmartAccounts before it posts).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from smartaccounts_sync.adapters.aws_clients import LazyClient, shared_client
from smartaccounts_sync.adapters.dead_letters import DeadLetters, SqsDeadLetters
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service import invoice_export
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.settings import Settings

IDEMPOTENCY_HOURS = 24


@lru_cache(maxsize=4)
def _persistence(table_name: str, region: str, endpoint_url: str | None) -> DynamoDBPersistenceLayer:
    """One per container (Powertools registers a hook on the client it is given: once, not per invocation)."""
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=shared_client("dynamodb", region, endpoint_url))


def _idempotent(settings: Settings, context: LambdaContext, handle: Any) -> Any:
    persistence = _persistence(settings.idempotency_table_name, settings.aws_region, settings.aws_endpoint_url)
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=IDEMPOTENCY_HOURS * 3600)
    config.register_lambda_context(context)
    return idempotent_function(data_keyword_argument="delivery", config=config, persistence_store=persistence)(handle)


def _dead_letters(settings: Settings) -> DeadLetters | None:
    if not settings.export_dead_letter_queue_url:
        return None
    return SqsDeadLetters(LazyClient("sqs", settings), settings.export_dead_letter_queue_url)  # made if ever used


def delivery_key(record: SQSRecord) -> str:
    """The EventBridge event id of an `InvoiceIssued` message (the same event delivered again is a no-op), else the
    SQS message id (a retry requested through the API)."""
    try:
        body = json.loads(record.body)
    except ValueError:
        return f"message:{record.message_id}"
    if isinstance(body, dict) and isinstance(body.get("id"), str) and "detail" in body:
        return f"event:{body['id']}"
    return f"message:{record.message_id}"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(
    event: dict, context: LambdaContext, deps: Dependencies | None = None, dead_letters: DeadLetters | None = None
) -> dict:
    deps = deps or container_dependencies(function=context.function_name, company_key_only=True)
    settings = deps.settings
    dead_letters = dead_letters or _dead_letters(settings)
    final = {"attempt": False}

    def handle(delivery: dict) -> dict:
        record = invoice_export.export_message(
            deps,
            delivery["body"],
            final_attempt=final["attempt"],
            delivery_id=delivery["messageId"],
            dead_letters=dead_letters,
        )
        return {"status": record.status.value if record else None}

    once = _idempotent(settings, context, handle)

    def record_handler(record: SQSRecord) -> dict:
        final["attempt"] = int(record.attributes.approximate_receive_count) >= settings.export_max_receive_count
        key = delivery_key(record)
        try:
            return once(delivery={"key": key, "messageId": record.message_id, "body": record.body})
        except IdempotencyAlreadyInProgressError:
            if not key.startswith("event:") or not invoice_export.held_by_another_message(
                deps, record.body, record.message_id
            ):
                raise  # the same message in two workers at once, or not claimed yet: it comes back, never lost
            # another copy of the same InvoiceIssued event (SQS and the rule deliver at least once), another message,
            # holds the invoice right now: this copy is acknowledged. Should that worker fail, its own message comes
            # back; the export record keeps the invoice exactly once either way.
            logger.info("the same InvoiceIssued event is being exported by another worker; this copy is acknowledged")
            return {"status": "IN_PROGRESS_ELSEWHERE"}
        except invoice_export.UnreadableEvent as unreadable:
            logger.error(
                "export message cannot be handled; it goes to the dead-letter queue", extra={"why": str(unreadable)}
            )
            raise
        except (invoice_export.ExportBusy, invoice_export.ExportInterrupted) as waiting:
            logger.info("export comes back later", extra={"why": type(waiting).__name__})
            raise

    processor = BatchProcessor(event_type=EventType.SQS)
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        deps.release_leases()  # request tickets leased and not used go back for other containers
