"""The schedule's "quota-renewed" run (just after Tallinn midnight) wakes the imports parked for the daily quota."""

from __future__ import annotations

import datetime as dt
import json

import scheduled_import

from local_stack.front import LambdaContext
from smartaccounts_sync.adapters.import_progress_repository import ParkedWork
from tests.support.fakes import in_memory_dependencies


def test_the_quota_renewed_run_sends_the_parked_work_again_once() -> None:
    deps = in_memory_dependencies()
    message = json.dumps({"kind": "IMPORT", "companyId": "co-1", "clientId": "cl-1", "months": ["2026-10"]})
    deps.progress.park(ParkedWork("co-1", "cl-1", "import:2026-10", message), dt.date(2026, 12, 1))
    event = {"trigger": "quota-renewed", "date": "2026-12-01"}
    context = LambdaContext("ScheduledImportFunction", 60)
    assert scheduled_import.lambda_handler(event, context, deps=deps) == {"woken": 1}
    assert scheduled_import.lambda_handler(event, context, deps=deps) == {"woken": 0}
    assert [work.client_id for work in deps.work_queue.sent] == ["cl-1"]
