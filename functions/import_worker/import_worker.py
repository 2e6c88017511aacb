"""Import worker: SQS batches of import work (monthly schedule, catch-up, reload), partial failures reported.

Each record is processed once per delivery id: Powertools idempotency (keyed on the message id and body) makes a
duplicate delivery change nothing; a new delivery of the same work (a delayed re-send) is processed again, and the
summary task upsert makes that harmless.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from smartaccounts_sync.adapters.aws_clients import aws_client, shared_client
from smartaccounts_sync.adapters.dead_letters import DeadLetters, SqsDeadLetters
from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service import intake, reload
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.service.monthly_import import ImportRun, import_client
from smartaccounts_sync.service.resumable_import import TimeBudget
from smartaccounts_sync.settings import Settings

IDEMPOTENCY_HOURS = 24


@lru_cache(maxsize=4)
def _persistence(table_name: str, region: str, endpoint_url: str | None) -> DynamoDBPersistenceLayer:
    """One per container (Powertools registers a hook on the client it is given: once, not per invocation)."""
    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=shared_client("dynamodb", region, endpoint_url))


def _idempotent(settings: Settings, context: LambdaContext, handle: Any) -> Any:
    persistence = _persistence(settings.idempotency_table_name, settings.aws_region, settings.aws_endpoint_url)
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_HOURS * 3600)
    config.register_lambda_context(context)
    return idempotent_function(data_keyword_argument="delivery", config=config, persistence_store=persistence)(handle)


def fail_for_good(deps: Dependencies, body: str) -> None:
    try:
        work = ImportWork.model_validate_json(body)
    except ValidationError:
        return  # never reached: unreadable work is dead-lettered at once by `intake.read_import_work`
    reload.client_failed_for_good(deps, work)


def _dead_letters(settings: Settings) -> DeadLetters | None:
    if not settings.import_dead_letter_queue_url:
        return None
    return SqsDeadLetters(aws_client("sqs", settings), settings.import_dead_letter_queue_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(
    event: dict, context: LambdaContext, deps: Dependencies | None = None, dead_letters: DeadLetters | None = None
) -> dict:
    deps = deps or container_dependencies(function=context.function_name)
    settings = deps.settings
    dead_letters = dead_letters or _dead_letters(settings)
    # pages are taken until well before the Lambda timeout; the rest is checkpointed and handed back
    run = ImportRun(budget=TimeBudget.from_remaining_ms(context.get_remaining_time_in_millis()))

    def handle(delivery: dict) -> dict:
        work = intake.read_import_work(dead_letters, delivery["body"], delivery["messageId"])
        if work is None:
            return {"outcome": "DEAD_LETTERED"}
        with deps.serve(work.company_id):  # this delivery may read this company's secrets only
            entry = import_client(deps, work, run)
        return {"outcome": entry.outcome.value if entry else "NOTHING_DUE"}

    once = _idempotent(settings, context, handle)

    def record_handler(record: SQSRecord) -> dict:
        run.final_attempt = int(record.attributes.approximate_receive_count) >= settings.import_max_receive_count
        try:
            return once(delivery={"messageId": record.message_id, "body": record.body})
        except Exception:
            if run.final_attempt:  # dead-lettered next: a reload job must still count this client
                fail_for_good(deps, record.body)
            raise

    processor = BatchProcessor(event_type=EventType.SQS)
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        deps.release_leases()  # request tickets leased and not used go back for other containers
