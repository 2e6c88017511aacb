"""Input at the edge: what cannot be handled is dead-lettered at once with its reason (metric, log, message)."""

from __future__ import annotations

import json

import pytest
import scheduled_import

from local_stack.front import LambdaContext
from smartaccounts_sync.adapters.dead_letters import InMemoryDeadLetters
from smartaccounts_sync.service import intake


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        (json.dumps({"kind": "IMPORT", "companyId": "c", "months": ["2026-10"]}), "clientId"),
        (json.dumps({"kind": "IMPORT", "companyId": "c", "clientId": "k", "months": ["2026-13"]}), "months"),
        (json.dumps({"kind": "EXPORT", "companyId": "c", "clientId": "k", "months": ["2026-10"]}), "kind"),
    ],
)
def test_import_work_that_cannot_be_read_is_dead_lettered_with_its_reason(
    body: str, field: str, capsys, caplog, monkeypatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    dead = InMemoryDeadLetters()
    assert intake.read_import_work(dead, body, "msg-1") is None
    [sent] = dead.sent
    assert sent["body"] == body and sent["source"] == "import-queue" and sent["message_id"] == "msg-1"
    assert sent["reason"].startswith("invalid") and field in sent["reason"]
    assert '"MessagesRejected"' in capsys.readouterr().out  # the metric, flushed at once
    logged = [r for r in caplog.records if r.getMessage() == "input dead-lettered"]
    assert [getattr(r, "message_id", None) for r in logged] == ["msg-1"]  # the log names the message


def test_without_a_dead_letter_queue_unreadable_work_fails_so_sqs_redrives_it() -> None:
    with pytest.raises(intake.Unreadable, match="invalid"):
        intake.read_import_work(None, "{}", "msg-2")


def test_a_malformed_schedule_event_is_recorded_not_raised(capsys, monkeypatch) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    dead = InMemoryDeadLetters()
    context = LambdaContext("ScheduledImportFunction", 300)
    result = scheduled_import.lambda_handler({"trigger": "sometimes"}, context, dead_letters=dead)
    assert result["rejected"].startswith("invalid trigger")
    [sent] = dead.sent
    assert json.loads(sent["body"]) == {"trigger": "sometimes"} and sent["source"] == "schedule"
    assert "MessagesRejected" in capsys.readouterr().out
