"""Connecting each Uku client to its SmartAccounts company: company list, link, relink, unlink, per-client keys."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartaccounts_sync.domain.client_link import ClientLink, LinkStatus
from smartaccounts_sync.domain.integration import CompanyIntegration, StoredCredentials
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.errors import NotConnected, NotFound
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service.connection import credentials_failing, require_enabled, trim_credentials
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.troubleshooting import SmartAccountsProblem, cause_of, explain

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: only where a client is made

COMPANY_LIST_CACHE = dt.timedelta(minutes=5)
RELINK_NOTICE = (
    "The client now points to another SmartAccounts company: use Reload data for this client to refresh its past "
    "months."
)


@dataclass(frozen=True)
class SmartAccountsCompany:
    id: str
    name: str
    reg_code: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "regCode": self.reg_code}


@dataclass(frozen=True)
class LinkResult:
    link: ClientLink
    relinked: bool
    trimmed: tuple[str, ...] = ()

    @property
    def notice(self) -> str | None:
        return RELINK_NOTICE if self.relinked else None


def _require_client(deps: Dependencies, company_id: str, client_id: str) -> UkuClient:
    client = deps.uku.get_client(company_id, client_id)
    if client is None:
        raise NotFound(f"There is no client {client_id!r} in this Uku company.")
    return client


def _company_credentials(deps: Dependencies, record: CompanyIntegration) -> ApiCredentials:
    if record.credentials is None:
        raise NotConnected(
            "SmartAccounts is not connected for this company: save the API key and secret on the Connect tab, or "
            "give this client its own key and secret."
        )
    return deps.credentials.load(record.credentials.secret_name, record.credentials.saved_at)


def _require_working_company_credentials(record: CompanyIntegration) -> None:
    connection = record.connection
    if credentials_failing(connection):
        raise NotConnected(
            f"The company's SmartAccounts credentials are failing ({connection.reason}): {connection.message} "
            "Save working credentials on the Connect tab, or give this client its own key and secret.",
            extra={"errorKind": connection.reason},
        )


def _cache_key(credentials: ApiCredentials) -> str:
    return hashlib.sha256(credentials.api_key.encode()).hexdigest()[:24]


def _companies_seen(
    deps: Dependencies, company_id: str, credentials: ApiCredentials, *, fresh: bool = False
) -> list[SmartAccountsCompany]:
    """The companies a key pair sees; cached a few minutes so reopening the dropdown spends no quota.
    `fresh` asks SmartAccounts now (and refreshes the cache): a check must not answer from a stale list."""
    now = deps.now()
    key = _cache_key(credentials)
    cached = None if fresh else deps.links.cached_companies(company_id, key, now)
    if cached is None:
        client: SmartAccountsClient = deps.route_client(credentials, None)
        cached = [{"id": c.id, "name": c.name, "regCode": c.reg_code} for c in client.list_companies()]
        deps.links.cache_companies(company_id, key, cached, now, COMPANY_LIST_CACHE)
    return [SmartAccountsCompany(c["id"], c["name"], c.get("regCode")) for c in cached]


def list_companies(deps: Dependencies, company_id: str, search: str | None = None) -> list[SmartAccountsCompany]:
    record = deps.integrations.get(company_id)
    require_enabled(record)
    credentials = _company_credentials(deps, record)
    try:
        companies = _companies_seen(deps, company_id, credentials)
    except SmartAccountsError as error:
        raise SmartAccountsProblem(error) from None
    needle = (search or "").strip().casefold()
    if needle:
        companies = [c for c in companies if needle in c.name.casefold() or needle in (c.reg_code or "").casefold()]
    return sorted(companies, key=lambda c: c.name.casefold())


def link_client(
    deps: Dependencies,
    company_id: str,
    client_id: str,
    sa_company_id: str,
    api_key: str | None = None,
    api_secret: str | None = None,
) -> LinkResult:
    record = deps.integrations.get(company_id)
    require_enabled(record)
    _require_client(deps, company_id, client_id)
    own = api_key is not None or api_secret is not None
    trimmed: tuple[str, ...] = ()
    if own:
        pasted = trim_credentials(api_key or "", api_secret or "")
        credentials, trimmed = pasted.credentials, pasted.trimmed
    else:
        _require_working_company_credentials(record)
        credentials = _company_credentials(deps, record)
    try:
        if own:  # test the pair first: the answer names the company it belongs to
            deps.route_client(credentials, None).company_info()
        seen = {c.id: c for c in _companies_seen(deps, company_id, credentials)}
    except SmartAccountsError as error:
        raise SmartAccountsProblem(error, trimmed=bool(trimmed)) from None
    company = seen.get(sa_company_id)
    if company is None:
        whose = "this client's API key" if own else "the saved SmartAccounts credentials"
        raise NotFound(
            f"SmartAccounts company {sa_company_id!r} is not visible to {whose}. Pick a company from the list, or "
            "use credentials issued for that company."
        )
    stored = None
    if own:
        name = deps.secret_name(company_id, client_id)
        deps.credentials.save(name, credentials)
        stored = StoredCredentials(
            secret_name=name,
            masked_key=credentials.masked_key,
            saved_at=deps.now(),
            key_fingerprint=credentials.fingerprint,
        )
    previous = deps.links.get(company_id, client_id)
    link = ClientLink(
        client_id=client_id,
        company_id=company.id,
        company_name=company.name,
        company_reg_code=company.reg_code,
        credentials=stored,
        linked_at=deps.now(),
        last_imported_month=previous.last_imported_month if previous and previous.company_id == company.id else None,
        last_import_at=previous.last_import_at if previous and previous.company_id == company.id else None,
        latest_import=previous.latest_import if previous and previous.company_id == company.id else None,
    )
    deps.links.put(company_id, link)
    if previous is not None and previous.credentials is not None and stored is None:
        deps.credentials.delete(previous.credentials.secret_name)  # relinked to use the company's key
    logger.info("client linked", extra={"client_id": client_id, "own_credentials": own})
    return LinkResult(link, relinked=previous is not None and previous.company_id != company.id, trimmed=trimmed)


def get_link(deps: Dependencies, company_id: str, client_id: str) -> tuple[UkuClient, ClientLink | None]:
    return _require_client(deps, company_id, client_id), deps.links.get(company_id, client_id)


def unlink_client(deps: Dependencies, company_id: str, client_id: str) -> None:
    """Stops the client's imports; its past summary tasks stay."""
    record = deps.integrations.get(company_id)
    require_enabled(record)
    _require_client(deps, company_id, client_id)
    link = deps.links.get(company_id, client_id)
    if link is None:
        raise NotFound(f"Client {client_id!r} is not linked to SmartAccounts.")
    deps.links.delete(company_id, client_id)
    if link.credentials is not None:  # the client's own key pair is no longer needed
        deps.credentials.delete(link.credentials.secret_name)


