"""The Client list tab in Chromium against the local stack and the sandbox: the link dialog (a client's own key pair
and the company only that key sees, which company a linked client is linked to, plain-words validation), each
client's import status (held, failed), the details refreshed when Reload data finishes, values as amounts.

One Uku company per test (fresh id) and fresh sandbox key pairs, so no test meets another's data.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from uuid import uuid4

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT, SandboxAdmin, axe_violations

pytestmark = pytest.mark.browser

SMALL = ("co-small", "Väike Raamatupidamine OÜ")
MEDIUM = ("co-medium", "Keskmine Kaubandus AS")
INTEGRATION = "/v1/integrations/smartaccounts"


@dataclass
class Company:
    """A fresh Uku company on the local stack, called over HTTP as Uku's front end would."""

    base: str
    token: str
    id: str

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(
            method, self.base + path, headers={"Authorization": f"Bearer {self.token}"}, timeout=TIMEOUT, **kwargs
        )

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}

    def client(self, name: str, registry_code: str) -> str:
        return self.ok("POST", "/v1/clients", json={"name": name, "registryCode": registry_code})["id"]

    def link(self, client_id: str, company_id: str, **own: str) -> dict:
        body = {"integration": "smartaccounts", "companyId": company_id, **own}
        return self.ok("PUT", f"/v1/clients/{client_id}/integration", json=body)


@pytest.fixture
def company(stack, sandbox_admin: SandboxAdmin) -> tuple[Company, tuple[str, str]]:
    """Enabled, with a saved firm key pair that sees the small and the medium demo companies."""
    uku_id = f"webcl-{uuid4().hex[:8]}"
    uku = Company(stack.api_url, stack.token(uku_id, "owner", "team"), uku_id)
    uku.ok("POST", f"{INTEGRATION}/enable")
    firm = sandbox_admin.new_key(SMALL[0], MEDIUM[0])
    uku.ok("PUT", f"{INTEGRATION}/credentials", json={"apiKey": firm[0], "apiSecret": firm[1]})
    return uku, firm


def configure(uku: Company) -> None:
    """Summary task settings mapping a count (sales invoices) and an amount (sales total)."""
    topic = uku.ok("POST", "/v1/topics", json={"name": "Monthly accounting"})["id"]
    count_field = uku.ok("POST", "/v1/custom-task-fields", json={"name": "Sales", "type": "number"})["id"]
    amount_field = uku.ok("POST", "/v1/custom-task-fields", json={"name": "Turnover", "type": "currency"})["id"]
    uku.ok("PUT", f"{INTEGRATION}/settings", json={
        "taskTitle": "Bookkeeping {client} {monthName} {year}", "topicId": topic, "recurrence": "MONTHLY",
        "importDay": {"rule": "LAST_WORK_DAY"},
        "fieldMapping": {"saleEntries": count_field, "salesTotal": amount_field},
    })


def sign_in(page: Page, uku: Company) -> None:
    page.goto(f"{uku.base}/app/")
    page.get_by_label("Uku company").fill(uku.id)
    page.get_by_label("Role").select_option("owner")
    page.get_by_label("Plan").select_option("team")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("tab", name="Client list").click()
    expect(page.locator('[role="tabpanel"]:not([hidden])')).not_to_have_attribute("aria-busy", "true")


def status_of(page: Page, client_id: str):
    return page.locator(f'[data-client-row="{client_id}"] [data-testid="client-status"]')


