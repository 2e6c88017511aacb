"""The web page reviewer's findings, each held by a test in Chromium against the local stack (/tmp/web-findings.md).

Settings keeps what it does not show (the default article code, and any field a newer service adds) and shows the
default article code; the VAT types view with its refresh for managers; failure reasons linking to the control that
fixes them; the skip link leaving the tab alone; a member's diagnostics said to be an earlier run; the unread count;
unsaved settings guarded (Reload data, leaving the tab); a new topic and clear name errors; Retry showing the queued
export instead of the old failure; a reload bar that never goes back, and errors naming clients; the Connect intro
after Save; the focus kept on the button used.
"""

from __future__ import annotations

import json
import re
from uuid import uuid4

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import TIMEOUT, Console, SandboxAdmin, axe_violations

pytestmark = pytest.mark.browser

INTEGRATION = "/v1/integrations/smartaccounts"


def api(stack, token: str, method: str, path: str, **kwargs) -> dict:
    response = requests.request(
        method, stack.api_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, **kwargs
    )
    assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def sign_in(page: Page, stack, company: str, role: str = "owner", plan: str = "team") -> None:
    page.goto(f"{stack.api_url}/app/")
    page.evaluate("sessionStorage.clear()")  # signed in before: sign in afresh
    page.reload()
    page.get_by_label("Uku company").fill(company)
    page.get_by_label("Role").select_option(role)
    page.get_by_label("Plan").select_option(plan)
    page.get_by_role("button", name="Sign in").click()
    ready(page, "overview")


def ready(page: Page, tab: str) -> None:
    expect(page.locator(f"#panel-{tab}")).to_have_attribute("data-ready", tab)


def open_tab(page: Page, name: str, tab: str) -> None:
    page.get_by_role("tab", name=re.compile(f"^{name}")).click()
    ready(page, tab)


def company_with_settings(stack, **settings) -> tuple[str, str, dict]:
    """A fresh Uku company, enabled, with a topic, a custom task field and saved settings (plus `settings`)."""
    company = f"web-f-{uuid4().hex[:8]}"
    token = stack.token(company, "owner", "team")
    topic = api(stack, token, "POST", "/v1/topics", json={"name": "Monthly accounting"})
    field = api(stack, token, "POST", "/v1/custom-task-fields", json={"name": "Sale entries", "type": "number"})
    api(stack, token, "POST", f"{INTEGRATION}/enable")
    body = {
        "taskTitle": "Bookkeeping {client} {monthName} {year}", "topicId": topic["id"], "recurrence": "MONTHLY",
        "importDay": {"rule": "LAST_WORK_DAY"}, "fieldMapping": {"saleEntries": field["id"]}, **settings,
    }
    api(stack, token, "PUT", f"{INTEGRATION}/settings", json=body)
    return company, token, field


# --- finding 1: Save keeps the default article code (and what it does not show) --------------------------------


def test_settings_save_keeps_the_default_article_code_and_shows_it_for_editing(stack, page: Page,
                                                                               console: Console) -> None:
    # Given settings saved through the API with a default article code
    company, token, _ = company_with_settings(stack, defaultArticleCode="SERVICE")
    sign_in(page, stack, company)

    # When the Settings tab is saved without changing anything
    open_tab(page, "Settings", "settings")
    article = page.get_by_label("Default article code (invoice export)")
    expect(article).to_have_value("SERVICE")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")

    # Then the default article is kept
    assert api(stack, token, "GET", INTEGRATION)["settings"]["defaultArticleCode"] == "SERVICE"
    # and it is edited like any other setting: changed, then cleared (no default)
    article.fill("CONSULT")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    assert api(stack, token, "GET", INTEGRATION)["settings"]["defaultArticleCode"] == "CONSULT"
    article.fill("")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    assert api(stack, token, "GET", INTEGRATION)["settings"]["defaultArticleCode"] is None
    assert axe_violations(page) == []
    assert console.errors == []


