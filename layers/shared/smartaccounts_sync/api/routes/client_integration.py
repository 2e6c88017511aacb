"""A client's Integration column: link to a SmartAccounts company (optionally with its own key), read, unlink."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.contract import problems
from smartaccounts_sync.api.models import ClientIntegrationIn, ClientIntegrationOut, IdPath
from smartaccounts_sync.api.presenters import client_integration_out
from smartaccounts_sync.service import client_links

router = APIGatewayHttpRouter()
TAGS = ["Clients"]


@router.get("/clients/<clientId>/integration", summary="A client's SmartAccounts link", tags=TAGS)
def get_client_integration(clientId: IdPath) -> ClientIntegrationOut:
    _, link = client_links.get_link(dependencies(router), caller(router).company_id, clientId)
    return client_integration_out(clientId, link)


@router.put(
    "/clients/<clientId>/integration",
    summary="Link or relink a client to its company",
    tags=TAGS,
    openapi_extensions=problems(404, 422, 429, 502),
)
def put_client_integration(clientId: IdPath, body: ClientIntegrationIn) -> ClientIntegrationOut:
    who = caller(router, manage=True)
    result = client_links.link_client(
        dependencies(router), who.company_id, clientId, body.company_id, body.api_key, body.api_secret
    )
    return client_integration_out(clientId, result.link, notice=result.notice)


@router.delete(
    "/clients/<clientId>/integration", summary="Unlink (past summary tasks stay)", tags=TAGS, status_code=204
)
def delete_client_integration(clientId: IdPath) -> tuple[dict, int]:
    who = caller(router, manage=True)
    client_links.unlink_client(dependencies(router), who.company_id, clientId)
    return {}, 204
