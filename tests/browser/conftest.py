"""Browser tier: the web page at `/app` in the system's Chromium, driven by Playwright, against the local stack.

Playwright's own browser download is not available on these machines, so it launches the Debian package's binary
(`scripts/ensure-chromium.sh` installs it; `CHROMIUM_PATH` points elsewhere). Screenshots go to
`test-output/browser/` (env `BROWSER_TEST_OUTPUT` changes it).
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from local_stack.template import REPO_ROOT

TIMEOUT = 30
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
OUTPUT = Path(os.environ.get("BROWSER_TEST_OUTPUT", REPO_ROOT / "test-output" / "browser"))
# Chromium logs every 4xx answer as a console error; the page shows those problems to the user on purpose.
EXPECTED_HTTP_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What the page said: console errors, uncaught exceptions and server errors (5xx) seen by the browser."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not EXPECTED_HTTP_ERROR.match(message.text):
            self.errors.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.errors.append(f"server error {response.status} for {response.request.method} {response.url}")


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    console.attach(tab)
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations of what the page shows now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@dataclass
class SandboxAdmin:
    url: str

    def new_key(self, *company_ids: str) -> tuple[str, str]:
        key, secret = f"web-{uuid4().hex[:10]}", uuid4().hex
        response = requests.post(
            f"{self.url}/keys", json={"apiKey": key, "apiSecret": secret, "companyIds": list(company_ids)},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return key, secret

    def revoke(self, api_key: str) -> None:
        requests.post(f"{self.url}/keys/{api_key}/revoke", timeout=TIMEOUT).raise_for_status()

    def count(self, company_id: str, kind: str, month: str) -> int:
        """The sandbox's own count of a kind of document dated in a month ("YYYY-MM")."""
        year, number = (int(part) for part in month.split("-"))
        end = calendar.monthrange(year, number)[1]
        response = requests.get(
            f"{self.url}/companies/{company_id}/documents",
            params={"kind": kind, "dateFrom": f"{month}-01", "dateTo": f"{month}-{end:02d}", "fetchRows": "false"},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return int(response.json()["count"])


@pytest.fixture
def sandbox_admin(stack) -> SandboxAdmin:
    return SandboxAdmin(stack.sandbox.admin_url)
