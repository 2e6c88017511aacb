"""Invoice mapping rules: InvoiceIssued validation, rows (VAT codes, articles), buyer address lines, totals, payment."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from smartaccounts_sync.domain.invoice_export import (
    ExportRefused,
    PaymentStatus,
    check_totals,
    next_payment_state,
    payment_status,
    plan_rows,
    split_address,
    wrap_words,
)
from smartaccounts_sync.domain.invoice_issued import BuyerAddress, InvalidEvent, InvoiceIssued, parse_invoice_issued
from smartaccounts_sync.domain.vat_types import VatRegister, VatType, merge_register

EVENTS = Path(__file__).resolve().parents[3] / "events" / "invoice_export"
NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)


def sample(name: str = "eventbridge-invoice-issued") -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))["detail"]


REGISTER = VatRegister(
    company_id="co",
    types=[
        VatType(code="VAT24", percentage=Decimal(24)),
        VatType(code="VAT20", percentage=Decimal(20), active_for_sales=False),
        VatType(code="VAT9", percentage=Decimal(9), in_smartaccounts=False, active_for_sales=False),
    ],
)


def test_the_samples_validate_as_an_invoice_and_a_credit_invoice() -> None:
    invoice = parse_invoice_issued(sample())
    credit = parse_invoice_issued(sample("eventbridge-credit-invoice-issued"))
    assert not invoice.is_credit and credit.is_credit and credit.original_invoice_id == invoice.invoice_id
    assert invoice.totals.gross == Decimal("477.40") and invoice.lines[1].discount_percent == Decimal(10)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"lines": []}, "lines"),
        ({"kind": "credit"}, "originalInvoiceId"),
        ({"originalInvoiceId": "inv-0"}, "only for credit"),
        ({"dueDate": "2020-01-01"}, "dueDate"),
        ({"currency": "eur"}, "currency"),
        ({"totals": {"net": "1.001", "vat": "0", "gross": "1"}}, "totals.net"),
    ],
)
def test_an_invalid_event_names_what_is_wrong_and_keeps_the_ids(change: dict, named: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_invoice_issued(sample() | change)
    assert named in caught.value.reason
    assert (caught.value.company_id, caught.value.invoice_id) == ("demo-company", "inv-1")
    assert caught.value.keyed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("invoiceId", "INV/2026/7"),
        ("invoiceId", "INV#7"),
        ("invoiceId", "inv 7"),
        ("invoiceId", "-inv-7"),
        ("invoiceId", "i" * 65),
        ("companyId", "demo/company"),
        ("clientId", "client#1"),
    ],
)
def test_ids_of_uku_s_event_must_be_identifiers(field: str, value: str) -> None:
    # An id the service keys records by and the API reads them by (`domain/identifiers.py`), checked on the event
    with pytest.raises(InvalidEvent) as caught:
        parse_invoice_issued(sample() | {field: value})
    assert caught.value.reason.startswith(f"{field}: not an identifier")
    assert value not in caught.value.reason  # the reason names the field, not what was sent
    assert caught.value.keyed is (field == "clientId")  # an export record can be kept under the ids it names


def test_a_credit_s_original_invoice_id_must_be_an_identifier() -> None:
    credit = sample("eventbridge-credit-invoice-issued") | {"originalInvoiceId": "INV/2026/7"}
    with pytest.raises(InvalidEvent) as caught:
        parse_invoice_issued(credit)
    assert caught.value.reason.startswith("originalInvoiceId: not an identifier") and caught.value.keyed


def test_an_invoice_stored_before_ids_were_checked_still_loads() -> None:
    # An export record keeps the validated event; one stored under an id outside the pattern must still be read (the
    # paid-status run reads every exported record of a company)
    stored = parse_invoice_issued(sample()).model_dump(mode="json", by_alias=True) | {"invoiceId": "INV/7"}
    assert InvoiceIssued.model_validate(stored).invoice_id == "INV/7"


def test_rows_use_the_lines_article_when_known_else_the_default() -> None:
    rows = plan_rows(parse_invoice_issued(sample()), REGISTER, {"SERVICE", "CONSULT"}, "CONSULT")
    assert [(r.article_code, r.vat_code, r.quantity, r.unit_price, r.discount_percent) for r in rows] == [
        ("SERVICE", "VAT24", Decimal(1), Decimal("250.00"), Decimal(0)),
        ("CONSULT", "VAT24", Decimal("2.5"), Decimal("60.00"), Decimal(10)),
    ]


@pytest.mark.parametrize(
    ("code", "words"),
    [("VAT99", "not in the VAT types imported"), ("VAT20", "does not allow on sales"), ("VAT9", "no longer lists")],
)
def test_a_vat_code_outside_the_register_fails_naming_the_line_and_code(code: str, words: str) -> None:
    detail = sample()
    detail["lines"][1]["vatTypeCode"] = code
    with pytest.raises(ExportRefused) as caught:
        plan_rows(parse_invoice_issued(detail), REGISTER, {"SERVICE"}, "SERVICE")
    assert caught.value.kind == "UNKNOWN_VAT_TYPE"
    assert f"Line 2 uses VAT type '{code}'" in caught.value.message and words in caught.value.message
    # and says what to do with controls the page has (the VAT types view and its refresh), not only what is wrong
    assert "refresh the VAT types" in caught.value.message and caught.value.message.endswith("then retry.")


@pytest.mark.parametrize(
    ("default", "words"),
    [(None, "no default article is set"), ("GONE", "default article 'GONE' is not in SmartAccounts")],
)
def test_a_line_without_a_known_article_and_no_usable_default_fails_clearly(default: str | None, words: str) -> None:
    with pytest.raises(ExportRefused) as caught:
        plan_rows(parse_invoice_issued(sample()), REGISTER, {"SERVICE"}, default)
    assert (
        caught.value.kind == "NO_ARTICLE"
        and caught.value.message.startswith("Line 2:")
        and words in caught.value.message
    )
    # and says where to fix it: the default article code of the integration settings (a field of the Settings tab)
    assert "default article code in the integration settings" in caught.value.message
    assert "defaultArticleCode" not in caught.value.message and caught.value.message.endswith("then retry.")


def test_a_short_address_stays_on_one_line() -> None:
    planned = split_address(BuyerAddress(country="EE", city="Tallinn", address1="Pärnu mnt 10", postal_code="10148"))
    assert planned is not None
    assert (planned.address1, planned.address2, planned.shortened) == ("Pärnu mnt 10", None, False)


def test_a_long_address_is_split_between_words_within_64_characters() -> None:
    street = "Väga pika nimega tööstuspargi tänav 123, korpus B, sissepääs hoovist, teine korrus, kabinet 7"
    planned = split_address(BuyerAddress(address1=street))
    assert planned is not None and not planned.shortened
    assert len(planned.address1) <= 64 and len(planned.address2) <= 64
    assert f"{planned.address1} {planned.address2}" == street


def test_an_address_longer_than_two_lines_is_cut_and_says_so() -> None:
    planned = split_address(BuyerAddress(address1="sõna " * 40))
    assert planned is not None and planned.shortened
    assert len(planned.address1) <= 64 and len(planned.address2) == 64 and planned.address2.endswith("…")


def test_a_word_longer_than_a_line_is_broken_inside() -> None:
    assert [len(line) for line in wrap_words("x" * 130, 64)] == [64, 64, 2]


def test_totals_agree_to_the_cent_or_are_flagged_with_both_figures() -> None:
    invoice = parse_invoice_issued(sample())
    same = check_totals(invoice, Decimal("385"), Decimal("92.4"), Decimal("477.40"))
    assert same.matches
    off = check_totals(invoice, Decimal("385"), Decimal("92.41"), Decimal("477.41"))
    assert not off.matches
    assert (off.uku.vat, off.smartaccounts.vat, off.uku.gross, off.smartaccounts.gross) == (
        Decimal("92.40"),
        Decimal("92.41"),
        Decimal("477.40"),
        Decimal("477.41"),
    )


def test_payment_status_and_when_it_changed() -> None:
    assert payment_status(Decimal(100), Decimal(100)) is PaymentStatus.UNPAID
    assert payment_status(Decimal(100), Decimal(40)) is PaymentStatus.PARTLY_PAID
    assert payment_status(Decimal(100), Decimal(0)) is PaymentStatus.PAID
    first, changed = next_payment_state(None, PaymentStatus.UNPAID, Decimal(100), NOW)
    assert changed and first.changed_at == NOW
    later = NOW + dt.timedelta(days=1)
    same, changed = next_payment_state(first, PaymentStatus.UNPAID, Decimal("100.00"), later)
    assert not changed and same.changed_at == NOW and same.checked_at == later
    paid, changed = next_payment_state(same, PaymentStatus.PAID, Decimal(0), later)
    assert changed and paid.changed_at == later


def test_a_vat_type_that_disappears_is_kept_inactive() -> None:
    before = VatRegister(company_id="co", types=[VatType(code="VAT24"), VatType(code="OLD")], fetched_at=NOW)
    after = merge_register(before, [VatType(code="VAT24"), VatType(code="VAT13")], "co", NOW)
    old = after.find("OLD")
    assert [t.code for t in after.types] == ["VAT24", "VAT13", "OLD"]
    assert old is not None and not old.in_smartaccounts and not old.usable_for_sales
