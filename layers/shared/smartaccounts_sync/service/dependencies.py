"""The ports the use cases need, wired to real adapters from the settings (tests wire fakes instead).

The composition root: :func:`container_dependencies` builds them once per warm container (at its first invocation)
and hands the same ones to every later invocation, so the secrets cache, the rate guard's leases and the boto3
clients (each made at its first use) live as long as the container.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smartaccounts_sync.adapters import keys
from smartaccounts_sync.adapters.aws_clients import LazyClient
from smartaccounts_sync.adapters.client_link_repository import ClientLinkRepository, DynamoDbClientLinkRepository
from smartaccounts_sync.adapters.diagnostics_repository import DiagnosticsRepository, DynamoDbDiagnosticsRepository
from smartaccounts_sync.adapters.event_publisher import EventBridgePublisher, EventPublisher
from smartaccounts_sync.adapters.export_queue import SqsExportQueue
from smartaccounts_sync.adapters.export_record_repository import (
    DynamoDbBuyerLinkRepository,
    DynamoDbExportRecordRepository,
)
from smartaccounts_sync.adapters.import_progress_repository import (
    DynamoDbImportProgressRepository,
    ImportProgressRepository,
)
from smartaccounts_sync.adapters.integration_repository import DynamoDbIntegrationRepository, IntegrationRepository
from smartaccounts_sync.adapters.notification_repository import (
    DynamoDbNotificationRepository,
    NotificationRepository,
)
from smartaccounts_sync.adapters.reload_job_repository import (
    DynamoDbReloadJobRepository,
    ReloadJobRepository,
)
from smartaccounts_sync.adapters.secrets import CredentialStore, SecretsManagerCredentialStore
from smartaccounts_sync.adapters.summary_task_repository import (
    DynamoDbSummaryTaskRepository,
    SummaryTaskRepository,
)
from smartaccounts_sync.adapters.sync_history_repository import (
    DynamoDbSyncHistoryRepository,
    SyncHistoryRepository,
)
from smartaccounts_sync.adapters.tenant_secrets import TenantScopedCredentialStore, tenant_scope
from smartaccounts_sync.adapters.uku_store import DynamoDbUkuStore, UkuStore
from smartaccounts_sync.adapters.vat_type_repository import DynamoDbVatTypeRepository
from smartaccounts_sync.adapters.work_queue import SqsWorkQueue, WorkQueue
from smartaccounts_sync.service.export_ports import (
    BuyerLinkRepository,
    ExportQueue,
    ExportRecordRepository,
    VatTypeRepository,
)
from smartaccounts_sync.settings import Settings, load_settings
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, RateGuard

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient

#: Builds a SmartAccounts client for a key pair (and optionally one of the companies it sees).
ClientFactory = Callable[[ApiCredentials, "str | None"], "SmartAccountsClient"]


def tenant_credential_store(settings: Settings, *, writer: bool, company_key_only: bool = False) -> CredentialStore:
    """Secrets through a role scoped to the served company (AWS); the function's own credentials without one.

    `writer`: the role that may also save and delete; `company_key_only`: the role that reads the company-level key
    pair only (IAM denies a client's own key)."""
    if writer:
        role_arn = settings.tenant_secrets_writer_role_arn
    elif company_key_only:
        role_arn = settings.tenant_company_key_reader_role_arn
    else:
        role_arn = settings.tenant_secrets_reader_role_arn
    if not role_arn:
        return SecretsManagerCredentialStore(
            LazyClient("secretsmanager", settings), kms_key_id=settings.secrets_kms_key_id
        )

    def secrets_client(session: dict[str, str]) -> Any:
        import boto3  # the runtime's; only where a tenant session is opened

        return boto3.client(
            "secretsmanager", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, **session
        )

    return TenantScopedCredentialStore(
        LazyClient("sts", settings), role_arn, secrets_client, kms_key_id=settings.secrets_kms_key_id
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Dependencies:
    settings: Settings
    integrations: IntegrationRepository
    uku: UkuStore
    credentials: CredentialStore
    links: ClientLinkRepository
    smartaccounts: ClientFactory
    summary_tasks: SummaryTaskRepository
    history: SyncHistoryRepository
    notifications: NotificationRepository
    events: EventPublisher
    work_queue: WorkQueue
    jobs: ReloadJobRepository
    exports: ExportRecordRepository
    buyer_links: BuyerLinkRepository
    vat_types: VatTypeRepository
    export_queue: ExportQueue
    diagnostics: DiagnosticsRepository
    progress: ImportProgressRepository  # checkpoints, leases, counts and parked work of client imports
    quota: RateGuard  # the keys' day: `usage` for the quota plan and the integration state
    now: Callable[[], dt.datetime] = field(default=utc_now)
    #: `with deps.serve(company_id):` - the company whose secrets the work inside may use (tenant isolation by IAM,
    #: docs/security.md); set where the company is authenticated: the token, the import work, the export message.
    serve: Callable[[str | None], AbstractContextManager[None]] = field(default=tenant_scope)
    #: The SmartAccounts client factory for HTTP routes (a short overall deadline); None: `smartaccounts`.
    smartaccounts_now: ClientFactory | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, secrets_writer: bool = False, company_key_only: bool = False
    ) -> Dependencies:
        """`secrets_writer`: secrets are saved and deleted here (connection and client-link functions), not only read;
        `company_key_only`: only the company-level key pair is ever read here (invoice export, daily refresh)."""
        ddb = LazyClient("dynamodb", settings)
        guard = DynamoDbRateGuard.from_settings(settings, dynamodb_client=ddb)

        def smartaccounts(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: at first use only

            return SmartAccountsClient.from_settings(credentials, settings, rate_guard=guard, company_id=company_id)

        def smartaccounts_now(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            """For HTTP routes: retries and rate-guard waits end within API Gateway's 29 s."""
            from smartaccounts_sync.smartaccounts.client import SmartAccountsClient

            return SmartAccountsClient.from_settings(
                credentials,
                settings,
                rate_guard=route_guard,
                company_id=company_id,
                deadline_seconds=settings.smartaccounts_route_deadline_seconds,
            )

        route_guard = DynamoDbRateGuard.from_settings(settings, dynamodb_client=ddb)
        route_guard.max_wait_seconds = min(route_guard.max_wait_seconds, settings.smartaccounts_route_deadline_seconds)

        return cls(
            settings=settings,
            integrations=DynamoDbIntegrationRepository(ddb, settings.config_table_name),
            uku=DynamoDbUkuStore(ddb, settings.config_table_name),
            credentials=tenant_credential_store(settings, writer=secrets_writer, company_key_only=company_key_only),
            links=DynamoDbClientLinkRepository(ddb, settings.config_table_name),
            smartaccounts=smartaccounts,
            smartaccounts_now=smartaccounts_now,
            summary_tasks=DynamoDbSummaryTaskRepository(ddb, settings.summary_tasks_table_name),
            history=DynamoDbSyncHistoryRepository(ddb, settings.sync_history_table_name),
            notifications=DynamoDbNotificationRepository(ddb, settings.config_table_name),
            events=EventBridgePublisher(LazyClient("events", settings), settings.event_bus_name),
            work_queue=SqsWorkQueue(LazyClient("sqs", settings), settings.import_queue_url),
            jobs=DynamoDbReloadJobRepository(ddb, settings.jobs_table_name),
            exports=DynamoDbExportRecordRepository(ddb, settings.config_table_name),
            buyer_links=DynamoDbBuyerLinkRepository(ddb, settings.config_table_name),
            vat_types=DynamoDbVatTypeRepository(ddb, settings.config_table_name),
            export_queue=SqsExportQueue(LazyClient("sqs", settings), settings.export_queue_url),
            diagnostics=DynamoDbDiagnosticsRepository(ddb, settings.config_table_name),
            progress=DynamoDbImportProgressRepository(ddb, settings.jobs_table_name),
            quota=guard,
        )

    def route_client(self, credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
        """A SmartAccounts client for an HTTP route: it answers within API Gateway's limit."""
        factory = self.smartaccounts_now or self.smartaccounts
        return factory(credentials, company_id)

    def secret_name(self, company_id: str, client_id: str | None = None) -> str:
        return keys.secret_name(self.settings.secret_name_prefix, company_id, client_id)


_built: dict[tuple[bool, bool], tuple[Settings, Dependencies]] = {}
_built_lock = threading.Lock()


def container_dependencies(*, secrets_writer: bool = False, company_key_only: bool = False) -> Dependencies:
    """This container's dependencies: the settings are read from the environment (and checked) at every invocation;
    the dependencies are built at the first and reused while the settings stay the same. (Kept per kind of secrets
    access as well: the local stack runs every function in one process.)"""
    settings = load_settings()
    key = (secrets_writer, company_key_only)
    with _built_lock:
        built = _built.get(key)
        if built is None or built[0] != settings:
            built = (
                settings,
                Dependencies.from_settings(settings, secrets_writer=secrets_writer, company_key_only=company_key_only),
            )
            _built[key] = built
        return built[1]