def test_settings_save_sends_every_saved_field_even_one_the_page_does_not_know(stack, page: Page) -> None:
    # Given saved settings with a field a newer service may add, that this page knows nothing of
    company, _, _ = company_with_settings(stack, defaultArticleCode="SERVICE")

    def with_future_field(route: Route) -> None:
        answer = route.fetch()
        state = answer.json()
        state["settings"]["invoiceSeries"] = "UKU"
        route.fulfill(response=answer, body=json.dumps(state))

    sent: list[dict] = []

    def capture(route: Route) -> None:
        if route.request.method != "PUT":
            route.fallback()
            return
        sent.append(route.request.post_data_json)
        route.fulfill(status=200, content_type="application/json", body=json.dumps({**sent[-1], "version": 9}))

    page.route(re.compile(r".*/v1/integrations/smartaccounts$"), with_future_field)
    page.route("**/v1/integrations/smartaccounts/settings", capture)
    sign_in(page, stack, company)

    # When the Settings tab is saved
    open_tab(page, "Settings", "settings")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")

    # Then what is sent carries it, with the shown fields, and no answer-only field (version, notice)
    (body,) = sent
    assert body["invoiceSeries"] == "UKU" and body["defaultArticleCode"] == "SERVICE"
    assert {"taskTitle", "topicId", "recurrence", "importDay", "fieldMapping"} <= body.keys()
    assert "version" not in body and "notice" not in body


# --- finding 2: the VAT types view, and failures pointing to controls that exist ---------------------------------


def test_vat_types_view_lists_the_imported_types_with_refresh_for_managers(stack, page: Page, console: Console,
                                                                           sandbox_admin: SandboxAdmin) -> None:
    # Given an enabled company whose owner saves a firm key pair in the page (the VAT types are imported then)
    company = f"web-vat-{uuid4().hex[:8]}"
    token = stack.token(company, "owner", "team")
    key, secret = sandbox_admin.new_key("co-small")
    sign_in(page, stack, company)
    expect(page.locator("#panel-overview")).not_to_contain_text("Not linked")  # disabled is said once, as such
    toggle = page.get_by_role("button", name="Enable")
    toggle.click()
    expect(page.get_by_test_id("enabled")).to_have_text("Enabled")
    expect(page.get_by_role("button", name="Disable")).to_be_focused()  # the view re-renders; the focus stays
    open_tab(page, "Connect", "connect")
    expect(page.get_by_test_id("connect-intro")).to_contain_text("No key is saved yet")
    page.get_by_label("API key").fill(key)
    page.get_by_label("API secret").fill("not-the-secret")
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("alert")).to_contain_text("rejected the API secret")
    expect(page.get_by_role("button", name="Test connection")).to_be_focused()  # not dropped to <body>
    page.get_by_label("API key").fill(f"{key} ")
    page.get_by_label("API secret").fill(secret)
    page.get_by_role("button", name="Save", exact=True).click()
    result = page.get_by_test_id("connect-result")
    expect(result).to_contain_text("The credentials are saved")
    expect(result).to_contain_text("around the pasted API key were removed")
    expect(result).not_to_contain_text("apiKey")
    expect(page.get_by_test_id("connect-intro")).to_contain_text("Saved key:")  # no longer "No key is saved yet."
    expected = {t["code"] for t in api(stack, token, "GET", f"{INTEGRATION}/vat-types")["vatTypes"]}
    assert expected

    # When the VAT types tab is opened
    open_tab(page, "VAT types", "vat-types")

    # Then it lists each imported type with its rate and whether invoices may use it, and when they were imported
    table = page.get_by_test_id("vat-types")
    expect(table.locator("tbody tr")).to_have_count(len(expected))
    assert {row.get_attribute("data-code") for row in table.locator("tbody tr").all()} == expected
    expect(page.get_by_test_id("vat-fetched")).to_contain_text("(Tallinn)")
    assert axe_violations(page) == []
    # and an owner imports them again
    page.get_by_role("button", name="Import VAT types again").click()
    expect(page.get_by_role("status").filter(has_text="VAT types imported")).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(len(expected))

    # And a member sees the list without the button, told who may refresh it
    sign_in(page, stack, company, role="member")
    open_tab(page, "VAT types", "vat-types")
    expect(page.get_by_test_id("vat-types").locator("tbody tr")).to_have_count(len(expected))
    expect(page.get_by_role("button", name="Import VAT types again")).to_have_count(0)
    expect(page.locator("#panel-vat-types")).to_contain_text("needs the Company Owner or Admin role")
    assert console.errors == []


