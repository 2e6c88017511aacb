"""The Lambda handler of each HTTP function: one resolver with the routers of the function's concern.

Every HTTP function is built the same way; only its concern differs (`api/app.py` lists which routers each has,
`template.yaml` which routes API Gateway sends to it and what it may do in AWS).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from smartaccounts_sync.adapters.tenant_secrets import tenant_scope
from smartaccounts_sync.api.app import build_app
from smartaccounts_sync.observability import logger, metrics, tracer
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies

Handler = Callable[..., dict]

#: The concerns whose routes save or delete secrets (the rest never write one; IAM lets only these two assume the
#: writer role), and the one that may read the company-level key pair only (paid status on demand).
SECRET_WRITERS = frozenset({"connection", "client_links"})
COMPANY_KEY_ONLY = frozenset({"invoice_export"})


def http_handler(concern: str | None) -> Handler:
    """The handler of one concern's function. Without a concern, the documentation function's: /health is answered
    by a resolver with that route alone; the resolver with every route (and Swagger UI) is built at the first
    /openapi.json or /docs request, once per container, so a cold start for /health does not load every route's
    services and models and Powertools' OpenAPI models."""
    app = build_app(concern) if concern is not None else None

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict, context: LambdaContext, deps: Dependencies | None = None) -> dict:
        # no company is served until the caller's token is read (api/context.caller); none after this invocation
        with tenant_scope(None):
            resolver = app or _documentation(health=event.get("rawPath") == "/health")
            deps = deps or container_dependencies(
                function=context.function_name,
                secrets_writer=concern is None or concern in SECRET_WRITERS,
                company_key_only=concern in COMPANY_KEY_ONLY,
            )
            resolver.append_context(deps=deps)
            try:
                return resolver.resolve(event, context)
            finally:
                deps.release_leases()  # request tickets leased and not used go back for other containers

    lambda_handler.concern = concern  # type: ignore[attr-defined]
    return lambda_handler


@lru_cache(maxsize=2)
def _documentation(*, health: bool) -> APIGatewayHttpResolver:
    return build_app("health" if health else None)
