"""Two admins at once, and answers lost: the page never overwrites another admin's edit without saying so.

Settings Save writes over the version it read (`If-Match`); when someone else saved the settings meanwhile it says
so in plain words, keeps the user's values on screen and offers to load the saved ones (or to save over them,
knowingly). A write of the integration record that is not a settings edit (enabling, an import's next date) is no
conflict. Enter in a "New …" name creates it instead of saving the half-edited form. A name refused as taken by a
topic or custom field the page did not list (made meanwhile) picks it. Retry of an export retried or exported
meanwhile shows the record as it is now.
"""

from __future__ import annotations

import json
from uuid import uuid4

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import TIMEOUT, Console, axe_violations
from tests.browser.test_web_page_findings import INTEGRATION, api, company_with_settings, open_tab, sign_in

pytestmark = pytest.mark.browser


def _saved(stack, token: str) -> dict:
    return api(stack, token, "GET", INTEGRATION)["settings"]


def _save_as_other_admin(stack, token: str, **change) -> None:
    """Another admin's Save: the saved settings with `change` on top, written over the version they read."""
    state = api(stack, token, "GET", INTEGRATION)
    body = {k: v for k, v in state["settings"].items() if k not in ("version", "notice")} | change
    response = requests.put(
        f"{stack.api_url}{INTEGRATION}/settings",
        json=body,
        timeout=TIMEOUT,
        headers={"Authorization": f"Bearer {token}", "If-Match": str(state["version"])},
    )
    assert response.ok, response.text


def _put_settings_requests(page: Page) -> list[dict]:
    """The If-Match header of every PUT of the settings the page sends."""
    seen: list[dict] = []
    page.on(
        "request",
        lambda request: (
            seen.append({"if_match": request.headers.get("if-match")})
            if request.method == "PUT" and request.url.endswith("/settings")
            else None
        ),
    )
    return seen


def test_save_after_another_admin_saved_says_so_keeps_the_users_values_and_loads_theirs(
    stack, page: Page, console: Console
) -> None:
    # Given saved settings open on the Settings tab, and the default article code edited there, not saved
    company, token, _ = company_with_settings(stack)
    sent = _put_settings_requests(page)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    title = page.get_by_label("Task title")
    article = page.get_by_label("Default article code (invoice export)")
    opened_with = title.input_value()
    article.fill("MINE")

    # When another admin saves a new task title meanwhile, then this user clicks Save
    _save_as_other_admin(stack, token, taskTitle="Theirs {client} {month}")
    page.get_by_role("button", name="Save", exact=True).click()

    # Then the page says in plain words that someone else saved the settings, and what they changed
    conflict = page.get_by_test_id("settings-conflict")
    expect(conflict).to_contain_text("Someone else saved the settings meanwhile")
    expect(conflict).to_contain_text("changed: task title")
    expect(page.get_by_test_id("settings-result")).not_to_contain_text("Settings saved")
    # and nothing of theirs was overwritten, nothing of this user's was written
    saved = _saved(stack, token)
    assert saved["taskTitle"] == "Theirs {client} {month}" and saved["defaultArticleCode"] is None
    assert sent and sent[0]["if_match"] is not None
    # and this user's values are still on screen, still unsaved
    expect(article).to_have_value("MINE")
    expect(title).to_have_value(opened_with)
    expect(page.get_by_test_id("unsaved-state")).to_have_text("Unsaved changes.")
    assert axe_violations(page) == []

    # When the saved settings are loaded
    conflict.get_by_role("button", name="Load the saved settings").click()

    # Then theirs are shown, with nothing unsaved, and a Save from there writes over the version now saved
    expect(title).to_have_value("Theirs {client} {month}")
    expect(article).to_have_value("")
    expect(page.get_by_test_id("unsaved-state")).to_have_text("")
    expect(page.get_by_test_id("settings-result")).to_contain_text("The saved settings are loaded")
    article.fill("MINE")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    saved = _saved(stack, token)
    assert (saved["taskTitle"], saved["defaultArticleCode"]) == ("Theirs {client} {month}", "MINE")
    assert console.errors == []


