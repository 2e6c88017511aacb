"""Fakes for the import use cases: in-memory ports and a scripted SmartAccounts client (no sockets)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

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
from smartaccounts_sync.domain.client_link import ClientLink
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import (
    CompanyIntegration,
    Connection,
    ConnectionStatus,
    StoredCredentials,
    SummaryTaskSettings,
)
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts.client import ListPage
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials, ClientInvoice, JournalEntry, Payment, VendorInvoice
from smartaccounts_sync.smartaccounts.rate_guard import InMemoryRateGuard
from tests.support.export_fakes import (
    InMemoryBuyerLinks,
    InMemoryExportQueue,
    InMemoryExportRecords,
    InMemoryVatTypes,
)
from tests.support.fakes import InMemoryDiagnosticsRepository
from tests.support.local_company import ALL_FIELDS

NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
COMPANY = "uku-1"


@dataclass
class FakeSmartAccounts:
    """Answers from canned wire documents, or raises a scripted error; counts calls per kind."""

    sales: list[ClientInvoice] = field(default_factory=list)
    purchases: list[VendorInvoice] = field(default_factory=list)
    payments_: list[Payment] = field(default_factory=list)
    entries: list[JournalEntry] = field(default_factory=list)
    error: SmartAccountsError | None = None
    calls: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    calls_made: int = 0
    fail_after_pages: int | None = None  # every page after this many calls fails (fail_with, or UNAVAILABLE)
    fail_with: SmartAccountsError | None = None

    def _call(self, kind: str, docs: list[Any], date_from: dt.date, date_to: dt.date) -> list[Any]:
        self.calls[kind] = self.calls.get(kind, 0) + 1
        self.calls_made += 1
        if self.error is not None:
            raise self.error
        return [d for d in docs if date_from <= d.date <= date_to]

    daily_reserve: int = 0
    deadline: float | None = None
    page_size: int = 100

    def list_page(
        self, endpoint: Any, params: list[tuple[str, str]], model: Any, page: int, previous_ids: Any = None
    ) -> ListPage:
        """One page of a list query, as the real client answers it (100 a page, `hasMoreEntries`)."""
        kind = endpoint.resource
        docs = {
            "clientinvoices": self.sales,
            "vendorinvoices": self.purchases,
            "payments": self.payments_,
            "entries": self.entries,
        }[kind]
        values = dict(params)
        date_from = dt.datetime.strptime(values["dateFrom"], "%d.%m.%Y").date()
        date_to = dt.datetime.strptime(values["dateTo"], "%d.%m.%Y").date()
        self.pages[kind] = self.pages.get(kind, 0) + 1
        if page == 1:
            self.calls[kind] = self.calls.get(kind, 0) + 1  # queries started
        self.calls_made += 1
        if self.fail_after_pages is not None and self.calls_made > self.fail_after_pages:
            raise self.fail_with or SmartAccountsError(ErrorKind.UNAVAILABLE, "down")
        if self.error is not None:
            raise self.error
        found = [d for d in docs if date_from <= d.date <= date_to]
        chunk = found[(page - 1) * self.page_size : page * self.page_size]
        return ListPage(list(chunk), page * self.page_size < len(found), [d.id for d in chunk])

    def client_invoices(self, date_from: dt.date, date_to: dt.date, **_: Any) -> list[ClientInvoice]:
        return self._call("clientinvoices", self.sales, date_from, date_to)

    def vendor_invoices(self, date_from: dt.date, date_to: dt.date, **_: Any) -> list[VendorInvoice]:
        return self._call("vendorinvoices", self.purchases, date_from, date_to)

    def payments(self, date_from: dt.date, date_to: dt.date, **_: Any) -> list[Payment]:
        return self._call("payments", self.payments_, date_from, date_to)

    def journal_entries(self, date_from: dt.date, date_to: dt.date, **_: Any) -> list[JournalEntry]:
        return self._call("entries", self.entries, date_from, date_to)


@dataclass
class World:
    deps: Dependencies
    sa: FakeSmartAccounts
    links: InMemoryClientLinkRepository
    uku: InMemoryUkuStore
    integrations: InMemoryIntegrationRepository
    credentials: InMemoryCredentialStore

    @property
    def events(self) -> InMemoryEventPublisher:
        return self.deps.events  # type: ignore[return-value]


def all_fields_mapping() -> dict[str, str | None]:
    return {key: f"field-{key}" for key in ALL_FIELDS}


@pytest.fixture
def world() -> World:
    sa = FakeSmartAccounts()
    links, uku = InMemoryClientLinkRepository(), InMemoryUkuStore()
    integrations, credentials = InMemoryIntegrationRepository(), InMemoryCredentialStore()
    deps = Dependencies(
        settings=Settings(),
        integrations=integrations,
        uku=uku,  # type: ignore[arg-type]
        credentials=credentials,
        links=links,  # type: ignore[arg-type]
        smartaccounts=lambda creds, company=None: sa,  # type: ignore[arg-type,return-value]
        now=lambda: NOW,
        summary_tasks=InMemorySummaryTaskRepository(),
        history=InMemorySyncHistoryRepository(),
        notifications=InMemoryNotificationRepository(),
        events=InMemoryEventPublisher(),
        work_queue=InMemoryWorkQueue(),
        jobs=InMemoryReloadJobRepository(),
        exports=InMemoryExportRecords(),
        buyer_links=InMemoryBuyerLinks(),
        vat_types=InMemoryVatTypes(),
        export_queue=InMemoryExportQueue(),
        diagnostics=InMemoryDiagnosticsRepository(),
        progress=InMemoryImportProgressRepository(),
        quota=InMemoryRateGuard(),
    )
    secret = deps.secret_name(COMPANY)
    credentials.save(secret, ApiCredentials(api_key="company-key", api_secret="company-secret"))
    integrations.save(
        CompanyIntegration(
            company_id=COMPANY,
            enabled=True,
            credentials=StoredCredentials(secret_name=secret, masked_key="comp…-key", saved_at=NOW),
            connection=Connection(status=ConnectionStatus.CONNECTED, company_name="Firm"),
            settings=SummaryTaskSettings(
                task_title="{client} {monthName} {year}",
                topic_id="topic-1",
                import_day=ImportDay.last_work_day(),
                field_mapping=all_fields_mapping(),
            ),
            last_imported_month=None,
            next_import_month=None,
        )
    )
    uku.clients[(COMPANY, "client-1")] = UkuClient(id="client-1", name="Acme OÜ")
    uku.owners[COMPANY] = "owner-1"
    links.put(
        COMPANY,
        ClientLink(
            client_id="client-1",
            company_id="co-small",
            company_name="Väike",
            linked_at=dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC),
        ),
    )
    return World(deps, sa, links, uku, integrations, credentials)


def wire_documents() -> dict[str, list[Any]]:
    """A small month of wire documents: first and last day, a credit invoice, bank and cash payments."""
    return {
        "sales": [
            ClientInvoice.model_validate(
                {"id": 1, "type": "INV", "date": "01.11.2026", "amount": 100, "vatAmount": 24}
            ),
            ClientInvoice.model_validate(
                {"id": 2, "type": "CRE", "date": "30.11.2026", "amount": "40.00", "vatAmount": "9.60"}
            ),
            ClientInvoice.model_validate({"id": 3, "type": "INV", "date": "01.12.2026", "amount": 1, "vatAmount": 0}),
        ],
        "purchases": [VendorInvoice.model_validate({"id": 9, "date": "15.11.2026", "amount": "12.34"})],
        "payments": [
            Payment.model_validate({"id": 5, "date": "01.11.2026", "accountType": "BANK", "amount": -50}),
            Payment.model_validate({"id": 6, "date": "30.11.2026", "accountType": "CASH", "amount": 20}),
        ],
        "entries": [
            JournalEntry.model_validate({"id": 7, "date": "02.11.2026", "docType": "LEDGER_ENTRY"}),
            JournalEntry.model_validate({"id": 8, "date": "30.11.2026", "docType": "DEPRECIATION"}),
            JournalEntry.model_validate({"id": 10, "date": "30.11.2026", "docType": "CLIENT_INVOICE"}),
        ],
    }


EXPECTED_NOVEMBER = {
    "saleEntries": Decimal(2),
    "creditInvoices": Decimal(1),
    "salesTotal": Decimal("60.00"),
    "salesVatTotal": Decimal("14.40"),
    "purchaseEntries": Decimal(1),
    "purchasesTotal": Decimal("12.34"),
    "bankEntries": Decimal(1),
    "cashEntries": Decimal(1),
    "bankTurnover": Decimal("50.00"),
    "documents": Decimal(2),
    "manualEntries": Decimal(1),
}


@pytest.fixture
def loaded(world: World) -> World:
    """The world with a month of wire documents in the fake SmartAccounts."""
    wire = wire_documents()
    world.sa.sales, world.sa.purchases = wire["sales"], wire["purchases"]
    world.sa.payments_, world.sa.entries = wire["payments"], wire["entries"]
    return world


@pytest.fixture
def expected_november() -> dict[str, Decimal]:
    return dict(EXPECTED_NOVEMBER)
