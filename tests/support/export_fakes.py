"""In-memory ports of the VAT-type import, the invoice export and the paid-status run (unit tier)."""

from __future__ import annotations

import datetime as dt
import threading

from smartaccounts_sync.domain.invoice_export import ExportRecord, ExportStatus
from smartaccounts_sync.domain.vat_types import VatRegister
from smartaccounts_sync.errors import Conflict
from smartaccounts_sync.service.export_ports import BuyerClaim


class InMemoryExportRecords:
    """Same conditional semantics as the DynamoDB repository: a write succeeds only on the version read."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], ExportRecord] = {}
        self._lock = threading.Lock()

    def get(self, company_id: str, invoice_id: str) -> ExportRecord | None:
        return self.items.get((company_id, invoice_id))

    def save(self, record: ExportRecord) -> ExportRecord:
        with self._lock:
            key = (record.company_id, record.invoice_id)
            current = self.items.get(key)
            if (current.version if current else 0) != record.version:
                raise Conflict("changed meanwhile")
            saved = record.model_copy(update={"version": record.version + 1})
            self.items[key] = saved
            return saved

    def exported(self, company_id: str) -> list[ExportRecord]:
        return [r for (c, _), r in self.items.items() if c == company_id and r.status is ExportStatus.EXPORTED]


class InMemoryBuyerLinks:
    def __init__(self) -> None:
        self.links: dict[tuple[str, str], str] = {}
        self.creating: dict[tuple[str, str], tuple[str, dt.datetime]] = {}

    def get(self, company_id: str, uku_client_id: str) -> str | None:
        return self.links.get((company_id, uku_client_id))

    def put(self, company_id: str, uku_client_id: str, smartaccounts_client_id: str) -> None:
        self.links[(company_id, uku_client_id)] = smartaccounts_client_id
        self.creating.pop((company_id, uku_client_id), None)

    def claim_creation(
        self, company_id: str, uku_client_id: str, owner: str, until: dt.datetime, now: dt.datetime
    ) -> BuyerClaim:
        key = (company_id, uku_client_id)
        held = self.creating.get(key)
        if key in self.links or (held is not None and held[1] >= now and held[0] != owner):
            return BuyerClaim(granted=False, linked=self.links.get(key), holder=held[0] if held else None)
        self.creating[key] = (owner, until)
        return BuyerClaim(granted=True)


class InMemoryVatTypes:
    def __init__(self) -> None:
        self.registers: dict[str, VatRegister] = {}

    def get(self, company_id: str) -> VatRegister | None:
        return self.registers.get(company_id)

    def save(self, register: VatRegister) -> None:
        self.registers[register.company_id] = register

    def companies(self) -> list[str]:
        return sorted(self.registers)


class InMemoryExportQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.delays: list[int] = []

    def send(self, body: str, delay_seconds: int = 0) -> None:
        self.sent.append(body)
        self.delays.append(delay_seconds)
