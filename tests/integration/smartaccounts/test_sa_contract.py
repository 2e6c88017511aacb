"""Contract tests: the SmartAccounts client against the sandbox over real HTTP, every endpoint and every error kind.

When the sandbox (or the real API) and ``protocol.py`` disagree, these tests say where.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
import requests

from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import NewBuyer, NewClientInvoice

pytestmark = pytest.mark.integration

MARCH = (date(2024, 3, 1), date(2024, 3, 31))
MARCH_ISO = ("2024-03-01", "2024-03-31")


# --- companies (ASSUMED endpoints, as the sandbox implements them) ---------------------------------------------


def test_company_info_for_a_company_key(make_client) -> None:
    info = make_client("demo-small-key", "demo-small-secret").company_info()
    assert (info.id, info.name, info.reg_code) == ("co-small", "Väike Raamatupidamine OÜ", "16000002")


def test_firm_key_lists_its_companies_and_chooses_one(make_client, admin) -> None:
    client = make_client()
    listed = {c.id: c.name for c in client.list_companies()}
    keys = {k["apiKey"]: k for k in admin.get("keys")["keys"]}
    assert set(listed) == set(keys["demo-firm-key"]["companyIds"])
    assert [c.id for c in client.list_companies(search="Logistika")] == ["co-large"]
    assert make_client(company_id="co-medium").company_info().name == "Keskmine Kaubandus AS"


def test_unknown_company_id_is_not_found(make_client) -> None:
    with pytest.raises(SmartAccountsError) as info:
        make_client(company_id="co-nope").company_info()
    assert info.value.kind is ErrorKind.NOT_FOUND


# --- documents against the sandbox's unpaged oracle ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method"),
    [
        ("clientinvoices", "client_invoices"),
        ("vendorinvoices", "vendor_invoices"),
        ("payments", "payments"),
        ("entries", "journal_entries"),
    ],
)
def test_documents_match_the_oracle_across_pages(make_client, admin, kind, method) -> None:
    client = make_client(company_id="co-medium")
    documents = getattr(client, method)(*MARCH)
    expected = admin.documents("co-medium", kind, *MARCH_ISO)
    assert [d.id for d in documents] == [str(d["id"]) for d in expected]
    assert documents, "the medium company has documents in March 2024"
    pages = -(-len(expected) // protocol.PAGE_SIZE)
    assert client.calls_made == max(1, pages)


def test_client_invoices_with_rows_and_credit_invoices(make_client, admin) -> None:
    client = make_client(company_id="co-medium")
    invoices = client.client_invoices(*MARCH, fetch_rows=True)
    expected = {str(d["id"]): d for d in admin.documents("co-medium", "clientinvoices", *MARCH_ISO)}
    assert all(invoice.rows for invoice in invoices)
    for invoice in invoices:
        oracle = expected[invoice.id]
        assert str(invoice.total_amount) == str(oracle["totalAmount"]) or float(invoice.total_amount) == float(
            oracle["totalAmount"]
        )
        assert invoice.is_credit == (oracle["type"] == "CRE")
        if invoice.is_credit:
            assert invoice.base_for_credit_invoice_id


def test_payments_by_account_type_and_entries_by_doc_type(make_client) -> None:
    client = make_client(company_id="co-medium")
    cash = client.payments(*MARCH, account_type="CASH")
    assert all(p.account_type == "CASH" for p in cash)
    ledger = client.journal_entries(*MARCH, doc_type="LEDGER_ENTRY")
    assert ledger
    assert all(e.doc_type == "LEDGER_ENTRY" for e in ledger)
    assert all(e.rows for e in ledger)


def test_page_cap_is_paging_stalled(make_client) -> None:
    client = make_client(company_id="co-medium", max_pages=1)
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*MARCH)
    assert info.value.kind is ErrorKind.PAGING_STALLED
    assert client.calls_made == 1


def test_empty_company_has_no_documents(make_client) -> None:
    assert make_client(company_id="co-empty").client_invoices(*MARCH) == []


# --- registers -------------------------------------------------------------------------------------------------


def test_vat_percentages_buyers_and_articles(make_client) -> None:
    client = make_client("demo-small-key", "demo-small-secret")
    vat = {v.vat_pc: v for v in client.vat_percentages()}
    assert vat["VAT22"].pc == 22
    buyers = client.buyers()
    assert buyers
    assert all(b.name for b in buyers)
    some = buyers[0]
    assert [b.id for b in client.buyers(search=some.name)][:1] == [some.id]
    assert {"CONSULT", "SERVICE"} <= {a.code for a in client.articles()}


# --- writes ----------------------------------------------------------------------------------------------------


def _invoice(client_id: str, **overrides) -> NewClientInvoice:
    values = {
        "client_id": client_id,
        "date": date(2024, 3, 15),
        "rows": [
            {"code": "CONSULT", "description": "Konsultatsioon", "price": "80.00", "quantity": 2, "vat_pc": "VAT22"}
        ],
    }
    values.update(overrides)
    return NewClientInvoice(**values)


def test_add_buyer_then_invoice_it(make_client, admin) -> None:
    client = make_client("demo-small-key", "demo-small-secret")
    buyer = client.add_buyer(NewBuyer(name="Õunaaed OÜ", reg_code="14000099", address={"country": "EE"}))
    assert buyer.client_id
    created = client.add_client_invoice(_invoice(buyer.client_id))
    assert created.invoice_id
    assert created.invoice_number
    stored = admin.get("companies/co-small/created-invoices")["invoices"]
    assert [str(i["id"]) for i in stored] == [created.invoice_id]
    assert client.calls_made == 2


def test_rejected_invoice_reports_every_message(make_client) -> None:
    client = make_client("demo-small-key", "demo-small-secret")
    with pytest.raises(SmartAccountsError) as info:
        client.add_client_invoice(_invoice("no-such-client", rows=[{"code": "NOPE", "price": 1, "quantity": 1}]))
    assert info.value.kind is ErrorKind.VALIDATION_REJECTED
    assert info.value.messages
    assert client.calls_made == 1


def test_four_byte_characters_are_rejected(make_client) -> None:
    client = make_client("demo-small-key", "demo-small-secret")
    with pytest.raises(SmartAccountsError) as info:
        client.add_buyer(NewBuyer(name="Emoji 😀 OÜ"))
    assert info.value.kind is ErrorKind.VALIDATION_REJECTED


def test_a_write_that_timed_out_is_not_posted_again(make_client, admin) -> None:
    # Given a sandbox that answers this key after its read timeout
    client = make_client("demo-small-key", "demo-small-secret", read_timeout=0.3)
    buyer = client.add_buyer(NewBuyer(name="Aeglane OÜ"))
    admin.post("faults", {"apiKey": "demo-small-key", "timeoutRate": 1.0, "timeoutSeconds": 0.8})
    # When the invoice is posted, the client gives up instead of posting it twice
    with pytest.raises(SmartAccountsError) as info:
        client.add_client_invoice(_invoice(buyer.client_id))
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.reason == "read_timeout"
    time.sleep(0.8)
    assert len(admin.get("companies/co-small/created-invoices")["invoices"]) == 1
    assert admin.requests_by_key("demo-small-key") == 2


# --- every error kind ------------------------------------------------------------------------------------------


def test_unknown_key_is_invalid_credentials(make_client) -> None:
    with pytest.raises(SmartAccountsError) as info:
        make_client("no-such-key", "whatever").company_info()
    assert info.value.kind is ErrorKind.INVALID_CREDENTIALS
    assert info.value.status == 401


def test_revoked_key(make_client, admin) -> None:
    admin.post("keys/demo-small-key/revoke")
    client = make_client("demo-small-key", "demo-small-secret")
    with pytest.raises(SmartAccountsError) as info:
        client.company_info()
    assert info.value.kind is ErrorKind.CREDENTIALS_REVOKED
    assert client.calls_made == 1


def test_rotated_secret_is_signature_rejected(make_client, admin) -> None:
    admin.post("keys/demo-small-key/rotate")
    with pytest.raises(SmartAccountsError) as info:
        make_client("demo-small-key", "demo-small-secret").company_info()
    assert info.value.kind is ErrorKind.SIGNATURE_REJECTED
    assert info.value.reason == "secret_mismatch"


def test_clock_skew_is_signature_rejected_with_a_clock_reason(make_client) -> None:
    client = make_client("demo-small-key", "demo-small-secret", clock=lambda: time.time() - 20 * 60)
    with pytest.raises(SmartAccountsError) as info:
        client.company_info()
    assert info.value.kind is ErrorKind.SIGNATURE_REJECTED
    assert info.value.reason == "clock_skew"


def test_an_unsigned_request_classifies_as_signature_rejected(sandbox, admin) -> None:
    # The client always signs; this pins the sandbox's wording to protocol's table
    response = requests.post(
        sandbox.api_url + protocol.VAT_PCS_GET.path, data=b"{}", timeout=5, params={"apikey": "demo-firm-key"}
    )
    error = protocol.classify_error_response(
        response.status_code, response.headers, response.content, endpoint=protocol.VAT_PCS_GET, now=time.time()
    )
    assert error.kind is ErrorKind.SIGNATURE_REJECTED
    assert error.reason == "unsigned"


def test_rate_limit_burst_is_retried_after_retry_after(make_client, admin) -> None:
    admin.post("faults", {"apiKey": "demo-small-key", "rateLimitBurst": 2})
    client = make_client("demo-small-key", "demo-small-secret")
    assert client.vat_percentages()
    assert client.calls_made == 3


def test_persistent_server_errors_end_unavailable_after_the_retries(make_client, admin) -> None:
    admin.post("faults", {"apiKey": "demo-small-key", "errorRate": 1.0, "errorStatus": 502})
    client = make_client("demo-small-key", "demo-small-secret", max_retries=2, random=lambda: 0.01)
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert info.value.status == 502
    assert client.calls_made == 3
    assert admin.requests_by_key("demo-small-key") == 3


def test_read_timeouts_on_reads_are_retried(make_client, admin) -> None:
    admin.post("faults", {"apiKey": "demo-small-key", "timeoutRate": 1.0, "timeoutSeconds": 0.5})
    client = make_client("demo-small-key", "demo-small-secret", read_timeout=0.2, max_retries=1, random=lambda: 0.0)
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert client.calls_made == 2


def test_nothing_listening_is_unavailable(make_client) -> None:
    client = make_client(base_url="http://127.0.0.1:9/api/", max_retries=1, random=lambda: 0.0, connect_timeout=0.5)
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert client.calls_made == 2


def test_per_minute_quota_is_rate_limited(make_client, admin) -> None:
    admin.put("quota", {"perMinute": 2})
    # no time to wait for the minute to pass: the rate-limited answer itself
    client = make_client("demo-small-key", "demo-small-secret", max_retries=0, rate_limit_budget_seconds=0)
    client.vat_percentages()
    client.vat_percentages()
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.RATE_LIMITED
    assert info.value.retry_after is not None
    assert 0 < info.value.retry_after <= 60


def test_daily_quota_is_spent_until_tallinn_midnight(make_client, admin) -> None:
    admin.put("quota", {"perDay": 2})
    client = make_client("demo-small-key", "demo-small-secret")
    client.vat_percentages()
    client.vat_percentages()
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert info.value.retry_after == pytest.approx(protocol.seconds_until_quota_reset(time.time()), abs=5)
    assert client.calls_made == 3  # not retried
