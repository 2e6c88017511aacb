"""Scheduled import function: EventBridge Scheduler (`{"trigger": "schedule"}`, today in Tallinn) or the local
stack (`{"trigger": "local", "date": "YYYY-MM-DD"}`) -> one SQS message per linked client of every due company.

An event that cannot be read is dead-lettered on the schedule's DLQ with its reason (never a bare ValidationError):
retrying it cannot help. A run that fails is raised, so the Scheduler retries it (and dead-letters it after its
RetryPolicy).

What a cold start imports: what every run uses. The dead-letter path (`service/intake.py`, which brings the reload
bookkeeping and the quota plan with it) is imported only when an event cannot be read, and the import machinery only
for the daily `quota-renewed` run (below).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from smartaccounts_sync.adapters.aws_clients import aws_client
from smartaccounts_sync.adapters.dead_letters import DeadLetters, SqsDeadLetters
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.service.scheduled_import import run_scheduled_import
from smartaccounts_sync.settings import Settings, load_settings


class ScheduleTrigger(BaseModel):
    model_config = ConfigDict(extra="ignore")

    #: "quota-renewed": just after Tallinn midnight, wakes the work parked for the daily quota
    trigger: Literal["schedule", "local", "quota-renewed"] = "schedule"
    date: dt.date | None = None

    def today(self, now: dt.datetime) -> dt.date:
        if self.trigger in ("local", "quota-renewed") and self.date is not None:
            return self.date
        return tallinn_today(now)


def _dead_letters(settings: Settings) -> DeadLetters | None:
    if not settings.schedule_dead_letter_queue_url:
        return None
    return SqsDeadLetters(aws_client("sqs", settings), settings.schedule_dead_letter_queue_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(
    event: dict, context: LambdaContext, deps: Dependencies | None = None, dead_letters: DeadLetters | None = None
) -> dict:
    settings = load_settings()
    try:
        trigger = ScheduleTrigger.model_validate(event or {})
    except ValidationError as error:
        from smartaccounts_sync.service import intake  # only an unreadable event takes the dead-letter path

        reason = intake.describe(error)
        intake.rejected(
            dead_letters or _dead_letters(settings),
            json.dumps(event, default=str),
            source="schedule",
            reason=reason,
            message_id=getattr(context, "aws_request_id", None),
        )
        return {"rejected": reason}
    deps = deps or container_dependencies(function=context.function_name)
    if trigger.trigger == "quota-renewed":
        # only this daily run wakes parked imports: the import machinery (SmartAccounts client, requests, wire
        # models) is loaded for it, not at every cold start of the schedule
        from smartaccounts_sync.service.resumable_import import wake_parked

        return {"woken": wake_parked(deps, trigger.today(deps.now()))}
    try:
        return run_scheduled_import(deps, trigger.today(deps.now())).as_dict()
    finally:
        deps.release_leases()  # request tickets leased and not used go back for other containers
