"""Explicit conversions from domain and storage models to API response bodies."""

from __future__ import annotations

from smartaccounts_sync.api.models import (
    ClientIntegrationOut,
    ClientOut,
    ConnectionOut,
    ImportDayOut,
    ImportOut,
    IntegrationStateOut,
    LatestImportOut,
    QuotaOut,
    SettingsOut,
)
from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.integration import CompanyIntegration
from smartaccounts_sync.domain.reload_job import ReloadJob
from smartaccounts_sync.domain.uku import UkuClient


def reload_summary(job: ReloadJob) -> dict:
    """The running reload as the integration state shows it (the whole job is at /reload-jobs/{jobId})."""
    return {
        "jobId": job.job_id,
        "status": job.status.value,
        "clientsTotal": job.clients_total,
        "clientsDone": job.clients_done,
        "window": [str(m) for m in job.window],
        "resumesAt": job.resumes_at.isoformat() if job.resumes_at else None,
        "callsUsed": job.calls_used,
        "callsExpected": job.calls_expected,
        "estimatedFinishAt": job.estimated_finish_at.isoformat() if job.estimated_finish_at else None,
    }


def settings_out(record: CompanyIntegration, notice: str | None = None) -> SettingsOut | None:
    s = record.settings
    if s is None:
        return None
    return SettingsOut(
        task_title=s.task_title,
        topic_id=s.topic_id,
        recurrence=s.recurrence,
        import_day=ImportDayOut(rule=s.import_day.rule, day=s.import_day.day),
        field_mapping=dict(s.field_mapping),
        default_article_code=s.default_article_code,
        version=record.version,
        notice=notice,
    )


def state_out(
    record: CompanyIntegration, linked_clients: int, running_reload: dict | None = None, quota: QuotaOut | None = None
) -> IntegrationStateOut:
    c = record.connection
    return IntegrationStateOut(
        enabled=record.enabled,
        connection=ConnectionOut(
            status=c.status.value, reason=c.reason, message=c.message, since=c.since, checked_at=c.checked_at
        ),
        company_name=c.company_name,
        masked_key=record.credentials.masked_key if record.credentials else None,
        credentials_saved_at=record.credentials.saved_at if record.credentials else None,
        settings=settings_out(record),
        last_import=(
            ImportOut(month=str(record.last_imported_month), at=record.last_import_at)
            if record.last_imported_month
            else None
        ),
        next_import=(
            ImportOut(month=str(record.next_import_month), date=record.next_import_date)
            if record.next_import_month and record.enabled
            else None
        ),
        linked_clients=linked_clients,
        running_reload=running_reload,
        quota=quota,
        version=record.version,
    )


def client_integration_out(client_id: str, link: ClientLink | None, notice: str | None = None) -> ClientIntegrationOut:
    if link is None:
        return ClientIntegrationOut(client_id=client_id, integration=None, status="NOT_LINKED")
    return ClientIntegrationOut(
        client_id=client_id,
        integration=link.integration,
        status=link.status.value,
        company_id=link.company_id,
        company_name=link.company_name,
        company_reg_code=link.company_reg_code,
        reason=link.reason,
        message=link.message,
        since=link.since,
        own_credentials=link.own_credentials,
        masked_key=link.credentials.masked_key if link.credentials else None,
        last_import=(
            ImportOut(month=str(link.last_imported_month), at=link.last_import_at) if link.last_imported_month else None
        ),
        latest_import=latest_import_out(link),
        notice=notice,
    )


def latest_import_out(link: ClientLink) -> LatestImportOut | None:
    latest = link.latest_import
    if latest is None:
        return None
    return LatestImportOut(
        at=latest.at,
        outcome=latest.outcome.value,
        months=[str(m) for m in latest.months],
        error_kind=latest.error_kind,
        message=latest.message,
    )


def client_out(client: UkuClient, link: ClientLink | None) -> ClientOut:
    return ClientOut(
        id=client.id,
        name=client.name,
        registry_code=client.registry_code,
        vat_number=client.vat_number,
        integration=client_integration_out(client.id, link),
    )
