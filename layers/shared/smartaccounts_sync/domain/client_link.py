"""The link of one Uku client to its SmartAccounts company (the Integration column of the client list)."""

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict

from smartaccounts_sync.domain.integration import StoredCredentials
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth


class LinkStatus(StrEnum):
    OK = "OK"
    FAILING = "FAILING"


class ClientLink(DeferredModel):
    model_config = ConfigDict(frozen=True)

    client_id: str
    integration: Literal["smartaccounts"] = "smartaccounts"
    company_id: str
    company_name: str
    company_reg_code: str | None = None
    credentials: StoredCredentials | None = None  # the client's own key pair; None = the company's
    status: LinkStatus = LinkStatus.OK
    reason: str | None = None
    message: str | None = None
    since: dt.datetime | None = None
    linked_at: dt.datetime
    last_imported_month: YearMonth | None = None
    last_import_at: dt.datetime | None = None

    @property
    def own_credentials(self) -> bool:
        return self.credentials is not None


def last_import(links: list[ClientLink]) -> tuple[YearMonth, dt.datetime | None] | None:
    """The company's last import as the user means it: the latest month a client's import succeeded for, and when
    the latest succeeded import finished (set by the worker on success, never when work is queued)."""
    months = [link.last_imported_month for link in links if link.last_imported_month is not None]
    if not months:
        return None
    times = [link.last_import_at for link in links if link.last_import_at is not None]
    return max(months), max(times) if times else None
