"""A company's SmartAccounts integration: enabled or not, its credentials, connection health and summary-task settings.

Plain models: the repository stores them, the service changes them, the API shows them.
"""

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.months import YearMonth


class ConnectionStatus(StrEnum):
    NOT_CONNECTED = "NOT_CONNECTED"
    CONNECTED = "CONNECTED"
    FAILING = "FAILING"


class StoredCredentials(DeferredModel):
    """Where a key pair lives (a Secrets Manager name) and how to show it; never the values themselves."""

    model_config = ConfigDict(frozen=True)

    secret_name: str
    masked_key: str
    saved_at: dt.datetime
    #: The API key's fingerprint (`ApiCredentials.fingerprint`: a hash of the key, never of the secret, which names
    #: the rate guard's items): the key's usage today is read with it, without reading the secret, by functions that
    #: may not read secrets (the reload job's estimate). None for a pair saved before it was kept.
    key_fingerprint: str | None = None


class Connection(DeferredModel):
    model_config = ConfigDict(frozen=True)

    status: ConnectionStatus = ConnectionStatus.NOT_CONNECTED
    reason: str | None = Field(default=None, description="error kind while failing")
    message: str | None = None
    since: dt.datetime | None = None
    company_name: str | None = None
    checked_at: dt.datetime | None = None


class SummaryTaskSettings(DeferredModel):
    model_config = ConfigDict(frozen=True)

    task_title: str
    topic_id: str
    recurrence: Literal["MONTHLY"] = "MONTHLY"
    import_day: ImportDay
    field_mapping: dict[str, str | None] = Field(default_factory=dict)
    default_article_code: str | None = Field(
        default=None, description="invoice export: article for lines whose article SmartAccounts does not know"
    )

    def mapped(self) -> dict[str, str]:
        return {key: target for key, target in self.field_mapping.items() if target}


class CompanyIntegration(DeferredModel):
    """The whole integration record of one Uku company; `version` guards concurrent writers."""

    company_id: str
    enabled: bool = False
    credentials: StoredCredentials | None = None
    connection: Connection = Field(default_factory=Connection)
    settings: SummaryTaskSettings | None = None
    last_imported_month: YearMonth | None = None
    last_import_at: dt.datetime | None = None
    next_import_month: YearMonth | None = None
    next_import_date: dt.date | None = None
    version: int = 0

    @property
    def connected(self) -> bool:
        return self.credentials is not None and self.connection.status is ConnectionStatus.CONNECTED
