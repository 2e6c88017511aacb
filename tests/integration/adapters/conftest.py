"""A fresh set of the template's tables in the moto server for each adapter test (a prefix of its own)."""

from __future__ import annotations

import uuid

import pytest

from local_stack.provision import Provisioner
from local_stack.template import Template


@pytest.fixture
def tables(moto_url: str) -> dict[str, str]:
    """The template's resource names (tables, queues, …) as provisioned for this test: logical id -> name."""
    prefix = f"ad{uuid.uuid4().hex[:8]}"
    return Provisioner(
        Template(),
        endpoint_url=moto_url,
        region="eu-north-1",
        prefix=prefix,
        parameters={"Stage": prefix, "JwtIssuer": "https://issuer", "JwtAudience": "aud"},
    ).provision().names
