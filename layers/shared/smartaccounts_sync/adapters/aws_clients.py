"""boto3 clients, created once per warm container for each (service, region, endpoint) the settings name, and only
when an invocation first uses one: a cold start pays for the clients its invocation needs, not for all of them."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from smartaccounts_sync.settings import Settings

_lock = threading.Lock()


@lru_cache(maxsize=2)
def _config(single_attempt: bool = False) -> Any:
    from botocore.config import Config

    if single_attempt:
        retries = {"mode": "standard", "total_max_attempts": 1}
    else:
        retries = {"mode": "standard", "max_attempts": 5}
    return Config(retries=retries, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=32)
def shared_client(service: str, region: str, endpoint_url: str | None, *, single_attempt: bool = False) -> Any:
    """``single_attempt``: botocore sends each request once and leaves every retry to the caller, for a writer that
    must know each write it may have made (the rate guard: a write applied whose answer was lost, sent again by
    botocore, would be applied twice without it knowing)."""
    import boto3

    with _lock:  # boto3's default session is not thread-safe while it creates clients
        return boto3.client(
            service, region_name=region, endpoint_url=endpoint_url, config=_config(single_attempt=single_attempt)
        )


def aws_client(service: str, settings: Settings, *, single_attempt: bool = False) -> Any:
    """The container's client for ``service`` (made now if it is the first use); see `shared_client`."""
    return shared_client(service, settings.aws_region, settings.aws_endpoint_url, single_attempt=single_attempt)


class LazyClient:
    """Stands for the container's boto3 client of a service; the client is made at the first call through it."""

    def __init__(self, service: str, settings: Settings) -> None:
        self._service = service
        self._where = (settings.aws_region, settings.aws_endpoint_url)

    def __getattr__(self, name: str) -> Any:
        return getattr(shared_client(self._service, *self._where), name)

    def __repr__(self) -> str:
        return f"LazyClient({self._service!r})"