def test_save_mine_over_theirs_is_a_choice_the_user_makes(stack, page: Page, console: Console) -> None:
    # Given the Settings tab open and the task title edited; another admin then maps Sale entries to nothing
    company, token, field = company_with_settings(stack)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    page.get_by_label("Task title").fill("Mine {client}")
    _save_as_other_admin(stack, token, fieldMapping={"saleEntries": None})

    # When Save meets their edit, and the user chooses to save theirs over it
    page.get_by_role("button", name="Save", exact=True).click()
    conflict = page.get_by_test_id("settings-conflict")
    expect(conflict).to_contain_text("changed: data fields")
    assert _saved(stack, token)["taskTitle"] != "Mine {client}"
    conflict.get_by_role("button", name="Save mine over theirs").click()

    # Then this user's form is what is saved, the mapping on their screen included
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    saved = _saved(stack, token)
    assert saved["taskTitle"] == "Mine {client}" and saved["fieldMapping"]["saleEntries"] == field["id"]
    expect(page.get_by_test_id("unsaved-state")).to_have_text("")
    assert console.errors == []


def test_a_record_write_that_is_no_settings_edit_is_no_conflict(stack, page: Page, console: Console) -> None:
    # Given the Settings tab open and edited, and the integration record written since by something other than a
    # settings Save (enabling it again also writes the next import date)
    company, token, _ = company_with_settings(stack)
    sent = _put_settings_requests(page)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    version_read = api(stack, token, "GET", INTEGRATION)["version"]
    page.get_by_label("Task title").fill("Mine {client}")
    api(stack, token, "POST", f"{INTEGRATION}/enable")

    # When Save is clicked
    page.get_by_role("button", name="Save", exact=True).click()

    # Then the settings are saved without asking: nobody else's edit is in the way
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    expect(page.get_by_test_id("settings-conflict")).to_have_count(0)
    assert _saved(stack, token)["taskTitle"] == "Mine {client}"
    # and that was found out by writing over the version read first
    assert [s["if_match"] for s in sent][:1] == [str(version_read)] and len(sent) == 2
    assert console.errors == []


def test_a_save_whose_answer_was_lost_is_said_so_and_saving_again_finds_it_saved(
    stack, page: Page, console: Console
) -> None:
    # Given the Settings tab open and edited; the first Save reaches the service and is applied, but its answer is
    # lost on the way back (the connection drops)
    company, token, _ = company_with_settings(stack)
    lost = {"count": 0}

    def drop_first_answer(route: Route) -> None:
        if route.request.method == "PUT" and not lost["count"]:
            lost["count"] += 1
            route.fetch()  # applied by the service
            route.abort("connectionreset")
            return
        route.fallback()

    page.route("**/v1/integrations/smartaccounts/settings", drop_first_answer)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    page.get_by_label("Default article code (invoice export)").fill("MINE")

    # When Save is clicked, Then the page says in words that the service did not answer (not "Failed to fetch")
    page.get_by_role("button", name="Save", exact=True).click()
    result = page.get_by_test_id("settings-result")
    expect(result).to_contain_text("No answer from the service")
    expect(result).not_to_contain_text("Failed to fetch")
    assert _saved(stack, token)["defaultArticleCode"] == "MINE"

    # When Save is clicked again, Then its own applied write is no conflict: the settings are saved
    page.get_by_role("button", name="Save", exact=True).click()
    expect(result).to_contain_text("Settings saved")
    expect(page.get_by_test_id("settings-conflict")).to_have_count(0)
    expect(page.get_by_test_id("unsaved-state")).to_have_text("")
    assert lost["count"] == 1
    assert [e for e in console.errors if "net::ERR_CONNECTION_RESET" not in e] == []


def test_enter_in_a_new_name_creates_it_and_does_not_save_the_half_edited_form(
    stack, page: Page, console: Console
) -> None:
    # Given saved settings with Sale entries mapped, open on the Settings tab
    company, token, _ = company_with_settings(stack)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    saved_before = _saved(stack, token)

    # When a new custom field for Sale entries is named and Enter pressed
    sale = page.get_by_label("Uku custom task field for Sale entries")
    sale.select_option(label="+ New custom field…")
    page.get_by_label("Field name").fill("Sales count")
    page.get_by_label("Field name").press("Enter")

    # Then the field is created and picked, and the settings were not saved with Sale entries unmapped
    expect(sale.locator("option:checked")).to_have_text("Sales count (number)")
    assert "Sales count" in [f["name"] for f in api(stack, token, "GET", "/v1/custom-task-fields")["fields"]]
    assert _saved(stack, token) == saved_before
    expect(page.get_by_test_id("settings-result")).not_to_contain_text("Settings saved")

    # And Enter in a new topic's name creates the topic, without a "topic is needed" refusal of the form
    topic = page.get_by_label("Topic", exact=True)
    topic.select_option(label="+ New topic…")
    page.get_by_label("Topic name").fill("Year end")
    page.get_by_label("Topic name").press("Enter")
    expect(topic.locator("option:checked")).to_have_text("Year end")
    expect(page.locator("#panel-settings .form-problem")).to_have_count(0)
    assert _saved(stack, token) == saved_before
    assert console.errors == []


