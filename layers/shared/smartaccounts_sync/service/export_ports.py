"""The ports the VAT-type import, the invoice export and the paid-status run need (adapters implement them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from smartaccounts_sync.domain.vat_types import VatRegister

if TYPE_CHECKING:
    from smartaccounts_sync.domain.invoice_export import ExportRecord


class ExportRecordRepository(Protocol):
    def get(self, company_id: str, invoice_id: str) -> ExportRecord | None: ...

    def save(self, record: ExportRecord) -> ExportRecord:
        """Conditional on the version read (0: on the record not existing); a lost race raises Conflict."""
        ...

    def exported(self, company_id: str) -> list[ExportRecord]: ...


class BuyerLinkRepository(Protocol):
    def get(self, company_id: str, uku_client_id: str) -> str | None: ...

    def put(self, company_id: str, uku_client_id: str, smartaccounts_client_id: str) -> None: ...

    def claim_creation(
        self, company_id: str, uku_client_id: str, owner: str, until: dt.datetime, now: dt.datetime
    ) -> BuyerClaim:
        """Before a buyer is created in SmartAccounts: granted to `owner` when there is no link yet and nobody
        else's claim is running; else says who creates it right now, or which buyer was linked meanwhile."""
        ...


@dataclass(frozen=True)
class BuyerClaim:
    granted: bool
    linked: str | None = None  # the SmartAccounts client linked meanwhile
    holder: str | None = None  # the invoice whose export is creating the buyer


class VatTypeRepository(Protocol):
    def get(self, company_id: str) -> VatRegister | None: ...

    def save(self, register: VatRegister) -> None: ...

    def companies(self) -> list[str]: ...


class ExportQueue(Protocol):
    def send(self, body: str, delay_seconds: int = 0) -> None: ...
