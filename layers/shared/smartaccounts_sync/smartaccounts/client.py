"""The SmartAccounts API client: the only way the service talks to SmartAccounts.

Wire details (URLs, signing, envelopes, error classification) come from :mod:`.protocol`; this module adds the
behaviour around them: one HTTP session per warm container, timeouts on every call, the shared rate guard before
every attempt, retries with full-jitter backoff (re-signed each time, never re-posting a write that may have
arrived), paging with a hard cap and stall detection, and logs that never carry the key, secret, signature or URL.
"""

from __future__ import annotations

import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from smartaccounts_sync.observability import logger, tracer
from smartaccounts_sync.smartaccounts import protocol
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models.invoices import ClientInvoice, VendorInvoice
from smartaccounts_sync.smartaccounts.protocol import Endpoint, Params
from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard, NoRateGuard, RateGuard

# The invoices are read by every function that makes a client (the import, the export's read-back, the paid-status
# refresh); every other wire model is imported by the method that reads or writes it, so that a cold start creates
# only the model classes its function uses.
if TYPE_CHECKING:
    from smartaccounts_sync.settings import Settings
    from smartaccounts_sync.smartaccounts.models.buyers import Buyer, CreatedBuyer, NewBuyer
    from smartaccounts_sync.smartaccounts.models.companies import CompanyInfo, CompanyListItem
    from smartaccounts_sync.smartaccounts.models.ledger import JournalEntry, Payment
    from smartaccounts_sync.smartaccounts.models.posting import CreatedClientInvoice, NewClientInvoice
    from smartaccounts_sync.smartaccounts.models.registers import Article, VatPercentage

M = TypeVar("M", bound=BaseModel)

BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 20.0
#: How long one logical call may keep waiting for SmartAccounts' rate limit (its Retry-After) before it gives up:
#: a budget in time, not a number of quick attempts (the worker's own time budget may end it sooner).
RATE_LIMIT_BUDGET_SECONDS = 180.0
_REDACTED = "[redacted]"

_session: requests.Session | None = None
_session_lock = threading.Lock()


def shared_session() -> requests.Session:
    """The container's one HTTP session (connection reuse across warm invocations), created on first use."""
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                _session = session
    return _session


@dataclass(frozen=True)
class ListPage(Generic[M]):
    """One page of a list query: its items, whether more follow, and the items' identities (stall detection)."""

    items: list[M]
    more: bool
    ids: list[str]


class _AttemptFailed(Exception):
    def __init__(self, error: SmartAccountsError, surely_not_processed: bool) -> None:
        super().__init__(error.kind.value)
        self.error = error
        self.surely_not_processed = surely_not_processed  # the server surely did not act on it: a write may go again