def test_own_key_pair_links_the_company_only_that_key_sees_and_the_dialog_shows_it(
    stack, page: Page, console, company, sandbox_admin: SandboxAdmin
) -> None:
    # Given a SmartAccounts company only the client's own key pair sees (the firm's key sees two other companies)
    uku, _ = company
    own_company = {"id": f"co-own-{uuid4().hex[:6]}", "name": "Oma Firma OÜ", "regCode": "14000001"}
    requests.post(
        f"{sandbox_admin.url}/companies", json={**own_company, "volume": "none"}, timeout=TIMEOUT
    ).raise_for_status()
    own_key, own_secret = sandbox_admin.new_key(own_company["id"])
    client_id = uku.client("Oma Firma OÜ", "14000001")
    sign_in(page, uku)

    # When the user ticks the client's own key pair, pastes it and checks it
    page.get_by_role("button", name="Integration for Oma Firma OÜ: Not connected").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Integration", exact=True).select_option("smartaccounts")
    dialog.get_by_label("Use the client's own SmartAccounts key pair").check()
    dialog.get_by_label("Client's API key").fill(own_key)
    dialog.get_by_label("Client's API secret").fill(own_secret)
    dialog.get_by_role("button", name="Check key pair").click()

    # Then the dialog names the company the pair belongs to (the firm's list, which lacks it, is not offered)
    expect(dialog.get_by_test_id("own-company")).to_have_text("This key pair belongs to Oma Firma OÜ (14000001).")
    expect(dialog.get_by_label("Search SmartAccounts companies")).to_be_hidden()
    assert axe_violations(page) == []

    # When saved, the client is linked to that company with its own key
    dialog.get_by_role("button", name="Save").click()
    linked = page.get_by_role("button", name="Integration for Oma Firma OÜ: SmartAccounts · Oma Firma OÜ")
    expect(linked).to_be_visible()
    link = uku.ok("GET", f"/v1/clients/{client_id}/integration")
    assert (link["companyId"], link["ownCredentials"]) == (own_company["id"], True)

    # And reopening the dialog shows which company the client is linked to, and with which key
    linked.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("linked-company")).to_contain_text("Linked now to Oma Firma OÜ (14000001)")
    expect(dialog.get_by_test_id("linked-company")).to_contain_text("the client's own key pair")
    expect(dialog.get_by_label("Use the client's own SmartAccounts key pair")).to_be_checked()
    expect(dialog.get_by_test_id("own-company")).to_have_text("The saved key pair belongs to Oma Firma OÜ (14000001).")
    # saving without pasting a new pair keeps the link as it is
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert uku.ok("GET", f"/v1/clients/{client_id}/integration")["companyId"] == own_company["id"]
    assert console.errors == []


def test_firm_key_link_reopened_shows_its_company_selected(stack, page: Page, console, company) -> None:
    # Given a client linked through the firm's key
    uku, _ = company
    client_id = uku.client(MEDIUM[1], "10000003")
    uku.link(client_id, MEDIUM[0])
    sign_in(page, uku)
    # When its dialog is reopened
    page.get_by_role("button", name=f"Integration for {MEDIUM[1]}: SmartAccounts · {MEDIUM[1]}").click()
    dialog = page.get_by_role("dialog")
    # Then it says which company and key, and the company is the one selected in the list
    expect(dialog.get_by_test_id("linked-company")).to_contain_text(f"Linked now to {MEDIUM[1]}")
    expect(dialog.get_by_test_id("linked-company")).to_contain_text("the company's key pair")
    expect(dialog.get_by_label("SmartAccounts company")).to_have_value(MEDIUM[0])
    assert console.errors == []


def test_link_dialog_says_what_is_missing_and_a_search_leaving_one_company_picks_it(
    stack, page: Page, console, company
) -> None:
    uku, _ = company
    client_id = uku.client(SMALL[1], "16000002")
    sign_in(page, uku)
    page.get_by_role("button", name=f"Integration for {SMALL[1]}: Not connected").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Integration", exact=True).select_option("smartaccounts")
    companies = dialog.get_by_label("SmartAccounts company")
    expect(companies.locator("option")).to_have_count(2)

    # When Save is pressed with no company picked
    dialog.get_by_role("button", name="Save").click()
    # Then the dialog says to pick one, next to the list (not the identifier's character rules)
    error = dialog.locator("#" + companies.get_attribute("id") + "-error")
    expect(error).to_have_text("Pick the client's company from the list (search by name or registry code).")
    expect(companies).to_have_attribute("aria-invalid", "true")
    expect(companies).to_be_focused()
    expect(dialog).not_to_contain_text("ASCII")

    # When the own key pair is ticked but nothing pasted
    dialog.get_by_label("Use the client's own SmartAccounts key pair").check()
    dialog.get_by_role("button", name="Save").click()
    key = dialog.get_by_label("Client's API key")
    expect(dialog.locator("#" + key.get_attribute("id") + "-error")).to_contain_text("Paste the client's API key")
    dialog.get_by_label("Use the client's own SmartAccounts key pair").uncheck()

    # When a search leaves one company and the user presses Enter in the search box
    search = dialog.get_by_label("Search SmartAccounts companies")
    search.fill("16000002")
    expect(companies.locator("option")).to_have_count(1)
    expect(companies).to_have_value(SMALL[0])  # the one company left is picked
    search.fill("väike")
    search.press("Enter")  # at once, before the search's pause: the search runs first, then Save
    # Then the client is linked to it
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Integration for {SMALL[1]}: SmartAccounts · {SMALL[1]}")).to_be_visible()
    assert uku.ok("GET", f"/v1/clients/{client_id}/integration")["companyId"] == SMALL[0]
    assert console.errors == []