def test_a_name_taken_by_one_made_meanwhile_picks_it(stack, page: Page, console: Console) -> None:
    # Given the Settings tab open; another admin (or a try whose answer was lost) then makes a topic and a field
    company, token, _ = company_with_settings(stack)
    sign_in(page, stack, company)
    open_tab(page, "Settings", "settings")
    made_topic = api(stack, token, "POST", "/v1/topics", json={"name": "Year end"})
    made_field = api(stack, token, "POST", "/v1/custom-task-fields", json={"name": "Bank count", "type": "number"})

    # When the same names are created on this page
    topic = page.get_by_label("Topic", exact=True)
    topic.select_option(label="+ New topic…")
    page.get_by_label("Topic name").fill("year end")
    page.get_by_role("button", name="Create topic").click()
    bank = page.get_by_label("Uku custom task field for Bank entries")
    bank.select_option(label="+ New custom field…")
    page.get_by_label("Field name").fill("Bank count")
    page.get_by_role("button", name="Create field").click()

    # Then the ones that exist are picked (not "pick it in the list" of a list without them)
    expect(topic).to_have_value(made_topic["id"])
    expect(bank).to_have_value(made_field["id"])
    expect(page.locator("#panel-settings .creator:visible")).to_have_count(0)
    # and Save stores them
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
    saved = _saved(stack, token)
    assert saved["topicId"] == made_topic["id"] and saved["fieldMapping"]["bankEntries"] == made_field["id"]
    assert console.errors == []


def test_retry_of_an_export_retried_meanwhile_shows_the_record_as_it_is_now(
    stack, page: Page, console: Console
) -> None:
    # Given a failed export on screen, then exported meanwhile (another admin's Retry): the service answers a
    # second Retry with 409 CONFLICT
    record = {
        "invoiceId": "inv-c",
        "number": "C-1",
        "kind": "invoice",
        "status": "FAILED",
        "reason": "SA_UNAVAILABLE",
        "message": "SmartAccounts did not answer.",
        "smartAccountsMessages": [],
        "smartAccounts": None,
        "reconciled": False,
        "totals": None,
        "payment": None,
        "warnings": [],
        "attempts": 1,
        "createdAt": "2026-11-25T08:00:00Z",
        "updatedAt": "2026-11-25T08:00:00Z",
        "exportedAt": None,
    }
    exported = record | {
        "status": "EXPORTED",
        "reason": None,
        "message": None,
        "attempts": 2,
        "updatedAt": "2026-11-25T08:05:00Z",
        "exportedAt": "2026-11-25T08:05:00Z",
        "smartAccounts": {"invoiceId": "sa-9", "invoiceNumber": "A-9"},
    }
    state = {"record": record}

    def export(route: Route) -> None:
        if route.request.method == "POST":
            route.fulfill(
                status=409,
                content_type="application/problem+json",
                body=json.dumps(
                    {
                        "code": "CONFLICT",
                        "title": "Conflict",
                        "status": 409,
                        "detail": "Invoice C-1 is already in SmartAccounts; it is not sent again.",
                    }
                ),
            )
            return
        route.fulfill(status=200, content_type="application/json", body=json.dumps(state["record"]))

    page.route("**/v1/invoices/inv-c/export**", export)
    sign_in(page, stack, f"web-conflict-{uuid4().hex[:8]}")
    open_tab(page, "Invoice export", "invoices")
    page.get_by_label("Uku invoice id").fill("inv-c")
    page.get_by_role("button", name="Show export record").click()
    shown = page.get_by_test_id("export-record")
    expect(shown.get_by_test_id("export-status")).to_have_attribute("data-status", "FAILED")
    state["record"] = exported

    # When Retry is clicked
    shown.get_by_role("button", name="Retry export").click()

    # Then the record as it is now replaces the stale failure, with the service's words, and no Retry
    expect(shown.get_by_test_id("export-status")).to_have_attribute("data-status", "EXPORTED")
    expect(shown).to_contain_text("already in SmartAccounts; it is not sent again")
    expect(shown.get_by_test_id("sa-number")).to_have_text("A-9")
    expect(shown.get_by_role("button", name="Retry export")).to_have_count(0)
    assert axe_violations(page) == []
    assert console.errors == []
