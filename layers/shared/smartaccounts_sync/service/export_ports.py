"""The ports the VAT-type import, the invoice export and the paid-status run need (adapters implement them)."""

from __future__ import annotations

from typing import Protocol

from smartaccounts_sync.domain.invoice_export import ExportRecord
from smartaccounts_sync.domain.vat_types import VatRegister


class ExportRecordRepository(Protocol):
    def get(self, company_id: str, invoice_id: str) -> ExportRecord | None: ...

    def save(self, record: ExportRecord) -> ExportRecord:
        """Conditional on the version read (0: on the record not existing); a lost race raises Conflict."""
        ...

    def exported(self, company_id: str) -> list[ExportRecord]: ...


class BuyerLinkRepository(Protocol):
    def get(self, company_id: str, uku_client_id: str) -> str | None: ...

    def put(self, company_id: str, uku_client_id: str, smartaccounts_client_id: str) -> None: ...


class VatTypeRepository(Protocol):
    def get(self, company_id: str) -> VatRegister | None: ...

    def save(self, register: VatRegister) -> None: ...

    def companies(self) -> list[str]: ...


class ExportQueue(Protocol):
    def send(self, body: str, delay_seconds: int = 0) -> None: ...
