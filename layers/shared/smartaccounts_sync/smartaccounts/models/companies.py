"""SmartAccounts companies (ASSUMED endpoints): the connection test and the linking of clients."""

from smartaccounts_sync.smartaccounts.models.base import IdStr, OptStr, WireModel


class CompanyInfo(WireModel):
    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None


class CompanyListItem(WireModel):
    id: IdStr
    name: str
    reg_code: OptStr = None
    vat_number: OptStr = None
