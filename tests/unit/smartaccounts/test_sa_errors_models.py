"""The error taxonomy and the tolerant wire models."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import (
    ApiCredentials,
    Buyer,
    ClientInvoice,
    CompanyInfo,
    CreatedBuyer,
    CreatedClientInvoice,
    JournalEntry,
    NewBuyer,
    NewClientInvoice,
    Payment,
    VatPercentage,
    VendorInvoice,
)

# --- errors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "retryable", "code"),
    [
        (ErrorKind.INVALID_CREDENTIALS, False, "SA_INVALID_CREDENTIALS"),
        (ErrorKind.CREDENTIALS_REVOKED, False, "SA_CREDENTIALS_REVOKED"),
        (ErrorKind.SIGNATURE_REJECTED, False, "SA_SIGNATURE_REJECTED"),
        (ErrorKind.RATE_LIMITED, True, "SA_RATE_LIMITED"),
        (ErrorKind.DAILY_QUOTA_SPENT, False, "SA_DAILY_QUOTA_SPENT"),
        (ErrorKind.NOT_FOUND, False, "NOT_FOUND"),
        (ErrorKind.VALIDATION_REJECTED, False, "SA_VALIDATION_REJECTED"),
        (ErrorKind.UNAVAILABLE, True, "SA_UNAVAILABLE"),
        (ErrorKind.PAGING_STALLED, False, "SA_UNAVAILABLE"),
    ],
)
def test_each_kind_knows_retryability_and_api_code(kind: ErrorKind, retryable: bool, code: str) -> None:
    assert kind.retryable is retryable
    assert kind.api_code == code
    assert str(kind) == kind.value


def test_error_text_and_pickling() -> None:
    error = SmartAccountsError(
        ErrorKind.VALIDATION_REJECTED,
        "SmartAccounts rejected the request: bad",
        messages=["bad"],
        endpoint="purchasesales/clients:add",
        status=400,
    )
    assert str(error) == (
        "VALIDATION_REJECTED: SmartAccounts rejected the request: bad (endpoint=purchasesales/clients:add, status=400)"
    )
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.kind, copy.messages, copy.status, copy.endpoint) == (error.kind, ("bad",), 400, error.endpoint)


# --- credentials -----------------------------------------------------------------------------------------------


def test_credentials_never_show_their_values() -> None:
    credentials = ApiCredentials(api_key="ABCD1234567890WXYZ", api_secret="very-secret-value")
    for text in (repr(credentials), str(credentials), f"{credentials}", repr(credentials.model_dump())):
        assert "very-secret-value" not in text
    assert "ABCD1234567890WXYZ" not in repr(credentials)
    assert "ABCD1234567890WXYZ" not in str(credentials)
    assert credentials.masked_key == "ABCD…WXYZ"
    assert credentials.api_secret.get_secret_value() == "very-secret-value"


def test_short_keys_are_masked_without_revealing_them() -> None:
    assert ApiCredentials(api_key="abcdefg", api_secret="s").masked_key == "…fg"


# --- tolerant reading ------------------------------------------------------------------------------------------


def test_invoice_accepts_numbers_as_strings_and_strings_as_numbers() -> None:
    invoice = ClientInvoice.model_validate(
        {
            "id": 9001,
            "clientId": "77",
            "client": {"id": 77, "name": "Õun OÜ", "regCode": 12345678},
            "type": "INV",
            "date": "05.02.2024",
            "dueDate": "2024-02-19",
            "invoiceNumber": 1001,
            "referenceNumber": 10013,
            "amount": "100.00",
            "vatAmount": 22,
            "totalAmount": "122.00",
            "outstandingAmount": 0.1,
            "rows": [{"code": "CONSULT", "price": "50", "quantity": "2", "vatPc": 22, "sum": 100.0}],
            "someNewField": "ignored",
        }
    )
    assert invoice.id == "9001"
    assert invoice.invoice_number == "1001"
    assert invoice.reference_number == "10013"
    assert invoice.client is not None
    assert invoice.client.reg_code == "12345678"
    assert invoice.date == date(2024, 2, 5)
    assert invoice.due_date == date(2024, 2, 19)
    assert invoice.total_amount == Decimal("122.00")
    assert invoice.vat_amount == Decimal("22")
    assert invoice.outstanding_amount == Decimal("0.1")
    assert invoice.rows[0].vat_pc == "22"
    assert invoice.rows[0].quantity == Decimal("2")
    assert not invoice.is_credit


def test_credit_invoice() -> None:
    credit = ClientInvoice.model_validate(
        {"id": "2", "type": "CRE", "baseForCreditInvoiceId": 1, "date": "06.02.2024", "totalAmount": "-12.20"}
    )
    assert credit.is_credit
    assert credit.base_for_credit_invoice_id == "1"
    assert credit.total_amount == Decimal("-12.20")


def test_empty_strings_read_as_missing() -> None:
    invoice = VendorInvoice.model_validate(
        {"id": 1, "date": "01.01.2024", "dueDate": "", "amount": "", "vendorId": 5, "rows": [{"accountPurchase": 4000}]}
    )
    assert invoice.due_date is None
    assert invoice.amount is None
    assert invoice.vendor_id == "5"
    assert invoice.rows[0].account_purchase == "4000"


def test_comma_decimal_and_bad_amounts() -> None:
    assert Payment.model_validate({"id": 1, "date": "01.01.2024", "amount": "1 234,50"}).amount == Decimal("1234.50")
    with pytest.raises(ValidationError):
        Payment.model_validate({"id": 1, "date": "01.01.2024", "amount": "lots"})
    with pytest.raises(ValidationError):
        Payment.model_validate({"id": 1, "date": "32.13.2024"})


def test_payment_entry_vat_buyer_company() -> None:
    payment = Payment.model_validate(
        {
            "id": 3,
            "date": "03.03.2024",
            "partnerType": "CLIENT",
            "clientId": 7,
            "accountType": "BANK",
            "accountName": "LHV",
            "amount": 50,
            "rows": [{"type": "CLIENT_INVOICE", "id": 9001, "amount": "50.00"}],
        }
    )
    assert (payment.account_type, payment.partner_type, payment.client_id) == ("BANK", "CLIENT", "7")
    assert payment.rows[0].id == "9001"

    entry = JournalEntry.model_validate(
        {"id": 4, "date": "04.03.2024", "docType": "LEDGER_ENTRY", "rows": [{"account": 1000, "debitAmount": "1.5"}]}
    )
    assert entry.doc_type == "LEDGER_ENTRY"
    assert entry.rows[0].account == "1000"
    assert entry.rows[0].debit_amount == Decimal("1.5")

    vat = VatPercentage.model_validate({"vatPc": 22, "pc": "22", "activeSales": "true"})
    assert (vat.vat_pc, vat.pc, vat.active_sales) == ("22", Decimal("22"), True)

    buyer = Buyer.model_validate(
        {
            "id": 7,
            "name": "Õun OÜ",
            "address": {"country": "EE", "city": "Tartu", "postalCode": 50103},
            "contacts": [{"type": "EMAIL", "value": "arved@oun.ee"}],
            "invoiceDueDate": "14",
        }
    )
    assert buyer.address is not None
    assert buyer.address.postal_code == "50103"
    assert buyer.contacts[0].value == "arved@oun.ee"
    assert buyer.invoice_due_date == 14

    assert CompanyInfo.model_validate({"id": 1, "name": "Demo OÜ", "regCode": 10000001}).reg_code == "10000001"


# --- writing ---------------------------------------------------------------------------------------------------


def test_new_invoice_serialises_camel_case_dates_and_numbers() -> None:
    invoice = NewClientInvoice(
        client_id="7",
        date=date(2024, 2, 5),
        due_date=date(2024, 2, 19),
        type="CRE",
        base_for_credit_invoice_id="9001",
        rows=[{"code": "CONSULT", "description": "Konsultatsioon", "price": Decimal("12.50"), "quantity": 2}],
    )
    assert invoice.to_wire() == {
        "clientId": "7",
        "date": "05.02.2024",
        "dueDate": "19.02.2024",
        "type": "CRE",
        "baseForCreditInvoiceId": "9001",
        "rows": [{"code": "CONSULT", "description": "Konsultatsioon", "price": 12.5, "quantity": 2}],
    }


def test_new_invoice_needs_rows() -> None:
    with pytest.raises(ValidationError):
        NewClientInvoice(client_id="7", date=date(2024, 2, 5), rows=[])


def test_new_buyer_and_created_responses() -> None:
    buyer = NewBuyer(name="Õun OÜ", reg_code="12345678", address={"country": "EE", "address1": "Rüütli 1"})
    assert buyer.to_wire() == {
        "name": "Õun OÜ",
        "regCode": "12345678",
        "address": {"country": "EE", "address1": "Rüütli 1"},
    }
    assert CreatedBuyer.model_validate({"clientId": 55, "referenceNumber": 123}).client_id == "55"
    created = CreatedClientInvoice.model_validate(
        {"invoiceId": 9100, "invoiceNumber": 1002, "clientId": 55, "totalAmount": "24.40", "dueDate": "19.02.2024"}
    )
    assert (created.invoice_id, created.invoice_number, created.client_id) == ("9100", "1002", "55")
    assert created.total_amount == Decimal("24.40")
    assert created.due_date == date(2024, 2, 19)


def test_a_refusal_by_the_guard_itself_is_explained_in_its_own_words() -> None:
    from smartaccounts_sync.troubleshooting import explain

    # SmartAccounts' word on the key's day (Uku counted less), and the share held for the scheduled import: nothing
    # was sent, so "this key has used its 1000 requests" would be untrue
    for reason, words in (
        ("smartaccounts_spent", "a program other than Uku may use the same key"),
        ("reserved_for_schedule", "reserved for the coming scheduled import"),
    ):
        error = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, f"The rest is {words}.", retry_after=60, reason=reason)
        text = explain(error)
        assert words in text and "1000 a day" not in text and "resume by themselves" in text
    # SmartAccounts' own refusal keeps the cause's text
    plain = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "x", messages=["Daily request limit exceeded"])
    assert "1000 a day" in explain(plain) and "Daily request limit exceeded" in explain(plain)
