"""connection: trimming, enable/disable, save and test credentials against a fake SmartAccounts client factory."""

from __future__ import annotations

import pytest

from smartaccounts_sync.domain.import_day import ImportDay
from smartaccounts_sync.domain.integration import ConnectionStatus, SummaryTaskSettings
from smartaccounts_sync.errors import Conflict, IntegrationDisabled, NotConnected, ValidationFailed
from smartaccounts_sync.service import connection
from smartaccounts_sync.service.connection import trim_credentials
from smartaccounts_sync.smartaccounts.credentials import key_hash
from smartaccounts_sync.smartaccounts.errors import ErrorKind
from smartaccounts_sync.troubleshooting import SmartAccountsProblem

CO = "uku-co-1"


@pytest.fixture
def enabled(deps):
    connection.enable(deps, CO)
    return deps


@pytest.mark.parametrize(
    ("key", "secret", "trimmed"),
    [
        ("k", "s", ()),
        (" k", "s", ("apiKey",)),
        ("k", "s\n", ("apiSecret",)),
        ("\tk\r\n", "  s  ", ("apiKey", "apiSecret")),
    ],
)
def test_trim_credentials_removes_surrounding_whitespace_and_says_which(key, secret, trimmed) -> None:
    pasted = trim_credentials(key, secret)
    assert pasted.credentials.api_key == "k"
    assert pasted.credentials.api_secret.get_secret_value() == "s"
    assert pasted.trimmed == trimmed


def test_trim_keeps_inner_whitespace() -> None:
    assert trim_credentials(" a b ", "c d").credentials.api_key == "a b"


def test_blank_values_are_refused_on_each_field() -> None:
    with pytest.raises(ValidationFailed) as raised:
        trim_credentials("  ", "")
    assert [p.field for p in raised.value.problems] == ["apiKey", "apiSecret"]


def test_disable_keeps_everything_and_enable_reschedules(enabled, fake_sa) -> None:
    settings = SummaryTaskSettings(task_title="T {month}", topic_id="t", import_day=ImportDay.last_calendar_day())
    record = enabled.integrations.get(CO)
    enabled.integrations.save(record.model_copy(update={"settings": settings}))
    connection.save_credentials(enabled, CO, "firm-key-0001", "firm-secret")
    disabled = connection.disable(enabled, CO)
    assert disabled.enabled is False and disabled.credentials is not None and disabled.settings == settings
    again = connection.enable(enabled, CO)
    assert again.enabled and again.next_import_date is not None and again.credentials == disabled.credentials


def test_save_credentials_needs_the_integration_enabled(deps) -> None:
    with pytest.raises(IntegrationDisabled):
        connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    assert deps.credentials.secrets == {}


def test_save_credentials_tests_first_then_stores_trimmed_pair_as_new_versions(enabled, fake_sa) -> None:
    record, test = connection.save_credentials(enabled, CO, " firm-key-0001 ", "firm-secret\n")
    assert test.company_name == "Alpha OÜ" and test.trimmed == ("apiKey", "apiSecret")
    name = enabled.secret_name(CO)
    assert name.startswith("uku-smartaccounts/test/") and CO in name
    stored = enabled.credentials.secrets[name]
    assert stored.api_key == "firm-key-0001" and stored.api_secret.get_secret_value() == "firm-secret"
    assert record.credentials.secret_name == name and record.credentials.masked_key == "firm…0001"
    # the key's fingerprint, as the rate guard names the key: its usage is read without the secret
    assert record.credentials.key_fingerprint == key_hash("firm-key-0001") == stored.fingerprint
    assert "firm-secret" not in record.model_dump_json()
    assert record.connection.status is ConnectionStatus.CONNECTED and record.connection.company_name == "Alpha OÜ"
    assert fake_sa.calls == [("firm-key-0001", "company_info")]
    connection.save_credentials(enabled, CO, "firm-key-0001", "firm-secret")
    assert enabled.credentials.versions[name] == 2


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [
        (ErrorKind.INVALID_CREDENTIALS, "SA_INVALID_CREDENTIALS", 422),
        (ErrorKind.CREDENTIALS_REVOKED, "SA_CREDENTIALS_REVOKED", 422),
        (ErrorKind.SIGNATURE_REJECTED, "SA_SIGNATURE_REJECTED", 422),
        (ErrorKind.RATE_LIMITED, "SA_RATE_LIMITED", 429),
        (ErrorKind.DAILY_QUOTA_SPENT, "SA_DAILY_QUOTA_SPENT", 429),
        (ErrorKind.UNAVAILABLE, "SA_UNAVAILABLE", 502),
        (ErrorKind.PAGING_STALLED, "SA_UNAVAILABLE", 502),
    ],
)
def test_save_credentials_refuses_every_error_kind_and_stores_nothing(enabled, fake_sa, kind, code, status) -> None:
    fake_sa.fail("firm-key-0001", kind, retry_after=7 if kind is ErrorKind.RATE_LIMITED else None)
    with pytest.raises(SmartAccountsProblem) as raised:
        connection.save_credentials(enabled, CO, "firm-key-0001", "firm-secret")
    assert raised.value.code == code and raised.value.status == status
    assert enabled.credentials.secrets == {}
    assert enabled.integrations.get(CO).credentials is None
    if kind is ErrorKind.RATE_LIMITED:
        assert raised.value.headers == {"Retry-After": "7"} and "7 seconds" in raised.value.detail