def test_client_list_shows_imports_held_by_a_failing_firm_key_and_failed_imports(
    stack, page: Page, console, company, sandbox_admin: SandboxAdmin
) -> None:
    # Given one client linked through the firm's key and one with its own key pair
    uku, firm = company
    configure(uku)
    shared = uku.client(SMALL[1], "16000002")
    own = uku.client(MEDIUM[1], "10000003")
    uku.link(shared, SMALL[0])
    own_key, own_secret = sandbox_admin.new_key(MEDIUM[0])
    uku.link(own, MEDIUM[0], apiKey=own_key, apiSecret=own_secret)
    # and the firm's key revoked, found out by the connection test (as a scheduled import would)
    sandbox_admin.revoke(firm[0])
    assert uku.call("POST", f"{INTEGRATION}/test-connection").status_code == 422
    assert uku.ok("GET", INTEGRATION)["connection"]["status"] == "FAILING"

    # and the own key's client's import failing: SmartAccounts answers 500 to every call of that key
    requests.post(
        f"{sandbox_admin.url}/faults", json={"apiKey": own_key, "errorRate": 1.0, "errorStatus": 500}, timeout=TIMEOUT
    ).raise_for_status()
    job = uku.ok("POST", f"/v1/clients/{own}/integration/reload")
    for _ in range(240):
        if uku.ok("GET", f"/v1/reload-jobs/{job['jobId']}")["status"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.5)
    requests.delete(f"{sandbox_admin.url}/faults", params={"apiKey": own_key}, timeout=TIMEOUT)
    latest = uku.ok("GET", f"/v1/clients/{own}/sync-history")["entries"][0]
    assert latest["outcome"] == "FAILED", latest
    assert uku.ok("GET", f"/v1/clients/{own}/integration")["status"] == "OK"  # the link itself looks fine

    # When the client list is opened
    sign_in(page, uku)

    # Then the firm key's client is shown held, with the fix; the own key's client as failing, with the reason
    expect(status_of(page, shared)).to_have_attribute("data-state", "HELD")
    expect(status_of(page, shared)).to_contain_text("Imports held")
    expect(status_of(page, shared)).to_contain_text("Connect tab")
    expect(status_of(page, own)).to_have_attribute("data-state", "IMPORT_FAILED")
    expect(status_of(page, own)).to_contain_text("Last import failed")
    expect(status_of(page, own)).to_contain_text(latest["message"])
    assert "OK" not in status_of(page, shared).inner_text() + status_of(page, own).inner_text()
    assert axe_violations(page) == []

    # And the client's sync history names the error kind
    page.locator(f'[data-details="{own}"]').click()
    entry = page.get_by_test_id("sync-history").locator(f'tr[data-entry="{latest["id"]}"]')
    expect(entry.get_by_test_id("error-kind")).to_have_text(re.compile(r"\S"))
    expect(page.get_by_test_id("client-summary")).to_contain_text("Last import failed")
    assert console.errors == []


