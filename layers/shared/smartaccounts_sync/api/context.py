"""What every route needs: the caller (from the JWT claims) and the service's ports (from the resolver context).

The summary-task service (its repository, the task and statistics models) is imported where an owner's manage call
records the company owner, not with every function's routes: most functions' routes never use it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.adapters.tenant_secrets import serve_company
from smartaccounts_sync.api.auth import Caller
from smartaccounts_sync.service.dependencies import Dependencies


def caller(router: APIGatewayHttpRouter, *, manage: bool = False) -> Caller:
    """The caller; with `manage`, only an owner or admin on a Team or Elite plan (else 403 saying which rule)."""
    claims = router.current_event.request_context.authorizer.jwt_claim
    who = Caller.from_claims(claims)
    serve_company(who.company_id)  # secrets are reachable for this company only (adapters/tenant_secrets.py)
    if manage:
        who.require_manager()
        if who.role == "owner":
            from smartaccounts_sync.service import summary_tasks

            # The company owner is the assignee of summary tasks whose client has no default user.
            summary_tasks.remember_owner(dependencies(router), who.company_id, who.user_id)
    return who


def dependencies(router: APIGatewayHttpRouter) -> Dependencies:
    return router.context["deps"]
