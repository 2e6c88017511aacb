"""Fixtures shared by every tier: the moto server, the sandbox and the whole local stack, each over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from local_stack.moto_process import MotoServerProcess
from local_stack.net import REGION

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
# Settings has no defaults for resource names (a function missing one fails instead of using a wrong resource); the
# local stack sets the provisioned ones, unit tests that wire fakes only need names to be present.
for _name in ("CONFIG", "SUMMARY_TASKS", "JOBS", "SYNC_HISTORY", "IDEMPOTENCY", "RATE_LIMIT"):
    os.environ.setdefault(f"{_name}_TABLE_NAME", f"unit-{_name.lower().replace('_', '-')}")
os.environ.setdefault("IMPORT_QUEUE_URL", "http://unit.invalid/queue/import")
os.environ.setdefault("EXPORT_QUEUE_URL", "http://unit.invalid/queue/export")


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server process of its own (the local stack starts another), for tests that need AWS but not the stack."""
    server = MotoServerProcess().start()
    yield server.url
    server.stop()


@pytest.fixture
def aws(moto_url: str):
    """boto3 clients against the standalone moto server."""

    def client(service: str):
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION)

    return client


@pytest.fixture(scope="session")
def stack() -> Iterator:
    """The whole local stack, as `make run` starts it, on free ports."""
    from local_stack.stack import LocalStack

    local = LocalStack(port=0, sandbox_port=0, retry_delay_seconds=1).start()
    yield local
    local.stop()


@pytest.fixture(autouse=True)
def _nothing_the_template_does_not_allow(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on the local stack fails when a function made an AWS call its policies in template.yaml do not allow
    (local_stack/permissions.py: AWS would deny it; moto does not evaluate IAM)."""
    if "stack" not in request.fixturenames:
        yield
        return
    local = request.getfixturevalue("stack")
    before = len(local.permissions.denied)
    yield
    denied = sorted({(d.principal, d.action, d.resource.rsplit(":", 1)[-1]) for d in local.permissions.denied[before:]})
    assert denied == [], "a function made an AWS call template.yaml does not allow: " + "; ".join(map(str, denied))
