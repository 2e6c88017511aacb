"""VAT types SmartAccounts -> Uku: imported when credentials are saved, on request, and once a day, per company."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartaccounts_sync.domain.vat_types import VatRegister, VatType, merge_register
from smartaccounts_sync.errors import IntegrationDisabled, NotConnected
from smartaccounts_sync.observability import logger
from smartaccounts_sync.service.dependencies import Dependencies
from smartaccounts_sync.smartaccounts.errors import SmartAccountsError
from smartaccounts_sync.troubleshooting import SmartAccountsProblem

if TYPE_CHECKING:
    from smartaccounts_sync.smartaccounts.client import SmartAccountsClient  # requests: only where a client is made
    from smartaccounts_sync.smartaccounts.models.registers import VatPercentage


def _vat_type(item: VatPercentage) -> VatType:
    return VatType(
        code=item.vat_pc,
        percentage=item.pc,
        description_et=item.description_et,
        description_en=item.description_en,
        active_for_sales=item.active_sales is not False,
    )


def import_register(deps: Dependencies, company_id: str, client: SmartAccountsClient) -> VatRegister:
    """One `settings/vatpcs` call; types SmartAccounts no longer lists are kept as inactive."""
    fetched = [_vat_type(item) for item in client.vat_percentages()]
    register = merge_register(deps.vat_types.get(company_id), fetched, company_id, deps.now())
    deps.vat_types.save(register)
    logger.info(
        "VAT types imported", extra={"vat_types": len(fetched), "kept_inactive": len(register.types) - len(fetched)}
    )
    return register


def company_client(deps: Dependencies, company_id: str) -> SmartAccountsClient:
    """A client on the company-level key pair (never a client's own key)."""
    record = deps.integrations.get(company_id)
    if not record.enabled:
        raise IntegrationDisabled("The SmartAccounts integration is disabled for this company; enable it first.")
    if record.credentials is None:
        raise NotConnected("No SmartAccounts credentials are saved yet: paste the API key and secret first.")
    stored = record.credentials
    return deps.smartaccounts(deps.credentials.load(stored.secret_name, stored.saved_at), None)


def refresh(deps: Dependencies, company_id: str) -> VatRegister:
    """`POST /vat-types/refresh`: import now; a SmartAccounts failure answers with the help page's cause."""
    client = company_client(deps, company_id)
    try:
        return import_register(deps, company_id, client)
    except SmartAccountsError as error:
        raise SmartAccountsProblem(error) from None


def after_credentials_saved(deps: Dependencies, company_id: str) -> None:
    """Imports the register with the pair just saved; a failure is logged, the save itself stands (the daily run
    and the refresh route import it again)."""
    try:
        import_register(deps, company_id, company_client(deps, company_id))
    except Exception as error:  # noqa: BLE001 - the credentials are saved; the import is retried daily
        logger.warning("VAT types not imported after saving credentials", extra={"error": type(error).__name__})


def get_register(deps: Dependencies, company_id: str) -> VatRegister:
    return deps.vat_types.get(company_id) or VatRegister(company_id=company_id)
