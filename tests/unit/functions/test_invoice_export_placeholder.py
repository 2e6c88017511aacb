"""Until invoice export exists, the export function keeps every InvoiceIssued message (none is dropped)."""

from __future__ import annotations

import invoice_export

from local_stack.front import LambdaContext
from tests.support.events import load_event


def test_every_message_is_reported_failed_so_sqs_keeps_it() -> None:
    event = load_event("invoice_export", "sqs-invoice-issued")
    result = invoice_export.lambda_handler(event, LambdaContext("InvoiceExportFunction", 120))
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
