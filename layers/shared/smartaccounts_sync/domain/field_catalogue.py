"""The SmartAccounts fields an accounting firm maps onto Uku custom task fields ("Configure data fields").

The four main fields are the help page's; the others appear behind "Show more". Keys are stable camelCase
identifiers used in `fieldMapping` and stored with summary task values: never rename one. Each field is computed
from one kind of SmartAccounts document (`source`), so a field left blank costs no API calls for that source.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from smartaccounts_sync.domain.errors import UnknownFieldError
from smartaccounts_sync.domain.model import DeferredModel

FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-zA-Z0-9]*$", max_length=64)]


class DocumentSource(StrEnum):
    """A kind of SmartAccounts document the statistics are computed from (one listing per kind and period)."""

    CLIENT_INVOICES = "CLIENT_INVOICES"
    VENDOR_INVOICES = "VENDOR_INVOICES"
    PAYMENTS = "PAYMENTS"
    JOURNAL_ENTRIES = "JOURNAL_ENTRIES"


class FieldKind(StrEnum):
    COUNT = "count"  # a whole number of documents
    AMOUNT = "amount"  # euros, two decimals


class CatalogueField(DeferredModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: FieldKey
    label: str
    kind: FieldKind
    main: bool  # False: shown behind "Show more"
    source: DocumentSource
    description: str


CATALOGUE: tuple[CatalogueField, ...] = (
    # --- main fields (help page) ---
    CatalogueField(
        key="saleEntries",
        label="Sale entries",
        kind=FieldKind.COUNT,
        main=True,
        source=DocumentSource.CLIENT_INVOICES,
        description="Number of sales invoices dated in the month, credit invoices included.",
    ),
    CatalogueField(
        key="purchaseEntries",
        label="Purchase entries",
        kind=FieldKind.COUNT,
        main=True,
        source=DocumentSource.VENDOR_INVOICES,
        description="Number of purchase invoices dated in the month.",
    ),
    CatalogueField(
        key="bankEntries",
        label="Bank entries",
        kind=FieldKind.COUNT,
        main=True,
        source=DocumentSource.PAYMENTS,
        description="Number of bank transactions (payments through a bank account) dated in the month.",
    ),
    CatalogueField(
        key="documents",
        label="Documents",
        kind=FieldKind.COUNT,
        main=True,
        source=DocumentSource.JOURNAL_ENTRIES,
        description="Number of other accounting documents: journal entries that are not invoices or payments.",
    ),
    # --- "Show more" ---
    CatalogueField(
        key="creditInvoices",
        label="Credit invoices",
        kind=FieldKind.COUNT,
        main=False,
        source=DocumentSource.CLIENT_INVOICES,
        description="Number of sales credit invoices dated in the month.",
    ),
    CatalogueField(
        key="cashEntries",
        label="Cash entries",
        kind=FieldKind.COUNT,
        main=False,
        source=DocumentSource.PAYMENTS,
        description="Number of cash payments (through a cash account) dated in the month.",
    ),
    CatalogueField(
        key="salesTotal",
        label="Sales total without VAT",
        kind=FieldKind.AMOUNT,
        main=False,
        source=DocumentSource.CLIENT_INVOICES,
        description="Sum of sales invoices without VAT in the month; credit invoices subtract.",
    ),
    CatalogueField(
        key="purchasesTotal",
        label="Purchases total without VAT",
        kind=FieldKind.AMOUNT,
        main=False,
        source=DocumentSource.VENDOR_INVOICES,
        description="Sum of purchase invoices without VAT in the month.",
    ),
    CatalogueField(
        key="manualEntries",
        label="Manual entries",
        kind=FieldKind.COUNT,
        main=False,
        source=DocumentSource.JOURNAL_ENTRIES,
        description="Number of journal entries made by hand in the ledger in the month.",
    ),
    CatalogueField(
        key="salesVatTotal",
        label="Sales VAT total",
        kind=FieldKind.AMOUNT,
        main=False,
        source=DocumentSource.CLIENT_INVOICES,
        description="Sum of VAT on sales invoices in the month; credit invoices subtract.",
    ),
    CatalogueField(
        key="bankTurnover",
        label="Bank turnover",
        kind=FieldKind.AMOUNT,
        main=False,
        source=DocumentSource.PAYMENTS,
        description="Sum of bank payment amounts in the month, incoming and outgoing alike (absolute values).",
    ),
)

_BY_KEY: dict[str, CatalogueField] = {f.key: f for f in CATALOGUE}
FIELD_KEYS: frozenset[str] = frozenset(_BY_KEY)
MAIN_FIELDS: tuple[CatalogueField, ...] = tuple(f for f in CATALOGUE if f.main)
MORE_FIELDS: tuple[CatalogueField, ...] = tuple(f for f in CATALOGUE if not f.main)


def is_known_field(key: str) -> bool:
    return key in _BY_KEY


def field_by_key(key: str) -> CatalogueField:
    """The catalogue entry for `key`; raises `UnknownFieldError` for a key not in the catalogue."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownFieldError(key) from None


def mapped_keys(field_mapping: Mapping[str, str | None]) -> list[str]:
    """The catalogue keys of a `fieldMapping` that point at a custom task field (blank ones are not imported)."""
    return [key for key, target in field_mapping.items() if target is not None and str(target).strip()]


def sources_needed(keys: Iterable[str]) -> set[DocumentSource]:
    """The document kinds to fetch for the given (mapped) field keys; an unknown key raises `UnknownFieldError`."""
    return {field_by_key(key).source for key in keys}