def _record(status: str, attempts: int, *, reason: str | None, message: str | None, updated: str) -> dict:
    return {
        "invoiceId": "inv-f", "number": "F-1", "kind": "invoice", "status": status, "reason": reason,
        "message": message, "smartAccountsMessages": [], "smartAccounts": None, "reconciled": False, "totals": None,
        "payment": None, "warnings": [], "attempts": attempts, "createdAt": "2026-11-25T08:00:00Z",
        "updatedAt": updated, "exportedAt": None,
    }


def test_retry_shows_the_export_queued_then_its_new_result_and_the_fix_links_to_its_control(
    stack, page: Page, console: Console
) -> None:
    # Given a failed export for an unknown VAT type; Retry answers 202 with the record as it was (the worker has not
    # run yet), and the worker's next try fails again
    failure = "Line 2 uses VAT type 'VAT99', which is not in the VAT types imported from SmartAccounts."
    before = _record("FAILED", 1, reason="UNKNOWN_VAT_TYPE", message=failure, updated="2026-11-25T08:00:00Z")
    after = _record("FAILED", 2, reason="UNKNOWN_VAT_TYPE", message=failure, updated="2026-11-25T08:05:00Z")
    state = {"record": before}

    def export(route: Route) -> None:
        if route.request.method == "POST":
            route.fulfill(status=202, content_type="application/json", body=json.dumps(state["record"]))
            state["retried"] = True
            return
        route.fulfill(status=200, content_type="application/json", body=json.dumps(state["record"]))

    page.route("**/v1/invoices/inv-f/export**", export)
    sign_in(page, stack, f"web-retry-{uuid4().hex[:8]}")
    open_tab(page, "Invoice export", "invoices")
    page.get_by_label("Uku invoice id").fill("inv-f")
    page.get_by_role("button", name="Show export record").click()
    record = page.get_by_test_id("export-record")
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "FAILED")
    # the failure says what to do, with a link to the control that does it
    expect(record.get_by_test_id("export-fix")).to_contain_text("the VAT types imported from SmartAccounts")

    # When Retry is clicked
    record.get_by_role("button", name="Retry export").click()

    # Then the old failure is no longer shown as the current state: the export is queued, with no Retry button
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "QUEUED")
    expect(record.get_by_test_id("export-status")).to_be_focused()
    expect(record).to_contain_text("Queued for export again")
    expect(record).not_to_contain_text("Unknown VAT type")
    expect(record.get_by_role("button", name="Retry export")).to_have_count(0)
    assert state.get("retried") is True
    assert axe_violations(page) == []
    # and once the worker has tried again, its result replaces it
    state["record"] = after
    expect(record.get_by_test_id("export-attempts")).to_have_text("2", timeout=10_000)
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "FAILED")
    expect(record).to_contain_text("Tried again: Failed")
    expect(record.get_by_role("button", name="Retry export")).to_be_visible()

    # And the fix's link opens the VAT types view
    record.get_by_role("link", name="the VAT types imported from SmartAccounts").click()
    ready(page, "vat-types")
    expect(page.get_by_role("tab", name="VAT types")).to_have_attribute("aria-selected", "true")
    assert console.errors == []


def test_no_article_failure_links_to_the_default_article_setting(stack, page: Page) -> None:
    page.goto(f"{stack.api_url}/app/")
    fix = page.evaluate(
        """async () => {
          const { fixFor } = await import('/app/js/views/invoices.js');
          const node = fixFor('NO_ARTICLE');
          return { text: node.textContent, href: node.querySelector('a').getAttribute('href'), none: fixFor('X') };
        }"""
    )
    assert "default article code on the Settings tab" in fix["text"] and fix["href"] == "#settings"
    assert fix["none"] is None


# --- finding 4: Skip to content ------------------------------------------------------------------------------------


