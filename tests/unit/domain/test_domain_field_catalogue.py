from __future__ import annotations

import pytest
from pydantic import ValidationError

from smartaccounts_sync.domain.errors import UnknownFieldError
from smartaccounts_sync.domain.field_catalogue import (
    CATALOGUE,
    FIELD_KEYS,
    MAIN_FIELDS,
    MORE_FIELDS,
    CatalogueField,
    DocumentSource,
    FieldKind,
    field_by_key,
    is_known_field,
    mapped_keys,
    sources_needed,
)


def test_main_fields_are_the_help_pages_four_in_its_order() -> None:
    assert [(f.key, f.label) for f in MAIN_FIELDS] == [
        ("saleEntries", "Sale entries"),
        ("purchaseEntries", "Purchase entries"),
        ("bankEntries", "Bank entries"),
        ("documents", "Documents"),
    ]
    assert all(f.kind is FieldKind.COUNT for f in MAIN_FIELDS)


def test_show_more_fields() -> None:
    assert {f.key: f.kind for f in MORE_FIELDS} == {
        "creditInvoices": FieldKind.COUNT,
        "cashEntries": FieldKind.COUNT,
        "salesTotal": FieldKind.AMOUNT,
        "purchasesTotal": FieldKind.AMOUNT,
        "manualEntries": FieldKind.COUNT,
        "salesVatTotal": FieldKind.AMOUNT,
        "bankTurnover": FieldKind.AMOUNT,
    }
    assert field_by_key("salesTotal").label == "Sales total without VAT"
    assert field_by_key("purchasesTotal").label == "Purchases total without VAT"


def test_keys_are_unique_camel_case_and_every_field_is_described() -> None:
    keys = [f.key for f in CATALOGUE]
    assert len(keys) == len(set(keys)) == len(FIELD_KEYS) == 11
    for f in CATALOGUE:
        assert f.key[0].islower() and f.key.isalnum()
        assert f.label and f.description


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("saleEntries", DocumentSource.CLIENT_INVOICES),
        ("creditInvoices", DocumentSource.CLIENT_INVOICES),
        ("salesTotal", DocumentSource.CLIENT_INVOICES),
        ("salesVatTotal", DocumentSource.CLIENT_INVOICES),
        ("purchaseEntries", DocumentSource.VENDOR_INVOICES),
        ("purchasesTotal", DocumentSource.VENDOR_INVOICES),
        ("bankEntries", DocumentSource.PAYMENTS),
        ("cashEntries", DocumentSource.PAYMENTS),
        ("bankTurnover", DocumentSource.PAYMENTS),
        ("documents", DocumentSource.JOURNAL_ENTRIES),
        ("manualEntries", DocumentSource.JOURNAL_ENTRIES),
    ],
)
def test_sources(key: str, source: DocumentSource) -> None:
    assert field_by_key(key).source is source
    assert sources_needed([key]) == {source}


def test_sources_needed_for_several_and_for_none() -> None:
    assert sources_needed([]) == set()
    assert sources_needed(["saleEntries", "salesTotal"]) == {DocumentSource.CLIENT_INVOICES}
    assert sources_needed(["saleEntries", "bankEntries", "documents"]) == {
        DocumentSource.CLIENT_INVOICES,
        DocumentSource.PAYMENTS,
        DocumentSource.JOURNAL_ENTRIES,
    }


def test_blank_mappings_cost_nothing() -> None:
    mapping = {"saleEntries": "ctf-1", "purchaseEntries": None, "bankEntries": "  ", "documents": "ctf-4"}
    assert mapped_keys(mapping) == ["saleEntries", "documents"]
    assert sources_needed(mapped_keys(mapping)) == {DocumentSource.CLIENT_INVOICES, DocumentSource.JOURNAL_ENTRIES}
    assert sources_needed(mapped_keys({"saleEntries": None})) == set()


def test_unknown_keys() -> None:
    assert is_known_field("saleEntries")
    assert not is_known_field("SaleEntries")
    with pytest.raises(UnknownFieldError) as info:
        field_by_key("sale_entries")
    assert info.value.key == "sale_entries"
    assert isinstance(info.value, LookupError)
    with pytest.raises(UnknownFieldError):
        sources_needed(["saleEntries", "nope"])


def test_catalogue_fields_are_frozen_and_serialise_for_the_api() -> None:
    field = field_by_key("bankTurnover")
    with pytest.raises(ValidationError):
        field.label = "x"  # type: ignore[misc]
    dumped = field.model_dump(mode="json")
    assert dumped["kind"] == "amount"
    assert dumped["main"] is False
    assert dumped["source"] == "PAYMENTS"
    with pytest.raises(ValidationError):
        CatalogueField(key="Bad Key", label="x", kind="count", main=True, source="PAYMENTS", description="x")
