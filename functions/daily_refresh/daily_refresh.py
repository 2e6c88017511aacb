"""Daily refresh function: EventBridge Scheduler (`{"trigger": "schedule"}`) or the local stack
(`{"trigger": "local"}`) -> per company, the VAT register again and the paid status of exported invoices."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service.daily_refresh import run_daily_refresh
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext, deps: Dependencies | None = None) -> dict:
    deps = deps or container_dependencies(function=context.function_name, company_key_only=True)
    try:
        return run_daily_refresh(deps).as_dict()
    finally:
        deps.release_leases()  # request tickets leased and not used go back for other containers
