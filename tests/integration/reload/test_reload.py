"""Reload data on the local stack: 12-month back-fill for many clients, progress, joining, the daily quota running
out mid-job, duplicate deliveries and exactly one notification - values checked against the sandbox's documents."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest
import requests

from smartaccounts_sync.domain.import_day import ImportDay, import_date_for
from smartaccounts_sync.domain.months import YearMonth, tallinn_today
from tests.support.local_company import INTEGRATION, Company, assert_task_matches, expected_month

pytestmark = pytest.mark.integration

FIELDS = ("saleEntries", "creditInvoices", "salesTotal", "bankEntries", "cashEntries", "bankTurnover")


RULE = ImportDay.last_work_day()  # the rule make_company saves


def _window_params(window: list[str]) -> dict[str, str]:
    return {"from": window[0], "to": window[-1]}


def _link_with_own_key(company: Company, admin, sa_company: str, name: str) -> str:
    """One more Uku client, linked with its own key pair (its own SmartAccounts quota)."""
    key, secret = admin.new_key(sa_company)
    client = company.call("POST", "/v1/clients", expect=201, json={"name": name})
    company.call(
        "PUT",
        f"/v1/clients/{client['id']}/integration",
        json={"integration": "smartaccounts", "companyId": sa_company, "apiKey": key, "apiSecret": secret},
    )
    return client["id"]


def _wait_for_job(company: Company, location: str, timeout: float = 120) -> Iterator[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = company.call("GET", location)
        yield job
        if job["status"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED"):
            return
        time.sleep(0.1)
    raise AssertionError("the reload did not finish in time")


def _notifications(company: Company) -> list[dict]:
    return [n for n in company.call("GET", "/v1/notifications")["notifications"] if n["kind"] == "RELOAD_COMPLETED"]


def test_reload_back_fills_twelve_months_of_every_client_with_progress_and_one_notification(
    stack, admin, make_company
) -> None:
    # Given a company with six linked clients (two through the company key, four with keys of their own)
    company = make_company(["co-small", "co-empty"], mapped=FIELDS)
    clients = {company.clients["co-small"]: "co-small", company.clients["co-empty"]: "co-empty"}
    for i, sa in enumerate(["co-small", "co-empty", "co-small", "co-empty"]):
        clients[_link_with_own_key(company, admin, sa, f"Own key client {i}")] = sa
    # and SmartAccounts answering slowly enough to watch progress
    admin.post("faults", {"latencyMs": 60})
    try:
        # When Reload data is clicked
        response = requests.post(
            f"{stack.api_url}{INTEGRATION}/reload",
            headers={"Authorization": f"Bearer {company.token}"},
            timeout=30,
        )
        assert response.status_code == 202
        accepted = response.json()
        location = response.headers["Location"]
        assert location == f"/v1/reload-jobs/{accepted['jobId']}"
        assert accepted["status"] == "QUEUED" and accepted["clientsTotal"] == 6 and accepted["clientsDone"] == 0

        # Then the window is 12 consecutive months ending with the last month whose import day has passed
        window = [YearMonth.parse(m) for m in accepted["window"]]
        assert window == YearMonth.range(window[0], window[-1]) and len(window) == 12
        today = tallinn_today()
        assert import_date_for(window[-1], RULE) <= today < import_date_for(window[-1].next(), RULE)

        # And a second request while it runs joins it, as does a one-client reload
        again = company.call("POST", f"{INTEGRATION}/reload", expect=202)
        one = company.call("POST", f"/v1/clients/{company.clients['co-small']}/integration/reload", expect=202)
        assert again["jobId"] == one["jobId"] == accepted["jobId"] and again["joined"] and one["joined"]
        assert company.state()["runningReload"]["jobId"] == accepted["jobId"]

        seen = [job["clientsDone"] for job in _wait_for_job(company, location)]
    finally:
        requests.delete(f"{admin.url}/faults", timeout=10)
    job = company.call("GET", location)

    # Then progress moved through intermediate values to every client, never backwards
    assert seen == sorted(seen) and seen[-1] == 6 and len(set(seen)) > 2
    assert job["status"] == "COMPLETED" and job["errors"] == {}
    assert job["startedAt"] and job["finishedAt"] and job["callsUsed"] > 0
    assert company.state()["runningReload"] is None

    # And every task value of all 12 months equals what the documents say
    for client_id, sa in clients.items():
        tasks = {
            t["month"]: t
            for t in company.call(
                "GET", f"/v1/clients/{client_id}/summary-tasks", params=_window_params(job["window"])
            )["tasks"]
        }
        assert sorted(tasks) == job["window"]
        for month, task in tasks.items():
            assert_task_matches(company, task, expected_month(admin, sa, month), FIELDS)

    # And exactly one notification says it is ready
    [notification] = _notifications(company)
    assert notification["data"]["jobId"] == job["jobId"] and notification["data"]["clientsTotal"] == 6


def test_duplicate_deliveries_change_nothing(stack, admin, make_company) -> None:
    # Given a finished reload
    company = make_company(["co-small"], mapped=FIELDS)
    accepted = company.call("POST", f"{INTEGRATION}/reload", expect=202)
    location = f"/v1/reload-jobs/{accepted['jobId']}"
    list(_wait_for_job(company, location))
    stack.wait_until_idle()
    job = company.call("GET", location)
    client_id = company.clients["co-small"]
    tasks = company.call("GET", f"/v1/clients/{client_id}/summary-tasks", params=_window_params(job["window"]))

    # When the same work arrives again, twice (SQS delivers at least once)
    body = json.dumps(
        {
            "kind": "IMPORT",
            "companyId": company.id,
            "clientId": client_id,
            "months": job["window"],
            "reason": "RELOAD",
            "jobId": job["jobId"],
        }
    )
    sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
    queue = stack.provisioned.queue_urls["ImportQueue"]
    for _ in range(2):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    time.sleep(0.5)
    stack.wait_until_idle()

    # Then the job's counts, the tasks (values and versions) and the notifications are unchanged
    after = company.call("GET", location)
    assert (after["clientsDone"], after["callsUsed"], after["status"]) == (
        job["clientsDone"],
        job["callsUsed"],
        job["status"],
    )
    assert company.call("GET", f"/v1/clients/{client_id}/summary-tasks", params=_window_params(job["window"])) == tasks
    assert len(_notifications(company)) == 1


def test_duplicates_delivered_while_the_job_runs_are_counted_once(stack, admin, make_company) -> None:
    # Given a running reload of two clients (SmartAccounts answering slowly)
    company = make_company(["co-small", "co-empty"], mapped=FIELDS)
    admin.post("faults", {"latencyMs": 40})
    try:
        accepted = company.call("POST", f"{INTEGRATION}/reload", expect=202)
        # When every client's work is delivered twice more while the job runs
        sqs = boto3.client("sqs", endpoint_url=stack.moto_url, region_name="eu-north-1")
        queue = stack.provisioned.queue_urls["ImportQueue"]
        for client_id in accepted["clientIds"]:
            body = json.dumps(
                {
                    "kind": "IMPORT",
                    "companyId": company.id,
                    "clientId": client_id,
                    "months": accepted["window"],
                    "reason": "RELOAD",
                    "jobId": accepted["jobId"],
                }
            )
            for _ in range(2):
                sqs.send_message(QueueUrl=queue, MessageBody=body)
        list(_wait_for_job(company, f"/v1/reload-jobs/{accepted['jobId']}"))
        stack.wait_until_idle()
    finally:
        requests.delete(f"{admin.url}/faults", timeout=10)

    # Then each client counted once, the job completed once, one notification, and every task written once
    job = company.call("GET", f"/v1/reload-jobs/{accepted['jobId']}")
    assert job["status"] == "COMPLETED" and job["clientsDone"] == 2 == job["clientsTotal"]
    assert len(_notifications(company)) == 1
    for client_id in accepted["clientIds"]:
        tasks = company.call("GET", f"/v1/clients/{client_id}/summary-tasks", params=_window_params(job["window"]))
        assert {task["version"] for task in tasks["tasks"]} == {1}


def test_daily_quota_running_out_mid_job_waits_and_completes_by_itself(stack, admin, make_company) -> None:
    # Given three clients sharing one company key, and a SmartAccounts day of 4 seconds with 8 requests a day
    company = make_company(["co-small"], mapped=("saleEntries", "bankEntries"))
    for i in range(2):
        client = company.call("POST", "/v1/clients", expect=201, json={"name": f"Second {i}"})
        company.call(
            "PUT",
            f"/v1/clients/{client['id']}/integration",
            json={"integration": "smartaccounts", "companyId": "co-small"},
        )
    requests.put(f"{admin.url}/quota", json={"perDay": 8, "timeScale": 21600}, timeout=10).raise_for_status()
    admin.post("quota/reset")
    try:
        # When the reload runs (each client needs about six requests)
        accepted = company.call("POST", f"{INTEGRATION}/reload", expect=202)
        statuses = [
            (job["status"], job["resumesAt"])
            for job in _wait_for_job(company, f"/v1/reload-jobs/{accepted['jobId']}", timeout=180)
        ]
    finally:
        requests.put(f"{admin.url}/quota", json={"perDay": 1000, "timeScale": 1}, timeout=10).raise_for_status()
        admin.post("quota/reset")

    # Then it said it was waiting for the quota, and when it would resume, then completed on its own
    waiting = [resumes for status, resumes in statuses if status == "WAITING_FOR_QUOTA"]
    assert waiting and all(waiting)
    assert statuses[-1][0] == "COMPLETED"
    job = company.call("GET", f"/v1/reload-jobs/{accepted['jobId']}")
    assert job["clientsDone"] == 3 and job["errors"] == {}
    # nothing was dropped: every client has all 12 months
    for client in company.call("GET", "/v1/clients")["clients"]:
        tasks = company.call("GET", f"/v1/clients/{client['id']}/summary-tasks", params=_window_params(job["window"]))[
            "tasks"
        ]
        assert len(tasks) == 12
    # and the sync history says which imports waited for the quota
    deferred = [
        entry
        for client in company.call("GET", "/v1/clients")["clients"]
        for entry in company.call("GET", f"/v1/clients/{client['id']}/sync-history")["entries"]
        if entry["outcome"] == "DEFERRED"
    ]
    assert deferred and all(entry["errorKind"] == "DAILY_QUOTA_SPENT" for entry in deferred)
    assert len(_notifications(company)) == 1


def test_reload_of_another_companys_job_or_client_is_not_found(stack, make_company) -> None:
    company = make_company(["co-empty"], mapped=("saleEntries",))
    accepted = company.call("POST", f"{INTEGRATION}/reload", expect=202)
    stranger = make_company(["co-empty"], mapped=("saleEntries",))
    problem = stranger.call("GET", f"/v1/reload-jobs/{accepted['jobId']}", expect=404)
    assert problem["code"] == "NOT_FOUND"
    problem = stranger.call("POST", f"/v1/clients/{company.clients['co-empty']}/integration/reload", expect=404)
    assert problem["code"] == "NOT_FOUND"
