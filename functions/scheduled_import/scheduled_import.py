"""Scheduled import function: EventBridge Scheduler (`{"trigger": "schedule"}`, today in Tallinn) or the local
stack (`{"trigger": "local", "date": "YYYY-MM-DD"}`) -> one SQS message per linked client of every due company."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.service.scheduled_import import run_scheduled_import


class ScheduleTrigger(BaseModel):
    model_config = ConfigDict(extra="ignore")

    trigger: Literal["schedule", "local"] = "schedule"
    date: dt.date | None = None

    def today(self, now: dt.datetime) -> dt.date:
        if self.trigger == "local" and self.date is not None:
            return self.date
        return tallinn_today(now)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext, deps: Dependencies | None = None) -> dict:
    deps = deps or container_dependencies()
    trigger = ScheduleTrigger.model_validate(event or {})
    return run_scheduled_import(deps, trigger.today(deps.now())).as_dict()
