"""The scheduled monthly import on the local stack, checked against counts and sums computed here from the sandbox's
raw documents. Real clock: the service decides with today's Europe/Tallinn date, so every date fired and every month
checked here is derived from it (settings saved today make the month whose last work day is the first on or after
today the first month; on that day itself, the import runs in the evening and the day counts)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from smartaccounts_sync.domain.import_day import ImportDay, import_date_for, next_import
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from tests.support.local_company import ALL_FIELDS, INTEGRATION, assert_task_matches, expected_month

pytestmark = pytest.mark.integration

SALES_FIELDS = ("saleEntries", "creditInvoices", "salesTotal", "salesVatTotal")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def first_two_imports() -> tuple[YearMonth, dt.date, YearMonth, dt.date]:
    """Under the settings' LAST_WORK_DAY rule, from today's Tallinn date: the first month a company configured (and a
    client linked) today imports, its import day, the month after it and that month's import day."""
    rule = ImportDay.last_work_day()
    today = tallinn_today()
    first, first_date = next_import(today, rule, None)
    second = first.next()
    second_date = import_date_for(second, rule)
    assert today <= first_date < second_date and first_date in first and second_date in second
    return first, first_date, second, second_date


def test_schedule_imports_every_mapped_field_and_catches_up_next_month(stack, admin, make_company) -> None:
    # Given a company with every field mapped and two clients: one with documents, one without
    first, first_date, second, second_date = first_two_imports()
    company = make_company(["co-small", "co-empty"])
    assert company.state()["nextImport"] == {"month": str(first), "date": first_date.isoformat(), "at": None}

    # When the schedule fires on the day before the import day (yesterday when today is the import day): the
    # company's next import date is first_date, so nothing is due
    assert stack.fire_scheduled_import(first_date - dt.timedelta(days=1))["queued"] == 0

    # When it fires on the first month's import day, and then on the next month's
    stack.fire_scheduled_import(first_date)
    stack.wait_until_idle()
    stack.fire_scheduled_import(second_date)
    stack.wait_until_idle()

    # Then both months have a task per client with every mapped field equal to the oracle's value
    for year_month in (first, second):
        month = str(year_month)
        small = company.tasks("co-small", month, month)[month]
        assert_task_matches(company, small, expected_month(admin, "co-small", month), ALL_FIELDS)
        assert (
            small["title"] == f"Client of co-small: bookkeeping {MONTH_NAMES[year_month.month - 1]} {year_month.year}"
        )
        assert small["recurrence"] == "MONTHLY" and small["periodStart"] == f"{month}-01"
        assert small["assigneeId"] == f"user-{company.id}-owner"
        empty = company.tasks("co-empty", month, month)[month]
        assert all(empty["fieldValues"][company.fields[k]] == 0 for k in ALL_FIELDS)
    assert set(company.tasks("co-small", str(first.minus(10)), str(second.plus(6)))) == {str(first), str(second)}
    state = company.state()
    assert state["lastImport"]["month"] == str(second)
    assert state["nextImport"]["month"] == str(second.next())

    # And each import ran one query per document kind (all on one page for a small company)
    history = company.history("co-small")
    # the second run refreshes the first month too (late bookings), in the same four queries
    assert [h["months"] for h in history] == [[str(first), str(second)], [str(first)]]
    assert all(h["outcome"] == "SUCCEEDED" for h in history)
    assert history[1]["callsUsed"] == 4  # one query per document kind, one page each
    # the refresh costs pages, not calls: still one query per kind, a page per 100 documents
    kinds = ["CLIENT_INVOICES", "VENDOR_INVOICES", "PAYMENTS", "JOURNAL_ENTRIES"]
    assert [q["source"] for q in history[0]["queries"]] == kinds
    for query in history[0]["queries"]:
        assert query["dateFrom"] == f"{first}-01"
        assert query["calls"] == query["pages"] == max(1, -(-query["documents"] // 100))
    assert history[0]["callsUsed"] == sum(q["calls"] for q in history[0]["queries"])

    # When the same import arrives again (a re-delivered schedule message, and a stray reload message of no job)
    queue = stack.provisioned.queue_urls["ImportQueue"]
    before = company.tasks("co-small", str(first), str(second))
    body = {
        "kind": "IMPORT",
        "companyId": company.id,
        "clientId": company.clients["co-small"],
        "months": [str(first), str(second)],
        "reason": "SCHEDULE",
    }
    sqs = stack.boto3_client("sqs")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body | {"reason": "RELOAD", "jobId": "reload-none"}))
    stack.wait_until_idle()

    # Then nothing changes: same values, same versions, and no new history entry (no SmartAccounts call)
    after = company.tasks("co-small", str(first), str(second))
    assert {m: (t["version"], t["fieldValues"]) for m, t in after.items()} == {
        m: (t["version"], t["fieldValues"]) for m, t in before.items()
    }
    assert len(company.history("co-small")) == len(history)


