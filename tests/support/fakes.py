"""In-memory ports for the unit tier: every `Dependencies` port wired explicitly, none left to a default."""

from __future__ import annotations

from typing import Any

from smartaccounts_sync.adapters.client_link_repository import InMemoryClientLinkRepository
from smartaccounts_sync.adapters.event_publisher import InMemoryEventPublisher
from smartaccounts_sync.adapters.import_progress_repository import InMemoryImportProgressRepository
from smartaccounts_sync.adapters.integration_repository import InMemoryIntegrationRepository
from smartaccounts_sync.adapters.notification_repository import InMemoryNotificationRepository
from smartaccounts_sync.adapters.reload_job_repository import InMemoryReloadJobRepository
from smartaccounts_sync.adapters.secrets import InMemoryCredentialStore
from smartaccounts_sync.adapters.summary_task_repository import InMemorySummaryTaskRepository
from smartaccounts_sync.adapters.sync_history_repository import InMemorySyncHistoryRepository
from smartaccounts_sync.adapters.uku_store import InMemoryUkuStore
from smartaccounts_sync.adapters.work_queue import InMemoryWorkQueue
from smartaccounts_sync.domain.diagnostics import DiagnosticsReport
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from tests.support.export_fakes import (
    InMemoryBuyerLinks,
    InMemoryExportQueue,
    InMemoryExportRecords,
    InMemoryVatTypes,
)


class InMemoryDiagnosticsRepository:
    def __init__(self) -> None:
        self.reports: dict[str, DiagnosticsReport] = {}

    def save(self, report: DiagnosticsReport) -> None:
        self.reports[report.company_id] = report.model_copy(update={"live": False})

    def last(self, company_id: str) -> DiagnosticsReport | None:
        return self.reports.get(company_id)


#: Resource names the in-memory ports never use, given explicitly so that the fakes build without the environment the
#: test tier's conftest sets (bench/ runs them under `make bench`, which sets none).
IN_MEMORY_RESOURCES = {
    **{f"{name}_table_name": f"in-memory-{name.replace('_', '-')}" for name in (
        "config", "summary_tasks", "jobs", "sync_history", "idempotency", "rate_limit"
    )},
    "import_queue_url": "http://in-memory.invalid/queue/import",
    "export_queue_url": "http://in-memory.invalid/queue/export",
}


def in_memory_dependencies(**overrides: Any) -> Dependencies:
    ports: dict[str, Any] = {
        "settings": Settings(**IN_MEMORY_RESOURCES),
        "integrations": InMemoryIntegrationRepository(),
        "uku": InMemoryUkuStore(),
        "credentials": InMemoryCredentialStore(),
        "links": InMemoryClientLinkRepository(),
        "smartaccounts": None,
        "summary_tasks": InMemorySummaryTaskRepository(),
        "history": InMemorySyncHistoryRepository(),
        "notifications": InMemoryNotificationRepository(),
        "events": InMemoryEventPublisher(),
        "work_queue": InMemoryWorkQueue(),
        "jobs": InMemoryReloadJobRepository(),
        "exports": InMemoryExportRecords(),
        "buyer_links": InMemoryBuyerLinks(),
        "vat_types": InMemoryVatTypes(),
        "export_queue": InMemoryExportQueue(),
        "diagnostics": InMemoryDiagnosticsRepository(),
        "progress": InMemoryImportProgressRepository(),
        "quota": InMemoryRateGuard(),
    }
    return Dependencies(**(ports | overrides))