def linked_clients(deps: Dependencies, company_id: str) -> list[ClientLink]:
    return deps.links.list(company_id)


def credentials_for(deps: Dependencies, record: CompanyIntegration, link: ClientLink) -> ApiCredentials:
    """The key pair imports use for a client: its own where it has one, else the company's."""
    if link.credentials is not None:
        return deps.credentials.load(link.credentials.secret_name, link.credentials.saved_at)
    return _company_credentials(deps, record)


def mark_link(deps: Dependencies, company_id: str, link: ClientLink, error: SmartAccountsError | None) -> ClientLink:
    """Records a link's health: failing with the error's kind, or ok again."""
    if error is None:
        updated = link.model_copy(update={"status": LinkStatus.OK, "reason": None, "message": None, "since": None})
    else:
        kind = cause_of(error).kind
        same = link.status is LinkStatus.FAILING and link.reason == kind
        updated = link.model_copy(
            update={
                "status": LinkStatus.FAILING,
                "reason": kind,
                "message": explain(error, own_key=link.own_credentials),
                "since": link.since if same else deps.now(),
            }
        )
    if updated != link:
        deps.links.update(company_id, updated)  # not if the client was unlinked or relinked meanwhile
    return updated


def unseen_links(deps: Dependencies, company_id: str) -> list[tuple[UkuClient, ClientLink]]:
    """Linked clients whose SmartAccounts company their credentials no longer see (or whose own key SmartAccounts
    refuses now); marks them failing with the reason. One fresh company list per key pair."""
    record = deps.integrations.get(company_id)
    missing = []
    asked: dict[str, set[str] | SmartAccountsError] = {}
    for link in deps.links.list(company_id):
        credentials = credentials_for(deps, record, link)
        key = _cache_key(credentials)
        if key not in asked:
            try:
                asked[key] = {c.id for c in _companies_seen(deps, company_id, credentials, fresh=True)}
            except SmartAccountsError as error:
                if not link.own_credentials:
                    raise  # the company's key itself fails: the connection check reports that
                asked[key] = error
        seen = asked[key]
        if isinstance(seen, set) and link.company_id in seen:
            if link.status is LinkStatus.FAILING and link.reason == "NOT_FOUND":
                mark_link(deps, company_id, link, None)
            continue
        error = (
            seen
            if isinstance(seen, SmartAccountsError)
            else SmartAccountsError(
                kind=ErrorKind.NOT_FOUND,
                message=f"The credentials no longer see SmartAccounts company {link.company_name}.",
            )
        )
        updated = mark_link(deps, company_id, link, error)
        client = deps.uku.get_client(company_id, link.client_id)
        if client is not None:
            missing.append((client, updated))
    return missing
