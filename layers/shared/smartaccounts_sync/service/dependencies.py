"""The ports the use cases need, wired to real adapters from the settings (tests wire fakes instead)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from smartaccounts_sync.adapters.aws_clients import aws_client
from smartaccounts_sync.adapters.client_link_repository import ClientLinkRepository, DynamoDbClientLinkRepository
from smartaccounts_sync.adapters.event_publisher import EventBridgePublisher, EventPublisher
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
from smartaccounts_sync.adapters.uku_store import DynamoDbUkuStore, UkuStore
from smartaccounts_sync.adapters.work_queue import SqsWorkQueue, WorkQueue
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, RateGuard

#: Builds a SmartAccounts client for a key pair (and optionally one of the companies it sees).
ClientFactory = Callable[[ApiCredentials, "str | None"], SmartAccountsClient]


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
    progress: ImportProgressRepository  # checkpoints, leases, counts and parked work of client imports
    quota: RateGuard  # the keys' day: `usage` for the quota plan and the integration state
    now: Callable[[], dt.datetime] = field(default=utc_now)
    #: The SmartAccounts client factory for HTTP routes (a short overall deadline); None: `smartaccounts`.
    smartaccounts_now: ClientFactory | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Dependencies:
        ddb = aws_client("dynamodb", settings)
        guard = DynamoDbRateGuard.from_settings(settings, dynamodb_client=ddb)

        def smartaccounts(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            return SmartAccountsClient.from_settings(credentials, settings, rate_guard=guard, company_id=company_id)

        def smartaccounts_now(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            """For HTTP routes: retries and rate-guard waits end within API Gateway's 29 s."""
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
            credentials=SecretsManagerCredentialStore(aws_client("secretsmanager", settings)),
            links=DynamoDbClientLinkRepository(ddb, settings.config_table_name),
            smartaccounts=smartaccounts,
            smartaccounts_now=smartaccounts_now,
            summary_tasks=DynamoDbSummaryTaskRepository(ddb, settings.summary_tasks_table_name),
            history=DynamoDbSyncHistoryRepository(ddb, settings.sync_history_table_name),
            notifications=DynamoDbNotificationRepository(ddb, settings.config_table_name),
            events=EventBridgePublisher(aws_client("events", settings), settings.event_bus_name),
            work_queue=SqsWorkQueue(aws_client("sqs", settings), settings.import_queue_url),
            jobs=DynamoDbReloadJobRepository(ddb, settings.jobs_table_name),
            progress=DynamoDbImportProgressRepository(ddb, settings.jobs_table_name),
            quota=guard,
        )

    def route_client(self, credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
        """A SmartAccounts client for an HTTP route: it answers within API Gateway's limit."""
        factory = self.smartaccounts_now or self.smartaccounts
        return factory(credentials, company_id)

    def secret_name(self, company_id: str, client_id: str | None = None) -> str:
        base = f"{self.settings.secret_name_prefix}company/{company_id}"
        return f"{base}/client/{client_id}" if client_id else base
