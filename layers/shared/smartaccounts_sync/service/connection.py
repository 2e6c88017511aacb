"""The Overview and Connect tabs: enable, disable, save the API key pair and test the connection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartaccounts_sync.domain.import_day import next_import
from smartaccounts_sync.domain.integration import CompanyIntegration, Connection, ConnectionStatus, StoredCredentials
from smartaccounts_sync.domain.months import tallinn_today
from smartaccounts_sync.domain.sync_records import NotificationKind
from smartaccounts_sync.errors import (
    Conflict,
    FieldProblem,
    IntegrationDisabled,
    NotConnected,
    ValidationFailed,
)
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service import vat_types
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.service.notifications import CONNECTION_FAILING, CONNECTION_RESTORED, notify, publish
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.troubleshooting import SmartAccountsProblem, cause_of, explain

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.models.companies import CompanyInfo

#: Kinds that mean the key pair itself is wrong, as opposed to a passing condition (network, rate limit).
CREDENTIAL_FAILURES = frozenset(
    {ErrorKind.INVALID_CREDENTIALS, ErrorKind.CREDENTIALS_REVOKED, ErrorKind.SIGNATURE_REJECTED}
)
CREDENTIAL_REASONS = frozenset(kind.value for kind in CREDENTIAL_FAILURES)
_RETRIES_ON_CONFLICT = 3


def credentials_failing(connection: Connection) -> bool:
    """The company's key pair was refused by SmartAccounts (not a passing network or quota condition)."""
    return connection.status is ConnectionStatus.FAILING and connection.reason in CREDENTIAL_REASONS


@dataclass(frozen=True)
class PastedCredentials:
    credentials: ApiCredentials
    trimmed: tuple[str, ...]


@dataclass(frozen=True)
class ConnectionTest:
    company_name: str
    trimmed: tuple[str, ...]
    saved_credentials: bool
    company_id: str | None = None  # the SmartAccounts company the key pair belongs to
    company_reg_code: str | None = None


def trim_credentials(api_key: str, api_secret: str) -> PastedCredentials:
    """Removes leading and trailing whitespace (the help page's first cause of failure) and says what was trimmed."""
    trimmed = tuple(name for name, value in (("apiKey", api_key), ("apiSecret", api_secret)) if value != value.strip())
    problems = [
        FieldProblem(name, "must not be empty")
        for name, value in (("apiKey", api_key), ("apiSecret", api_secret))
        if not value.strip()
    ]
    if problems:
        raise ValidationFailed(problems)
    return PastedCredentials(ApiCredentials(api_key=api_key.strip(), api_secret=api_secret.strip()), trimmed)


def update_integration(
    deps: Dependencies, company_id: str, change: Callable[[CompanyIntegration], CompanyIntegration]
) -> CompanyIntegration:
    """Applies a change the service makes on its own (not a user's edit) and retries it over concurrent writes."""
    for attempt in range(_RETRIES_ON_CONFLICT):
        try:
            return deps.integrations.save(change(deps.integrations.get(company_id)))
        except Conflict:
            if attempt == _RETRIES_ON_CONFLICT - 1:
                raise
    raise AssertionError("unreachable")


def with_next_import(record: CompanyIntegration, today: dt.date) -> CompanyIntegration:
    if record.settings is None:
        return record.model_copy(update={"next_import_month": None, "next_import_date": None})
    month, on = next_import(today, record.settings.import_day, record.last_imported_month)
    return record.model_copy(update={"next_import_month": month, "next_import_date": on})


def enable(deps: Dependencies, company_id: str) -> CompanyIntegration:
    today = tallinn_today(deps.now())
    return update_integration(
        deps, company_id, lambda r: with_next_import(r.model_copy(update={"enabled": True}), today)
    )


def disable(deps: Dependencies, company_id: str) -> CompanyIntegration:
    """Stops imports and exports; credentials, settings and client links are kept."""
    return update_integration(deps, company_id, lambda r: r.model_copy(update={"enabled": False}))


def require_enabled(record: CompanyIntegration) -> None:
    if not record.enabled:
        raise IntegrationDisabled(
            "The SmartAccounts integration is disabled for this company. Enable it on the Overview tab first; "
            "your configuration and client links were kept."
        )


def _company_info(deps: Dependencies, credentials: ApiCredentials, trimmed: tuple[str, ...]) -> CompanyInfo:
    try:
        return deps.route_client(credentials, None).company_info()
    except SmartAccountsError as error:
        logger.info("connection test failed", extra={"error_kind": error.kind.value, "trimmed": list(trimmed)})
        raise SmartAccountsProblem(error, trimmed=bool(trimmed)) from None


def save_credentials(
    deps: Dependencies, company_id: str, api_key: str, api_secret: str
) -> tuple[CompanyIntegration, ConnectionTest]:
    """Tests the pair first and refuses what SmartAccounts rejects; then stores it as a new secret version."""
    pasted = trim_credentials(api_key, api_secret)
    require_enabled(deps.integrations.get(company_id))
    company = _company_info(deps, pasted.credentials, pasted.trimmed)
    company_name = company.name
    name = deps.secret_name(company_id)
    deps.credentials.save(name, pasted.credentials)
    now = deps.now()
    stored = StoredCredentials(
        secret_name=name,
        masked_key=pasted.credentials.masked_key,
        saved_at=now,
        key_fingerprint=pasted.credentials.fingerprint,
    )

    previous: list[Connection] = []

    def change(record: CompanyIntegration) -> CompanyIntegration:
        previous[:] = [record.connection]
        restored = _restored(record, now) if record.connection.status is ConnectionStatus.FAILING else record
        return restored.model_copy(
            update={"credentials": stored, "connection": _connected(record.connection, company_name, now)}
        )

    record = update_integration(deps, company_id, change)
    logger.info("credentials saved", extra={"masked_key": stored.masked_key})
    _announce_restored(deps, company_id, previous[0] if previous else None, now)
    vat_types.after_credentials_saved(deps, company_id)
    return record, ConnectionTest(company_name, pasted.trimmed, True, company.id, company.reg_code)


