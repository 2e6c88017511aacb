"""Contract routes whose features are not built yet (VAT types import, invoice export): a clear 501, not a 404."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from smartaccounts_sync.api.context import caller
from smartaccounts_sync.api.contract import problems
from smartaccounts_sync.errors import NotImplementedYet

router = APIGatewayHttpRouter()

VAT_TYPES = "Importing VAT types from SmartAccounts is not available yet."
EXPORT = "Exporting Uku invoices to SmartAccounts is not available yet; issued invoices are kept queued meanwhile."


@router.get(
    "/integrations/smartaccounts/vat-types",
    summary="VAT types (not available yet)",
    tags=["VAT types"],
    openapi_extensions=problems(501),
)
def get_vat_types() -> dict:
    caller(router)
    raise NotImplementedYet(VAT_TYPES)


@router.post(
    "/integrations/smartaccounts/vat-types/refresh",
    summary="Import VAT types (not available yet)",
    tags=["VAT types"],
    openapi_extensions=problems(501),
)
def refresh_vat_types() -> dict:
    caller(router, manage=True)
    raise NotImplementedYet(VAT_TYPES)


@router.get(
    "/invoices/<invoiceId>/export",
    summary="Invoice export record (not available yet)",
    tags=["Invoices"],
    openapi_extensions=problems(501),
)
def get_invoice_export(invoiceId: str) -> dict:
    caller(router)
    raise NotImplementedYet(EXPORT)


@router.post(
    "/invoices/<invoiceId>/export/retry",
    summary="Retry an export (not available yet)",
    tags=["Invoices"],
    openapi_extensions=problems(501),
)
def retry_invoice_export(invoiceId: str) -> dict:
    caller(router, manage=True)
    raise NotImplementedYet(EXPORT)
