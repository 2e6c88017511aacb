"""VAT types imported from a company's SmartAccounts register (`settings/vatpcs`), used when sending invoices.

A type that disappears from SmartAccounts is kept, marked inactive, so invoices that used it still resolve.
"""

import datetime as dt
from decimal import Decimal

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.model import DeferredModel


class VatType(DeferredModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="SmartAccounts `vatPc`, the code sent on invoice rows")
    percentage: Decimal | None = None
    description_et: str | None = None
    description_en: str | None = None
    active_for_sales: bool = True
    in_smartaccounts: bool = Field(default=True, description="false once SmartAccounts no longer lists it")

    @property
    def usable_for_sales(self) -> bool:
        return self.active_for_sales and self.in_smartaccounts


class VatRegister(DeferredModel):
    model_config = ConfigDict(frozen=True)

    company_id: str
    types: list[VatType] = Field(default_factory=list)
    fetched_at: dt.datetime | None = None

    def find(self, code: str) -> VatType | None:
        return next((t for t in self.types if t.code == code), None)


def merge_register(
    previous: VatRegister | None, fetched: list[VatType], company_id: str, at: dt.datetime
) -> VatRegister:
    """SmartAccounts' list as fetched now, plus every earlier type it no longer lists (kept as inactive)."""
    codes = {t.code for t in fetched}
    gone = [
        t.model_copy(update={"in_smartaccounts": False, "active_for_sales": False})
        for t in (previous.types if previous else [])
        if t.code not in codes
    ]
    return VatRegister(company_id=company_id, types=[*fetched, *gone], fetched_at=at)
