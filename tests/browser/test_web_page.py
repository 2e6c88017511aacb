"""The help page, walked by clicking the reference web page in Chromium, against the local stack and the sandbox.

One Uku company per test (fresh id) and fresh sandbox key pairs, so the walk never meets another test's data.
Every view is checked with axe-core (0 serious or critical violations) and saved as a screenshot.
"""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import TIMEOUT, Console, SandboxAdmin, axe_violations

pytestmark = pytest.mark.browser

SMALL = ("co-small", "Väike Raamatupidamine OÜ")
MEDIUM = ("co-medium", "Keskmine Kaubandus AS")


class Walk:
    """The page plus the checks made on every view: screenshot and accessibility."""

    def __init__(self, page: Page, base: str, shots: Path, console: Console) -> None:
        self.page, self.base, self.shots, self.console = page, base, shots, console
        self.seen: dict[str, list[dict]] = {}

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=re.compile(f"^{name}")).click()
        tab_id = self.page.get_by_role("tab", name=re.compile(f"^{name}")).get_attribute("aria-controls")
        expect(self.page.locator(f"#{tab_id}")).to_have_attribute("data-ready", re.compile(".+"))
        expect(self.page.locator(f"#{tab_id}")).not_to_have_attribute("aria-busy", "true")

    def check(self, name: str) -> None:
        """Screenshot and axe-core check of what is on screen now."""
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        self.seen[name] = axe_violations(self.page)


