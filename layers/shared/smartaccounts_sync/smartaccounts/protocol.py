"""Every SmartAccounts wire-protocol decision, in one module.

No official API reference was available: what is here comes from public third-party clients (see
``docs/smartaccounts.md``), and some of it is ASSUMED. When the real service turns out to differ, this is the one
module to correct: URL shape, query order, timestamp, signature, body encoding, date format, page size, endpoint
names and envelope keys, the classification of error responses, Retry-After parsing and the daily quota reset rule.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError

# --- Time -------------------------------------------------------------------------------------------------------

TALLINN = ZoneInfo("Europe/Tallinn")
TIMESTAMP_FORMAT = "%d%m%Y%H%M%S"  # ddMMyyyyHHmmss, Estonian local time [C]
DATE_FORMAT = "%d.%m.%Y"  # dd.MM.yyyy in queries and bodies [C]
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_ET_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}$")


def format_timestamp(epoch_seconds: float) -> str:
    """The ``timestamp`` query parameter: Tallinn wall-clock time, ``ddMMyyyyHHmmss``."""
    return datetime.fromtimestamp(epoch_seconds, TALLINN).strftime(TIMESTAMP_FORMAT)


def format_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def parse_date(value: str) -> date:
    """Parse ``dd.MM.yyyy`` (the API's format) or ISO ``YYYY-MM-DD`` (tolerated)."""
    text = value.strip()
    if _ET_DATE.match(text):  # split, not strptime: every document's dates pass here (strptime is ~5x slower)
        day, month, year = text.split(".")
        return date(int(year), int(month), int(day))
    if _ISO_DATE.match(text):
        return date.fromisoformat(text[:10])
    raise ValueError(f"not a date in dd.MM.yyyy or YYYY-MM-DD form: {value!r}")


def tallinn_day(epoch_seconds: float) -> date:
    """The calendar day in Tallinn: ASSUMED to be the unit of the daily quota (1000 requests per day)."""
    return datetime.fromtimestamp(epoch_seconds, TALLINN).date()


def seconds_until_quota_reset(epoch_seconds: float) -> float:
    """Seconds until the daily quota resets: ASSUMED at the next Tallinn midnight."""
    next_day = tallinn_day(epoch_seconds) + timedelta(days=1)
    midnight = datetime.combine(next_day, time(0, 0), tzinfo=TALLINN)
    return max(0.0, midnight.timestamp() - epoch_seconds)


# --- Endpoints --------------------------------------------------------------------------------------------------

PAGE_SIZE = 100  # fixed by SmartAccounts, not adjustable [C]
FIRST_PAGE = 1
PAGE_PARAM = "pageNumber"
HAS_MORE_KEY = "hasMoreEntries"
COMPANY_ID_PARAM = "companyId"  # ASSUMED: chooses among the companies a key sees


@dataclass(frozen=True)
class Endpoint:
    """One API method: ``<module>/<resource>:<method>`` and the key of its result in the response envelope."""

    module: str
    resource: str
    method: str
    envelope: str
    paged: bool = False
    write: bool = False
    company_scoped: bool = True  # takes the (assumed) companyId parameter
    assumed: bool = False

    @property
    def path(self) -> str:
        return f"{self.module}/{self.resource}:{self.method}"

    def __str__(self) -> str:
        return self.path


COMPANY_GET = Endpoint("settings", "company", "get", "company", assumed=True)
COMPANIES_GET = Endpoint("settings", "companies", "get", "companies", paged=True, company_scoped=False, assumed=True)
CLIENT_INVOICES_GET = Endpoint("purchasesales", "clientinvoices", "get", "clientInvoices", paged=True)
CLIENT_INVOICES_ADD = Endpoint("purchasesales", "clientinvoices", "add", "", write=True)
VENDOR_INVOICES_GET = Endpoint("purchasesales", "vendorinvoices", "get", "vendorInvoices", paged=True)
PAYMENTS_GET = Endpoint("purchasesales", "payments", "get", "payments", paged=True, assumed=True)
ENTRIES_GET = Endpoint("general", "entries", "get", "entries", paged=True, assumed=True)
VAT_PCS_GET = Endpoint("settings", "vatpcs", "get", "vatPcs")
CLIENTS_GET = Endpoint("purchasesales", "clients", "get", "clients", paged=True)
CLIENTS_ADD = Endpoint("purchasesales", "clients", "add", "", write=True)
ARTICLES_GET = Endpoint("purchasesales", "articles", "get", "articles", paged=True)

Params = Sequence[tuple[str, str]]


def bool_param(value: bool) -> str:
    return "true" if value else "false"


def date_range_params(date_from: date, date_to: date) -> list[tuple[str, str]]:
    """``dateFrom``/``dateTo`` by document date (``dateType=date``); ``dateTo`` on entries is ASSUMED."""
    return [("dateFrom", format_date(date_from)), ("dateTo", format_date(date_to)), ("dateType", "date")]


FETCH_ROWS = ("fetchRows", "true")
SEARCH_PARAM = "nameOrRegCode"
ACCOUNT_TYPE_PARAM = "accountType"
DOC_TYPE_PARAM = "docType"  # ASSUMED filter name on general/entries
BUYER_DETAIL_PARAMS = (("fetchAddresses", "true"), ("fetchContacts", "true"))
ARTICLE_CODE_PARAM = "code"
ADDRESS_LINE_MAX = 64  # clients:add rejects longer address lines [C]


def invoice_number_params(invoice_number: str, issued_on: date) -> list[tuple[str, str]]:
    """Look-up of one sales invoice by its number. ``dateFrom`` is required unless ``paymentStatus`` or ``id`` is
    given [C], so the query is narrowed to the invoice's own date (the service sends that date when it books)."""
    return [*date_range_params(issued_on, issued_on), ("invoiceNumber", invoice_number)]


def unpaid_invoice_params(date_from: date) -> list[tuple[str, str]]:
    """Every sales invoice with something still outstanding, issued on or after ``date_from``: one paged query
    (``paymentStatus=unpaid`` [C/S]). An invoice that left this list was paid in full."""
    return [("dateFrom", format_date(date_from)), ("dateType", "date"), ("paymentStatus", "unpaid")]


def without_4byte_characters(text: str) -> str:
    """SmartAccounts rejects 4-byte UTF-8 characters (emoji and the like) in write bodies [C]: each becomes U+FFFD."""
    return "".join(c if ord(c) <= 0xFFFF else "\ufffd" for c in text)


# --- Requests ---------------------------------------------------------------------------------------------------

READ_BODY = b"{}"  # reads are POSTed with an empty JSON object, as the production PHP client does [C]
HEADERS: Mapping[str, str] = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}


