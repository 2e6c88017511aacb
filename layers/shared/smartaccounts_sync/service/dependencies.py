"""The ports the use cases need, wired to real adapters from the settings (tests wire fakes instead)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from smartaccounts_sync.adapters import keys
from smartaccounts_sync.adapters.aws_clients import aws_client
from smartaccounts_sync.adapters.client_link_repository import ClientLinkRepository, DynamoDbClientLinkRepository
from smartaccounts_sync.adapters.diagnostics_repository import DiagnosticsRepository, DynamoDbDiagnosticsRepository
from smartaccounts_sync.adapters.event_publisher import EventBridgePublisher, EventPublisher
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
from smartaccounts_sync.adapters.tenant_secrets import TenantScopedCredentialStore
from smartaccounts_sync.adapters.uku_store import DynamoDbUkuStore, UkuStore
from smartaccounts_sync.adapters.work_queue import SqsWorkQueue, WorkQueue
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard

#: Builds a SmartAccounts client for a key pair (and optionally one of the companies it sees).
ClientFactory = Callable[[ApiCredentials, "str | None"], SmartAccountsClient]


def tenant_credential_store(settings: Settings, *, writer: bool) -> CredentialStore:
    """Secrets through a role scoped to the served company (AWS); the function's own credentials without one."""
    role_arn = settings.tenant_secrets_writer_role_arn if writer else settings.tenant_secrets_reader_role_arn
    if not role_arn:
        return SecretsManagerCredentialStore(
            aws_client("secretsmanager", settings), kms_key_id=settings.secrets_kms_key_id
        )

    def secrets_client(session: dict[str, str]) -> Any:
        return boto3.client(
            "secretsmanager", region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url, **session
        )

    return TenantScopedCredentialStore(
        aws_client("sts", settings), role_arn, secrets_client, kms_key_id=settings.secrets_kms_key_id
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
    diagnostics: DiagnosticsRepository
    now: Callable[[], dt.datetime] = field(default=utc_now)

    @classmethod
    def from_settings(cls, settings: Settings, *, secrets_writer: bool = False) -> Dependencies:
        """`secrets_writer`: secrets are saved and deleted here (the HTTP functions), not only read."""
        ddb = aws_client("dynamodb", settings)
        guard = DynamoDbRateGuard.from_settings(settings, dynamodb_client=ddb)

        def smartaccounts(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            return SmartAccountsClient.from_settings(credentials, settings, rate_guard=guard, company_id=company_id)

        return cls(
            settings=settings,
            integrations=DynamoDbIntegrationRepository(ddb, settings.config_table_name),
            uku=DynamoDbUkuStore(ddb, settings.config_table_name),
            credentials=tenant_credential_store(settings, writer=secrets_writer),
            links=DynamoDbClientLinkRepository(ddb, settings.config_table_name),
            smartaccounts=smartaccounts,
            summary_tasks=DynamoDbSummaryTaskRepository(ddb, settings.summary_tasks_table_name),
            history=DynamoDbSyncHistoryRepository(ddb, settings.sync_history_table_name),
            notifications=DynamoDbNotificationRepository(ddb, settings.config_table_name),
            events=EventBridgePublisher(aws_client("events", settings), settings.event_bus_name),
            work_queue=SqsWorkQueue(aws_client("sqs", settings), settings.import_queue_url),
            jobs=DynamoDbReloadJobRepository(ddb, settings.jobs_table_name),
            diagnostics=DynamoDbDiagnosticsRepository(ddb, settings.config_table_name),
        )

    def secret_name(self, company_id: str, client_id: str | None = None) -> str:
        return keys.secret_name(self.settings.secret_name_prefix, company_id, client_id)
