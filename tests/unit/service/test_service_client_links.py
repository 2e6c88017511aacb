"""client_links: company list with cache, link/relink/unlink, per-client credentials, unseen companies."""

from __future__ import annotations

import datetime as dt

import pytest

from smartaccounts_sync.domain.client_link import LinkStatus
from smartaccounts_sync.domain.integration import ConnectionStatus
from smartaccounts_sync.domain.uku import UkuClient
from smartaccounts_sync.errors import IntegrationDisabled, NotConnected, NotFound
from smartaccounts_sync.service import client_links, connection
from smartaccounts_sync.smartaccounts.errors import ErrorKind, SmartAccountsError
from smartaccounts_sync.troubleshooting import SmartAccountsProblem

CO = "uku-co-1"


@pytest.fixture
def connected(deps):
    connection.enable(deps, CO)
    connection.save_credentials(deps, CO, "firm-key-0001", "firm-secret")
    for client_id in ("cl-1", "cl-2"):
        deps.uku.create_client(CO, UkuClient(id=client_id, name=f"Client {client_id}"))
    return deps


def _list_calls(fake_sa) -> int:
    return sum(1 for _, call in fake_sa.calls if call == "list_companies")


def test_company_list_is_searchable_and_cached_for_a_few_minutes(connected, fake_sa, clock) -> None:
    assert [c.id for c in client_links.list_companies(connected, CO)] == ["co-a", "co-b"]
    assert [c.id for c in client_links.list_companies(connected, CO, "beta")] == ["co-b"]
    assert [c.id for c in client_links.list_companies(connected, CO, "1111")] == ["co-a"]
    assert _list_calls(fake_sa) == 1
    clock.now += dt.timedelta(minutes=10)
    client_links.list_companies(connected, CO)
    assert _list_calls(fake_sa) == 2


def test_company_list_needs_enabled_and_connected(deps) -> None:
    with pytest.raises(IntegrationDisabled):
        client_links.list_companies(deps, CO)
    connection.enable(deps, CO)
    with pytest.raises(NotConnected):
        client_links.list_companies(deps, CO)


def test_link_relink_unlink(connected) -> None:
    first = client_links.link_client(connected, CO, "cl-1", "co-a")
    assert first.link.company_name == "Alpha OÜ" and first.notice is None and not first.link.own_credentials
    assert client_links.link_client(connected, CO, "cl-1", "co-a").notice is None
    relinked = client_links.link_client(connected, CO, "cl-1", "co-b")
    assert relinked.relinked and "Reload data" in relinked.notice
    client_links.unlink_client(connected, CO, "cl-1")
    assert connected.links.get(CO, "cl-1") is None
    assert connected.uku.get_client(CO, "cl-1") is not None
    with pytest.raises(NotFound):
        client_links.unlink_client(connected, CO, "cl-1")


def test_a_relink_to_the_same_company_keeps_the_latest_import_another_company_starts_without(connected) -> None:
    from smartaccounts_sync.domain.months import YearMonth
    from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry

    # Given a linked client whose latest import failed
    link = client_links.link_client(connected, CO, "cl-1", "co-a").link
    failed = SyncHistoryEntry(
        id="e-1", company_id=CO, client_id="cl-1", at=link.linked_at, reason="SCHEDULE",
        months=[YearMonth(2026, 10)], outcome=ImportOutcome.FAILED, error_kind="UNAVAILABLE", message="Down.",
    )
    connected.links.update(CO, link.with_latest_import(failed))

    # When it is linked again to the same company (a new key pair, say), the list still says how that import ended
    again = client_links.link_client(connected, CO, "cl-1", "co-a").link
    assert again.latest_import is not None and again.latest_import.outcome is ImportOutcome.FAILED

    # When it is linked to another company, that company has no import yet
    assert client_links.link_client(connected, CO, "cl-1", "co-b").link.latest_import is None


def test_link_to_an_invisible_company_or_unknown_client_is_not_found(connected) -> None:
    with pytest.raises(NotFound, match="not visible"):
        client_links.link_client(connected, CO, "cl-1", "co-c")
    with pytest.raises(NotFound):
        client_links.link_client(connected, CO, "cl-unknown", "co-a")
    assert connected.links.list(CO) == []


def test_another_company_cannot_see_or_unlink_a_client(connected, deps) -> None:
    client_links.link_client(connected, CO, "cl-1", "co-a")
    connection.enable(deps, "co-2")
    with pytest.raises(NotFound):
        client_links.get_link(deps, "co-2", "cl-1")
    with pytest.raises(NotFound):
        client_links.unlink_client(deps, "co-2", "cl-1")
    assert deps.links.get(CO, "cl-1") is not None


def test_link_without_company_credentials_is_not_connected(deps) -> None:
    connection.enable(deps, CO)
    deps.uku.create_client(CO, UkuClient(id="cl-1", name="C"))
    with pytest.raises(NotConnected):
        client_links.link_client(deps, CO, "cl-1", "co-a")