class SmartAccountsClient:
    """A SmartAccounts API client for one key pair (and, optionally, one of the companies the key sees)."""

    def __init__(
        self,
        credentials: ApiCredentials,
        *,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_retries: int = 3,
        max_pages: int = 200,
        rate_guard: RateGuard | None = None,
        session: requests.Session | None = None,
        company_id: str | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        daily_reserve: int = 0,
        deadline_seconds: float | None = None,
        rate_limit_budget_seconds: float = RATE_LIMIT_BUDGET_SECONDS,
    ) -> None:
        self._credentials = credentials
        self._daily_reserve = max(0, daily_reserve)
        self._rate_limit_budget = rate_limit_budget_seconds
        #: Epoch seconds (``clock``) after which no retry or wait starts: an HTTP route's overall deadline, or the
        #: worker's time budget. None: only the per-call budgets apply.
        self.deadline: float | None = clock() + deadline_seconds if deadline_seconds is not None else None
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = (connect_timeout, read_timeout)
        self._max_retries = max(0, max_retries)
        self._max_pages = max(1, max_pages)
        self._rate_guard: RateGuard = rate_guard if rate_guard is not None else NoRateGuard()
        self._session = session
        self._company_id = company_id
        self._clock = clock
        self._sleep = sleep
        self._random = random
        self._calls_made = 0
        self._calls_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls,
        credentials: ApiCredentials,
        settings: Settings,
        rate_guard: RateGuard | None = None,
        company_id: str | None = None,
        *,
        daily_reserve: int = 0,
        deadline_seconds: float | None = None,
    ) -> SmartAccountsClient:
        """The production client: settings' URL, timeouts and limits; the DynamoDB guard unless one is given.

        ``daily_reserve``: today's requests of the key this client must leave to the scheduled import (a reload's
        client). ``deadline_seconds``: an overall deadline for retries and waits (HTTP routes, API Gateway's 29 s)."""
        return cls(
            credentials,
            base_url=str(settings.smartaccounts_api_url),
            connect_timeout=settings.smartaccounts_connect_timeout,
            read_timeout=settings.smartaccounts_read_timeout,
            max_retries=settings.smartaccounts_max_retries,
            max_pages=settings.smartaccounts_max_pages,
            rate_guard=rate_guard if rate_guard is not None else DynamoDbRateGuard.from_settings(settings),
            company_id=company_id,
            daily_reserve=daily_reserve,
            deadline_seconds=deadline_seconds,
        )

    def __repr__(self) -> str:
        return f"SmartAccountsClient(key={self._credentials.masked_key!r}, company_id={self._company_id!r})"

    @property
    def calls_made(self) -> int:
        """HTTP requests actually sent by this client, retries included."""
        return self._calls_made

    @property
    def company_id(self) -> str | None:
        return self._company_id

    # --- companies (ASSUMED endpoints) ---------------------------------------------------------------------------

    def company_info(self) -> CompanyInfo:
        """The company the key (and ``company_id``, if set) belongs to."""
        from smartaccounts_sync.smartaccounts.models.companies import CompanyInfo

        data = self._call(protocol.COMPANY_GET, self._params(protocol.COMPANY_GET, []))
        company = data.get(protocol.COMPANY_GET.envelope)
        if not isinstance(company, dict):
            raise SmartAccountsError(
                ErrorKind.UNAVAILABLE,
                "SmartAccounts returned no company information.",
                endpoint=protocol.COMPANY_GET.path,
            )
        return self._parse(CompanyInfo, company, protocol.COMPANY_GET)

    def list_companies(self, search: str | None = None) -> list[CompanyListItem]:
        from smartaccounts_sync.smartaccounts.models.companies import CompanyListItem

        params: list[tuple[str, str]] = [(protocol.SEARCH_PARAM, search)] if search else []
        return self._paged(protocol.COMPANIES_GET, params, CompanyListItem)

    # --- documents -----------------------------------------------------------------------------------------------

    def client_invoices(self, date_from: date, date_to: date, *, fetch_rows: bool = False) -> list[ClientInvoice]:
        params = protocol.date_range_params(date_from, date_to)
        if fetch_rows:
            params.append(protocol.FETCH_ROWS)
        return self._paged(protocol.CLIENT_INVOICES_GET, params, ClientInvoice)

    def vendor_invoices(self, date_from: date, date_to: date, *, fetch_rows: bool = False) -> list[VendorInvoice]:
        params = protocol.date_range_params(date_from, date_to)
        if fetch_rows:
            params.append(protocol.FETCH_ROWS)
        return self._paged(protocol.VENDOR_INVOICES_GET, params, VendorInvoice)

    def payments(
        self, date_from: date, date_to: date, *, account_type: str | None = None, fetch_rows: bool = False
    ) -> list[Payment]:
        from smartaccounts_sync.smartaccounts.models.ledger import Payment

        params = protocol.date_range_params(date_from, date_to)
        if account_type:
            params.append((protocol.ACCOUNT_TYPE_PARAM, account_type))
        if fetch_rows:
            params.append(protocol.FETCH_ROWS)
        return self._paged(protocol.PAYMENTS_GET, params, Payment)

    def journal_entries(
        self, date_from: date, date_to: date, *, doc_type: str | None = None, fetch_rows: bool = True
    ) -> list[JournalEntry]:
        from smartaccounts_sync.smartaccounts.models.ledger import JournalEntry

        params = protocol.date_range_params(date_from, date_to)
        if doc_type:
            params.append((protocol.DOC_TYPE_PARAM, doc_type))
        if fetch_rows:
            params.append(protocol.FETCH_ROWS)
        return self._paged(protocol.ENTRIES_GET, params, JournalEntry)

    # --- registers -----------------------------------------------------------------------------------------------

    def vat_percentages(self) -> list[VatPercentage]:
        from smartaccounts_sync.smartaccounts.models.registers import VatPercentage

        endpoint = protocol.VAT_PCS_GET
        data = self._call(endpoint, self._params(endpoint, []))
        items = protocol.envelope_items(data, endpoint, 200)
        return [self._parse(VatPercentage, item, endpoint) for item in items]

    def buyers(self, search: str | None = None) -> list[Buyer]:
        from smartaccounts_sync.smartaccounts.models.buyers import Buyer

        params: list[tuple[str, str]] = [(protocol.SEARCH_PARAM, search)] if search else []
        params.extend(protocol.BUYER_DETAIL_PARAMS)
        return self._paged(protocol.CLIENTS_GET, params, Buyer)

    def articles(self, code: str | None = None) -> list[Article]:
        from smartaccounts_sync.smartaccounts.models.registers import Article

        params: list[tuple[str, str]] = [(protocol.ARTICLE_CODE_PARAM, code)] if code else []
        return self._paged(protocol.ARTICLES_GET, params, Article)

    def client_invoice_by_number(self, invoice_number: str, issued_on: date) -> ClientInvoice | None:
        """The sales invoice with this number dated ``issued_on``, if SmartAccounts has one (reconciles a write)."""
        found = self._paged(
            protocol.CLIENT_INVOICES_GET, protocol.invoice_number_params(invoice_number, issued_on), ClientInvoice
        )
        matching = [invoice for invoice in found if invoice.invoice_number == invoice_number]
        return matching[0] if matching else None

    def unpaid_client_invoices(self, date_from: date) -> list[ClientInvoice]:
        """One paged query: the company's sales invoices from ``date_from`` on that are not fully paid."""
        return self._paged(protocol.CLIENT_INVOICES_GET, protocol.unpaid_invoice_params(date_from), ClientInvoice)

    # --- writes --------------------------------------------------------------------------------------------------

    def add_buyer(self, buyer: NewBuyer) -> CreatedBuyer:
        from smartaccounts_sync.smartaccounts.models.buyers import CreatedBuyer

        endpoint = protocol.CLIENTS_ADD
        data = self._call(endpoint, self._params(endpoint, []), payload=buyer.to_wire())
        return self._parse(CreatedBuyer, data, endpoint)

    def add_client_invoice(self, invoice: NewClientInvoice) -> CreatedClientInvoice:
        from smartaccounts_sync.smartaccounts.models.posting import CreatedClientInvoice

        endpoint = protocol.CLIENT_INVOICES_ADD
        data = self._call(endpoint, self._params(endpoint, []), payload=invoice.to_wire())
        return self._parse(CreatedClientInvoice, data, endpoint)

    # --- paging --------------------------------------------------------------------------------------------------

    @property
    def daily_reserve(self) -> int:
        """Today's requests of the key this client leaves to higher-priority work (the coming scheduled import)."""
        return self._daily_reserve

    @daily_reserve.setter
    def daily_reserve(self, value: int) -> None:
        self._daily_reserve = max(0, int(value))

    @property
    def max_pages(self) -> int:
        return self._max_pages

    def list_page(
        self, endpoint: Endpoint, params: Params, model: type[M], page: int, previous_ids: list[str] | None = None
    ) -> ListPage[M]:
        """One page of a list query. Raises ``PAGING_STALLED`` when the API is broken: an empty page that says more
        follow, or a page that repeats ``previous_ids`` (the page before). Resumable imports call this page by page,
        keeping the cursor (and the ids of the page before) in their checkpoint."""
        data = self._call(endpoint, [*self._params(endpoint, params), (protocol.PAGE_PARAM, str(page))], page=page)
        items = protocol.envelope_items(data, endpoint, 200)
        more = protocol.has_more(data)
        ids = [_identity(item) for item in items]
        if more and not items:
            raise _stalled(endpoint, page, "an empty page said more entries follow")
        if previous_ids and items and ids == previous_ids:
            raise _stalled(endpoint, page, "a page repeated the previous page")
        return ListPage([self._parse(model, item, endpoint) for item in items], more, ids)

    def _paged(self, endpoint: Endpoint, params: Params, model: type[M]) -> list[M]:
        """One list query over all its pages (``pageNumber`` 1.. while ``hasMoreEntries``), at most ``max_pages``
        (registers and small lists; documents are fetched page by page with checkpoints instead)."""
        results: list[M] = []
        previous_ids: list[str] | None = None
        page = protocol.FIRST_PAGE
        while True:
            answer = self.list_page(endpoint, params, model, page, previous_ids)
            results.extend(answer.items)
            if not answer.more:
                return results
            if page >= self._max_pages:
                raise _stalled(endpoint, page, f"the cap of {self._max_pages} pages was reached")
            previous_ids = answer.ids
            page += 1

    # --- one logical call with retries ---------------------------------------------------------------------------

    @tracer.capture_method(capture_response=False, capture_error=False)
    def _call(
        self, endpoint: Endpoint, params: Params, payload: Any | None = None, *, page: int | None = None
    ) -> dict[str, Any]:
        attempt = 0
        failures = 0  # failures other than rate limiting: these have a count (max_retries)
        rate_limited_until = self._clock() + self._rate_limit_budget
        while True:
            attempt += 1
            try:
                return self._attempt(endpoint, params, payload, attempt=attempt, page=page)
            except _AttemptFailed as failure:
                error = self._scrub(failure.error)
                if error.kind is not ErrorKind.RATE_LIMITED:
                    failures += 1
                if not self._may_retry(endpoint, failure, failures):
                    raise error from None
                delay = self._delay(failures or attempt, error)
                # rate limiting waits as SmartAccounts asks, within a budget in time; nothing waits past the deadline
                until = rate_limited_until if error.kind is ErrorKind.RATE_LIMITED else None
                if self.deadline is not None:
                    until = self.deadline if until is None else min(until, self.deadline)
                if until is not None and self._clock() + delay > until:
                    raise error from None
                logger.warning(
                    "SmartAccounts call will be retried",
                    extra={
                        "sa_endpoint": endpoint.path,
                        "attempt": attempt,
                        "page": page,
                        "error_kind": error.kind.value,
                        "status": error.status,
                        "retry_in_seconds": round(delay, 3),
                    },
                )
                self._sleep(delay)

    def _may_retry(self, endpoint: Endpoint, failure: _AttemptFailed, failures: int) -> bool:
        if not failure.error.kind.retryable or failures > self._max_retries:
            return False
        if endpoint.write:
            # a write is re-sent only when SmartAccounts surely did not act on it
            return failure.surely_not_processed
        return True

    def _delay(self, attempt: int, error: SmartAccountsError) -> float:
        if error.kind is ErrorKind.RATE_LIMITED and error.retry_after is not None:
            return min(error.retry_after, protocol.RATE_LIMIT_RETRY_CAP_SECONDS)
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * (2 ** (attempt - 1)))
        return self._random() * ceiling

    def _attempt(
        self, endpoint: Endpoint, params: Params, payload: Any | None, *, attempt: int, page: int | None
    ) -> dict[str, Any]:
        self._rate_guard.acquire(self._credentials.api_key, reserve=self._daily_reserve)
        request = protocol.build_request(
            self._base_url,
            endpoint,
            api_key=self._credentials.api_key,
            api_secret=self._credentials.api_secret.get_secret_value(),
            params=params,
            payload=payload,
            now=self._clock(),
        )
        with self._calls_lock:
            self._calls_made += 1
        session = self._session if self._session is not None else shared_session()
        started = time.monotonic()
        log = {"sa_endpoint": endpoint.path, "attempt": attempt, "page": page}
        try:
            # the URL is sent exactly as signed: no params=, requests leaves an encoded URL as it is
            response = session.request(
                request.method,
                request.url,
                data=request.body,
                headers=dict(request.headers),
                timeout=self._timeouts(),
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout:
            self._log_transport(log, started, "connect_timeout")
            raise _AttemptFailed(protocol.timeout_error(endpoint, connect=True), True) from None
        except requests.exceptions.ReadTimeout:
            self._log_transport(log, started, "read_timeout")
            raise _AttemptFailed(protocol.timeout_error(endpoint, connect=False), False) from None
        except requests.exceptions.ConnectionError as exc:
            not_sent = _surely_not_sent(exc)
            self._log_transport(log, started, "connect_error" if not_sent else "connection_lost")
            raise _AttemptFailed(protocol.connection_error(endpoint, before_sending=not_sent), not_sent) from None
        except requests.exceptions.RequestException as exc:
            self._log_transport(log, started, type(exc).__name__)
            error = SmartAccountsError(
                ErrorKind.UNAVAILABLE, "SmartAccounts could not be reached.", endpoint=endpoint.path
            )
            raise _AttemptFailed(error, False) from None

        status = response.status_code
        body = response.content
        logger.info(
            "SmartAccounts call",
            extra={**log, "status": status, "duration_ms": round((time.monotonic() - started) * 1000, 1)},
        )
        if status in protocol.SUCCESS_STATUSES:
            try:
                return protocol.parse_success_body(status, body, endpoint=endpoint)
            except SmartAccountsError as error:
                raise _AttemptFailed(error, False) from None
        error = protocol.classify_error_response(status, response.headers, body, endpoint=endpoint, now=self._clock())
        if error.kind is ErrorKind.DAILY_QUOTA_SPENT and error.reason == protocol.DAILY_LIMIT_SAID:
            self._note_day_spent(error)
        # a rate-limited request was refused before any processing: safe to send again, even a write
        raise _AttemptFailed(error, error.kind is ErrorKind.RATE_LIMITED)

    def _note_day_spent(self, error: SmartAccountsError) -> None:
        """SmartAccounts said the key's daily limit is reached: the guard keeps every container from sending more with
        it until the limit resets, whatever the guard itself counted (another program may use the same key). The
        guard bounds how far ahead (`SPENT_AT_MOST_SECONDS`)."""
        now = self._clock()
        wait = error.retry_after if error.retry_after is not None else protocol.seconds_until_quota_reset(now)
        noted = self._rate_guard.note_spent_by_smartaccounts(self._credentials.api_key, now + wait)
        logger.warning(
            "SmartAccounts says the API key's daily requests are spent",
            extra={"sa_endpoint": error.endpoint, "retry_in_seconds": round(wait), "noted_by_rate_guard": noted},
        )

    def _timeouts(self) -> tuple[float, float]:
        """The connect and read timeouts, never past the deadline (a slow answer must not outlive the route)."""
        if self.deadline is None:
            return self._timeout
        left = max(0.5, self.deadline - self._clock())
        return (min(self._timeout[0], left), min(self._timeout[1], left))

    @staticmethod
    def _log_transport(log: dict[str, Any], started: float, outcome: str) -> None:
        logger.info(
            "SmartAccounts call failed in transport",
            extra={**log, "outcome": outcome, "duration_ms": round((time.monotonic() - started) * 1000, 1)},
        )

    # --- helpers -------------------------------------------------------------------------------------------------

    def _params(self, endpoint: Endpoint, params: Params) -> list[tuple[str, str]]:
        scoped = [(protocol.COMPANY_ID_PARAM, self._company_id)] if self._company_id and endpoint.company_scoped else []
        return [*scoped, *params]

    def _parse(self, model: type[M], item: Any, endpoint: Endpoint) -> M:
        try:
            return model.model_validate(item)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
            raise SmartAccountsError(
                ErrorKind.SCHEMA_MISMATCH,
                f"SmartAccounts returned data of an unexpected shape ({', '.join(fields[:5]) or 'body'}).",
                endpoint=endpoint.path,
                reason="unexpected_shape",
            ) from None

    def _scrub(self, error: SmartAccountsError) -> SmartAccountsError:
        """Defence in depth: no SmartAccounts message may echo the key or the secret into our errors and logs."""
        secrets = [s for s in (self._credentials.api_key, self._credentials.api_secret.get_secret_value()) if s]

        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, _REDACTED)
            return text

        if not any(secret in text for secret in secrets for text in (error.message, *error.messages)):
            return error
        return SmartAccountsError(
            error.kind,
            clean(error.message),
            messages=[clean(m) for m in error.messages],
            retry_after=error.retry_after,
            endpoint=error.endpoint,
            status=error.status,
            reason=error.reason,
        )


def _identity(item: Any) -> Any:
    if isinstance(item, dict):
        for key in ("id", "code", "vatPc"):
            if item.get(key) is not None:
                return str(item[key])
    return repr(item)


def _stalled(endpoint: Endpoint, page: int, why: str) -> SmartAccountsError:
    return SmartAccountsError(
        ErrorKind.PAGING_STALLED,
        f"SmartAccounts paging stopped advancing at page {page}: {why}.",
        endpoint=endpoint.path,
    )


def _surely_not_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never established (so the request cannot have reached the server)."""
    reason: Any = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError and NameResolutionError derive from it


__all__ = ["ListPage", "SmartAccountsClient", "shared_session"]
