"""The service's configuration: one pydantic model over environment variables, read at invocation.

Handlers call :func:`load_settings` inside the invocation, never at import time, so a test (or the local stack)
can change the environment between calls without re-importing anything. Table names and queue URLs have no default:
a missing one fails the first invocation instead of pointing at a wrong resource.
"""

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

PUBLIC_SMARTACCOUNTS_API_URL = "https://sa.smartaccounts.eu/api/"


class Settings(BaseModel):
    """Each field is read from the environment variable of its name in capitals (`CONFIG_TABLE_NAME`); a value given
    to the constructor wins over the environment.

    A plain pydantic model over `os.environ`, as pydantic-settings' `BaseSettings` with `env_prefix=""`,
    `case_sensitive=False`, `extra="ignore"` and `validate_default=True` would read it, without importing
    pydantic-settings, its sources and python-dotenv on every cold start (about a quarter of a bare boto3 import):
    the service needs neither .env files, secrets directories, nested or JSON-encoded values nor a CLI."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**(_environment(type(self)) | values))

    stage: str = Field(default="local", description="Deployment stage: local, dev or prod.")
    aws_region: str = Field(default="eu-north-1", description="AWS region (AWS_REGION).")
    aws_endpoint_url: str | None = Field(
        default=None, description="AWS endpoint override; the local stack points it at the moto server."
    )

    smartaccounts_api_url: HttpUrl = Field(
        default=HttpUrl(PUBLIC_SMARTACCOUNTS_API_URL),
        description="Base URL of a SmartAccounts-compatible API (the local stack sets the sandbox's).",
    )
    smartaccounts_connect_timeout: float = Field(default=3.05, gt=0, description="Connect timeout, seconds.")
    smartaccounts_read_timeout: float = Field(default=25.0, gt=0, description="Read timeout, seconds.")
    smartaccounts_max_retries: int = Field(default=3, ge=0, le=10, description="Retries of retryable failures.")
    smartaccounts_max_pages: int = Field(default=200, ge=1, description="Hard cap on pages of one list query.")
    smartaccounts_write_settle_seconds: float = Field(
        default=30.0,
        ge=0,
        le=60,
        description="How long after giving up on a write SmartAccounts may still carry it out: an invoice is not "
        "read back (to decide whether to post it again) before then.",
    )
    smartaccounts_rate_per_minute: int = Field(
        default=60, ge=2, le=1000, description="Requests per rolling window per key (at least 2: docs/performance.md)."
    )
    smartaccounts_rate_window_seconds: float = Field(
        default=61.0, gt=0, description="Length of the rolling window (a second of margin over SmartAccounts' 60)."
    )
    smartaccounts_route_deadline_seconds: float = Field(
        default=20.0,
        gt=0,
        le=27,
        description="Overall deadline of SmartAccounts calls made by HTTP routes (retries and rate-guard waits), "
        "within API Gateway's 29 s.",
    )
    smartaccounts_daily_budget: int = Field(default=1000, ge=1, description="Requests per key per Tallinn day.")
    smartaccounts_rate_lease_size: int = Field(
        default=10, ge=1, le=60, description="Request tickets a container leases from the rate guard in one write."
    )
    smartaccounts_rate_burst: int = Field(
        default=5,
        ge=1,
        le=30,
        description="Requests the rate guard lets go per bucket of time (the window is cut into per-minute / burst - 1 "
        "buckets): larger lets short runs go at once, smaller comes closer to the full per-minute rate.",
    )

    config_table_name: str = Field(min_length=1, description="Configuration table.")
    summary_tasks_table_name: str = Field(min_length=1, description="Summary tasks table.")
    jobs_table_name: str = Field(min_length=1, description="Reload jobs table.")
    sync_history_table_name: str = Field(min_length=1, description="Sync history table.")
    idempotency_table_name: str = Field(min_length=1, description="Idempotency records.")
    rate_limit_table_name: str = Field(min_length=1, description="Per-key request guard.")
    import_max_receive_count: int = Field(
        default=5, ge=1, description="Deliveries of import work before SQS dead-letters it (the redrive policy)."
    )
    export_max_receive_count: int = Field(
        default=5, ge=1, description="Deliveries of an export message before SQS dead-letters it (the redrive policy)."
    )
    export_wait_requeue_seconds: int = Field(
        default=720,
        ge=0,
        le=900,
        description="A credit invoice still waiting for its original when its deliveries are used up goes back on "
        "the export queue with this delay (as long as SQS waits before a redelivery; the local stack sets its own).",
    )
    import_queue_url: str = Field(min_length=1, description="SQS queue of import and reload work.")
    export_queue_url: str = Field(min_length=1, description="SQS queue of invoice exports.")
    import_dead_letter_queue_url: str = Field(
        default="", description="Import work that can never be handled is dead-lettered here at once, with its reason."
    )
    schedule_dead_letter_queue_url: str = Field(
        default="", description="Schedule events that cannot be read are dead-lettered here, with their reason."
    )
    export_dead_letter_queue_url: str = Field(
        default="",
        description="Export messages that can never be exported (no company or invoice named, an invoice id that is "
        "not an identifier) are dead-lettered here at once, with their reason.",
    )
    event_bus_name: str = Field(default="default", description="EventBridge bus the service publishes to.")
    tenant_secrets_reader_role_arn: str = Field(
        default="",
        description=(
            "Role assumed with the served company as session tag to read its secrets (empty: the function's own "
            "credentials, for tests without IAM)."
        ),
    )
    tenant_secrets_writer_role_arn: str = Field(
        default="", description="Role assumed with the served company as session tag to save or delete its secrets."
    )
    tenant_company_key_reader_role_arn: str = Field(
        default="",
        description=(
            "Role assumed with the served company as session tag to read its company-level key pair only, never a "
            "client's own (invoice export, paid status, VAT types)."
        ),
    )
    secrets_kms_key_id: str = Field(
        default="", description="Customer-managed KMS key of the secrets (empty: Secrets Manager's AWS-managed key)."
    )
    secret_name_prefix: str = Field(
        default="uku-smartaccounts/local/", description="Prefix of every Secrets Manager secret the service owns."
    )


def _environment(model: type[BaseModel]) -> dict[str, str]:
    """The environment variables named like the model's fields, whatever their case."""
    names = set(model.model_fields)
    return {key.lower(): value for key, value in os.environ.items() if key.lower() in names}


def load_settings() -> Settings:
    """Read the configuration from the environment now."""
    return Settings()