def encode_body(payload: Any) -> bytes:
    """Compact JSON, UTF-8, non-ASCII kept as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``message`` keyed with the secret."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_message(query: str, body: bytes) -> bytes:
    """What is signed: the query string as sent, up to (not including) ``&signature=``, then the raw body."""
    return query.encode("utf-8") + body


def build_query(api_key: str, timestamp: str, params: Params) -> str:
    """``apikey``, ``timestamp``, then the caller's parameters in the given order (signature not yet appended)."""
    return urlencode([("apikey", api_key), ("timestamp", timestamp), *params])


@dataclass(frozen=True)
class SignedRequest:
    """A request ready to send as is. ``url`` contains secrets-derived data: never log it."""

    endpoint: Endpoint
    method: str
    url: str
    body: bytes
    headers: Mapping[str, str]

    def __repr__(self) -> str:  # never show the URL (key and signature)
        return f"SignedRequest(endpoint={self.endpoint.path!r}, method={self.method!r}, body_bytes={len(self.body)})"


def build_request(
    base_url: str,
    endpoint: Endpoint,
    *,
    api_key: str,
    api_secret: str,
    params: Params,
    payload: Any | None,
    now: float,
) -> SignedRequest:
    """Build and sign one request. Called afresh for every attempt, so every retry has a fresh timestamp."""
    body = READ_BODY if payload is None else encode_body(payload)
    query = build_query(api_key, format_timestamp(now), params)
    signature = sign(api_secret, signed_message(query, body))
    base = base_url if base_url.endswith("/") else base_url + "/"
    url = f"{base}{endpoint.path}?{query}&signature={signature}"
    return SignedRequest(endpoint=endpoint, method="POST", url=url, body=body, headers=dict(HEADERS))


