"""Invoice export function: receives Uku's InvoiceIssued events from the export queue.

Exporting to SmartAccounts is not built yet (no open issue asks for it). Until it is, every message is reported as
failed, so none is lost: SQS keeps it, dead-letters it after the redrive count (14 days' retention, with an alarm),
and it can be redriven once the export exists. Consuming a message without exporting it would drop an invoice.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from smartaccounts_sync.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    records = event.get("Records", [])
    logger.error(
        "invoice export is not available yet; messages stay queued for a later redrive",
        extra={"messages": [r["messageId"] for r in records]},
    )
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records]}
