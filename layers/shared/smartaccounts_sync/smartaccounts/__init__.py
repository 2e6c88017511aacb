"""The SmartAccounts API adapter: the only code in the service that talks to SmartAccounts.

``protocol`` holds every wire decision, ``client`` the behaviour (retries, paging, rate guard), ``models`` the wire
models, ``errors`` the error taxonomy and ``rate_guard`` the per-key request guard shared by all invocations.
"""

from __future__ import annotations

from smartaccounts_sync.smartaccounts.client import SmartAccountsClient
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from smartaccounts_sync.smartaccounts.rate_guard import (
    DynamoDbRateGuard,
    InMemoryRateGuard,
    NoRateGuard,
    RateGuard,
)

__all__ = [
    "ApiCredentials",
    "DynamoDbRateGuard",
    "ErrorKind",
    "InMemoryRateGuard",
    "NoRateGuard",
    "RateGuard",
    "SmartAccountsClient",
    "SmartAccountsError",
]
