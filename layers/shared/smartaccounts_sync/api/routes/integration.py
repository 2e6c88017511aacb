"""The integration dialog: Overview (state, enable, disable), Connect (credentials, test), Settings, diagnostics."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.contract import problems
from smartaccounts_sync.api.models import (
    CheckOut,
    CompaniesOut,
    CompanyOut,
    ConnectionTestOut,
    CredentialsIn,
    DiagnosticsOut,
    FieldOut,
    FieldsOut,
    IntegrationStateOut,
    QuotaOut,
    SettingsIn,
    SettingsOut,
    TestConnectionIn,
)
from smartaccounts_sync.api.presenters import reload_summary, settings_out, state_out
from smartaccounts_sync.domain.client_link import last_import
from smartaccounts_sync.domain.field_catalogue import CATALOGUE
from smartaccounts_sync.domain.integration import SummaryTaskSettings
from smartaccounts_sync.errors import FieldProblem, NotFound, ValidationFailed
from smartaccounts_sync.service import client_links, connection, diagnostics, quota_plan, summary_task_settings
from smartaccounts_sync.troubleshooting import WHITESPACE_NOTE

router = APIGatewayHttpRouter()
TAGS = ["Integration"]


def _state(company_id: str) -> IntegrationStateOut:
    deps = dependencies(router)
    running = deps.jobs.running(company_id)
    links = deps.links.list(company_id)
    done = last_import(links)  # from the clients' succeeded imports, not from when work was queued
    record = deps.integrations.get(company_id).model_copy(
        update={"last_imported_month": done[0] if done else None, "last_import_at": done[1] if done else None}
    )
    quota = quota_plan.quota_state(deps, record)
    return state_out(
        record,
        linked_clients=len(links),
        running_reload=reload_summary(quota_plan.with_estimate(deps, running)) if running else None,
        quota=QuotaOut(**vars(quota)) if quota else None,
    )


@router.get("/integrations/smartaccounts", summary="Integration state", tags=TAGS)
def get_state() -> IntegrationStateOut:
    return _state(caller(router).company_id)


@router.post("/integrations/smartaccounts/enable", summary="Enable at company level", tags=TAGS)
def enable() -> IntegrationStateOut:
    who = caller(router, manage=True)
    connection.enable(dependencies(router), who.company_id)
    return _state(who.company_id)


@router.post("/integrations/smartaccounts/disable", summary="Disable (configuration and links are kept)", tags=TAGS)
def disable() -> IntegrationStateOut:
    who = caller(router, manage=True)
    connection.disable(dependencies(router), who.company_id)
    return _state(who.company_id)


def _test_message(company_name: str, trimmed: tuple[str, ...], saved: bool) -> str:
    message = f"Connected: SmartAccounts answers as {company_name}."
    if saved:
        message += " The credentials are saved."
    if trimmed:
        message += f" {WHITESPACE_NOTE} ({', '.join(trimmed)})"
    return message


@router.put(
    "/integrations/smartaccounts/credentials",
    summary="Save the API key and secret (tested first)",
    tags=TAGS,
    openapi_extensions=problems(404, 422, 429, 502),
)
def put_credentials(body: CredentialsIn) -> ConnectionTestOut:
    who = caller(router, manage=True)
    _, test = connection.save_credentials(dependencies(router), who.company_id, body.api_key, body.api_secret)
    return ConnectionTestOut(
        company_name=test.company_name,
        company_id=test.company_id,
        company_reg_code=test.company_reg_code,
        trimmed=list(test.trimmed),
        message=_test_message(test.company_name, test.trimmed, True),
        saved=True,
    )


@router.post(
    "/integrations/smartaccounts/test-connection",
    summary="Test saved or given credentials",
    tags=TAGS,
    openapi_extensions=problems(404, 422, 429, 502),
)
def test_connection(body: TestConnectionIn | None = None) -> ConnectionTestOut:
    who = caller(router, manage=True)
    body = body or TestConnectionIn()
    test = connection.test_connection(dependencies(router), who.company_id, body.api_key, body.api_secret)
    return ConnectionTestOut(
        company_name=test.company_name,
        company_id=test.company_id,
        company_reg_code=test.company_reg_code,
        trimmed=list(test.trimmed),
        message=_test_message(test.company_name, test.trimmed, False),
        saved=False,
    )


@router.get(
    "/integrations/smartaccounts/settings", summary="Summary task settings", tags=TAGS, openapi_extensions=problems(404)
)
def get_settings() -> SettingsOut:
    record = dependencies(router).integrations.get(caller(router).company_id)
    out = settings_out(record)
    if out is None:
        raise NotFound("Summary task settings have not been saved yet.")
    return out


def _if_match() -> int | None:
    header = (router.current_event.headers or {}).get("if-match")
    if header is None:
        return None
    try:
        return int(header.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        raise ValidationFailed([FieldProblem("If-Match", "must be the settings' version number")]) from None


@router.put("/integrations/smartaccounts/settings", summary="Save summary task settings and field mapping", tags=TAGS)
def put_settings(body: SettingsIn) -> SettingsOut:
    who = caller(router, manage=True)
    settings = SummaryTaskSettings(
        task_title=body.task_title,
        topic_id=body.topic_id,
        recurrence=body.recurrence,
        import_day=body.import_day,
        field_mapping=body.field_mapping,
        default_article_code=body.default_article_code,
    )
    saved = summary_task_settings.save_settings(dependencies(router), who.company_id, settings, _if_match())
    out = settings_out(saved.record, notice=saved.notice)
    assert out is not None  # noqa: S101 - just saved
    return out


@router.get("/integrations/smartaccounts/fields", summary="Catalogue of SmartAccounts fields", tags=TAGS)
def get_fields() -> FieldsOut:
    caller(router)
    return FieldsOut(
        fields=[
            FieldOut(
                key=f.key, label=f.label, kind=f.kind.value, main=f.main, source=f.source.value,
                description=f.description,
            )
            for f in CATALOGUE
        ]
    )


@router.get(
    "/integrations/smartaccounts/diagnostics",
    summary="Troubleshooting checks",
    description=(
        "An owner or admin on a Team or Elite plan runs every check now, live ones included (they call SmartAccounts "
        "with the company's key and refresh client link statuses); the result is kept. Anyone else sees the last "
        "kept result (`live` false), or, before any, the checks that need no SmartAccounts call."
    ),
    tags=TAGS,
)
def get_diagnostics() -> DiagnosticsOut:
    who = caller(router)
    deps = dependencies(router)
    if who.may_manage:
        report = diagnostics.check_now(deps, who.company_id)
    else:
        report = diagnostics.last_report(deps, who.company_id)
    checks = report.checks
    return DiagnosticsOut(
        passed=report.passed,
        checked_at=report.checked_at,
        live=report.live,
        checks=[
            CheckOut(id=c.id, title=c.title, status=c.status.value, detail=c.detail, fix=c.fix, error_kind=c.error_kind)
            for c in checks
        ],
    )


@router.get(
    "/integrations/smartaccounts/companies",
    summary="SmartAccounts companies the credentials see",
    tags=TAGS,
    openapi_extensions=problems(404, 409, 422, 429, 502),
)
def get_companies(search: Annotated[str | None, Query(max_length=100)] = None) -> CompaniesOut:
    who = caller(router, manage=True)
    companies = client_links.list_companies(dependencies(router), who.company_id, search)
    return CompaniesOut(companies=[CompanyOut(id=c.id, name=c.name, reg_code=c.reg_code) for c in companies])