def test_more_than_one_page_and_blank_fields_cost_no_calls(stack, admin, make_company) -> None:
    # Given a large company (thousands of sales invoices a month) with only the sales invoice fields mapped
    first, first_date, _, _ = first_two_imports()
    month = str(first)
    company = make_company(["co-large"], mapped=SALES_FIELDS)

    # When the first month is imported
    stack.fire_scheduled_import(first_date)
    stack.wait_until_idle(timeout=90)

    # Then the values match the oracle over all pages
    task = company.tasks("co-large", month, month)[month]
    expected = expected_month(admin, "co-large", month)
    assert expected["saleEntries"] > 100
    assert_task_matches(company, task, expected, SALES_FIELDS)

    # And no other kind of document was asked for: blank fields cost nothing
    calls = admin.calls_by_endpoint(company.api_key)
    asked = {
        endpoint for endpoint in calls if "invoices" in endpoint or "payments" in endpoint or "entries" in endpoint
    }
    assert asked == {next(e for e in calls if "clientinvoices" in e)}
    assert company.history("co-large")[0]["callsUsed"] > 1

    # (the stack is shared: later scheduled runs in this session must not import this large company again, a
    # minute-limited import of two months of co-large takes longer than their wait)
    company.call("POST", f"{INTEGRATION}/disable")


def test_revoked_key_fails_the_connection_and_catch_up_fills_the_gap(stack, admin, make_company) -> None:
    # Given the first month imported with the company's key
    first, first_date, second, second_date = first_two_imports()
    company = make_company(["co-small"])
    stack.fire_scheduled_import(first_date)
    stack.wait_until_idle()
    assert str(first) in company.tasks("co-small", str(first), str(first))

    # When the key is revoked in SmartAccounts and the next month's import day comes
    admin.post(f"keys/{company.api_key}/revoke")
    stack.fire_scheduled_import(second_date)
    stack.wait_until_idle()

    # Then the connection is failing with the reason, one notification says so, the next month is missing
    connection = company.state()["connection"]
    assert connection["status"] == "FAILING" and connection["reason"] == "CREDENTIALS_REVOKED"
    notifications = company.call("GET", "/v1/notifications")["notifications"]
    assert [n["kind"] for n in notifications] == ["CONNECTION_FAILING"]
    assert company.api_key not in json.dumps(notifications)
    assert str(second) not in company.tasks("co-small", str(second), str(second))
    assert company.history("co-small")[0]["errorKind"] == "CREDENTIALS_REVOKED"

    # When a run comes while still failing (two days later, long before the month after's import day): no call with
    # the failing key, no second notification
    revoked_calls = admin.calls_by_endpoint(company.api_key)
    stack.fire_scheduled_import(second_date + dt.timedelta(days=2))
    stack.wait_until_idle()
    assert admin.calls_by_endpoint(company.api_key) == revoked_calls
    assert len(company.call("GET", "/v1/notifications")["notifications"]) == 1

    # When a new key pair is saved, and the next evening's run comes
    new_key, new_secret = admin.new_key("co-small")
    company.call("PUT", f"{INTEGRATION}/credentials", json={"apiKey": new_key, "apiSecret": new_secret})
    assert company.state()["connection"]["status"] == "CONNECTED"
    stack.fire_scheduled_import(second_date + dt.timedelta(days=3))
    stack.wait_until_idle()

    # Then the missed month is caught up, with the oracle's values
    task = company.tasks("co-small", str(second), str(second))[str(second)]
    assert_task_matches(company, task, expected_month(admin, "co-small", str(second)), ALL_FIELDS)

    # And the notification can be marked read
    notification_id = notifications[0]["id"]
    read = company.call("POST", f"/v1/notifications/{notification_id}/read")
    assert read["read"] is True


def test_routes_validate_and_hide_other_companies(stack, make_company) -> None:
    first, _, _, _ = first_two_imports()
    company = make_company(["co-empty"], mapped=("saleEntries",))
    client = company.clients["co-empty"]
    bad = company.call("GET", f"/v1/clients/{client}/summary-tasks", expect=400, params={"from": f"{first.year}-13"})
    assert bad["code"] == "VALIDATION_FAILED"
    backwards = company.call(
        "GET",
        f"/v1/clients/{client}/summary-tasks",
        expect=400,
        params={"from": str(first), "to": str(first.previous())},
    )
    assert backwards["code"] == "VALIDATION_FAILED"
    other = make_company(["co-empty"], mapped=("saleEntries",))
    assert other.call("GET", f"/v1/clients/{client}/summary-tasks", expect=404)["code"] == "NOT_FOUND"
    assert other.call("GET", f"/v1/clients/{client}/sync-history", expect=404)["code"] == "NOT_FOUND"
    assert other.call("POST", "/v1/notifications/nope/read", expect=404)["code"] == "NOT_FOUND"
