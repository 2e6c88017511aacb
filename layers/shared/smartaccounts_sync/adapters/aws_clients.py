"""boto3 clients, created once per warm container for each (service, region, endpoint) the settings name, and only
when an invocation first uses one: a cold start pays for the clients its invocation needs, not for all of them."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from smartaccounts_sync.settings import Settings

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=32)
def shared_client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3

    with _lock:  # boto3's default session is not thread-safe while it creates clients
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=_config())


def aws_client(service: str, settings: Settings) -> Any:
    """The container's client for ``service`` (made now if it is the first use)."""
    return shared_client(service, settings.aws_region, settings.aws_endpoint_url)


class LazyClient:
    """Stands for the container's boto3 client of a service; the client is made at the first call through it."""

    def __init__(self, service: str, settings: Settings) -> None:
        self._service = service
        self._where = (settings.aws_region, settings.aws_endpoint_url)

    def __getattr__(self, name: str) -> Any:
        return getattr(shared_client(self._service, *self._where), name)

    def __repr__(self) -> str:
        return f"LazyClient({self._service!r})"
