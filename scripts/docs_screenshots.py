"""Writes the web page's screenshots in docs/ (`docs/web-*.png`) from the page as it is now.

Run: `.venv/bin/python scripts/docs_screenshots.py` (from the repository root). It starts its own local stack on
free ports with the demo data `make run` seeds, connects the demo company with the sandbox's firm key pair, saves
its settings through the API, and drives the system's Chromium (`CHROMIUM_PATH`, default `/usr/bin/chromium`) with
the browser tests' Playwright setup (`tests/browser/conftest.py`):

- `docs/web-settings-tab.png`: the Settings tab, Show more open, just saved;
- `docs/web-settings-conflict.png`: its Save after another admin saved the settings meanwhile.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import requests
from playwright.sync_api import Page, expect, sync_playwright

REPO = Path(__file__).resolve().parent.parent
# the import roots the tests have (pytest's `pythonpath`): the repository, the shared layer, the sandbox, functions
_ROOTS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["pythonpath"]
sys.path[:0] = [str(REPO / root) for root in _ROOTS]

from local_stack.seed import DEMO_COMPANY, DEMO_OWNER, seed_demo  # noqa: E402
from local_stack.stack import LocalStack  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT  # noqa: E402

INTEGRATION = "/v1/integrations/smartaccounts"
DOCS = REPO / "docs"
MAPPED = {
    "saleEntries": "Sale entries",
    "purchaseEntries": "Purchase entries",
    "bankEntries": "Bank entries",
    "documents": "Documents",
    "salesTotal": "Sales total",
}


def call(base: str, token: str, method: str, path: str, **kwargs) -> dict:
    response = requests.request(
        method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT, **kwargs
    )
    response.raise_for_status()
    return response.json()


def set_up_demo(base: str, token: str) -> None:
    """The demo company connected with the firm's key pair, enabled, with its summary task settings saved."""
    pair = {"apiKey": "demo-firm-key", "apiSecret": "demo-firm-secret"}
    call(base, token, "POST", f"{INTEGRATION}/enable")
    call(base, token, "PUT", f"{INTEGRATION}/credentials", json=pair)
    topics = {t["name"]: t["id"] for t in call(base, token, "GET", "/v1/topics")["topics"]}
    fields = {f["name"]: f["id"] for f in call(base, token, "GET", "/v1/custom-task-fields")["fields"]}
    call(base, token, "PUT", f"{INTEGRATION}/settings", json={
        "taskTitle": "Bookkeeping {client} {monthName} {year}", "topicId": topics["Monthly accounting"],
        "recurrence": "MONTHLY", "importDay": {"rule": "LAST_WORK_DAY"}, "defaultArticleCode": "SERVICE",
        "fieldMapping": {key: fields[name] for key, name in MAPPED.items()},
    })


def open_settings(page: Page, base: str) -> None:
    page.goto(f"{base}/app/")
    page.get_by_label("Uku company").fill(DEMO_COMPANY)
    page.get_by_label("Role").select_option("owner")
    page.get_by_label("Plan").select_option("team")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#panel-overview")).to_have_attribute("data-ready", "overview")
    page.get_by_role("tab", name=re.compile("^Settings")).click()
    expect(page.locator("#panel-settings")).to_have_attribute("data-ready", "settings")


def main() -> None:
    stack = LocalStack(port=0, sandbox_port=0, retry_delay_seconds=1).start()
    try:
        seed_demo(stack)
        base = stack.api_url
        token = stack.token(DEMO_COMPANY, "owner", "team", sub=DEMO_OWNER)
        set_up_demo(base, token)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            open_settings(page, base)
            page.get_by_role("button", name="Show more").click()
            page.get_by_role("button", name="Save", exact=True).click()
            expect(page.get_by_test_id("settings-result")).to_contain_text("Settings saved")
            page.get_by_role("button", name="Save", exact=True).blur()
            page.screenshot(path=str(DOCS / "web-settings-tab.png"), full_page=True)

            # another admin saves a new task title while this one edits the default article code
            page.get_by_label("Default article code (invoice export)").fill("CONSULT")
            state = call(base, token, "GET", INTEGRATION)
            theirs = {k: v for k, v in state["settings"].items() if k not in ("version", "notice")}
            call(base, token, "PUT", f"{INTEGRATION}/settings", json=theirs | {"taskTitle": "Monthly close {client}"})
            page.get_by_role("button", name="Save", exact=True).click()
            conflict = page.get_by_test_id("settings-conflict")
            expect(conflict).to_be_visible()
            conflict.scroll_into_view_if_needed()
            page.screenshot(path=str(DOCS / "web-settings-conflict.png"))
            browser.close()
    finally:
        stack.stop()
    print("wrote docs/web-settings-tab.png, docs/web-settings-conflict.png")


if __name__ == "__main__":
    main()
