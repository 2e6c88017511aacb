"""The HTTP API: Powertools' resolver with validation, one router per concept, OpenAPI at /openapi.json, UI at /docs."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from smartaccounts_sync.api import contract, guards, problems

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

TITLE = "Uku SmartAccounts sync"
VERSION = "1.0.0"
DESCRIPTION = (
    "Connects Uku to SmartAccounts: integration settings, client links, monthly import of work statistics into "
    "summary tasks, reload of the last 12 months, VAT types and invoice export. Errors are application/problem+json "
    "with a stable `code`. Parts of the SmartAccounts API it calls are assumed, not confirmed by public sources (the "
    "company and company-list calls, some response envelopes: docs/smartaccounts.md); locally and in the tests it "
    "runs against the project's SmartAccounts sandbox, which implements the same assumptions."
)
#: The routers by their module under `api/routes/`, imported only by the functions that have them (a function does not
#: load the services, models and adapters of another concern's routes).
ROUTERS = ("health",)
V1_ROUTERS = (
    "integration",
    "uku",
    "client_integration",
    "summary_tasks",
    "notifications",
    "reload",
    "vat_types",
    "invoice_export",
)
#: The HTTP functions by concern: the routers each one's resolver has (template.yaml sends it only its routes).
#: A router may serve two concerns (the company list of the link dialog sits in the integration router).
CONCERNS: dict[str, tuple[str, ...]] = {
    "connection": ("integration", "vat_types"),  # connect, test, settings, fields, diagnostics, VAT types
    "client_links": ("client_integration", "integration"),  # link a client, company list
    "reload": ("reload",),
    "reads": ("summary_tasks", "notifications", "uku"),  # summary tasks, history, Uku lookups
    "invoice_export": ("invoice_export",),
    "health": (),  # the documentation function's liveness answer: /health alone
}


def router(name: str) -> Any:
    return import_module(f"smartaccounts_sync.api.routes.{name}").router


class ContractResolver(APIGatewayHttpResolver):
    """Powertools' resolver whose OpenAPI document (at /openapi.json, in /docs and in docs/) is completed by
    `api/contract.py`: security scheme, problem responses and the statuses the API really answers."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPI:
        return contract.complete_model(super().get_openapi_schema(*args, **kwargs))

    def include_router(self, router: Any, prefix: str | None = None) -> None:
        super().include_router(router, prefix)
        self._own_routers = [*getattr(self, "_own_routers", []), router]

    def resolve(self, event: dict, context: Any) -> dict:
        # A router module is shared by the resolvers built in one process (the local stack imports every function,
        # tests build several); its context follows the resolver that included it last. Resolve with ours.
        for router in getattr(self, "_own_routers", []):
            router.api_resolver = self
        return super().resolve(event, context)


def build_app(concern: str | None = None) -> APIGatewayHttpResolver:
    """The resolver of one concern's function; without a concern, every route (the API's documentation).

    Only the documentation function (no concern) serves /openapi.json and /docs: API Gateway sends those to it alone
    (template.yaml), and Powertools' OpenAPI models (~60 ms of pydantic classes) are imported only by the code that
    builds the document, so a concern's function never loads them. Request validation does not need them."""
    # A response that does not fit its model is the service's bug: 500, never a 4xx blaming the caller.
    app = ContractResolver(
        enable_validation=True, response_validation_error_http_code=500, json_body_deserializer=guards.parse_json_body
    )
    app.use(middlewares=[guards.path_identifiers])
    for name in ROUTERS:
        app.include_router(router(name))
    for name in V1_ROUTERS if concern is None else CONCERNS[concern]:
        app.include_router(router(name), prefix="/v1")
    problems.register(app)
    if concern is None:
        _serve_documentation(app)
    return app


def _serve_documentation(app: APIGatewayHttpResolver) -> None:
    from aws_lambda_powertools.event_handler.openapi.models import Server

    openapi = {
        "title": TITLE,
        "version": VERSION,
        "description": DESCRIPTION,
        "servers": [Server(url="/")],
    }
    app.enable_swagger(path="/docs", **openapi)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(status_code=200, content_type="application/json", body=openapi_document(app))


def openapi_document(app: APIGatewayHttpResolver) -> str:
    from aws_lambda_powertools.event_handler.openapi.models import Server

    return app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, servers=[Server(url="/")]
    )
