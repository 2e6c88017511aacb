"""SmartAccounts wire models: exactly what the service reads from and writes to the API.

Tolerant on input (public clients show amounts both as numbers and as strings, and ``invoiceNumber`` as a number),
strict on output (dates as ``dd.MM.yyyy``, camelCase keys, no ``None`` values sent). Domain code converts these
to and from its own models with explicit functions; nothing here is stored as is.

One module per concern, so that a cold start creates only the model classes its function uses (`docs/performance.md`,
"Cold import"): `base` (the config and the tolerant types), `companies` (connection test, linking), `invoices` (sales
and purchase invoices as listed: the import, the export's read-back), `ledger` (payments, journal entries: the
import), `registers` (VAT percentages, articles), `buyers` and `posting` (what the export writes). The service's
modules import from those; the names stay importable from this package too (tests, benches), each submodule loaded
at the first use of one of its names.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "smartaccounts_sync.smartaccounts.credentials": ("ApiCredentials",),
    "smartaccounts_sync.smartaccounts.models.base": (
        "Amount",
        "IdStr",
        "OptAmount",
        "OptDate",
        "OptStr",
        "SaDate",
        "WireModel",
    ),
    "smartaccounts_sync.smartaccounts.models.buyers": (
        "Address",
        "Buyer",
        "Contact",
        "ContactType",
        "CreatedBuyer",
        "NewBuyer",
    ),
    "smartaccounts_sync.smartaccounts.models.companies": ("CompanyInfo", "CompanyListItem"),
    "smartaccounts_sync.smartaccounts.models.invoices": (
        "ClientInvoice",
        "ClientInvoiceRow",
        "InvoiceRow",
        "PartyRef",
        "VendorInvoice",
        "VendorInvoiceRow",
    ),
    "smartaccounts_sync.smartaccounts.models.ledger": ("JournalEntry", "JournalEntryRow", "Payment", "PaymentRow"),
    "smartaccounts_sync.smartaccounts.models.posting": (
        "CreatedClientInvoice",
        "NewClientInvoice",
        "NewClientInvoiceRow",
    ),
    "smartaccounts_sync.smartaccounts.models.registers": ("Article", "VatPercentage"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    """A model of a submodule, imported at the first use of one of its names (PEP 562)."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
