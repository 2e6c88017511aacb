"""The ports the use cases need, wired to real adapters from the settings (tests wire fakes instead).

The composition root: :func:`container_dependencies` builds them once per warm container (at its first invocation)
and hands the same ones to every later invocation, so the secrets cache, the rate guard's leases and the boto3
clients (each made at its first use) live as long as the container.

Each port that :meth:`Dependencies.from_settings` wires is built at its first use (:class:`Port`, :class:`Lazy`), and
the adapter module it comes from is imported then, not when this module is: a function imports the adapters (and the
models they read and write) that its invocations use, not all of them. The export worker never loads the
summary-task, history or import-progress adapters, the import worker never loads the export record ones. The
adapters' protocols are named here for typing only.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from smartaccounts_sync.adapters import keys
from smartaccounts_sync.adapters.aws_clients import LazyClient
from smartaccounts_sync.adapters.tenant_secrets import tenant_scope
from smartaccounts_sync.settings import Settings, load_settings

if TYPE_CHECKING:
    from smartaccounts_sync.adapters.client_link_repository import ClientLinkRepository
    from smartaccounts_sync.adapters.diagnostics_repository import DiagnosticsRepository
    from smartaccounts_sync.adapters.event_publisher import EventPublisher
    from smartaccounts_sync.adapters.import_progress_repository import ImportProgressRepository
    from smartaccounts_sync.adapters.integration_repository import IntegrationRepository
    from smartaccounts_sync.adapters.notification_repository import NotificationRepository
    from smartaccounts_sync.adapters.reload_job_repository import ReloadJobRepository
    from smartaccounts_sync.adapters.secrets import CredentialStore
    from smartaccounts_sync.adapters.summary_task_repository import SummaryTaskRepository
    from smartaccounts_sync.adapters.sync_history_repository import SyncHistoryRepository
    from smartaccounts_sync.adapters.uku_store import UkuStore
    from smartaccounts_sync.adapters.work_queue import WorkQueue
    from smartaccounts_sync.service.export_ports import (
        BuyerLinkRepository,
        ExportQueue,
        ExportRecordRepository,
        VatTypeRepository,
    )
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
    from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
    from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, RateGuard

#: Request tickets an HTTP route's rate guard leases at a time (a worker's: `SMARTACCOUNTS_RATE_LEASE_SIZE`).
ROUTE_LEASE_SIZE = 3

#: Builds a SmartAccounts client for a key pair (and optionally one of the companies it sees).
ClientFactory = Callable[["ApiCredentials", "str | None"], "SmartAccountsClient"]

T = TypeVar("T")

#: One lock for every first build: building a port may build another (the client factory, the rate guard), and the
#: local stack and the tests run handlers in threads over one container's dependencies.
_build_lock = threading.RLock()


class Lazy(Generic[T]):
    """A value the composition root builds at its first use, once (a port, the HTTP routes' rate guard)."""

    __slots__ = ("_build", "_value")

    def __init__(self, build: Callable[[], T]) -> None:
        self._build: Callable[[], T] | None = build
        self._value: T | None = None

    def if_built(self) -> T | None:
        return None if self._build is not None else self._value

    def get(self) -> T:
        if self._build is not None:
            with _build_lock:
                if self._build is not None:
                    self._value, self._build = self._build(), None
        return self._value  # type: ignore[return-value]


class Port:
    """A port of :class:`Dependencies`: it holds the adapter it was given, or builds the :class:`Lazy` one it was
    given at its first read. A dataclass field whose default is a descriptor: the class-level read raises, so the
    field has no default and every port must still be given to `Dependencies(...)`; values go through `__set__`."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None or self._name not in instance.__dict__:
            raise AttributeError(self._name)
        value = instance.__dict__[self._name]
        return value.get() if isinstance(value, Lazy) else value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self._name] = value


def tenant_credential_store(settings: Settings, *, writer: bool, company_key_only: bool = False) -> CredentialStore:
    """Secrets through a role scoped to the served company (AWS); the function's own credentials without one.

    `writer`: the role that may also save and delete; `company_key_only`: the role that reads the company-level key
    pair only (IAM denies a client's own key)."""
    from smartaccounts_sync.adapters.secrets import SecretsManagerCredentialStore
    from smartaccounts_sync.adapters.tenant_secrets import TenantScopedCredentialStore

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
    """The ports; tests give each one (fakes), :meth:`from_settings` gives each one built at its first use."""

    settings: Settings
    integrations: IntegrationRepository = Port()
    uku: UkuStore = Port()
    credentials: CredentialStore = Port()
    links: ClientLinkRepository = Port()
    smartaccounts: ClientFactory = Port()
    summary_tasks: SummaryTaskRepository = Port()
    history: SyncHistoryRepository = Port()
    notifications: NotificationRepository = Port()
    events: EventPublisher = Port()
    work_queue: WorkQueue = Port()
    jobs: ReloadJobRepository = Port()
    exports: ExportRecordRepository = Port()
    buyer_links: BuyerLinkRepository = Port()
    vat_types: VatTypeRepository = Port()
    export_queue: ExportQueue = Port()
    diagnostics: DiagnosticsRepository = Port()
    progress: ImportProgressRepository = Port()  # checkpoints, leases, counts and parked work of client imports
    quota: RateGuard = Port()  # the keys' day: `usage` for the quota plan and the integration state
    now: Callable[[], dt.datetime] = field(default=utc_now)
    #: `with deps.serve(company_id):` - the company whose secrets the work inside may use (tenant isolation by IAM,
    #: docs/security.md); set where the company is authenticated: the token, the import work, the export message.
    serve: Callable[[str | None], AbstractContextManager[None]] = field(default=tenant_scope)
    #: The SmartAccounts client factory for HTTP routes (a short overall deadline); None: `smartaccounts`.
    smartaccounts_now: ClientFactory | None = None
    #: Called when an invocation ends: the rate guards give back request tickets leased and not used.
    release_leases: Callable[[], None] = field(default=lambda: None)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, secrets_writer: bool = False, company_key_only: bool = False
    ) -> Dependencies:
        """`secrets_writer`: secrets are saved and deleted here (connection and client-link functions), not only read;
        `company_key_only`: only the company-level key pair is ever read here (invoice export, daily refresh).

        Every port is built at its first use (with its adapter module's import), once; the DynamoDB client is one
        `LazyClient` for all of them, made at the first call through it."""
        ddb = LazyClient("dynamodb", settings)
        config, jobs_table = settings.config_table_name, settings.jobs_table_name

        def rate_guard(*, route: bool = False) -> DynamoDbRateGuard:
            from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard

            guard = DynamoDbRateGuard.from_settings(settings)  # its own DynamoDB client: botocore never retries it
            if route:  # an HTTP route waits for a ticket no longer than its deadline, and leases only a few: it
                # makes a call or a few, and tickets it leased but did not use hold the key's next buckets
                guard.max_wait_seconds = min(guard.max_wait_seconds, settings.smartaccounts_route_deadline_seconds)
                guard.lease_size = min(guard.lease_size, ROUTE_LEASE_SIZE)
            return guard

        guard = Lazy(rate_guard)
        route_guard = Lazy(lambda: rate_guard(route=True))

        def release_leases() -> None:
            for built in (guard.if_built(), route_guard.if_built()):
                if built is not None:
                    built.release_unused()

        def smartaccounts(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: at first use only

            return SmartAccountsClient.from_settings(
                credentials, settings, rate_guard=guard.get(), company_id=company_id
            )

        def smartaccounts_now(credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
            """For HTTP routes: retries and rate-guard waits end within API Gateway's 29 s."""
            from smartaccounts_sync.smartaccounts.client import SmartAccountsClient

            return SmartAccountsClient.from_settings(
                credentials,
                settings,
                rate_guard=route_guard.get(),
                company_id=company_id,
                deadline_seconds=settings.smartaccounts_route_deadline_seconds,
            )

        def integrations() -> IntegrationRepository:
            from smartaccounts_sync.adapters.integration_repository import DynamoDbIntegrationRepository

            return DynamoDbIntegrationRepository(ddb, config)

        def uku() -> UkuStore:
            from smartaccounts_sync.adapters.uku_store import DynamoDbUkuStore

            return DynamoDbUkuStore(ddb, config)

        def links() -> ClientLinkRepository:
            from smartaccounts_sync.adapters.client_link_repository import DynamoDbClientLinkRepository

            return DynamoDbClientLinkRepository(ddb, config)

        def summary_tasks() -> SummaryTaskRepository:
            from smartaccounts_sync.adapters.summary_task_repository import DynamoDbSummaryTaskRepository

            return DynamoDbSummaryTaskRepository(ddb, settings.summary_tasks_table_name)

        def history() -> SyncHistoryRepository:
            from smartaccounts_sync.adapters.sync_history_repository import DynamoDbSyncHistoryRepository

            return DynamoDbSyncHistoryRepository(ddb, settings.sync_history_table_name)

        def notifications() -> NotificationRepository:
            from smartaccounts_sync.adapters.notification_repository import DynamoDbNotificationRepository

            return DynamoDbNotificationRepository(ddb, config)

        def events() -> EventPublisher:
            from smartaccounts_sync.adapters.event_publisher import EventBridgePublisher

            return EventBridgePublisher(LazyClient("events", settings), settings.event_bus_name)

        def work_queue() -> WorkQueue:
            from smartaccounts_sync.adapters.work_queue import SqsWorkQueue

            return SqsWorkQueue(LazyClient("sqs", settings), settings.import_queue_url)

        def jobs() -> ReloadJobRepository:
            from smartaccounts_sync.adapters.reload_job_repository import DynamoDbReloadJobRepository

            return DynamoDbReloadJobRepository(ddb, jobs_table)

        def exports() -> ExportRecordRepository:
            from smartaccounts_sync.adapters.export_record_repository import DynamoDbExportRecordRepository

            return DynamoDbExportRecordRepository(ddb, config)

        def buyer_links() -> BuyerLinkRepository:
            from smartaccounts_sync.adapters.export_record_repository import DynamoDbBuyerLinkRepository

            return DynamoDbBuyerLinkRepository(ddb, config)

        def vat_types() -> VatTypeRepository:
            from smartaccounts_sync.adapters.vat_type_repository import DynamoDbVatTypeRepository

            return DynamoDbVatTypeRepository(ddb, config)

        def export_queue() -> ExportQueue:
            from smartaccounts_sync.adapters.export_queue import SqsExportQueue

            return SqsExportQueue(LazyClient("sqs", settings), settings.export_queue_url)

        def diagnostics() -> DiagnosticsRepository:
            from smartaccounts_sync.adapters.diagnostics_repository import DynamoDbDiagnosticsRepository

            return DynamoDbDiagnosticsRepository(ddb, config)

        def progress() -> ImportProgressRepository:
            from smartaccounts_sync.adapters.import_progress_repository import DynamoDbImportProgressRepository

            return DynamoDbImportProgressRepository(ddb, jobs_table)

        return cls(
            settings=settings,
            integrations=Lazy(integrations),
            uku=Lazy(uku),
            credentials=Lazy(
                lambda: tenant_credential_store(settings, writer=secrets_writer, company_key_only=company_key_only)
            ),
            links=Lazy(links),
            smartaccounts=smartaccounts,
            smartaccounts_now=smartaccounts_now,
            summary_tasks=Lazy(summary_tasks),
            history=Lazy(history),
            notifications=Lazy(notifications),
            events=Lazy(events),
            work_queue=Lazy(work_queue),
            jobs=Lazy(jobs),
            exports=Lazy(exports),
            buyer_links=Lazy(buyer_links),
            vat_types=Lazy(vat_types),
            export_queue=Lazy(export_queue),
            diagnostics=Lazy(diagnostics),
            progress=Lazy(progress),
            quota=guard,
            release_leases=release_leases,
        )

    def route_client(self, credentials: ApiCredentials, company_id: str | None = None) -> SmartAccountsClient:
        """A SmartAccounts client for an HTTP route: it answers within API Gateway's limit."""
        factory = self.smartaccounts_now or self.smartaccounts
        return factory(credentials, company_id)

    def secret_name(self, company_id: str, client_id: str | None = None) -> str:
        return keys.secret_name(self.settings.secret_name_prefix, company_id, client_id)


_built: dict[tuple[str, bool, bool], tuple[Settings, Dependencies]] = {}
_built_lock = threading.Lock()


def container_dependencies(
    *, function: str = "", secrets_writer: bool = False, company_key_only: bool = False
) -> Dependencies:
    """This container's dependencies: the settings are read from the environment (and checked) at every invocation;
    the dependencies are built at the first and reused while the settings stay the same. Kept per function (and kind
    of secrets access) as well: the local stack runs every function in one process, and each keeps its own as its own
    container would (its own rate-guard leases, which only its invocations give back)."""
    settings = load_settings()
    key = (function, secrets_writer, company_key_only)
    with _built_lock:
        built = _built.get(key)
        if built is None or built[0] != settings:
            built = (
                settings,
                Dependencies.from_settings(settings, secrets_writer=secrets_writer, company_key_only=company_key_only),
            )
            _built[key] = built
        return built[1]
