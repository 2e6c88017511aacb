"""The client over the in-process transport: endpoints, paging, retries, writes, the rate guard and secrecy."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from smartaccounts_sync.observability import logger as service_logger
from smartaccounts_sync.settings import Settings
from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.client import SmartAccountsClient, shared_session
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import NewBuyer, NewClientInvoice
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, InMemoryRateGuard, NoRateGuard

JUNE = (date(2024, 6, 1), date(2024, 6, 30))


def _invoice(i: int) -> dict:
    return {"id": i, "date": "05.06.2024", "invoiceNumber": 1000 + i, "totalAmount": "12.20", "type": "INV"}


def _page(envelope: str, items: list, more: bool) -> dict:
    return {envelope: items, "hasMoreEntries": more}


def _assert_signed(sent, secret: str) -> None:
    query = urlsplit(sent.url).query
    signed, signature = query.split("&signature=")
    assert signature == protocol.sign(secret, signed.encode() + sent.body)


class RecordingGuard:
    def __init__(self, fail_with: SmartAccountsError | None = None) -> None:
        self.keys: list[str] = []
        self.reserves: list[int] = []
        self.fail_with = fail_with

    def acquire(self, api_key: str, *, reserve: int = 0) -> None:
        self.keys.append(api_key)
        self.reserves.append(reserve)
        if self.fail_with is not None:
            raise self.fail_with

    def note_spent_by_smartaccounts(self, api_key: str, until: float) -> bool:
        self.spent_until = until
        return True


# --- the request on the wire -----------------------------------------------------------------------------------


def test_request_is_sent_exactly_as_signed(client, transport, api_key, api_secret) -> None:
    # Given one page of invoices
    transport.respond(200, _page("clientInvoices", [_invoice(1)], False))
    # When the client lists June's invoices
    invoices = client.client_invoices(*JUNE, fetch_rows=True)
    # Then exactly one signed POST went out with the documented parameters, timeouts and body
    assert [i.invoice_number for i in invoices] == ["1001"]
    (sent,) = transport.sent
    assert sent.url.startswith("https://sa.example.test/api/purchasesales/clientinvoices:get?")
    assert [name for name, _ in sent.params] == [
        "apikey", "timestamp", "dateFrom", "dateTo", "dateType", "fetchRows", "pageNumber", "signature",
    ]  # fmt: skip
    assert sent.param("apikey") == api_key
    assert sent.param("timestamp") == "15062024143000"
    assert (sent.param("dateFrom"), sent.param("dateTo"), sent.param("dateType")) == (
        "01.06.2024",
        "30.06.2024",
        "date",
    )
    assert sent.body == b"{}"
    assert sent.timeout == (3.05, 25.0)
    assert sent.headers["Content-Type"].startswith("application/json")
    _assert_signed(sent, api_secret)
    assert client.calls_made == 1


def test_requests_does_not_re_encode_the_signed_url(client, transport, api_secret) -> None:
    transport.respond(200, _page("clients", [], False))
    client.buyers(search="Õun & Pirn OÜ ~50%")
    (sent,) = transport.sent
    assert sent.param("nameOrRegCode") == "Õun & Pirn OÜ ~50%"
    assert "nameOrRegCode=%C3%95un+%26+Pirn+O%C3%9C+~50%25" in sent.query
    _assert_signed(sent, api_secret)


# --- endpoints -------------------------------------------------------------------------------------------------


def test_company_info(client, transport) -> None:
    transport.respond(200, {"company": {"id": 12, "name": "Demo OÜ", "regCode": "10000001", "vatNumber": "EE1"}})
    info = client.company_info()
    assert (info.id, info.name, info.reg_code, info.vat_number) == ("12", "Demo OÜ", "10000001", "EE1")
    assert transport.endpoints == ["settings/company:get"]


def test_company_info_without_company_is_unavailable(client, transport) -> None:
    transport.respond(200, {})
    with pytest.raises(SmartAccountsError) as info:
        client.company_info()
    assert info.value.kind is ErrorKind.UNAVAILABLE


def test_list_companies_pages_and_filters(client, transport) -> None:
    transport.respond(200, _page("companies", [{"id": 1, "name": "A"}], True))
    transport.respond(200, _page("companies", [{"id": 2, "name": "B"}], False))
    companies = client.list_companies(search="OÜ")
    assert [c.id for c in companies] == ["1", "2"]
    assert [s.param("pageNumber") for s in transport.sent] == ["1", "2"]
    assert all(s.param("nameOrRegCode") == "OÜ" for s in transport.sent)
    assert all(s.endpoint == "settings/companies:get" for s in transport.sent)


def test_company_id_goes_on_data_calls_but_not_on_the_company_list(make_client, transport) -> None:
    client = make_client(company_id="42")
    transport.respond(200, _page("vendorInvoices", [], False))
    transport.respond(200, _page("companies", [], False))
    transport.respond(200, {"company": {"id": 42, "name": "X"}})
    client.vendor_invoices(*JUNE)
    client.list_companies()
    client.company_info()
    assert [s.param("companyId") for s in transport.sent] == ["42", None, "42"]
    assert transport.sent[0].params[2] == ("companyId", "42")


def test_vendor_invoices(client, transport) -> None:
    transport.respond(200, _page("vendorInvoices", [{"id": 5, "date": "02.06.2024", "vendorId": 9}], False))
    (invoice,) = client.vendor_invoices(*JUNE, fetch_rows=True)
    assert (invoice.id, invoice.vendor_id) == ("5", "9")
    assert transport.sent[0].endpoint == "purchasesales/vendorinvoices:get"
    assert transport.sent[0].param("fetchRows") == "true"


def test_payments_with_account_type(client, transport) -> None:
    transport.respond(200, _page("payments", [{"id": 3, "date": "03.06.2024", "accountType": "CASH"}], False))
    (payment,) = client.payments(*JUNE, account_type="CASH")
    assert payment.account_type == "CASH"
    sent = transport.sent[0]
    assert sent.endpoint == "purchasesales/payments:get"
    assert (sent.param("accountType"), sent.param("dateType")) == ("CASH", "date")


def test_journal_entries_with_doc_type(client, transport) -> None:
    transport.respond(200, _page("entries", [{"id": 4, "date": "04.06.2024", "docType": "LEDGER_ENTRY"}], False))
    (entry,) = client.journal_entries(*JUNE, doc_type="LEDGER_ENTRY")
    assert entry.doc_type == "LEDGER_ENTRY"
    sent = transport.sent[0]
    assert sent.endpoint == "general/entries:get"
    assert (sent.param("docType"), sent.param("dateTo"), sent.param("fetchRows")) == (
        "LEDGER_ENTRY",
        "30.06.2024",
        "true",
    )


def test_vat_percentages_are_not_paged(client, transport) -> None:
    transport.respond(200, {"vatPcs": [{"vatPc": "22", "pc": 22}, {"vatPc": 0, "pc": "0"}]})
    assert [v.vat_pc for v in client.vat_percentages()] == ["22", "0"]
    assert transport.sent[0].endpoint == "settings/vatpcs:get"
    assert transport.sent[0].param("pageNumber") is None


def test_buyers_fetch_addresses_and_contacts(client, transport) -> None:
    transport.respond(200, _page("clients", [{"id": 7, "name": "Õun OÜ", "contacts": []}], False))
    (buyer,) = client.buyers()
    assert buyer.name == "Õun OÜ"
    sent = transport.sent[0]
    assert sent.endpoint == "purchasesales/clients:get"
    assert (sent.param("fetchAddresses"), sent.param("fetchContacts"), sent.param("nameOrRegCode")) == (
        "true",
        "true",
        None,
    )


def test_articles(client, transport) -> None:
    transport.respond(200, _page("articles", [{"code": "CONSULT", "type": "SERVICE"}], False))
    assert [a.code for a in client.articles()] == ["CONSULT"]
    assert transport.sent[0].endpoint == "purchasesales/articles:get"


def test_add_buyer_posts_compact_utf8_json(client, transport, api_secret) -> None:
    transport.respond(200, {"clientId": 77, "referenceNumber": "770"})
    created = client.add_buyer(NewBuyer(name="Õun OÜ", reg_code="12345678"))
    assert created.client_id == "77"
    sent = transport.sent[0]
    assert sent.endpoint == "purchasesales/clients:add"
    assert sent.body == '{"name":"Õun OÜ","regCode":"12345678"}'.encode()
    _assert_signed(sent, api_secret)


def test_add_client_invoice(client, transport) -> None:
    transport.respond(200, {"invoiceId": 9100, "invoiceNumber": 1002, "clientId": 77, "totalAmount": "24.40"})
    invoice = NewClientInvoice(
        client_id="77", date=date(2024, 6, 5), rows=[{"code": "CONSULT", "price": "20.00", "quantity": 1}]
    )
    created = client.add_client_invoice(invoice)
    assert (created.invoice_id, created.invoice_number, created.total_amount) == ("9100", "1002", Decimal("24.40"))
    assert transport.sent[0].endpoint == "purchasesales/clientinvoices:add"
    assert transport.sent[0].json() == {
        "clientId": "77",
        "date": "05.06.2024",
        "rows": [{"code": "CONSULT", "price": 20, "quantity": 1}],
    }


def test_unexpected_item_shape_is_a_schema_mismatch_without_echoing_data(client, transport) -> None:
    transport.respond(200, _page("clientInvoices", [{"id": 1, "date": "not a date"}], False))
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*JUNE)
    assert info.value.kind is ErrorKind.SCHEMA_MISMATCH and not info.value.retryable
    assert "date" in info.value.message
    assert "not a date" not in str(info.value)


# --- paging ----------------------------------------------------------------------------------------------------


def test_paging_follows_has_more_entries(client, transport) -> None:
    for page in range(3):
        items = [_invoice(page * 100 + i) for i in range(100 if page < 2 else 7)]
        transport.respond(200, _page("clientInvoices", items, page < 2))
    invoices = client.client_invoices(*JUNE)
    assert len(invoices) == 207
    assert [s.param("pageNumber") for s in transport.sent] == ["1", "2", "3"]
    assert client.calls_made == 3


def test_page_cap_stops_with_paging_stalled(make_client, transport) -> None:
    client = make_client(max_pages=3)
    counter = iter(range(10_000))
    transport.router = lambda _s: (200, _page("clientInvoices", [_invoice(next(counter))], True))
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*JUNE)
    assert info.value.kind is ErrorKind.PAGING_STALLED
    assert info.value.api_code == "SA_UNAVAILABLE"
    assert "3 pages" in info.value.message
    assert client.calls_made == 3


def test_repeated_page_is_paging_stalled(client, transport) -> None:
    transport.router = lambda _s: (200, _page("clientInvoices", [_invoice(1), _invoice(2)], True))
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*JUNE)
    assert info.value.kind is ErrorKind.PAGING_STALLED
    assert client.calls_made == 2


def test_empty_page_claiming_more_is_paging_stalled(client, transport) -> None:
    transport.respond(200, _page("clientInvoices", [_invoice(1)], True))
    transport.respond(200, _page("clientInvoices", [], True))
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*JUNE)
    assert info.value.kind is ErrorKind.PAGING_STALLED


def test_a_failing_page_is_retried_alone(client, transport) -> None:
    transport.respond(200, _page("clientInvoices", [_invoice(1)], True))
    transport.respond_error(502, "bad gateway")
    transport.respond(200, _page("clientInvoices", [_invoice(2)], False))
    assert [i.id for i in client.client_invoices(*JUNE)] == ["1", "2"]
    assert [s.param("pageNumber") for s in transport.sent] == ["1", "2", "2"]


# --- retries ---------------------------------------------------------------------------------------------------


def test_unavailable_is_retried_with_full_jitter_backoff_then_gives_up(make_client, transport, clock) -> None:
    client = make_client(max_retries=3, random=lambda: 0.5)
    for _ in range(4):
        transport.respond_error(500, "boom")
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert client.calls_made == 4  # the first try and three retries
    assert clock.sleeps == [0.25, 0.5, 1.0]  # random() * min(20, 0.5 * 2**n)


def test_backoff_is_capped_at_twenty_seconds(make_client, transport, clock) -> None:
    client = make_client(max_retries=7)
    for _ in range(7):
        transport.respond_error(503, "maintenance")
    transport.respond(200, {"vatPcs": []})
    assert client.vat_percentages() == []
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0]


def test_every_retry_is_re_signed_with_a_fresh_timestamp(client, transport, clock, api_secret) -> None:
    transport.respond_error(503, "Too many requests", headers={"Retry-After": "7"})
    transport.respond(200, {"vatPcs": []})
    client.vat_percentages()
    first, second = transport.sent
    assert clock.sleeps == [7.0]  # Retry-After honoured
    assert (first.param("timestamp"), second.param("timestamp")) == ("15062024143000", "15062024143007")
    assert first.param("signature") != second.param("signature")
    _assert_signed(first, api_secret)
    _assert_signed(second, api_secret)


def test_retry_after_is_capped_at_sixty_seconds(client, transport, clock) -> None:
    transport.respond_error(429, "Too many requests", headers={"Retry-After": "60"})
    transport.respond(200, {"vatPcs": []})
    client.vat_percentages()
    assert clock.sleeps == [60.0]


def test_rate_limited_without_retry_after_uses_backoff(client, transport, clock) -> None:
    transport.respond_error(503, "Too many requests")
    transport.respond(200, {"vatPcs": []})
    client.vat_percentages()
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (401, "Invalid apikey", ErrorKind.INVALID_CREDENTIALS),
        (401, "Apikey is revoked", ErrorKind.CREDENTIALS_REVOKED),
        (401, "Invalid signature", ErrorKind.SIGNATURE_REJECTED),
        (401, "Request timestamp is not within 15 minutes of Estonian time", ErrorKind.SIGNATURE_REJECTED),
        (401, "apikey, timestamp and signature are required", ErrorKind.SIGNATURE_REJECTED),
        (403, "nope", ErrorKind.INVALID_CREDENTIALS),
        (404, "Invoice by id not found", ErrorKind.NOT_FOUND),
        (400, "dateFrom only allowed to be null when paymentStatus or id is provided", ErrorKind.VALIDATION_REJECTED),
        (503, "Daily request limit exceeded", ErrorKind.DAILY_QUOTA_SPENT),
    ],
)
def test_non_retryable_errors_are_raised_at_once(client, transport, clock, status, message, kind) -> None:
    transport.respond_error(status, message)
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is kind
    assert client.calls_made == 1
    assert clock.sleeps == []


def test_read_timeout_on_a_read_is_retried(client, transport) -> None:
    transport.fail_with(requests.exceptions.ReadTimeout("read timed out"))
    transport.respond(200, {"vatPcs": []})
    assert client.vat_percentages() == []
    assert client.calls_made == 2


def test_non_json_success_body_is_unavailable_and_retried_on_reads(client, transport) -> None:
    transport.respond(200, b"<html>maintenance</html>")
    transport.respond(200, {"vatPcs": [{"vatPc": "22"}]})
    assert len(client.vat_percentages()) == 1


def _refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/api/x", reason))


def _invoice_to_add() -> NewClientInvoice:
    return NewClientInvoice(client_id="77", date=date(2024, 6, 5), rows=[{"code": "C", "price": 1, "quantity": 1}])


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda t: t.fail_with(requests.exceptions.ReadTimeout("read timed out")), id="read-timeout"),
        pytest.param(lambda t: t.respond_error(500, "Internal error"), id="http-500"),
        pytest.param(lambda t: t.respond_error(502, "Bad gateway"), id="http-502"),
        pytest.param(lambda t: t.respond(200, b"not json"), id="garbled-success"),
        pytest.param(
            lambda t: t.fail_with(
                requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))
            ),
            id="connection-reset-after-sending",
        ),
    ],
)
def test_a_write_that_may_have_arrived_is_never_posted_again(client, transport, failure) -> None:
    failure(transport)
    transport.respond(200, {"invoiceId": 1})
    with pytest.raises(SmartAccountsError) as info:
        client.add_client_invoice(_invoice_to_add())
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert client.calls_made == 1
    assert len(transport.sent) == 1


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(
            lambda t: t.fail_with(requests.exceptions.ConnectTimeout("connect timed out")), id="connect-timeout"
        ),
        pytest.param(lambda t: t.fail_with(_refused()), id="connection-refused"),
        pytest.param(lambda t: t.respond_error(503, "Too many requests", headers={"Retry-After": "2"}), id="503-rate"),
        pytest.param(lambda t: t.respond_error(429, "Too many requests"), id="429"),
    ],
)
def test_a_write_that_surely_did_not_arrive_is_retried(client, transport, failure, api_secret) -> None:
    failure(transport)
    transport.respond(200, {"invoiceId": 9100})
    assert client.add_client_invoice(_invoice_to_add()).invoice_id == "9100"
    assert client.calls_made == 2
    _assert_signed(transport.sent[-1], api_secret)


def test_zero_retries_means_one_attempt(make_client, transport) -> None:
    client = make_client(max_retries=0, rate_limit_budget_seconds=0)
    transport.respond_error(503, "Too many requests", headers={"Retry-After": "1"})
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.RATE_LIMITED
    assert info.value.retry_after == 1.0
    assert client.calls_made == 1


def test_rate_limited_answers_wait_as_asked_within_a_time_budget_not_a_count(make_client, transport, clock) -> None:
    client = make_client(max_retries=1, rate_limit_budget_seconds=30)
    for _ in range(6):  # more rate-limited answers than max_retries: waited out, each as SmartAccounts asks
        transport.respond_error(503, "Too many requests", headers={"Retry-After": "4"})
    transport.respond(200, {"vatPcs": []})
    start = clock.time()
    assert client.vat_percentages() == []
    assert client.calls_made == 7
    assert clock.time() - start == pytest.approx(24.0)


def test_rate_limited_gives_up_when_the_time_budget_would_be_exceeded(make_client, transport, clock) -> None:
    client = make_client(rate_limit_budget_seconds=10)
    for _ in range(5):
        transport.respond_error(503, "Too many requests", headers={"Retry-After": "4"})
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.RATE_LIMITED
    assert client.calls_made == 3  # waited 4 + 4 s; a third wait would pass the 10 s budget


def test_an_overall_deadline_ends_retries_and_shortens_timeouts(make_client, transport, clock) -> None:
    client = make_client(deadline_seconds=5, max_retries=5)
    for _ in range(5):
        transport.respond_error(500, "Internal server error")
    start = clock.time()
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.UNAVAILABLE
    assert clock.time() - start <= 5
    assert client._timeouts()[1] <= 5


# --- rate guard ------------------------------------------------------------------------------------------------


def test_rate_guard_is_asked_before_every_attempt(make_client, transport, api_key) -> None:
    guard = RecordingGuard()
    client = make_client(rate_guard=guard)
    transport.respond_error(502, "x")
    transport.respond(200, _page("articles", [{"code": "A"}], True))
    transport.respond(200, _page("articles", [{"code": "B"}], False))
    client.articles()
    assert guard.keys == [api_key] * 3
    assert guard.reserves == [0] * 3
    assert client.calls_made == 3


def test_the_client_s_daily_reserve_goes_with_every_acquire(make_client, transport) -> None:
    guard = RecordingGuard()
    client = make_client(rate_guard=guard, daily_reserve=150)
    transport.respond(200, _page("articles", [{"code": "A"}], False))
    client.articles()
    assert guard.reserves == [150]


def test_a_spent_local_budget_sends_nothing(make_client, transport) -> None:
    spent = SmartAccountsError(ErrorKind.DAILY_QUOTA_SPENT, "spent", retry_after=100.0)
    client = make_client(rate_guard=RecordingGuard(fail_with=spent))
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert transport.sent == []
    assert client.calls_made == 0


@pytest.mark.parametrize(("retry_after", "wait"), [("7200", 7200.0), (None, 9.5 * 3600)])
def test_smartaccounts_saying_the_day_is_spent_stops_every_request_with_the_key_until_then(
    make_client, transport, clock, credentials, retry_after, wait
) -> None:
    # Given a guard that counted one request of the key today, and SmartAccounts refusing the next for its daily
    # limit (another program used the same key), with or without saying how long (the Tallinn day's end then)
    guard = InMemoryRateGuard(clock=clock.time, sleep=clock.sleep)
    client = make_client(rate_guard=guard)
    transport.respond(200, {"vatPcs": []})
    headers = {"Retry-After": retry_after} if retry_after else None
    transport.respond_error(503, "Daily request limit exceeded", headers=headers)
    client.vat_percentages()
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT
    # When the same key makes another request later, from another client object (another piece of work)
    clock.now += 60.0
    other = make_client(rate_guard=guard)
    with pytest.raises(SmartAccountsError) as refused:
        other.articles()
    # Then nothing is sent: the guard refuses until SmartAccounts' limit resets, and says whose limit it is
    assert len(transport.sent) == 2
    assert refused.value.kind is ErrorKind.DAILY_QUOTA_SPENT and refused.value.reason == "smartaccounts_spent"
    assert refused.value.retry_after == pytest.approx(wait - 60.0)
    usage = guard.usage(credentials.api_key)
    assert usage.used_today == 2 and usage.left_today == 0 and usage.spent_until is not None


def test_a_long_wait_without_smartaccounts_saying_the_day_is_spent_does_not_stop_the_key(
    make_client, transport, clock
) -> None:
    # Given SmartAccounts refusing one request with a two-hour wait but not saying the key's day is spent
    guard = InMemoryRateGuard(clock=clock.time, sleep=clock.sleep)
    client = make_client(rate_guard=guard)
    transport.respond_error(503, "Too many requests", headers={"Retry-After": "7200"})
    with pytest.raises(SmartAccountsError) as info:
        client.vat_percentages()
    # Then that request's work waits as for the day, but the key is not held back for everything else
    assert info.value.kind is ErrorKind.DAILY_QUOTA_SPENT and info.value.retry_after == 7200.0
    transport.respond(200, {"articles": [], "hasMoreEntries": False})
    assert client.articles() == []


def test_in_memory_guard_paces_the_client(make_client, transport, clock) -> None:
    guard = InMemoryRateGuard(per_minute=2, window_seconds=61, clock=clock.time, sleep=clock.sleep)
    client = make_client(rate_guard=guard)
    transport.router = lambda _s: (200, {"vatPcs": []})
    for _ in range(3):
        client.vat_percentages()
    assert clock.sleeps == [61.0]


# --- secrecy ---------------------------------------------------------------------------------------------------


def test_no_secret_in_errors_or_logs(make_client, transport, caplog, capsys, api_key, api_secret) -> None:
    # Given a client whose every call fails in a different way, one of them echoing the key back
    client = make_client(max_retries=1)
    url_in_message = f"HTTPSConnectionPool: Max retries exceeded with url: /api/x?apikey={api_key}&signature=abc"
    transport.fail_with(requests.exceptions.ConnectionError(url_in_message))
    transport.fail_with(requests.exceptions.ReadTimeout(url_in_message))
    transport.respond_error(401, "Invalid signature")
    transport.respond_error(400, f"apikey {api_key} may not add this; secret {api_secret}")
    transport.respond_error(503, "Daily request limit exceeded")
    errors: list[SmartAccountsError] = []
    caplog.set_level(logging.DEBUG)
    for _ in range(4):
        with pytest.raises(SmartAccountsError) as info:
            client.vat_percentages()
        errors.append(info.value)
    # Then neither the errors nor the logs carry the key, the secret, a signature or the query string
    signatures = [s.param("signature") for s in transport.sent]
    formatter = service_logger.registered_formatter
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    out = capsys.readouterr()
    texts = [logged, out.out, out.err]
    for error in errors:
        texts += [str(error), repr(error), error.message, *error.messages, repr(error.args)]
        assert error.__cause__ is None
        assert error.__suppress_context__
    assert "[redacted]" in errors[2].message
    assert caplog.records, "the client logs its calls"
    for text in texts:
        for secret in (api_key, api_secret, "apikey=", "signature=", "sa.example.test", *signatures):
            assert secret not in text


def test_client_repr_masks_the_key(client, api_key) -> None:
    assert api_key not in repr(client)
    assert "unit…6789" in repr(client)


# --- construction ----------------------------------------------------------------------------------------------


def test_from_settings_uses_the_configured_api_and_limits(transport, session) -> None:
    from smartaccounts_sync.smartaccounts.models import ApiCredentials

    settings = Settings(
        smartaccounts_api_url="http://sandbox.test:8080/api/",
        smartaccounts_connect_timeout=1.5,
        smartaccounts_read_timeout=9.0,
        smartaccounts_max_retries=0,
    )
    credentials = ApiCredentials(api_key="k" * 12, api_secret="s")
    client = SmartAccountsClient.from_settings(credentials, settings, rate_guard=NoRateGuard(), company_id="7")
    client._session = session  # the unit tier's transport instead of the container's session
    transport.respond(200, {"vatPcs": []})
    client.vat_percentages()
    sent = transport.sent[0]
    assert sent.url.startswith("http://sandbox.test:8080/api/settings/vatpcs:get?")
    assert sent.timeout == (1.5, 9.0)
    assert sent.param("companyId") == "7"


def test_from_settings_guards_with_dynamodb_by_default() -> None:
    from smartaccounts_sync.smartaccounts.models import ApiCredentials

    settings = Settings(rate_limit_table_name="guard-table", smartaccounts_rate_per_minute=30)
    client = SmartAccountsClient.from_settings(ApiCredentials(api_key="k" * 12, api_secret="s"), settings)
    guard = client._rate_guard
    assert isinstance(guard, DynamoDbRateGuard)
    assert (guard.table_name, guard.per_minute, guard.window_seconds, guard.daily_budget) == (
        "guard-table",
        30,
        61.0,
        1000,
    )


def test_one_session_per_container() -> None:
    assert shared_session() is shared_session()


@pytest.mark.parametrize(
    "body",
    [
        {"hasMoreEntries": False},  # the envelope key is missing
        {"invoices": [], "hasMoreEntries": False},  # renamed
        {"clientInvoices": {"id": 1}, "hasMoreEntries": False},  # not a list
    ],
)
def test_a_missing_or_renamed_envelope_is_a_schema_mismatch_never_an_empty_list(client, transport, body) -> None:
    transport.respond(200, body)
    with pytest.raises(SmartAccountsError) as info:
        client.client_invoices(*JUNE)
    assert info.value.kind is ErrorKind.SCHEMA_MISMATCH
    assert "clientInvoices" in info.value.message and info.value.api_code == "SA_SCHEMA_MISMATCH"