def test_client_list_shows_each_clients_status_from_the_list_alone(stack, page: Page, console, company) -> None:
    # Given five clients linked through the firm's key, their latest imports as the import worker stores them on the
    # links: succeeded, failed, waiting for the quota; one linked before links kept their latest import (only its
    # last month imported is known); one never imported
    from smartaccounts_sync.adapters.client_link_repository import DynamoDbClientLinkRepository
    from smartaccounts_sync.domain.months import YearMonth
    from smartaccounts_sync.domain.sync_records import ImportOutcome, SyncHistoryEntry

    uku, _ = company
    configure(uku)
    names = ("Alpha OÜ", "Beta OÜ", "Gamma OÜ", "Delta OÜ", "Epsilon OÜ")
    ids = [uku.client(name, f"1600000{i}") for i, name in enumerate(names)]
    for client_id in ids:
        uku.link(client_id, SMALL[0])
    links = DynamoDbClientLinkRepository(stack.boto3_client("dynamodb"), stack.provisioned.names["ConfigTable"])
    october = YearMonth(2026, 10)
    failed = "SmartAccounts did not answer (500). The import is tried again by itself."
    waiting = "The daily limit of SmartAccounts requests is used up. The import continues after midnight."

    def imported(client_id: str, outcome: ImportOutcome | None, kind: str | None = None, message: str | None = None):
        link = links.get(uku.id, client_id).model_copy(update={"last_imported_month": october})
        if outcome is not None:
            link = link.with_latest_import(SyncHistoryEntry(
                id=f"e-{client_id}", company_id=uku.id, client_id=client_id, at=link.linked_at, reason="SCHEDULE",
                months=[october.next()], outcome=outcome, error_kind=kind, message=message,
            ))
        assert links.update(uku.id, link)

    ok, failing, deferred, before, fresh = ids
    imported(ok, ImportOutcome.SUCCEEDED)
    imported(failing, ImportOutcome.FAILED, "UNAVAILABLE", failed)
    imported(deferred, ImportOutcome.DEFERRED, "DAILY_QUOTA_SPENT", waiting)
    imported(before, None)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # When the client list is opened
    sign_in(page, uku)

    # Then every client's status is shown, from the list's answer alone: no client's sync history is read
    expect(status_of(page, ok)).to_have_attribute("data-state", "OK")
    expect(status_of(page, ok)).to_contain_text("Last import: October 2026")
    expect(status_of(page, failing)).to_have_attribute("data-state", "IMPORT_FAILED")
    expect(status_of(page, failing)).to_contain_text("Last import failed")
    expect(status_of(page, failing)).to_contain_text(failed)
    expect(status_of(page, deferred)).to_have_attribute("data-state", "WAITING_FOR_QUOTA")
    expect(status_of(page, deferred)).to_contain_text(waiting)
    # a link from before says what is known, not "OK": its last month imported
    expect(status_of(page, before)).to_have_attribute("data-state", "LAST_IMPORTED")
    expect(status_of(page, before)).to_contain_text("October 2026 was the last month imported")
    expect(status_of(page, fresh)).to_have_attribute("data-state", "NOT_IMPORTED")
    expect(status_of(page, fresh)).to_contain_text("Not imported yet")
    assert any("/v1/clients" in url for url in requested)
    assert [url for url in requested if "sync-history" in url] == []
    assert axe_violations(page) == []

    # And a client's details still read its history, and say the same
    page.locator(f'[data-details="{failing}"]').click()
    expect(page.get_by_test_id("client-summary")).to_contain_text("Last import failed")
    assert [url for url in requested if "sync-history" in url] == [
        url for url in requested if f"/v1/clients/{failing}/sync-history" in url
    ]
    assert console.errors == []


def test_reload_for_one_client_refreshes_its_tables_and_amounts_have_two_decimals(
    stack, page: Page, console, company
) -> None:
    # Given a client linked through the firm's key, and settings mapping a count and an amount
    uku, _ = company
    client_id = uku.client(SMALL[1], "16000002")
    uku.link(client_id, SMALL[0])
    configure(uku)
    sign_in(page, uku)
    page.locator(f'[data-details="{client_id}"]').click()
    expect(page.locator(".client-details")).to_contain_text("No summary tasks yet")

    # When Reload data for this client is confirmed and the reload finishes
    page.get_by_role("button", name="Reload data for this client").click()
    page.get_by_role("dialog").get_by_role("button", name="Confirm reload").click()
    expect(page.get_by_test_id("reload-progress")).to_have_attribute("data-status", "COMPLETED", timeout=90_000)

    # Then the summary tasks and the history show what it imported, without asking again
    table = page.get_by_test_id("summary-tasks")
    expect(table.locator("tbody tr")).to_have_count(12)
    expect(page.get_by_test_id("sync-history")).to_contain_text("Succeeded")
    # amounts with two decimals (thousands grouped), counts as whole numbers, as the service's values say
    tasks = {t["month"]: t["values"] for t in uku.ok("GET", f"/v1/clients/{client_id}/summary-tasks")["tasks"]}
    for month, values in tasks.items():
        row = table.locator(f'tr[data-month="{month}"]')
        expect(row.locator('[data-key="salesTotal"]')).to_have_text(f"{values['salesTotal']:,.2f}")
        expect(row.locator('[data-key="saleEntries"]')).to_have_text(str(values["saleEntries"]))
    # and the history lists each month's values
    entry = uku.ok("GET", f"/v1/clients/{client_id}/sync-history")["entries"][0]
    row = page.get_by_test_id("sync-history").locator(f'tr[data-entry="{entry["id"]}"]')
    values = row.get_by_test_id("history-values")
    values.locator("summary").click()
    month = sorted(entry["values"])[-1]
    expect(values.locator(f'li[data-month="{month}"]')).to_contain_text(
        f"Sales total without VAT {entry['values'][month]['salesTotal']:,.2f}"
    )
    expect(status_of(page, client_id)).to_have_attribute("data-state", "OK")
    assert axe_violations(page) == []
    assert console.errors == []
