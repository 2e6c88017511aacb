"""The ports the use cases need, wired to real adapters from the settings (tests wire fakes instead).

The composition root: :func:`container_dependencies` builds them once per warm container (at its first invocation)
and hands the same ones to every later invocation, so the secrets cache, the rate guard's leases and the boto3
clients (each made at its first use) live as long as the container.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smartaccounts_sync.adapters.aws_clients import LazyClient
from smartaccounts_sync.adapters.client_link_repository import ClientLinkRepository, DynamoDbClientLinkRepository
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
from smartaccounts_sync.adapters.uku_store import DynamoDbUkuStore, UkuStore
from smartaccounts_sync.adapters.work_queue import SqsWorkQueue, WorkQueue
from smartaccounts_sync.settings import Settings, load_settings
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient

#: Builds a SmartAccounts client for a key pair (and optionally one of the companies it sees).
ClientFactory = Callable[[ApiCredentials, "str | None"], "SmartAccountsClient"]


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
    now: Callable[[], dt.datetime] = field(default=utc_now)

    @classmethod
    def from_settings(cls, settings: Settings) -> Dependencies:
        ddb = LazyClient("dynamodb", settings)
        guard = DynamoDbRateGuard.from_settings(settings, dynamodb_client=ddb)

        def smartaccounts(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: at first use only

            return SmartAccountsClient.from_settings(credentials, settings, rate_guard=guard, company_id=company_id)

        return cls(
            settings=settings,
            integrations=DynamoDbIntegrationRepository(ddb, settings.config_table_name),
            uku=DynamoDbUkuStore(ddb, settings.config_table_name),
            credentials=SecretsManagerCredentialStore(LazyClient("secretsmanager", settings)),
            links=DynamoDbClientLinkRepository(ddb, settings.config_table_name),
            smartaccounts=smartaccounts,
            summary_tasks=DynamoDbSummaryTaskRepository(ddb, settings.summary_tasks_table_name),
            history=DynamoDbSyncHistoryRepository(ddb, settings.sync_history_table_name),
            notifications=DynamoDbNotificationRepository(ddb, settings.config_table_name),
            events=EventBridgePublisher(LazyClient("events", settings), settings.event_bus_name),
            work_queue=SqsWorkQueue(LazyClient("sqs", settings), settings.import_queue_url),
            jobs=DynamoDbReloadJobRepository(ddb, settings.jobs_table_name),
        )

    def secret_name(self, company_id: str, client_id: str | None = None) -> str:
        base = f"{self.settings.secret_name_prefix}company/{company_id}"
        return f"{base}/client/{client_id}" if client_id else base


_built: tuple[Settings, Dependencies] | None = None
_built_lock = threading.Lock()


def container_dependencies() -> Dependencies:
    """This container's dependencies: the settings are read from the environment (and checked) at every invocation;
    the dependencies are built at the first and reused while the settings stay the same."""
    global _built
    settings = load_settings()
    with _built_lock:
        if _built is None or _built[0] != settings:
            _built = (settings, Dependencies.from_settings(settings))
        return _built[1]
