"""One composition root per warm container: dependencies built once, clients made at first use, hooks registered
once, required settings checked at the first invocation."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from moto import mock_aws
from pydantic import ValidationError

from smartaccounts_sync.adapters.aws_clients import shared_client
from smartaccounts_sync.adapters.client_link_repository import InMemoryClientLinkRepository
from smartaccounts_sync.service import dependencies
from smartaccounts_sync.service.dependencies import Dependencies, container_dependencies
from smartaccounts_sync.smartaccounts.models import ApiCredentials
from tests.support.fakes import in_memory_dependencies


@pytest.fixture(autouse=True)
def fresh_container(monkeypatch):
    """A container that has served nothing yet."""
    monkeypatch.setattr(dependencies, "_built", {})
    monkeypatch.setenv("AWS_REGION", "eu-north-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # the function's own Secrets Manager client (a local stack started earlier in this process sets tenant roles)
    for name in (
        "TENANT_SECRETS_READER_ROLE_ARN",
        "TENANT_SECRETS_WRITER_ROLE_ARN",
        "TENANT_COMPANY_KEY_READER_ROLE_ARN",
        "SECRETS_KMS_KEY_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    shared_client.cache_clear()
    yield
    shared_client.cache_clear()


def test_dependencies_are_built_once_per_container() -> None:
    first = container_dependencies()
    assert container_dependencies() is first
    assert container_dependencies().smartaccounts is first.smartaccounts  # the rate guard and its leases live on


def test_changed_settings_build_them_again(monkeypatch) -> None:
    first = container_dependencies()
    monkeypatch.setenv("CONFIG_TABLE_NAME", "another-config-table")
    second = container_dependencies()
    assert second is not first
    assert second.settings.config_table_name == "another-config-table"


@pytest.mark.parametrize("variable", ["CONFIG_TABLE_NAME", "RATE_LIMIT_TABLE_NAME", "IMPORT_QUEUE_URL"])
def test_a_missing_resource_name_fails_the_first_invocation(monkeypatch, variable: str) -> None:
    monkeypatch.delenv(variable)
    with pytest.raises(ValidationError) as info:
        container_dependencies()
    assert variable.lower() in str(info.value)


def test_no_client_is_made_until_an_invocation_uses_it() -> None:
    container_dependencies()
    assert shared_client.cache_info().currsize == 0


def test_warm_invocations_reuse_the_secret_cache_and_register_no_hook_twice(monkeypatch) -> None:
    with mock_aws():
        deps = container_dependencies()
        deps.credentials.save("uku-smartaccounts/test/company/c1", ApiCredentials(api_key="k" * 12, api_secret="s"))
        client = shared_client("secretsmanager", "eu-north-1", None)
        gets: list[str] = []
        client.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **kw: gets.append("get"))
        registered: list[str] = []
        register = client.meta.events.register

        def counting(event, *args, **kwargs):
            registered.append(event)
            return register(event, *args, **kwargs)

        monkeypatch.setattr(client.meta.events, "register", counting)
        # When 50 warm invocations each read the company's credentials
        for _ in range(50):
            container_dependencies().credentials.load("uku-smartaccounts/test/company/c1")
        # Then Secrets Manager was asked once (Powertools' cache) and nothing (Powertools' user-agent hook included)
        # was registered on the container's client again
        assert gets == ["get"]
        assert registered == []


def test_every_port_is_built_once_at_its_first_use_even_by_threads_at_once() -> None:
    deps = container_dependencies()
    assert "links" in vars(deps) and type(vars(deps)["links"]).__name__ == "Lazy"  # wired, not built yet
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(lambda _: deps.links, range(8)))
    assert all(port is seen[0] for port in seen)
    assert type(seen[0]).__name__ == "DynamoDbClientLinkRepository"
    assert container_dependencies().links is seen[0]  # and lives as long as the container


def test_ports_given_to_dependencies_are_used_as_they_are_and_none_has_a_default() -> None:
    deps = in_memory_dependencies()
    links = deps.links
    assert isinstance(links, InMemoryClientLinkRepository)
    deps.links = replacement = InMemoryClientLinkRepository()
    assert deps.links is replacement
    with pytest.raises(TypeError, match="links"):
        Dependencies(**{name: value for name, value in vars(in_memory_dependencies()).items() if name != "links"})


def test_an_invocation_s_end_releases_the_leases_of_the_guards_it_built(monkeypatch) -> None:
    from smartaccounts_sync.smartaccounts.rate_guard import DynamoDbRateGuard

    released: list[DynamoDbRateGuard] = []
    monkeypatch.setattr(DynamoDbRateGuard, "release_unused", lambda self: released.append(self))
    deps = container_dependencies()
    # no guard built yet: nothing to release (and no guard is built for it)
    deps.release_leases()
    assert released == []
    # the workers' guard built (an import used it): its leases are released at the end of the invocation
    guard = deps.quota
    deps.release_leases()
    assert released == [guard]



def test_the_rate_guards_client_sends_each_request_once_and_the_others_retry() -> None:
    # the guard retries by itself (it must know each write it may have made); the other ports keep botocore's retries
    deps = container_dependencies()
    guard_client = deps.quota._dynamodb()
    assert guard_client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert shared_client("dynamodb", "eu-north-1", None).meta.config.retries["total_max_attempts"] > 1
    # one such client per container, whichever guard (the workers' or the HTTP routes') makes it first
    assert guard_client is shared_client("dynamodb", "eu-north-1", None, single_attempt=True)
