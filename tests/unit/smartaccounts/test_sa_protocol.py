"""The wire protocol: signing, query order, timestamps, dates, Retry-After and the error classification table."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.errors import ErrorKind

TEST_VECTOR = "5031fe3d989c6d1537a013fa6e739da23463fdaec3b70137d828e36ace221bd0"
# 15.06.2024 14:30:00 in Tallinn (summer time, UTC+3)
JUNE_15_1430_TALLINN = datetime(2024, 6, 15, 11, 30, 0, tzinfo=UTC).timestamp()


def _epoch(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# --- signing ---------------------------------------------------------------------------------------------------


def test_sign_matches_the_published_hmac_sha256_test_vector() -> None:
    assert protocol.sign("key", b"data") == TEST_VECTOR


def test_signature_covers_the_query_as_sent_plus_the_read_body() -> None:
    # Given a read with date-range paging parameters (expected value computed with `openssl dgst -hmac`)
    request = protocol.build_request(
        "https://sa.example.test/api/",
        protocol.CLIENT_INVOICES_GET,
        api_key="demo-key",
        api_secret="demo-secret",
        params=[*protocol.date_range_params(date(2024, 6, 1), date(2024, 6, 30)), ("pageNumber", "1")],
        payload=None,
        now=JUNE_15_1430_TALLINN,
    )
    # Then the URL is <base><module>/<resource>:<method>?<query>&signature=<hmac over query + "{}">
    assert request.url == (
        "https://sa.example.test/api/purchasesales/clientinvoices:get"
        "?apikey=demo-key&timestamp=15062024143000&dateFrom=01.06.2024&dateTo=30.06.2024&dateType=date&pageNumber=1"
        "&signature=512f284a33c4385ecc487302f49fd2b6d1721a39ee916410bc07a02e02765448"
    )
    assert request.body == b"{}"
    assert request.method == "POST"


def test_signature_covers_the_raw_utf8_write_body() -> None:
    request = protocol.build_request(
        "https://sa.example.test/api",
        protocol.CLIENTS_ADD,
        api_key="demo-key",
        api_secret="demo-secret",
        params=[],
        payload={"name": "Õun OÜ", "regCode": "123"},
        now=JUNE_15_1430_TALLINN,
    )
    assert request.body == '{"name":"Õun OÜ","regCode":"123"}'.encode()
    assert request.url.startswith("https://sa.example.test/api/purchasesales/clients:add?")
    assert request.url.endswith("&signature=91d23b852c71c047c783acbda1096e5bbb1145f752b97addba8b5c64cdf1c255")


def test_query_order_is_apikey_timestamp_caller_params_then_signature_last() -> None:
    request = protocol.build_request(
        "https://x.test/api/",
        protocol.CLIENTS_GET,
        api_key="k",
        api_secret="s",
        params=[("zeta", "1"), ("alpha", "a b&c"), ("pageNumber", "2")],
        payload=None,
        now=JUNE_15_1430_TALLINN,
    )
    query = urlsplit(request.url).query
    names = [part.split("=", 1)[0] for part in query.split("&")]
    assert names == ["apikey", "timestamp", "zeta", "alpha", "pageNumber", "signature"]
    assert "alpha=a+b%26c" in query  # caller values are URL-encoded once, exactly as signed
    signed_part = query.split("&signature=")[0]
    assert query.split("&signature=")[1] == protocol.sign("s", signed_part.encode() + b"{}")


def test_signature_is_lowercase_hex_of_64_characters() -> None:
    value = protocol.sign("secret", b"anything")
    assert len(value) == 64
    assert value == value.lower()
    int(value, 16)


def test_body_encoding_is_compact_utf8_json() -> None:
    assert protocol.encode_body({"a": 1, "b": ["õ", None]}) == '{"a":1,"b":["õ",null]}'.encode()


# --- time ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (_epoch(2024, 6, 15, 11, 30, 0), "15062024143000"),  # summer: UTC+3
        (_epoch(2024, 1, 10, 22, 5, 9), "11012024000509"),  # winter: UTC+2, crosses midnight
        (_epoch(2024, 3, 31, 0, 59, 59), "31032024025959"),  # one second before the spring DST switch
        (_epoch(2024, 3, 31, 1, 0, 0), "31032024040000"),  # the switch: 03:00 EET becomes 04:00 EEST
        (_epoch(2024, 10, 27, 0, 59, 59), "27102024035959"),  # last second of summer time
        (_epoch(2024, 10, 27, 1, 0, 0), "27102024030000"),  # autumn switch: back to 03:00 EET
    ],
)
def test_timestamp_is_tallinn_wall_clock(epoch: float, expected: str) -> None:
    assert protocol.format_timestamp(epoch) == expected


def test_dates_format_and_parse() -> None:
    assert protocol.format_date(date(2024, 2, 5)) == "05.02.2024"
    assert protocol.parse_date("05.02.2024") == date(2024, 2, 5)
    assert protocol.parse_date("2024-02-05") == date(2024, 2, 5)
    assert protocol.parse_date("2024-02-05T10:00:00") == date(2024, 2, 5)
    with pytest.raises(ValueError, match="not a date"):
        protocol.parse_date("5/2/2024")
    assert protocol.parse_date(" 5.2.2024 ") == date(2024, 2, 5)  # one-digit day and month, spaces around
    for impossible in ("31.02.2024", "00.01.2024", "01.13.2024", "29.02.2023"):
        with pytest.raises(ValueError):
            protocol.parse_date(impossible)


def test_quota_resets_at_tallinn_midnight() -> None:
    # 23:59:00 Tallinn summer time is 20:59:00 UTC
    now = _epoch(2024, 6, 15, 20, 59, 0)
    assert protocol.tallinn_day(now) == date(2024, 6, 15)
    assert protocol.seconds_until_quota_reset(now) == pytest.approx(60.0)
    assert protocol.tallinn_day(now + 61) == date(2024, 6, 16)


# --- Retry-After -----------------------------------------------------------------------------------------------


def test_retry_after_in_seconds_and_as_http_date() -> None:
    now = _epoch(2024, 6, 15, 11, 30, 0)
    assert protocol.parse_retry_after("7", now) == 7.0
    assert protocol.parse_retry_after(" 2.5 ", now) == 2.5
    assert protocol.parse_retry_after("Sat, 15 Jun 2024 11:30:42 GMT", now) == pytest.approx(42.0)
    assert protocol.parse_retry_after("Sat, 15 Jun 2024 11:00:00 GMT", now) == 0.0
    assert protocol.parse_retry_after(None, now) is None
    assert protocol.parse_retry_after("soon", now) is None
    assert protocol.parse_retry_after("", now) is None


# --- classification --------------------------------------------------------------------------------------------

NOW = _epoch(2024, 6, 15, 11, 30, 0)


def _classify(status: int, *messages: str, headers: dict[str, str] | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps({"errors": [{"message": m} for m in messages]}).encode()
    return protocol.classify_error_response(status, headers or {}, body, endpoint=protocol.CLIENT_INVOICES_GET, now=NOW)


@pytest.mark.parametrize(
    ("status", "message", "kind", "reason"),
    [
        (401, "Invalid apikey", ErrorKind.INVALID_CREDENTIALS, "unknown_key"),
        (401, "Apikey is revoked", ErrorKind.CREDENTIALS_REVOKED, "revoked"),
        (401, "Invalid signature", ErrorKind.SIGNATURE_REJECTED, "secret_mismatch"),
        (
            401,
            "Request timestamp is not within 15 minutes of Estonian time",
            ErrorKind.SIGNATURE_REJECTED,
            "clock_skew",
        ),
        (401, "apikey, timestamp and signature are required", ErrorKind.SIGNATURE_REJECTED, "unsigned"),
        (401, "Something else entirely", ErrorKind.INVALID_CREDENTIALS, None),
        (403, "Forbidden", ErrorKind.INVALID_CREDENTIALS, None),
        (404, "Invoice by id not found", ErrorKind.NOT_FOUND, None),
        (500, "boom", ErrorKind.UNAVAILABLE, None),
        (502, "bad gateway", ErrorKind.UNAVAILABLE, None),
        (503, "Service down for maintenance", ErrorKind.UNAVAILABLE, None),
    ],
)
def test_error_classification_table(status: int, message: str, kind: ErrorKind, reason: str | None) -> None:
    error = _classify(status, message)
    assert error.kind is kind
    assert error.reason == reason
    assert error.status == status
    assert error.endpoint == "purchasesales/clientinvoices:get"
    assert error.messages == (message,)


def test_clock_reason_explains_estonian_time() -> None:
    error = _classify(401, "Request timestamp is not within 15 minutes of Estonian time")
    assert "15 minutes" in error.message
    assert "Estonian time" in error.message


def test_daily_limit_message_means_quota_spent_until_tallinn_midnight() -> None:
    error = _classify(503, "Daily request limit exceeded")
    assert error.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert error.retry_after == pytest.approx(protocol.seconds_until_quota_reset(NOW))
    assert not error.retryable


def test_daily_limit_uses_retry_after_when_given() -> None:
    error = _classify(503, "Daily request limit exceeded", headers={"Retry-After": "3600"})
    assert error.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert error.retry_after == 3600.0


def test_long_retry_after_means_daily_quota() -> None:
    error = _classify(503, "Too many requests", headers={"Retry-After": "7200"})
    assert error.kind is ErrorKind.DAILY_QUOTA_SPENT
    assert error.retry_after == 7200.0
    # waited for as the day's, but SmartAccounts did not say the key's day is spent: the guard does not stop the key
    assert error.reason is None
    assert _classify(503, "Daily request limit exceeded").reason == protocol.DAILY_LIMIT_SAID


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400", "-inf", "nan"])
def test_a_retry_after_that_is_no_finite_number_is_no_wait_at_all(value: str) -> None:
    assert protocol.parse_retry_after(value, NOW) is None
    error = _classify(503, "Daily request limit exceeded", headers={"Retry-After": value})
    assert error.retry_after == pytest.approx(protocol.seconds_until_quota_reset(NOW))


@pytest.mark.parametrize("value", ["0", "0.4"])
def test_a_daily_refusal_asking_for_no_wait_waits_for_the_assumed_reset(value: str) -> None:
    # otherwise the parked import would be sent again at once, to be refused again
    error = _classify(503, "Daily request limit exceeded", headers={"Retry-After": value})
    assert error.retry_after == pytest.approx(protocol.seconds_until_quota_reset(NOW))


@pytest.mark.parametrize(
    ("status", "message", "headers", "retry_after"),
    [
        (503, "Too many requests", {"Retry-After": "12"}, 12.0),
        (503, "Too many requests", {}, None),
        (503, "", {"retry-after": "5"}, 5.0),
        (429, "Too many requests", {}, None),
        (429, "", {"Retry-After": "Sat, 15 Jun 2024 11:30:30 GMT"}, 30.0),
    ],
)
def test_rate_limited(status: int, message: str, headers: dict[str, str], retry_after: float | None) -> None:
    error = _classify(status, *([message] if message else []), headers=headers)
    assert error.kind is ErrorKind.RATE_LIMITED
    assert error.retry_after == (pytest.approx(retry_after) if retry_after is not None else None)
    assert error.retryable


@pytest.mark.parametrize("status", [400, 422])
def test_validation_keeps_all_messages(status: int) -> None:
    error = _classify(status, "CREDIT-INVOICE-EARLIER-THAN-BASE", "payment amount larger than outstanding")
    assert error.kind is ErrorKind.VALIDATION_REJECTED
    assert error.messages == ("CREDIT-INVOICE-EARLIER-THAN-BASE", "payment amount larger than outstanding")
    assert "CREDIT-INVOICE-EARLIER-THAN-BASE" in error.message
    assert not error.retryable


def test_non_json_error_body_is_unavailable() -> None:
    error = _classify(502, raw=b"<html>Bad Gateway</html>")
    assert error.kind is ErrorKind.UNAVAILABLE
    assert error.messages == ()


def test_non_json_success_body_is_unavailable() -> None:
    with pytest.raises(Exception) as info:
        protocol.parse_success_body(200, b"<html>", endpoint=protocol.VAT_PCS_GET)
    assert info.value.kind is ErrorKind.UNAVAILABLE


def test_endpoints_and_envelopes() -> None:
    assert protocol.CLIENT_INVOICES_GET.path == "purchasesales/clientinvoices:get"
    assert protocol.CLIENT_INVOICES_GET.envelope == "clientInvoices"
    assert protocol.VENDOR_INVOICES_GET.envelope == "vendorInvoices"
    assert protocol.PAYMENTS_GET.envelope == "payments"
    assert protocol.ENTRIES_GET.path == "general/entries:get"
    assert protocol.VAT_PCS_GET.envelope == "vatPcs"
    assert not protocol.VAT_PCS_GET.paged
    assert protocol.COMPANY_GET.path == "settings/company:get"
    assert protocol.COMPANIES_GET.path == "settings/companies:get"
    assert protocol.CLIENT_INVOICES_ADD.write
    assert protocol.CLIENTS_ADD.write
    assert protocol.PAGE_SIZE == 100
