"""The scheduled monthly import on the local stack, checked against counts and sums computed here from the sandbox's
raw documents. Real clock: settings saved today (2026-11-24) make 2026-11 the first month (import day 2026-11-30)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.support.local_company import ALL_FIELDS, INTEGRATION, assert_task_matches, expected_month

pytestmark = pytest.mark.integration

SALES_FIELDS = ("saleEntries", "creditInvoices", "salesTotal", "salesVatTotal")


def test_schedule_imports_every_mapped_field_and_catches_up_next_month(stack, admin, make_company) -> None:
    # Given a company with every field mapped and two clients: one with documents, one without
    company = make_company(["co-small", "co-empty"])
    assert company.state()["nextImport"] == {"month": "2026-11", "date": "2026-11-30", "at": None}

    # When the schedule fires on the day before the import day: nothing is due
    assert stack.fire_scheduled_import(dt.date(2026, 11, 27))["queued"] == 0

    # When it fires on November's import day, and then on December's
    stack.fire_scheduled_import(dt.date(2026, 11, 30))
    stack.wait_until_idle()
    stack.fire_scheduled_import(dt.date(2026, 12, 31))
    stack.wait_until_idle()

    # Then both months have a task per client with every mapped field equal to the oracle's value
    for month in ("2026-11", "2026-12"):
        small = company.tasks("co-small", month, month)[month]
        assert_task_matches(company, small, expected_month(admin, "co-small", month), ALL_FIELDS)
        assert (
            small["title"]
            == f"Client of co-small: bookkeeping {'November' if month.endswith('11') else 'December'} 2026"
        )
        assert small["recurrence"] == "MONTHLY" and small["periodStart"] == f"{month}-01"
        assert small["assigneeId"] == f"user-{company.id}-owner"
        empty = company.tasks("co-empty", month, month)[month]
        assert all(empty["fieldValues"][company.fields[k]] == 0 for k in ALL_FIELDS)
    assert set(company.tasks("co-small", "2026-01", "2027-06")) == {"2026-11", "2026-12"}
    state = company.state()
    assert state["lastImport"]["month"] == "2026-12"
    assert state["nextImport"]["month"] == "2027-01"

    # And each import ran one query per document kind (all on one page for a small company)
    history = company.history("co-small")
    assert [h["months"] for h in history] == [["2026-12"], ["2026-11"]]
    assert all(h["outcome"] == "SUCCEEDED" and h["callsUsed"] == 4 for h in history)

    # When the same import runs again (a re-delivered work item)
    queue = stack.provisioned.queue_urls["ImportQueue"]
    before = company.tasks("co-small", "2026-11", "2026-12")
    body = {
        "kind": "IMPORT",
        "companyId": company.id,
        "clientId": company.clients["co-small"],
        "months": ["2026-11", "2026-12"],
        "reason": "RELOAD",
        "jobId": None,
    }
    stack.boto3_client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    stack.wait_until_idle()

    # Then nothing changes: same values, same versions
    after = company.tasks("co-small", "2026-11", "2026-12")
    assert {m: (t["version"], t["fieldValues"]) for m, t in after.items()} == {
        m: (t["version"], t["fieldValues"]) for m, t in before.items()
    }
    rerun = company.history("co-small")[0]
    assert rerun["outcome"] == "SUCCEEDED" and rerun["tasksChanged"] == 0


def test_more_than_one_page_and_blank_fields_cost_no_calls(stack, admin, make_company) -> None:
    # Given a large company (thousands of sales invoices a month) with only the sales invoice fields mapped
    company = make_company(["co-large"], mapped=SALES_FIELDS)

    # When November is imported
    stack.fire_scheduled_import(dt.date(2026, 11, 30))
    stack.wait_until_idle(timeout=90)

    # Then the values match the oracle over all pages
    task = company.tasks("co-large", "2026-11", "2026-11")["2026-11"]
    expected = expected_month(admin, "co-large", "2026-11")
    assert expected["saleEntries"] > 100
    assert_task_matches(company, task, expected, SALES_FIELDS)

    # And no other kind of document was asked for: blank fields cost nothing
    calls = admin.calls_by_endpoint(company.api_key)
    asked = {
        endpoint for endpoint in calls if "invoices" in endpoint or "payments" in endpoint or "entries" in endpoint
    }
    assert asked == {next(e for e in calls if "clientinvoices" in e)}
    assert company.history("co-large")[0]["callsUsed"] > 1


def test_revoked_key_fails_the_connection_and_catch_up_fills_the_gap(stack, admin, make_company) -> None:
    # Given November imported with the company's key
    company = make_company(["co-small"])
    stack.fire_scheduled_import(dt.date(2026, 11, 30))
    stack.wait_until_idle()
    assert "2026-11" in company.tasks("co-small", "2026-11", "2026-11")

    # When the key is revoked in SmartAccounts and December's import day comes
    admin.post(f"keys/{company.api_key}/revoke")
    stack.fire_scheduled_import(dt.date(2026, 12, 31))
    stack.wait_until_idle()

    # Then the connection is failing with the reason, one notification says so, December is missing
    connection = company.state()["connection"]
    assert connection["status"] == "FAILING" and connection["reason"] == "CREDENTIALS_REVOKED"
    notifications = company.call("GET", "/v1/notifications")["notifications"]
    assert [n["kind"] for n in notifications] == ["CONNECTION_FAILING"]
    assert company.api_key not in json.dumps(notifications)
    assert "2026-12" not in company.tasks("co-small", "2026-12", "2026-12")
    assert company.history("co-small")[0]["errorKind"] == "CREDENTIALS_REVOKED"

    # When a run comes while still failing: no call with the failing key, no second notification
    revoked_calls = admin.calls_by_endpoint(company.api_key)
    stack.fire_scheduled_import(dt.date(2027, 1, 2))
    stack.wait_until_idle()
    assert admin.calls_by_endpoint(company.api_key) == revoked_calls
    assert len(company.call("GET", "/v1/notifications")["notifications"]) == 1

    # When a new key pair is saved, and the next evening's run comes
    new_key, new_secret = admin.new_key("co-small")
    company.call("PUT", f"{INTEGRATION}/credentials", json={"apiKey": new_key, "apiSecret": new_secret})
    assert company.state()["connection"]["status"] == "CONNECTED"
    stack.fire_scheduled_import(dt.date(2027, 1, 3))
    stack.wait_until_idle()

    # Then December is caught up, with the oracle's values
    task = company.tasks("co-small", "2026-12", "2026-12")["2026-12"]
    assert_task_matches(company, task, expected_month(admin, "co-small", "2026-12"), ALL_FIELDS)

    # And the notification can be marked read
    notification_id = notifications[0]["id"]
    read = company.call("POST", f"/v1/notifications/{notification_id}/read")
    assert read["read"] is True


def test_routes_validate_and_hide_other_companies(stack, make_company) -> None:
    company = make_company(["co-empty"], mapped=("saleEntries",))
    client = company.clients["co-empty"]
    bad = company.call("GET", f"/v1/clients/{client}/summary-tasks", expect=400, params={"from": "2026-13"})
    assert bad["code"] == "VALIDATION_FAILED"
    backwards = company.call(
        "GET", f"/v1/clients/{client}/summary-tasks", expect=400, params={"from": "2026-10", "to": "2026-09"}
    )
    assert backwards["code"] == "VALIDATION_FAILED"
    other = make_company(["co-empty"], mapped=("saleEntries",))
    assert other.call("GET", f"/v1/clients/{client}/summary-tasks", expect=404)["code"] == "NOT_FOUND"
    assert other.call("GET", f"/v1/clients/{client}/sync-history", expect=404)["code"] == "NOT_FOUND"
    assert other.call("POST", "/v1/notifications/nope/read", expect=404)["code"] == "NOT_FOUND"
