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

from smartaccounts_sync.adapters.aws_clients import shared_client
from smartaccounts_sync.domain.import_work import ImportWork
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service import reload
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.service.monthly_import import ImportRun, import_client
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
        logger.error("import work that cannot be read was dead-lettered")
        return
    reload.client_failed_for_good(deps, work)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext, deps: Dependencies | None = None) -> dict:
    deps = deps or container_dependencies()
    settings = deps.settings
    run = ImportRun()

    def handle(delivery: dict) -> dict:
        work = ImportWork.model_validate_json(delivery["body"])
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
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
