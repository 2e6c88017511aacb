"""The link of one Uku client to its SmartAccounts company (the Integration column of the client list)."""

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict

from smartaccounts_sync.domain.integration import StoredCredentials
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth
from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry


class LinkStatus(StrEnum):
    OK = "OK"
    FAILING = "FAILING"


class LatestImport(DeferredModel):
    """How the client's latest import ended, as its sync history entry says (written with that entry, in the same
    DynamoDB write): what the client list shows without reading each client's history. Nothing secret: the entry's
    own plain-words message."""

    model_config = ConfigDict(frozen=True)

    at: dt.datetime
    outcome: ImportOutcome
    months: list[YearMonth]
    error_kind: str | None = None
    message: str | None = None

    @classmethod
    def of(cls, entry: SyncHistoryEntry) -> "LatestImport":
        return cls(
            at=entry.at, outcome=entry.outcome, months=entry.months, error_kind=entry.error_kind, message=entry.message
        )


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
    #: the latest import's outcome, whatever it was (None: no import recorded since the change that added it)
    latest_import: LatestImport | None = None

    @property
    def own_credentials(self) -> bool:
        return self.credentials is not None

    def with_latest_import(self, entry: SyncHistoryEntry) -> "ClientLink":
        """The link with `entry` as its latest import; unchanged when it already holds a later one (an older entry
        written again, after a lost answer, never replaces a newer outcome)."""
        known = self.latest_import
        if known is not None and known.at > entry.at:
            return self
        return self.model_copy(update={"latest_import": LatestImport.of(entry)})


def last_import(links: list[ClientLink]) -> tuple[YearMonth, dt.datetime | None] | None:
    """The company's last import as the user means it: the latest month a client's import succeeded for, and when
    the latest succeeded import finished (set by the worker on success, never when work is queued)."""
    months = [link.last_imported_month for link in links if link.last_imported_month is not None]
    if not months:
        return None
    times = [link.last_import_at for link in links if link.last_import_at is not None]
    return max(months), max(times) if times else None
