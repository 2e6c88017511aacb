"""boto3 clients, created once per warm container for each (service, region, endpoint) the settings name."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from smartaccounts_sync.settings import Settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=_CONFIG)


def aws_client(service: str, settings: Settings) -> Any:
    return _client(service, settings.aws_region, settings.aws_endpoint_url)