def test_padded_wrong_secret_says_spaces_were_removed_but_are_not_the_cause(enabled) -> None:
    with pytest.raises(SmartAccountsProblem) as raised:
        connection.test_connection(enabled, CO, " firm-key-0001 ", " wrong ")
    assert raised.value.code == "SA_SIGNATURE_REJECTED"
    assert "removed" in raised.value.detail and "not the spaces" in raised.value.detail


def test_test_connection_with_given_credentials_stores_nothing(enabled) -> None:
    before = enabled.integrations.get(CO)
    test = connection.test_connection(enabled, CO, "own-key-00001", "own-secret")
    assert test.company_name == "Gamma OÜ" and test.saved_credentials is False
    # the company the pair belongs to, so that a client can be linked to it with its own key pair
    assert (test.company_id, test.company_reg_code) == ("co-c", "33333333")
    assert enabled.integrations.get(CO) == before and enabled.credentials.secrets == {}


def test_test_connection_without_saved_credentials_is_not_connected(enabled) -> None:
    with pytest.raises(NotConnected):
        connection.test_connection(enabled, CO)


def test_saved_credentials_failing_then_restored(enabled, fake_sa, clock) -> None:
    connection.save_credentials(enabled, CO, "firm-key-0001", "firm-secret")
    fake_sa.fail("firm-key-0001", ErrorKind.CREDENTIALS_REVOKED)
    with pytest.raises(SmartAccountsProblem):
        connection.test_connection(enabled, CO)
    failing = enabled.integrations.get(CO).connection
    assert failing.status is ConnectionStatus.FAILING and failing.reason == "CREDENTIALS_REVOKED"
    fake_sa.accounts["firm-key-0001"].error = None
    assert connection.test_connection(enabled, CO).company_name == "Alpha OÜ"
    assert enabled.integrations.get(CO).connection.status is ConnectionStatus.CONNECTED


def test_a_passing_condition_does_not_mark_the_connection_failing(enabled, fake_sa) -> None:
    connection.save_credentials(enabled, CO, "firm-key-0001", "firm-secret")
    fake_sa.fail("firm-key-0001", ErrorKind.UNAVAILABLE)
    with pytest.raises(SmartAccountsProblem):
        connection.test_connection(enabled, CO)
    assert enabled.integrations.get(CO).connection.status is ConnectionStatus.CONNECTED


def test_two_concurrent_writers_the_second_gets_conflict(enabled) -> None:
    # Two reads of the same version, two saves: the second is refused, the first is kept
    first, second = enabled.integrations.get(CO), enabled.integrations.get(CO)
    enabled.integrations.save(first.model_copy(update={"enabled": False}))
    with pytest.raises(Conflict):
        enabled.integrations.save(second.model_copy(update={"last_imported_month": None, "enabled": True}))
    assert enabled.integrations.get(CO).enabled is False


def test_service_updates_retry_over_a_concurrent_write(enabled) -> None:
    # update_integration re-reads and re-applies its change when someone else wrote in between
    interfering = {"done": False}

    def change(record):
        if not interfering["done"]:
            interfering["done"] = True
            enabled.integrations.save(enabled.integrations.get(CO).model_copy(update={"last_import_at": None}))
        return record.model_copy(update={"enabled": False})

    saved = connection.update_integration(enabled, CO, change)
    assert saved.enabled is False and enabled.integrations.get(CO).version == saved.version
