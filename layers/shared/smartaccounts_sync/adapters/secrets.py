"""API key pairs in Secrets Manager: one secret per company (and per client with its own key), new version on save.

Reads go through Powertools' Parameters utility (cached briefly per warm container); only the secret's name is
kept in DynamoDB. Values never reach a log line, an exception or a response.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError
from pydantic import ValidationError

from smartaccounts_sync.errors import ServiceError
from smartaccounts_sync.smartaccounts.credentials import ApiCredentials

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

CACHE_SECONDS = 30
RECOVERY_DAYS = 7


class CredentialStore(Protocol):
    def save(self, name: str, credentials: ApiCredentials) -> None: ...

    def load(self, name: str, saved_at: dt.datetime | None = None) -> ApiCredentials:
        """The key pair; `saved_at` (when it was last saved): a cached copy fetched before then is not used."""
        ...

    def delete(self, name: str) -> None: ...


class SecretUnavailable(ServiceError):
    code = "NOT_CONNECTED"
    status = 409
    title = "The saved SmartAccounts credentials cannot be read"


class SecretsManagerCredentialStore:
    def __init__(self, client: Any, tags: dict[str, str] | None = None, kms_key_id: str = "") -> None:
        self._client = client
        self._kms_key = {"KmsKeyId": kms_key_id} if kms_key_id else {}
        self._secrets: SecretsProvider | None = None
        self._fetched_at: dict[str, dt.datetime] = {}  # when this container last fetched each secret
        # every secret this store creates carries these tags (the company it belongs to: adapters/tenant_secrets.py)
        self._tags = [{"Key": "service", "Value": "uku-smartaccounts"}] + [
            {"Key": k, "Value": v} for k, v in (tags or {}).items()
        ]

    @property
    def _provider(self) -> SecretsProvider:
        """Made at the first use (it needs the real client): one per container, so its cache outlives invocations."""
        if self._secrets is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider  # ~50 ms: at first use only

            self._secrets = SecretsProvider(boto3_client=self._client)
        return self._secrets

    def save(self, name: str, credentials: ApiCredentials) -> None:
        value = json.dumps({"apiKey": credentials.api_key, "apiSecret": credentials.api_secret.get_secret_value()})
        try:
            state = self._client.describe_secret(SecretId=name)
        except ClientError as error:
            # through a tenant-scoped role, a secret that does not exist yet is "access denied" (it has no tag)
            if error.response["Error"]["Code"] not in ("ResourceNotFoundException", "AccessDeniedException"):
                raise SecretUnavailable("The credentials could not be stored; nothing was changed.") from None
            self._client.create_secret(
                Name=name,
                SecretString=value,
                Description="SmartAccounts API key pair used by the Uku SmartAccounts integration",
                Tags=self._tags,
                **self._kms_key,
            )
        else:
            if state.get("DeletedDate"):
                # scheduled for deletion (unlinked within the recovery window): AWS refuses writes until restored
                self._client.restore_secret(SecretId=name)
            self._client.put_secret_value(SecretId=name, SecretString=value)
        # The next read must see the new version, not the cached one.
        self._provider.clear_cache()

    def load(self, name: str, saved_at: dt.datetime | None = None) -> ApiCredentials:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

        # Another container (the HTTP function) may have saved a new pair since this one cached the old: a copy
        # fetched before the last save is fetched again, so a fixed key takes effect at once everywhere.
        fetched = self._fetched_at.get(name)
        stale = saved_at is not None and (fetched is None or fetched <= saved_at)
        try:
            if stale or fetched is None:
                self._fetched_at[name] = dt.datetime.now(dt.UTC)
            value = self._provider.get(name, max_age=CACHE_SECONDS, transform="json", force_fetch=stale)
            return ApiCredentials(api_key=value["apiKey"], api_secret=value["apiSecret"])
        except (GetParameterError, TransformParameterError, KeyError, TypeError, ValidationError):
            # the original text could hold the value: it is not passed on
            raise SecretUnavailable("The saved SmartAccounts credentials could not be read; save them again.") from None

    def delete(self, name: str) -> None:
        """Schedules the secret's deletion (recoverable for a week); an absent secret, or one whose deletion is
        scheduled already, is fine."""
        try:
            self._client.delete_secret(SecretId=name, RecoveryWindowInDays=RECOVERY_DAYS)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            # absent, or (through a tenant-scoped role) not this company's: nothing of this company to delete
            if code not in ("ResourceNotFoundException", "AccessDeniedException") and not (
                code == "InvalidRequestException" and self._deletion_scheduled(name)
            ):
                raise
        self._provider.clear_cache()

    def _deletion_scheduled(self, name: str) -> bool:
        """AWS refuses to delete a secret whose deletion is scheduled already (an unlink tried again after it
        stopped past the delete, or a delete whose answer was lost and that botocore sent again)."""
        try:
            return self._client.describe_secret(SecretId=name).get("DeletedDate") is not None
        except ClientError:
            return False


class InMemoryCredentialStore:
    """For unit tests: the same behaviour without AWS."""

    def __init__(self) -> None:
        self.secrets: dict[str, ApiCredentials] = {}
        self.versions: dict[str, int] = {}

    def save(self, name: str, credentials: ApiCredentials) -> None:
        self.secrets[name] = credentials
        self.versions[name] = self.versions.get(name, 0) + 1

    def load(self, name: str, saved_at: dt.datetime | None = None) -> ApiCredentials:
        if name not in self.secrets:
            raise SecretUnavailable("The saved SmartAccounts credentials could not be read; save them again.")
        return self.secrets[name]

    def delete(self, name: str) -> None:
        self.secrets.pop(name, None)