def _connected(previous: Connection, company_name: str, now: dt.datetime) -> Connection:
    since = previous.since if previous.status is ConnectionStatus.CONNECTED and previous.since else now
    return Connection(status=ConnectionStatus.CONNECTED, company_name=company_name, since=since, checked_at=now)


def _failing(previous: Connection, error: SmartAccountsError, now: dt.datetime) -> Connection:
    kind = cause_of(error).kind
    same = previous.status is ConnectionStatus.FAILING and previous.reason == kind
    return Connection(
        status=ConnectionStatus.FAILING,
        reason=kind,
        message=explain(error),
        since=previous.since if same else now,
        company_name=previous.company_name,
        checked_at=now,
    )


def test_connection(
    deps: Dependencies, company_id: str, api_key: str | None = None, api_secret: str | None = None
) -> ConnectionTest:
    """With a pair given: tests it and stores nothing. Without: tests the saved pair and records the outcome."""
    record = deps.integrations.get(company_id)
    require_enabled(record)
    if api_key is not None or api_secret is not None:
        pasted = trim_credentials(api_key or "", api_secret or "")
        company = _company_info(deps, pasted.credentials, pasted.trimmed)
        return ConnectionTest(company.name, pasted.trimmed, False, company.id, company.reg_code)
    if record.credentials is None:
        raise NotConnected("No SmartAccounts credentials are saved yet: paste the API key and secret first.")
    credentials = deps.credentials.load(record.credentials.secret_name, record.credentials.saved_at)
    now = deps.now()
    try:
        company = deps.route_client(credentials, None).company_info()
    except SmartAccountsError as error:
        failure = error
        if failure.kind in CREDENTIAL_FAILURES:
            connection_failed(deps, company_id, failure)
        raise SmartAccountsProblem(failure) from None
    previous: list[Connection] = []

    def change(r: CompanyIntegration) -> CompanyIntegration:
        previous[:] = [r.connection]
        restored = _restored(r, now) if r.connection.status is ConnectionStatus.FAILING else r
        return restored.model_copy(update={"connection": _connected(r.connection, company.name, now)})

    update_integration(deps, company_id, change)
    _announce_restored(deps, company_id, previous[0] if previous else None, now)
    return ConnectionTest(company.name, (), True, company.id, company.reg_code)


# --- connection health: failing and restored ---------------------------------------------------------------------
def connection_failed(
    deps: Dependencies,
    company_id: str,
    error: SmartAccountsError,
    also: Callable[[CompanyIntegration], CompanyIntegration] | None = None,
) -> bool:
    """Marks the company's connection failing with the error's kind; `also` applies a further change in the same
    write. On the transition into failing (or to another reason) it publishes `ConnectionFailing` and stores one
    notification; returns whether it was such a transition."""
    now = deps.now()
    transition: list[bool] = [False]

    def change(record: CompanyIntegration) -> CompanyIntegration:
        failing = _failing(record.connection, error, now)
        transition[0] = not (
            record.connection.status is ConnectionStatus.FAILING and record.connection.reason == failing.reason
        )
        updated = record.model_copy(update={"connection": failing})
        return also(updated) if also is not None else updated

    record = update_integration(deps, company_id, change)
    if transition[0]:
        announce_failing(
            deps,
            company_id,
            reason=record.connection.reason or error.kind.value,
            message=record.connection.message or explain(error),
            since=record.connection.since or now,
            masked_key=record.credentials.masked_key if record.credentials else None,
        )
    return transition[0]


def announce_failing(
    deps: Dependencies,
    company_id: str,
    *,
    reason: str,
    message: str,
    since: dt.datetime,
    masked_key: str | None,
    client_id: str | None = None,
    client_name: str | None = None,
) -> None:
    """`ConnectionFailing` on the bus and one notification for the company (never the key itself)."""
    scope = "CLIENT" if client_id else "COMPANY"
    detail = {
        "companyId": company_id,
        "scope": scope,
        "clientId": client_id,
        "reason": reason,
        "message": message,
        "since": since.isoformat(),
        "maskedKey": masked_key,
    }
    publish(deps, CONNECTION_FAILING, detail)
    whose = f"client {client_name or client_id}'s own SmartAccounts key" if client_id else "the SmartAccounts key"
    notify(
        deps,
        company_id,
        NotificationKind.CONNECTION_FAILING,
        title="SmartAccounts connection failing",
        message=f"Imports with {whose} stopped: {message}",
        data={k: v for k, v in detail.items() if v is not None},
    )


def _restored(record: CompanyIntegration, now: dt.datetime) -> CompanyIntegration:
    """After a failing connection is fixed the company is due today, so the next run catches up missed months."""
    if record.settings is None or record.next_import_date is None:
        return record
    today = tallinn_today(now)
    return record.model_copy(update={"next_import_date": min(record.next_import_date, today)})


def _announce_restored(deps: Dependencies, company_id: str, previous: Connection | None, now: dt.datetime) -> None:
    if previous is None or previous.status is not ConnectionStatus.FAILING:
        return
    publish(
        deps,
        CONNECTION_RESTORED,
        {
            "companyId": company_id,
            "scope": "COMPANY",
            "clientId": None,
            "previousReason": previous.reason,
            "failingSince": previous.since.isoformat() if previous.since else None,
            "restoredAt": now.isoformat(),
        },
    )
    logger.info("connection restored", extra={"previous_reason": previous.reason})
