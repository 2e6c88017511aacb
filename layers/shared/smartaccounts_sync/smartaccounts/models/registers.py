"""SmartAccounts registers: VAT percentages and articles (the export and its VAT types read them)."""

from smartaccounts_sync.smartaccounts.models.base import IdStr, OptAmount, OptStr, WireModel


class VatPercentage(WireModel):
    vat_pc: IdStr
    pc: OptAmount = None
    description_et: str | None = None
    description_en: str | None = None
    active_sales: bool | None = None
    active_purchase: bool | None = None


class Article(WireModel):
    code: IdStr
    description: str | None = None
    type: str | None = None  # PRODUCT, SERVICE, WH
    unit: str | None = None
    price: OptAmount = None
    vat_pc: OptStr = None
    active_sales: bool | None = None
    active_purchase: bool | None = None
    account_sales: OptStr = None
