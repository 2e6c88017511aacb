"""The latest import's outcome in the client list (`latestImport` of the integration column), on the local stack:
written by the import worker with its sync history entry (DynamoDB on the moto server), read back over HTTP from
`GET /v1/clients` and `GET /v1/clients/{id}/integration`, equal to the newest history entry, for a success, a
failure and a wait for the daily quota."""

from __future__ import annotations

import pytest
import requests

from tests.integration.monthly_import.test_monthly_import import first_two_imports

pytestmark = pytest.mark.integration


def _listed(company, sa_company: str) -> dict:
    """The client's integration column as the client list returns it."""
    clients = company.call("GET", "/v1/clients")["clients"]
    return next(c["integration"] for c in clients if c["id"] == company.clients[sa_company])


def _as_history_says(entry: dict) -> dict:
    return {
        "at": entry["at"],
        "outcome": entry["outcome"],
        "months": entry["months"],
        "errorKind": entry.get("errorKind"),
        "message": entry.get("message"),
    }


def test_the_client_list_shows_each_latest_import_as_its_history_does(stack, admin, make_company) -> None:
    # Given a freshly linked client: no import yet, so no outcome (and none invented)
    first, first_date, _, second_date = first_two_imports()
    company = make_company(["co-small"])
    assert _listed(company, "co-small")["latestImport"] is None

    # When its first month is imported
    stack.fire_scheduled_import(first_date)
    stack.wait_until_idle()

    # Then the list and the client's own integration read show the success, as the history entry says it
    history = company.history("co-small")
    assert [h["outcome"] for h in history] == ["SUCCEEDED"]
    listed = _listed(company, "co-small")
    assert listed["latestImport"] == _as_history_says(history[0]) | {"errorKind": None, "message": None}
    assert listed["lastImport"]["month"] == str(first)
    one = company.call("GET", f"/v1/clients/{company.clients['co-small']}/integration")
    assert one["latestImport"] == listed["latestImport"]

    # When the company's key is revoked and the next month's import fails
    admin.post(f"keys/{company.api_key}/revoke")
    stack.fire_scheduled_import(second_date)
    stack.wait_until_idle()

    # Then the list shows that failure, why and in plain words; the last successful month stays the first
    history = company.history("co-small")
    listed = _listed(company, "co-small")
    assert history[0]["outcome"] == "FAILED" and listed["latestImport"] == _as_history_says(history[0])
    assert listed["latestImport"]["errorKind"] == "CREDENTIALS_REVOKED" and listed["latestImport"]["message"]
    assert listed["lastImport"]["month"] == str(first)
    assert company.api_key not in str(listed) and company.api_secret not in str(listed)


def test_a_client_waiting_for_the_daily_quota_says_so_in_the_list(stack, admin, make_company) -> None:
    # Given a client whose key has two SmartAccounts requests left today (its import needs four)
    first, first_date, _, _ = first_two_imports()
    company = make_company(["co-small"])
    requests.put(f"{admin.url}/quota", json={"perDay": 2}, timeout=10).raise_for_status()
    admin.post("quota/reset")
    try:
        # When its first month's import runs
        stack.fire_scheduled_import(first_date)
        stack.wait_until_idle()
    finally:
        requests.put(f"{admin.url}/quota", json={"perDay": 1000}, timeout=10).raise_for_status()
        admin.post("quota/reset")

    # Then the list says it waits for the quota, as the history entry does, and when it goes on
    history = company.history("co-small")
    assert [h["outcome"] for h in history] == ["DEFERRED"]
    latest = _listed(company, "co-small")["latestImport"]
    assert latest == _as_history_says(history[0])
    assert latest["errorKind"] == "DAILY_QUOTA_SPENT" and "midnight" in latest["message"]
    assert latest["months"] == [str(first)]
