"""Request and response bodies of the HTTP API (camelCase on the wire), separate from storage and wire models."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from smartaccounts_sync.domain.identifiers import (
    IDENTIFIER_DESCRIPTION,
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_PATTERN,
    Identifier,
)
from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.model import DeferredModel
from smartaccounts_sync.domain.summary_task import TaskTitle
from smartaccounts_sync.domain.uku import CustomFieldType

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Pasted = Annotated[str, StringConstraints(max_length=1024)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
#: A path parameter that is an identifier (client, job, notification, invoice id): checked and documented.
IdPath = Annotated[
    str, Path(pattern=IDENTIFIER_PATTERN, max_length=IDENTIFIER_MAX_LENGTH, description=IDENTIFIER_DESCRIPTION)
]


class ApiModel(DeferredModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


# ------------------------------------------------------------------ requests
class CredentialsIn(ApiModel):
    api_key: Pasted = Field(description="API key from SmartAccounts; surrounding whitespace is removed")
    api_secret: Pasted = Field(description="API secret from SmartAccounts; never returned or logged")


class TestConnectionIn(ApiModel):
    api_key: Pasted | None = Field(default=None, description="test these instead of the saved pair (not saved)")
    api_secret: Pasted | None = None


class SettingsIn(ApiModel):
    task_title: TaskTitle = Field(description="Title of the monthly summary task; placeholders {client} {month} ...")
    topic_id: Identifier = Field(description="Uku topic id. " + IDENTIFIER_DESCRIPTION)
    recurrence: Literal["MONTHLY"] = Field(description="Always MONTHLY")
    import_day: ImportDay
    field_mapping: dict[str, Identifier | None] = Field(
        default_factory=dict, description="SmartAccounts field key -> Uku custom task field id; null = not imported"
    )
    default_article_code: Id | None = Field(
        default=None,
        description="invoice export: SmartAccounts article used for invoice lines without a known article code",
    )


class CustomTaskFieldIn(ApiModel):
    name: Name
    type: CustomFieldType


class TopicIn(ApiModel):
    name: Name


class ClientIn(ApiModel):
    name: Name
    registry_code: Annotated[str, StringConstraints(max_length=32)] | None = None
    vat_number: Annotated[str, StringConstraints(max_length=32)] | None = None
    default_user_id: Id | None = None


class ClientIntegrationIn(ApiModel):
    integration: Literal["smartaccounts"]
    company_id: Identifier = Field(
        description="SmartAccounts company id, from /integrations/smartaccounts/companies. " + IDENTIFIER_DESCRIPTION
    )
    api_key: Pasted | None = Field(default=None, description="the client's own API key (optional)")
    api_secret: Pasted | None = None


# ------------------------------------------------------------------ responses
class Out(DeferredModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class ConnectionOut(Out):
    status: Literal["NOT_CONNECTED", "CONNECTED", "FAILING"]
    reason: str | None = None
    message: str | None = None
    since: dt.datetime | None = None
    checked_at: dt.datetime | None = None


class ImportDayOut(Out):
    rule: str
    day: int | None = None


class SettingsOut(Out):
    task_title: str
    topic_id: str
    recurrence: str
    import_day: ImportDayOut
    field_mapping: dict[str, str | None]
    default_article_code: str | None = None
    version: int
    notice: str | None = None


class ImportOut(Out):
    month: str
    date: dt.date | None = None
    at: dt.datetime | None = None


class QuotaOut(Out):
    """The company key's SmartAccounts day (Europe/Tallinn)."""

    used_today: int
    reserved_for_schedule: int = Field(description="today's calls held back for the scheduled import")
    daily_limit: int
    resets_at: dt.datetime
    spent_until: dt.datetime | None = Field(
        default=None,
        description="SmartAccounts refuses the key for its daily limit until then, whatever usedToday counted "
        "(another program may use the same key); null when it has not said so",
    )


class IntegrationStateOut(Out):
    enabled: bool
    connection: ConnectionOut
    company_name: str | None
    masked_key: str | None
    credentials_saved_at: dt.datetime | None
    settings: SettingsOut | None
    last_import: ImportOut | None
    next_import: ImportOut | None
    linked_clients: int
    running_reload: dict | None
    quota: QuotaOut | None = Field(default=None, description="null when no key is saved")
    version: int


class ConnectionTestOut(Out):
    company_name: str
    company_id: str | None = Field(
        default=None,
        description="the SmartAccounts company the key pair belongs to: the companyId to link a client with its own "
        "key pair (PUT /v1/clients/{clientId}/integration)",
    )
    company_reg_code: str | None = None
    trimmed: list[str] = Field(description="which pasted values had whitespace removed")
    message: str
    saved: bool


class FieldOut(Out):
    key: str
    label: str
    kind: Literal["count", "amount"]
    main: bool
    source: str
    description: str


class FieldsOut(Out):
    fields: list[FieldOut]


class CheckOut(Out):
    id: str
    title: str
    status: Literal["PASS", "FAIL", "SKIPPED"]
    detail: str
    fix: str | None = None
    error_kind: str | None = None


class DiagnosticsOut(Out):
    passed: bool
    checks: list[CheckOut]
    checked_at: dt.datetime | None = Field(default=None, description="when the live checks ran; null: never")
    live: bool = Field(default=False, description="true when the live checks ran for this answer")


class CompanyOut(Out):
    id: str
    name: str
    reg_code: str | None = None


class CompaniesOut(Out):
    companies: list[CompanyOut]


class TopicOut(Out):
    id: str
    name: str


class TopicsOut(Out):
    topics: list[TopicOut]


class CustomTaskFieldOut(Out):
    id: str
    name: str
    type: str


class CustomTaskFieldsOut(Out):
    fields: list[CustomTaskFieldOut]


class LatestImportOut(Out):
    """How the client's latest import ended (its newest sync history entry), whatever the outcome."""

    at: dt.datetime
    outcome: Literal["SUCCEEDED", "FAILED", "SKIPPED", "DEFERRED"] = Field(
        description="DEFERRED: waiting for the daily SmartAccounts quota, it goes on by itself when the quota renews"
    )
    months: list[str]
    error_kind: str | None = Field(default=None, description="why it failed, was skipped or waits, as in the history")
    message: str | None = Field(default=None, description="the same in plain words")


class ClientIntegrationOut(Out):
    client_id: str
    integration: Literal["smartaccounts"] | None
    status: Literal["OK", "FAILING", "NOT_LINKED"]
    company_id: str | None = None
    company_name: str | None = None
    company_reg_code: str | None = None
    reason: str | None = None
    message: str | None = None
    since: dt.datetime | None = None
    own_credentials: bool = False
    masked_key: str | None = None
    last_import: ImportOut | None = None
    latest_import: LatestImportOut | None = Field(
        default=None,
        description="the latest import's outcome, whatever it was (lastImport is the latest successful one); null "
        "when no import ran since the client was linked or since the service began recording it",
    )
    notice: str | None = None


class ClientOut(Out):
    id: str
    name: str
    registry_code: str | None = None
    vat_number: str | None = None
    integration: ClientIntegrationOut


class ClientsOut(Out):
    clients: list[ClientOut]
