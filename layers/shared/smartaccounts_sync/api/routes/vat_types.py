"""VAT types imported from SmartAccounts: list them with when they were fetched, or import them again now."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import PlainSerializer

from smartaccounts_sync.api.context import caller, dependencies
from smartaccounts_sync.api.contract import problems
from smartaccounts_sync.api.models import Out
from smartaccounts_sync.domain.vat_types import VatRegister
from smartaccounts_sync.service import vat_types

router = APIGatewayHttpRouter()
TAGS = ["VAT types"]

Percentage = Annotated[Decimal, PlainSerializer(lambda v: float(v), return_type=float)]


class VatTypeOut(Out):
    code: str
    percentage: Percentage | None = None
    description_et: str | None = None
    description_en: str | None = None
    active_for_sales: bool
    in_smart_accounts: bool


class VatTypesOut(Out):
    vat_types: list[VatTypeOut]
    fetched_at: dt.datetime | None = None


def vat_types_out(register: VatRegister) -> VatTypesOut:
    return VatTypesOut(
        vat_types=[
            VatTypeOut(
                code=t.code,
                percentage=t.percentage,
                description_et=t.description_et,
                description_en=t.description_en,
                active_for_sales=t.usable_for_sales,
                in_smart_accounts=t.in_smartaccounts,
            )
            for t in register.types
        ],
        fetched_at=register.fetched_at,
    )


@router.get("/integrations/smartaccounts/vat-types", summary="VAT types imported from SmartAccounts", tags=TAGS)
def get_vat_types() -> VatTypesOut:
    return vat_types_out(vat_types.get_register(dependencies(router), caller(router).company_id))


@router.post(
    "/integrations/smartaccounts/vat-types/refresh",
    summary="Import VAT types from SmartAccounts now",
    tags=TAGS,
    openapi_extensions=problems(404, 422, 429, 502),
)
def refresh_vat_types() -> VatTypesOut:
    who = caller(router, manage=True)
    return vat_types_out(vat_types.refresh(dependencies(router), who.company_id))