# --- Responses --------------------------------------------------------------------------------------------------

RATE_LIMIT_RETRY_CAP_SECONDS = 60.0
#: The reason of a refusal in which SmartAccounts said the key's daily limit is reached (not only a long wait).
DAILY_LIMIT_SAID = "daily_limit"
SUCCESS_STATUSES = frozenset({200, 201})


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):  # NaN or infinity: no wait anybody could keep
        return None
    return max(0.0, seconds)


def error_messages(body: bytes) -> list[str]:
    """SmartAccounts' messages from ``{"errors":[{"message":"…"}]}`` (tolerating a few near variants)."""
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        return []
    messages: list[str] = []
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict) and item.get("message") is not None:
                    messages.append(str(item["message"]))
                elif isinstance(item, str):
                    messages.append(item)
        if not messages and isinstance(data.get("message"), str):
            messages.append(data["message"])
    return messages


# Known 401 messages (as the sandbox sends them; the real wording is unknown): kind, reason, safe text.
_AUTH_MESSAGES: dict[str, tuple[ErrorKind, str, str]] = {
    "invalid apikey": (
        ErrorKind.INVALID_CREDENTIALS,
        "unknown_key",
        "SmartAccounts does not know this API key. Check that the key was copied correctly from SmartAccounts "
        "(Settings → Connected services).",
    ),
    "apikey is revoked": (
        ErrorKind.CREDENTIALS_REVOKED,
        "revoked",
        "This SmartAccounts API key has been revoked. Generate a new key pair in SmartAccounts and save it in Uku.",
    ),
    "invalid signature": (
        ErrorKind.SIGNATURE_REJECTED,
        "secret_mismatch",
        "SmartAccounts rejected the request signature: the API secret does not belong to this key. If the secret "
        "is lost, regenerate the key pair in SmartAccounts and save both in Uku.",
    ),
    "request timestamp is not within 15 minutes of estonian time": (
        ErrorKind.SIGNATURE_REJECTED,
        "clock_skew",
        "SmartAccounts rejected the request time: the clock differs from Estonian time by more than 15 minutes.",
    ),
    "apikey, timestamp and signature are required": (
        ErrorKind.SIGNATURE_REJECTED,
        "unsigned",
        "SmartAccounts received the request without API key, timestamp or signature.",
    ),
}
_DAILY_LIMIT_MESSAGES = frozenset({"daily request limit exceeded"})
_RATE_LIMIT_MESSAGES = frozenset({"too many requests"})

_TEXT_INVALID_CREDENTIALS = "SmartAccounts did not accept the API credentials."
_TEXT_DAILY = "The SmartAccounts daily request limit for this API key is spent; it resets at midnight Estonian time."
_TEXT_RATE_LIMITED = "SmartAccounts is rate limiting this API key (60 requests per minute)."
_TEXT_NOT_FOUND = "SmartAccounts did not find the requested document."
_TEXT_VALIDATION = "SmartAccounts rejected the request"
_TEXT_UNAVAILABLE = "SmartAccounts is unavailable"


def _normalise(message: str) -> str:
    return " ".join(message.lower().strip().rstrip(".").split())