def api(base: str, token: str, method: str, path: str, **kwargs) -> dict:
    response = requests.request(
        method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, **kwargs
    )
    assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def test_help_page_walked_in_the_browser(stack, page: Page, console: Console, screenshots: Path,
                                         sandbox_admin: SandboxAdmin) -> None:
    # Given an Uku company with two clients, a topic and one custom task field, and SmartAccounts key pairs:
    # the firm's (sees both companies) and the medium client's own (sees only its company)
    company = f"web-{uuid4().hex[:8]}"
    token = stack.token(company, "owner", "team")
    base = stack.api_url
    small = api(base, token, "POST", "/v1/clients", json={"name": SMALL[1], "registryCode": "16000002"})
    medium = api(base, token, "POST", "/v1/clients", json={"name": MEDIUM[1], "registryCode": "10000003"})
    api(base, token, "POST", "/v1/topics", json={"name": "Monthly accounting"})
    api(base, token, "POST", "/v1/custom-task-fields", json={"name": "Sale entries", "type": "number"})
    firm_key, firm_secret = sandbox_admin.new_key(SMALL[0], MEDIUM[0])
    own_key, own_secret = sandbox_admin.new_key(MEDIUM[0])
    walk = Walk(page, base, screenshots, console)

    # When the user signs in on the local stack as that company's owner on the team plan
    page.goto(f"{base}/app/")
    walk.check("00-sign-in")
    page.get_by_label("Uku company").fill(company)
    page.get_by_label("Role").select_option("owner")
    page.get_by_label("Plan").select_option("team")
    page.get_by_role("button", name="Sign in").click()
    walk.tab("Overview")
    expect(page.get_by_test_id("enabled")).to_have_text("Disabled")

    # Overview: Enable turns the integration on
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("enabled")).to_have_text("Enabled")
    assert api(base, token, "GET", "/v1/integrations/smartaccounts")["enabled"] is True

    # Keyboard: the tabs follow the arrow keys, and the focus is visible
    page.get_by_role("tab", name="Overview").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Connect")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tab", name="Connect")).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"

    # Connect: a wrong secret shows the cause and the help page's fix next to the form
    walk.tab("Connect")
    page.get_by_label("API key").fill(f"  {firm_key} ")
    page.get_by_label("API secret").fill("not-the-secret")
    page.get_by_role("button", name="Test connection").click()
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("rejected the API secret")
    expect(problem).to_contain_text("Regenerate the pair in SmartAccounts and paste both values into Uku")
    walk.check("02-connect-wrong-secret")
    # an empty key is refused next to its field
    page.get_by_label("API key").fill("")
    page.get_by_role("button", name="Save").click()
    key_error = page.locator("#" + page.get_by_label("API key").get_attribute("id") + "-error")
    expect(key_error).to_be_visible()
    expect(page.get_by_label("API key")).to_have_attribute("aria-invalid", "true")
    # the right pair, pasted with whitespace: tested, the whitespace removal said, then saved
    page.get_by_label("API key").fill(f"  {firm_key} ")
    page.get_by_label("API secret").fill(f"{firm_secret}\n")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_test_id("tested-company")).to_have_text(SMALL[1])
    expect(page.get_by_test_id("connect-result")).to_contain_text("were removed")
    page.get_by_label("API secret").fill(firm_secret)
    page.get_by_label("API key").fill(firm_key)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("connect-result")).to_contain_text("saved")
    walk.check("02-connect")
    state = api(base, token, "GET", "/v1/integrations/smartaccounts")
    assert state["connection"]["status"] == "CONNECTED" and state["companyName"] == SMALL[1]

    # Settings: title preview, import day with the next import date, a mapping and a New custom field
    walk.tab("Settings")
    title = page.get_by_label("Task title")
    title.fill("Bookkeeping {client} {monthName} {year}")
    expect(page.get_by_test_id("title-preview")).to_contain_text("Bookkeeping Väike Raamatupidamine OÜ")
    page.get_by_label("Day of the following month").check()
    page.get_by_label("Day (1 to 28)").fill("30")
    expect(page.get_by_test_id("next-import")).to_contain_text("pick a day from 1 to 28")
    page.get_by_role("button", name="Save").click()  # the service refuses day 30 next to the field
    day_error = page.locator("#" + page.get_by_label("Day (1 to 28)").get_attribute("id") + "-error")
    expect(day_error).to_contain_text("between 1 and 28")
    page.get_by_label("Last work day of the month").check()
    page.get_by_label("Uku custom task field for Sale entries").select_option(label="Sale entries (number)")
    page.get_by_label("Uku custom task field for Purchase entries").select_option(label="+ New custom field…")
    page.get_by_label("Field name").fill("Purchase invoices")
    page.get_by_role("button", name="Create field").click()
    expect(page.get_by_label("Uku custom task field for Purchase entries")).to_have_value(re.compile("^field-"))
    expect(page.get_by_label("Uku custom task field for Credit invoices")).to_be_hidden()
    page.get_by_role("button", name="Show more").click()
    expect(page.get_by_label("Uku custom task field for Credit invoices")).to_be_visible()
    walk.check("03-settings-show-more")
    page.get_by_role("button", name="Show fewer").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Reload data")
    walk.check("03-settings")
    saved = api(base, token, "GET", "/v1/integrations/smartaccounts")
    fields = {f["name"]: f["id"] for f in api(base, token, "GET", "/v1/custom-task-fields")["fields"]}
    assert {k: v for k, v in saved["settings"]["fieldMapping"].items() if v} == {
        "saleEntries": fields["Sale entries"], "purchaseEntries": fields["Purchase invoices"],
    }
    # the page's next import date is the service's
    assert page.get_by_test_id("next-import").get_attribute("data-date") == saved["nextImport"]["date"]

    # Client list: link the small client through the firm key, the medium one with its own key pair
    walk.tab("Client list")
    walk.check("04-client-list-unlinked")
    # keyboard: Enter opens the link dialog on the focused Integration button, Escape closes it and focus returns
    opener = page.get_by_role("button", name=f"Integration for {SMALL[1]}: Not connected")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("dialog").get_by_label("Integration", exact=True)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(opener).to_be_focused()
    page.get_by_role("button", name=f"Integration for {SMALL[1]}: Not connected").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Integration", exact=True).select_option("smartaccounts")
    dialog.get_by_label("Search SmartAccounts companies").fill("väike")
    expect(dialog.get_by_label("SmartAccounts company").locator("option")).to_have_count(1)
    dialog.get_by_label("SmartAccounts company").select_option(SMALL[0])
    walk.check("04-client-link-dialog")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(f'[data-client-row="{small["id"]}"] [data-testid="client-status"]')).to_contain_text(
        "Not imported yet"  # linked, nothing imported yet
    )
    page.get_by_role("button", name=f"Integration for {MEDIUM[1]}: Not connected").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Integration", exact=True).select_option("smartaccounts")
    dialog.get_by_label("SmartAccounts company").select_option(MEDIUM[0])
    dialog.get_by_label("Use the client's own SmartAccounts key pair").check()
    dialog.get_by_label("Client's API key").fill(own_key)
    dialog.get_by_label("Client's API secret").fill(own_secret)
    dialog.get_by_role("button", name="Save").click()
    medium_status = page.locator(f'[data-client-row="{medium["id"]}"] [data-testid="client-status"]')
    expect(medium_status).to_contain_text("Not imported yet")
    links = {c["id"]: c["integration"] for c in api(base, token, "GET", "/v1/clients")["clients"]}
    assert links[small["id"]]["companyId"] == SMALL[0] and links[small["id"]]["ownCredentials"] is False
    assert links[medium["id"]]["companyId"] == MEDIUM[0] and links[medium["id"]]["ownCredentials"] is True
    walk.check("04-client-list")

    # Relinking to another company says a reload is needed
    page.get_by_role("button", name=f"Integration for {SMALL[1]}: SmartAccounts · {SMALL[1]}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("SmartAccounts company").select_option(MEDIUM[0])
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".client-details")).to_contain_text("Reload data")
    page.get_by_role("button", name=f"Integration for {SMALL[1]}: SmartAccounts · {MEDIUM[1]}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("SmartAccounts company").select_option(SMALL[0])
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("button", name=f"Integration for {SMALL[1]}: SmartAccounts · {SMALL[1]}")).to_be_visible()

    # Settings: Reload data, confirmed, with the progress bar reaching done, then a notification
    walk.tab("Settings")
    page.get_by_role("button", name="Reload data").click()
    walk.check("05-reload-confirm")
    page.get_by_role("dialog").get_by_role("button", name="Confirm reload").click()
    progress = page.get_by_test_id("reload-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-status", "COMPLETED", timeout=90_000)
    expect(page.get_by_test_id("reload-counts")).to_contain_text("2 of 2 clients done")
    assert page.locator("#reload-bar").evaluate("bar => bar.value === bar.max")
    walk.check("05-reload-done")

    # Client list: the small client's summary tasks show the sandbox's own figures
    walk.tab("Client list")
    page.locator(f'[data-details="{small["id"]}"]').click()
    table = page.get_by_test_id("summary-tasks")
    expect(table).to_be_visible()
    months = [row.get_attribute("data-month") for row in table.locator("tbody tr").all()]
    assert len(months) == 12
    for month in months:
        row = table.locator(f'tr[data-month="{month}"]')
        sales = int(row.locator('[data-key="saleEntries"]').inner_text())
        purchases = int(row.locator('[data-key="purchaseEntries"]').inner_text())
        assert sales == sandbox_admin.count(SMALL[0], "clientinvoices", month), month
        assert purchases == sandbox_admin.count(SMALL[0], "vendorinvoices", month), month
    expect(page.get_by_test_id("sync-history")).to_contain_text("Succeeded")
    walk.check("06-summary-tasks")

    # A revoked key: failing in the diagnostics and in the client list, with the fix
    sandbox_admin.revoke(own_key)
    walk.tab("Diagnostics")
    check = page.locator('[data-check="linkedCompaniesVisible"]')
    expect(check).to_have_attribute("data-status", "FAIL")
    expect(check).to_contain_text(MEDIUM[1])
    expect(check).to_contain_text("Fix:")
    walk.check("07-diagnostics-failing")
    walk.tab("Client list")
    expect(medium_status).to_contain_text("Failing")
    expect(medium_status).to_contain_text("revoked")
    walk.check("07-client-list-failing")

    # Fixed: a fresh pair pasted for the client makes it OK again, and the check passes
    new_key, new_secret = sandbox_admin.new_key(MEDIUM[0])
    page.get_by_role("button", name=f"Integration for {MEDIUM[1]}: SmartAccounts · {MEDIUM[1]}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Client's API key").fill(new_key)
    dialog.get_by_label("Client's API secret").fill(new_secret)
    dialog.get_by_role("button", name="Save").click()
    expect(medium_status).to_contain_text("OK")
    walk.tab("Diagnostics")
    expect(page.locator('[data-check="linkedCompaniesVisible"]')).to_have_attribute("data-status", "PASS")
    walk.check("08-diagnostics")

    # Unlink: the client keeps its row, no longer linked
    walk.tab("Client list")
    page.get_by_role("button", name=f"Integration for {SMALL[1]}: SmartAccounts · {SMALL[1]}").click()
    page.get_by_role("dialog").get_by_role("button", name="Unlink").click()
    small_status = page.locator(f'[data-client-row="{small["id"]}"] [data-testid="client-status"]')
    expect(small_status).to_contain_text("Not linked")
    assert api(base, token, "GET", f"/v1/clients/{small['id']}/integration")["status"] == "NOT_LINKED"

    # Overview after all this, notifications (the reload is ready) and invoice export
    walk.tab("Overview")
    expect(page.get_by_test_id("connection")).to_contain_text("Connected")
    expect(page.get_by_test_id("company-name")).to_have_text(SMALL[1])
    expect(page.locator('[role="tabpanel"]:not([hidden])')).to_contain_text("Next import")
    walk.check("01-overview")
    walk.tab("Notifications")
    ready = page.locator('[data-kind="RELOAD_COMPLETED"]').first
    expect(ready).to_contain_text("reload is ready")
    ready.get_by_role("button", name="Mark as read").click()
    expect(ready).to_have_class("read")
    walk.check("09-notifications")
    walk.tab("Invoice export")
    page.get_by_role("button", name="Show export record").click()
    expect(page.locator('[role="tabpanel"]:not([hidden]) .field-error')).to_contain_text("invoice id")
    page.get_by_label("Uku invoice id").fill("inv-not-exported")
    page.get_by_role("button", name="Show export record").click()
    expect(page.locator('[role="tabpanel"]:not([hidden])')).to_contain_text(
        "No export record for this invoice"
    )
    walk.check("10-invoice-export")

    # Narrow window: nothing wider than the screen
    page.set_viewport_size({"width": 390, "height": 800})
    for name in ("Settings", "Client list", "Diagnostics"):
        walk.tab(name)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than a narrow window"
        walk.check(f"11-narrow-{name.split()[0].lower()}")

    # Then: no serious or critical accessibility violation in any view, and no console or server error
    assert {name: found for name, found in walk.seen.items() if found} == {}
    assert console.errors == []
