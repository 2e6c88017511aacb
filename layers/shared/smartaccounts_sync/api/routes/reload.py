"""Reload data: 202 with a job id and a Location at once; the job's progress is read from /reload-jobs/{jobId}."""

from __future__ import annotations

import datetime as dt

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.models import IdPath, Out
from smartaccounts_sync.domain.reload_job import ReloadJob
from smartaccounts_sync.service import reload

router = APIGatewayHttpRouter()
TAGS = ["Reload"]


class ClientErrorOut(Out):
    kind: str
    message: str


class ReloadJobOut(Out):
    job_id: str
    status: str
    scope: str
    window: list[str]
    client_ids: list[str]
    clients_total: int
    clients_done: int
    errors: dict[str, ClientErrorOut]
    calls_used: int
    calls_expected: int = Field(description="calls used plus those still expected (previous counts, refined)")
    estimated_finish_at: dt.datetime | None = Field(
        default=None, description="at the key's minute and daily quota; null once finished"
    )
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    resumes_at: dt.datetime | None = None
    joined: bool = False


def job_out(job: ReloadJob, joined: bool = False) -> ReloadJobOut:
    return ReloadJobOut(
        job_id=job.job_id,
        status=job.status.value,
        scope=job.scope,
        window=[str(m) for m in job.window],
        client_ids=job.client_ids,
        clients_total=job.clients_total,
        clients_done=job.clients_done,
        errors={c: ClientErrorOut(kind=e.kind, message=e.message) for c, e in job.errors.items()},
        calls_used=job.calls_used,
        calls_expected=job.calls_expected,
        estimated_finish_at=job.estimated_finish_at,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        resumes_at=job.resumes_at,
        joined=joined,
    )


def _accepted(request: reload.ReloadRequest) -> Response[ReloadJobOut]:
    return Response(
        status_code=202,
        content_type="application/json",
        body=job_out(request.job, request.joined),
        headers={"Location": f"/v1/reload-jobs/{request.job.job_id}"},
    )


@router.post(
    "/integrations/smartaccounts/reload",
    summary="Reload the last 12 months of all linked clients",
    tags=TAGS,
    status_code=202,
)
def reload_all() -> Response[ReloadJobOut]:
    who = caller(router, manage=True)
    return _accepted(reload.request_reload(dependencies(router), who.company_id, who.user_id))


@router.post(
    "/clients/<clientId>/integration/reload",
    summary="Reload the last 12 months of one client",
    tags=TAGS,
    status_code=202,
)
def reload_client(clientId: IdPath) -> Response[ReloadJobOut]:
    who = caller(router, manage=True)
    return _accepted(reload.request_reload(dependencies(router), who.company_id, who.user_id, clientId))


@router.get("/reload-jobs/<jobId>", summary="Progress of a reload job", tags=TAGS)
def get_reload_job(jobId: IdPath) -> ReloadJobOut:
    return job_out(reload.get_job(dependencies(router), caller(router).company_id, jobId))