def test_skip_to_content_keeps_the_tab_and_its_unsaved_edits(stack, page: Page, console: Console) -> None:
    # Given the Settings tab with an edit not saved yet, after a reload of the page
    company, _, _ = company_with_settings(stack)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    page.reload()
    ready(page, "settings")
    page.get_by_label("Task title").fill("Edited {client}")

    # When the skip link is used from the keyboard
    page.locator(".skip-link").focus()
    page.keyboard.press("Enter")

    # Then the focus is on the content, and the Settings tab stays with the edit
    expect(page.locator("#main")).to_be_focused()
    expect(page.get_by_role("tab", name="Settings")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Task title")).to_have_value("Edited {client}")
    assert page.evaluate("location.hash") == "#settings"
    assert console.errors == []


# --- finding 6: a member's diagnostics are the last run, said so --------------------------------------------------


def test_a_member_sees_the_diagnostics_as_the_last_run_not_as_a_live_one(stack, page: Page, console: Console) -> None:
    # Given an owner who ran the diagnostics (kept), and a member of the same company
    company, token, _ = company_with_settings(stack)
    ran = api(stack, token, "GET", f"{INTEGRATION}/diagnostics")
    assert ran["live"] is True

    # When the member opens Diagnostics
    sign_in(page, stack, company, role="member")
    open_tab(page, "Diagnostics", "diagnostics")

    # Then the checks are said to be the last run, with its time, not run now, and there is no "Run again"
    said = page.get_by_test_id("diagnostics-run")
    expect(said).to_contain_text("last run by a company owner or admin")
    expect(said).to_contain_text("not run now")
    expect(said).to_contain_text("(Tallinn)")
    expect(page.locator("#panel-diagnostics")).not_to_contain_text("run now against SmartAccounts")
    expect(page.get_by_role("button", name="Run the checks again")).to_have_count(0)
    expect(page.get_by_role("button", name="Show the latest result")).to_be_visible()
    assert axe_violations(page) == []

    # And the owner's view says it ran now
    sign_in(page, stack, company)
    open_tab(page, "Diagnostics", "diagnostics")
    expect(page.get_by_test_id("diagnostics-run")).to_contain_text("Run now against SmartAccounts")
    expect(page.get_by_role("button", name="Run the checks again")).to_be_visible()
    assert console.errors == []


# --- finding 10: unread counts ------------------------------------------------------------------------------------


def test_unread_count_is_the_same_in_the_tab_and_the_panel_and_follows_mark_as_read(stack, page: Page,
                                                                                     console: Console) -> None:
    # Given the company's notifications, some arriving after sign-in
    def note(n: int) -> dict:
        return {"id": f"n-{n}", "kind": "RELOAD_COMPLETED", "title": f"Reload {n}", "message": "Ready.",
                "createdAt": "2026-11-25T09:00:00Z", "read": False, "readAt": None, "data": {}}

    items = [note(1), note(2)]

    def notifications(route: Route) -> None:
        if route.request.method == "POST":
            wanted = route.request.url.split("/")[-2]
            item = next(i for i in items if i["id"] == wanted)
            item.update(read=True, readAt="2026-11-25T10:00:00Z")
            route.fulfill(status=200, content_type="application/json", body=json.dumps(item))
            return
        body = {"notifications": items, "unread": sum(not i["read"] for i in items)}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/v1/notifications**", notifications)
    sign_in(page, stack, f"web-unread-{uuid4().hex[:8]}")
    unread = page.locator("#unread")
    expect(unread).to_have_text(" 2 unread")
    items[:0] = [note(3), note(4)]

    # When the Notifications tab is opened
    open_tab(page, "Notifications", "notifications")

    # Then the tab and the panel say the same
    expect(page.get_by_test_id("unread-count")).to_have_text("4 unread.")
    expect(unread).to_have_text(" 4 unread")

    # And Mark as read lowers both, with the focus on the next Mark as read
    buttons = page.get_by_role("button", name="Mark as read")
    buttons.first.click()
    expect(page.get_by_test_id("unread-count")).to_have_text("3 unread.")
    expect(unread).to_have_text(" 3 unread")
    expect(page.get_by_role("button", name="Mark as read").first).to_be_focused()
    for left in ("2 unread.", "1 unread.", "Nothing unread."):
        page.get_by_role("button", name="Mark as read").first.click()
        expect(page.get_by_test_id("unread-count")).to_have_text(left)
    expect(unread).to_have_text("")
    expect(page.get_by_test_id("unread-count")).to_be_focused()  # the last button went away
    assert console.errors == []


# --- findings 13 and 14: unsaved settings guarded; a topic made on the spot; names refused in plain words ---------


def test_unsaved_settings_are_not_lost_silently(stack, page: Page, console: Console) -> None:
    # Given saved settings, and a mapping changed on the Settings tab but not saved
    company, token, field = company_with_settings(stack)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    page.get_by_label("Uku custom task field for Sale entries").select_option(label="— not imported —")
    expect(page.get_by_test_id("unsaved-state")).to_have_text("Unsaved changes.")

    # When Reload data is clicked, the confirmation says the changes are not saved and offers to save them first
    page.get_by_role("button", name="Reload data").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("not saved yet")
    expect(dialog.get_by_role("button", name="Save, then reload")).to_be_visible()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Cancel").click()

    # When another tab is chosen, the page asks first; Stay keeps the edit
    page.get_by_role("tab", name="Overview").click()
    leave = page.get_by_role("dialog")
    expect(leave).to_contain_text("Discard unsaved changes?")
    assert axe_violations(page) == []
    leave.get_by_role("button", name="Stay").click()
    expect(page.get_by_role("tab", name="Settings")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Uku custom task field for Sale entries")).to_have_value("")

    # And Save, then reload stores the change before the reload starts
    page.get_by_role("button", name="Reload data").click()
    page.get_by_role("dialog").get_by_role("button", name="Save, then reload").click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    expect(page.get_by_test_id("reload-progress").or_(page.locator(".reload .notice"))).to_be_visible()
    mapping = api(stack, token, "GET", INTEGRATION)["settings"]["fieldMapping"]
    assert mapping["saleEntries"] is None and field["id"] not in mapping.values()
    expect(page.get_by_test_id("unsaved-state")).to_have_text("")

    # And with nothing unsaved, leaving asks nothing; an edit then Discard leaves it
    page.get_by_label("Task title").fill("Changed {client}")
    page.get_by_role("tab", name="Overview").click()
    page.get_by_role("dialog").get_by_role("button", name="Discard changes").click()
    ready(page, "overview")
    page.get_by_role("tab", name="Settings").click()
    ready(page, "settings")
    expect(page.get_by_label("Task title")).not_to_have_value("Changed {client}")
    page.get_by_role("tab", name="Overview").click()
    ready(page, "overview")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert console.errors == []


def test_a_topic_is_created_in_settings_and_names_are_refused_in_plain_words(stack, page: Page,
                                                                              console: Console) -> None:
    # Given an enabled company with no topic yet and one custom task field
    company = f"web-topic-{uuid4().hex[:8]}"
    token = stack.token(company, "owner", "team")
    api(stack, token, "POST", "/v1/custom-task-fields", json={"name": "Sale entries", "type": "number"})
    api(stack, token, "POST", f"{INTEGRATION}/enable")
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    topic = page.get_by_label("Topic", exact=True)
    creator_error = page.locator("#panel-settings .creator .field-error:visible")

    # When Save is clicked with no topic, the Topic field says what to do (not the identifier rules)
    page.get_by_role("button", name="Save", exact=True).click()
    topic_error = page.locator("#" + topic.get_attribute("id") + "-error")
    expect(topic_error).to_contain_text("New topic")
    expect(page.locator("#panel-settings")).not_to_contain_text("1-64 characters")

    # When a topic is made from the list: an empty name is refused in words, then it is created and picked
    topic.select_option(label="+ New topic…")
    page.get_by_role("button", name="Create topic").click()
    expect(creator_error).to_contain_text("Enter a name for the new topic")
    page.get_by_label("Topic name").fill("Monthly accounting")
    page.get_by_role("button", name="Create topic").click()
    expect(topic.locator("option:checked")).to_have_text("Monthly accounting")
    assert [t["name"] for t in api(stack, token, "GET", "/v1/topics")["topics"]] == ["Monthly accounting"]

    # And a custom field whose name is taken says so next to the name, not "Changed by someone else"
    page.get_by_label("Uku custom task field for Purchase entries").select_option(label="+ New custom field…")
    page.get_by_label("Field name").fill("")
    page.get_by_role("button", name="Create field").click()
    expect(creator_error).to_contain_text("Enter a name for the new custom")
    page.get_by_label("Field name").fill("Sale entries")
    page.get_by_role("button", name="Create field").click()
    expect(creator_error).to_contain_text("already exists")
    expect(page.locator("#panel-settings")).not_to_contain_text("Changed by someone else")
    page.get_by_role("button", name="Cancel").click()

    # Then the settings save with the new topic
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    assert axe_violations(page) == []
    assert console.errors == []


# --- findings 8 and 9: the reload bar never goes back; errors name the client -------------------------------------


def test_reload_bar_never_goes_back_and_errors_name_the_client(stack, page: Page, console: Console) -> None:
    company = f"web-bar-{uuid4().hex[:8]}"
    token = stack.token(company, "owner", "team")
    client = api(stack, token, "POST", "/v1/clients", json={"name": "Väike Raamatupidamine OÜ"})
    sign_in(page, stack, company)
    shown = page.evaluate(
        """async (clientId) => {
          const { reloadProgress } = await import('/app/js/views/reload.js');
          const area = document.createElement('div');
          document.body.append(area);
          const progress = reloadProgress(area, { toast() {}, refreshUnread() {} });
          const share = () => { const bar = area.querySelector('progress'); return bar.value / bar.max; };
          const job = { jobId: 'r-9', status: 'RUNNING', clientsTotal: 2, clientsDone: 1, errors: {} };
          progress.render({ ...job, callsUsed: 36, callsExpected: 40 });
          const first = share();
          progress.render({ ...job, callsUsed: 78, callsExpected: 143 });
          const second = share();
          progress.render({ ...job, callsUsed: 140, callsExpected: 143 });
          const third = share();
          progress.render({ ...job, status: 'COMPLETED_WITH_ERRORS', clientsDone: 2, callsUsed: 150, callsExpected: 150,
            errors: { [clientId]: { kind: 'SA_UNAVAILABLE', message: 'SmartAccounts could not be reached.' } } });
          await new Promise((resolve) => setTimeout(resolve, 1500));
          return { first, second, third, errors: area.querySelector('[data-testid="reload-errors"]').innerText };
        }""",
        client["id"],
    )
    assert shown["first"] == pytest.approx(0.9)
    assert shown["second"] >= shown["first"]  # 78 of about 143 would be 55 %: the bar holds 90 %
    assert shown["third"] == pytest.approx(140 / 143)
    assert shown["errors"] == "Väike Raamatupidamine OÜ: SmartAccounts could not be reached."
    assert client["id"] not in shown["errors"]
    assert console.errors == []


# --- finding 20 (page side): diagnostics in the page's words ------------------------------------------------------


def test_diagnostics_details_name_fields_by_label_and_times_in_tallinn(stack, page: Page, console: Console) -> None:
    # Given a company with a mapped field and a scheduled import
    company, _, _ = company_with_settings(stack)
    sign_in(page, stack, company)

    # When the owner opens Diagnostics
    open_tab(page, "Diagnostics", "diagnostics")

    # Then the mapped field is named by its label, and the next import date is written out, not as raw values
    expect(page.locator('[data-check="fieldsMapped"] [data-testid="check-detail"]')).to_have_text(
        "1 field(s) mapped: Sale entries."
    )
    next_import = page.locator('[data-check="nextImportDate"] [data-testid="check-detail"]')
    expect(next_import).to_contain_text("Next import on ")
    expect(next_import).not_to_have_text(re.compile(r"\d{4}-\d{2}"))
    # and a time the service gives in UTC is shown in Tallinn time, as everywhere else on the page
    said = page.evaluate(
        """async () => {
          const { readable } = await import('/app/js/views/diagnostics.js');
          return readable('succeeded (most recent 2026-11-24 22:30 UTC); keys bankEntries, creditInvoices',
                          new Map([['bankEntries', 'Bank entries'], ['creditInvoices', 'Credit invoices']]));
        }"""
    )
    assert said == "succeeded (most recent 25 Nov 2026, 00:30 (Tallinn)); keys Bank entries, Credit invoices"
    assert console.errors == []


# --- finding 7 (page side): no estimate earlier than the quota wait's end -----------------------------------------


def test_waiting_for_the_quota_shows_no_estimate_before_the_resume_time(stack, page: Page, console: Console) -> None:
    page.goto(f"{stack.api_url}/app/")
    text = page.evaluate(
        """async () => {
          const { reloadProgress } = await import('/app/js/views/reload.js');
          const area = document.createElement('div');
          document.body.append(area);
          reloadProgress(area, { toast() {}, refreshUnread() {} }).render({
            jobId: 'r-7', status: 'WAITING_FOR_QUOTA', clientsTotal: 3, clientsDone: 1, callsUsed: 990,
            callsExpected: 1200, resumesAt: '2026-11-25T22:00:00Z', estimatedFinishAt: '2026-11-25T10:51:00Z',
            errors: {},
          });
          return area.innerText;
        }"""
    )
    assert "resumes 26 Nov 2026, 00:00 (Tallinn)" in text
    assert "Estimated finish" not in text  # 25 Nov 12:51 would contradict the wait
    assert console.errors == []
