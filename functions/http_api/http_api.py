"""HTTP API function: every route of the contract, through one Powertools resolver."""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from smartaccounts_sync.api.app import build_app
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies

app = build_app()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext, deps: Dependencies | None = None) -> dict:
    app.append_context(deps=deps or container_dependencies())
    return app.resolve(event, context)
