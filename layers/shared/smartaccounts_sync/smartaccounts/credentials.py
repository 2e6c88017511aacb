"""A SmartAccounts key pair as the service holds it (read from Secrets Manager, given to the client)."""

import hashlib

from pydantic import BaseModel, ConfigDict, Field, SecretStr


def key_hash(api_key: str) -> str:
    """A key's fingerprint: a hash of the API key (never of the secret); the rate guard names its items with it."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


class ApiCredentials(BaseModel):
    """A company's (or firm's) SmartAccounts key pair. Neither value shows in repr, str or logs."""

    model_config = ConfigDict(frozen=True)

    api_key: str = Field(min_length=1, repr=False)
    api_secret: SecretStr

    @property
    def fingerprint(self) -> str:
        return key_hash(self.api_key)

    @property
    def masked_key(self) -> str:
        key = self.api_key
        if len(key) <= 8:
            return "…" + key[-2:] if len(key) > 4 else "…"
        return f"{key[:4]}…{key[-4:]}"

    def __repr__(self) -> str:
        return f"ApiCredentials(api_key={self.masked_key!r}, api_secret=SecretStr('**********'))"

    def __str__(self) -> str:
        return self.__repr__()