def test_own_credentials_are_trimmed_tested_and_stored_per_client(connected, fake_sa) -> None:
    company_secret = connected.credentials.secrets[connected.secret_name(CO)]
    result = client_links.link_client(connected, CO, "cl-1", "co-c", " own-key-00001 ", "own-secret\n")
    assert result.trimmed == ("apiKey", "apiSecret") and result.link.company_name == "Gamma OÜ"
    name = connected.secret_name(CO, "cl-1")
    assert result.link.credentials.secret_name == name and result.link.credentials.masked_key == "own-…0001"
    assert result.link.credentials.key_fingerprint == connected.credentials.secrets[name].fingerprint
    assert connected.credentials.secrets[name].api_key == "own-key-00001"
    assert connected.credentials.secrets[connected.secret_name(CO)] == company_secret
    assert client_links.credentials_for(connected, connected.integrations.get(CO), result.link).api_key == (
        "own-key-00001"
    )
    assert ("own-key-00001", "company_info") in fake_sa.calls


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ErrorKind.SIGNATURE_REJECTED, "SA_SIGNATURE_REJECTED"),
        (ErrorKind.CREDENTIALS_REVOKED, "SA_CREDENTIALS_REVOKED"),
    ],
)
def test_own_credentials_refused_store_nothing(connected, fake_sa, kind, code) -> None:
    fake_sa.fail("own-key-00001", kind)
    with pytest.raises(SmartAccountsProblem) as raised:
        client_links.link_client(connected, CO, "cl-1", "co-c", "own-key-00001", "own-secret")
    assert raised.value.code == code
    assert connected.links.get(CO, "cl-1") is None
    assert connected.secret_name(CO, "cl-1") not in connected.credentials.secrets


def test_unseen_links_are_marked_failing_then_ok_again_without_waiting_for_the_cache(connected, fake_sa) -> None:
    client_links.link_client(connected, CO, "cl-1", "co-a")
    client_links.link_client(connected, CO, "cl-2", "co-b")
    # SmartAccounts stops showing co-a to the firm key (the cached list still shows it)
    fake_sa.accounts["firm-key-0001"].companies = [
        c for c in fake_sa.accounts["firm-key-0001"].companies if c.id != "co-a"
    ]
    missing = client_links.unseen_links(connected, CO)
    assert [(client.id, link.company_id) for client, link in missing] == [("cl-1", "co-a")]
    failing = connected.links.get(CO, "cl-1")
    assert failing.status is LinkStatus.FAILING and failing.reason == "NOT_FOUND" and failing.since
    assert connected.links.get(CO, "cl-2").status is LinkStatus.OK
    assert _list_calls(fake_sa) == 2  # the link's list, then one fresh list for both links with the same key
    # visible again: OK again
    fake_sa.add("firm-key-0001", "firm-secret", ("co-a", "Alpha OÜ", "1"), ("co-b", "Beta AS", "2"))
    assert client_links.unseen_links(connected, CO) == []
    assert connected.links.get(CO, "cl-1").status is LinkStatus.OK


def test_a_clients_own_secret_is_deleted_on_unlink_and_when_relinked_to_the_company_key(connected) -> None:
    # Given two clients linked with their own key pair
    for client_id in ("cl-1", "cl-2"):
        client_links.link_client(connected, CO, client_id, "co-c", "own-key-00001", "own-secret")
    own = {c: connected.secret_name(CO, c) for c in ("cl-1", "cl-2")}
    assert set(own.values()) <= set(connected.credentials.secrets)

    # When one is unlinked and the other relinked to use the company's key
    client_links.unlink_client(connected, CO, "cl-1")
    client_links.link_client(connected, CO, "cl-2", "co-a")

    # Then neither client secret is kept, and the company's is untouched
    assert own["cl-1"] not in connected.credentials.secrets and own["cl-2"] not in connected.credentials.secrets
    assert connected.secret_name(CO) in connected.credentials.secrets


def test_linking_through_failing_company_credentials_is_refused_saying_why(connected) -> None:
    record = connected.integrations.get(CO)
    failing = record.connection.model_copy(
        update={"status": ConnectionStatus.FAILING, "reason": "CREDENTIALS_REVOKED", "message": "The pair was revoked."}
    )
    connected.integrations.save(record.model_copy(update={"connection": failing}))
    with pytest.raises(NotConnected) as refused:
        client_links.link_client(connected, CO, "cl-1", "co-a")
    assert "CREDENTIALS_REVOKED" in refused.value.detail and refused.value.extra["errorKind"] == "CREDENTIALS_REVOKED"
    # a client with its own working key can still be linked
    assert client_links.link_client(connected, CO, "cl-1", "co-c", "own-key-00001", "own-secret").link.own_credentials


def test_a_clients_own_key_refused_now_is_listed_with_its_reason_and_the_others_still_checked(
    connected, fake_sa
) -> None:
    # Given one client on the company key and one on its own key, whose pair is revoked later
    client_links.link_client(connected, CO, "cl-1", "co-a")
    client_links.link_client(connected, CO, "cl-2", "co-c", "own-key-00001", "own-secret")
    fake_sa.fail("own-key-00001", ErrorKind.CREDENTIALS_REVOKED)
    # When the visibility check runs, the revoked client is listed with that reason and the other one is checked
    missing = client_links.unseen_links(connected, CO)
    assert [(client.id, link.reason) for client, link in missing] == [("cl-2", "CREDENTIALS_REVOKED")]
    assert connected.links.get(CO, "cl-1").status is LinkStatus.OK
    # and the fix it says is where a client's own pair is pasted: its link, not the integration's connection test
    message = connected.links.get(CO, "cl-2").message
    assert "client's SmartAccounts link" in message and "test the connection" not in message


def test_a_rate_limit_says_when_to_try_again_once_and_in_good_english() -> None:
    from smartaccounts_sync.troubleshooting import explain

    one = explain(SmartAccountsError(ErrorKind.RATE_LIMITED, "slow down", retry_after=0.4))
    assert one.endswith("Try again in 1 second.") and "Wait a moment" not in one
    assert explain(SmartAccountsError(ErrorKind.RATE_LIMITED, "slow down", retry_after=55)).endswith(
        "Try again in 55 seconds."
    )
    assert explain(SmartAccountsError(ErrorKind.RATE_LIMITED, "slow down")).endswith("Wait a moment and try again.")