def classify_error_response(
    status: int, headers: Mapping[str, str], body: bytes, *, endpoint: Endpoint, now: float
) -> SmartAccountsError:
    """Map a non-success response to the taxonomy. Statuses and messages are partly invented (see the docs)."""
    messages = error_messages(body)
    normalised = [_normalise(m) for m in messages]
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now)
    where = {"endpoint": endpoint.path, "status": status}

    if status in (401, 403):
        for text in normalised:
            if text in _AUTH_MESSAGES:
                kind, reason, safe = _AUTH_MESSAGES[text]
                return SmartAccountsError(kind, safe, messages=messages, reason=reason, **where)
        return SmartAccountsError(ErrorKind.INVALID_CREDENTIALS, _TEXT_INVALID_CREDENTIALS, messages=messages, **where)

    if status in (429, 503):
        said_daily = any(text in _DAILY_LIMIT_MESSAGES for text in normalised)
        # a wait longer than the minute limit can mean is taken for the daily limit (waited for, not asked again each
        # minute); only SmartAccounts' own words make it the key's day (`reason`: the guard stops the key then)
        if said_daily or (retry_after is not None and retry_after > RATE_LIMIT_RETRY_CAP_SECONDS):
            # a daily refusal asking for (almost) no wait would be asked again at once: the assumed reset instead
            wait = retry_after if retry_after is not None and retry_after >= 1 else seconds_until_quota_reset(now)
            return SmartAccountsError(
                ErrorKind.DAILY_QUOTA_SPENT,
                _TEXT_DAILY,
                messages=messages,
                retry_after=wait,
                reason=DAILY_LIMIT_SAID if said_daily else None,
                **where,
            )
        if status == 429 or retry_after is not None or any(text in _RATE_LIMIT_MESSAGES for text in normalised):
            return SmartAccountsError(
                ErrorKind.RATE_LIMITED, _TEXT_RATE_LIMITED, messages=messages, retry_after=retry_after, **where
            )

    if status == 404:
        return SmartAccountsError(ErrorKind.NOT_FOUND, _TEXT_NOT_FOUND, messages=messages, **where)

    if status in (400, 422):
        detail = "; ".join(messages) if messages else f"HTTP {status}"
        return SmartAccountsError(
            ErrorKind.VALIDATION_REJECTED, f"{_TEXT_VALIDATION}: {detail}", messages=messages, **where
        )

    return SmartAccountsError(
        ErrorKind.UNAVAILABLE, f"{_TEXT_UNAVAILABLE} (HTTP {status}).", messages=messages, **where
    )


def parse_success_body(status: int, body: bytes, *, endpoint: Endpoint) -> dict[str, Any]:
    """The JSON object of a success response; a non-JSON body means something in between is broken."""
    try:
        data = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise SmartAccountsError(
            ErrorKind.UNAVAILABLE,
            f"{_TEXT_UNAVAILABLE}: the response was not a JSON object.",
            endpoint=endpoint.path,
            status=status,
        )
    return data


def envelope_items(data: Mapping[str, Any], endpoint: Endpoint, status: int) -> list[Any]:
    """The list under the endpoint's envelope key. A missing (or renamed) key or a value that is not a list is schema
    drift: SCHEMA_MISMATCH, never an empty list (that would become plausible zeros in every summary task)."""
    if endpoint.envelope not in data:
        raise schema_mismatch(
            endpoint, status, f"the response has no '{endpoint.envelope}' (keys: {', '.join(sorted(data)[:8])})"
        )
    items = data[endpoint.envelope]
    if not isinstance(items, list):
        raise schema_mismatch(endpoint, status, f"'{endpoint.envelope}' in the response was not a list")
    return items


def schema_mismatch(endpoint: Endpoint, status: int | None, what: str) -> SmartAccountsError:
    return SmartAccountsError(
        ErrorKind.SCHEMA_MISMATCH,
        f"SmartAccounts answered in an unexpected form: {what}.",
        endpoint=endpoint.path,
        status=status,
        reason="envelope",
    )


def has_more(data: Mapping[str, Any]) -> bool:
    value = data.get(HAS_MORE_KEY)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def timeout_error(endpoint: Endpoint, *, connect: bool) -> SmartAccountsError:
    phase = "connecting" if connect else "waiting for the response"
    return SmartAccountsError(
        ErrorKind.UNAVAILABLE,
        f"{_TEXT_UNAVAILABLE}: timed out {phase}.",
        endpoint=endpoint.path,
        reason="connect_timeout" if connect else "read_timeout",
    )


def connection_error(endpoint: Endpoint, *, before_sending: bool) -> SmartAccountsError:
    text = "could not connect" if before_sending else "the connection failed"
    return SmartAccountsError(
        ErrorKind.UNAVAILABLE,
        f"{_TEXT_UNAVAILABLE}: {text}.",
        endpoint=endpoint.path,
        reason="connect_error" if before_sending else "connection_lost",
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None
