"""The Invoice export tab in Chromium against the local stack: real export records made by the real worker.

A fresh Uku company enables the integration and saves the key pair of a fresh, empty SmartAccounts firm company in
the page; Uku's billing then puts `InvoiceIssued` on the local bus with boto3 (as in AWS), the template's rule and
queue deliver it to the export worker, and the page shows what the record says, checked against the sandbox over
HTTP: the exported invoice's SmartAccounts number, a failure naming the line and VAT code with Retry, and the paid
status after the buyer's payment is recorded in the sandbox.
"""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, axe_violations
from tests.support.invoices import invoice_detail, issue_invoice
from tests.support.local_company import Admin

pytestmark = pytest.mark.browser


def test_invoice_export_records_shown_with_retry_and_paid_status(
    stack, page: Page, console: Console, screenshots: Path
) -> None:
    # Given a fresh Uku company and a fresh, empty SmartAccounts company of the firm, with its key pair
    admin = Admin(stack.sandbox.admin_url)
    tag = uuid4().hex[:8]
    sa_company = admin.post("companies", {"id": f"co-firm-{tag}", "name": f"Firm {tag} OÜ", "volume": "none"})["id"]
    key, secret = admin.new_key(sa_company)
    company = f"web-inv-{tag}"
    seen: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        seen[name] = axe_violations(page)

    def tab(name: str) -> None:
        page.get_by_role("tab", name=re.compile(f"^{name}")).click()
        tab_id = page.get_by_role("tab", name=re.compile(f"^{name}")).get_attribute("aria-controls")
        expect(page.locator(f"#{tab_id}")).to_have_attribute("data-ready", re.compile(".+"))

    # And the owner enables the integration and saves the firm's key pair in the page
    page.goto(f"{stack.api_url}/app/")
    page.get_by_label("Uku company").fill(company)
    page.get_by_label("Role").select_option("owner")
    page.get_by_label("Plan").select_option("team")
    page.get_by_role("button", name="Sign in").click()
    tab("Overview")
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_test_id("enabled")).to_have_text("Enabled")
    tab("Connect")
    page.get_by_label("API key").fill(key)
    page.get_by_label("API secret").fill(secret)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("connect-result")).to_contain_text("saved")

    # When Uku issues a valid invoice and one whose second line has a VAT code SmartAccounts does not have
    good = invoice_detail(company)
    for line in good["lines"]:
        line["articleCode"] = "SERVICE"
    bad = invoice_detail(company, lines=[dict(line) for line in good["lines"]])
    bad["lines"][1]["vatTypeCode"] = "VAT99"
    issue_invoice(stack.moto_url, good)
    issue_invoice(stack.moto_url, bad)
    stack.wait_until_idle()
    (booked,) = admin.get(f"companies/{sa_company}/created-invoices")["invoices"]

    # Then the valid invoice's record shows EXPORTED with the number SmartAccounts booked it under
    tab("Invoice export")
    record = page.get_by_test_id("export-record")
    page.get_by_label("Uku invoice id").fill(good["invoiceId"])
    page.get_by_role("button", name="Show export record").click()
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "EXPORTED")
    expect(record.get_by_test_id("sa-number")).to_have_text(booked["invoiceNumber"])
    expect(record.get_by_test_id("sa-invoice-id")).to_have_text(str(booked["id"]))
    expect(record.get_by_test_id("sa-client-id")).to_have_text(str(booked["clientId"]))
    expect(record.get_by_test_id("totals-check")).to_have_attribute("data-matches", "true")
    expect(record.get_by_test_id("payment-status")).to_have_attribute("data-status", "UNPAID")
    expect(record.get_by_test_id("payment-outstanding")).to_have_text("477.40")
    expect(record.get_by_role("button", name="Retry export")).to_have_count(0)
    check("12-invoice-exported")

    # And the other one FAILED, naming the line and the code, with Retry
    page.get_by_label("Uku invoice id").fill(bad["invoiceId"])
    page.get_by_role("button", name="Show export record").click()
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "FAILED")
    reason = record.get_by_test_id("export-reason")
    expect(reason).to_contain_text("Unknown VAT type")
    expect(reason).to_contain_text("Line 2")
    expect(reason).to_contain_text("VAT99")
    expect(record.get_by_role("button", name="Check paid status")).to_have_count(0)
    check("13-invoice-failed")
    # Retry queues it again; the worker fails it again for the same cause, so it stays FAILED with Retry
    record.get_by_role("button", name="Retry export").click()
    expect(record).to_contain_text("Queued for export again")
    expect(record.get_by_test_id("export-status")).to_be_focused()
    stack.wait_until_idle()
    page.get_by_role("button", name="Show export record").click()
    expect(record.get_by_test_id("export-status")).to_have_attribute("data-status", "FAILED")
    expect(record.get_by_test_id("export-attempts")).to_have_text("2")
    expect(record.get_by_role("button", name="Retry export")).to_be_visible()
    assert len(admin.get(f"companies/{sa_company}/created-invoices")["invoices"]) == 1

    # When the buyer pays the exported invoice in full (recorded in the sandbox's bank)
    admin.post(f"companies/{sa_company}/payments", {"invoiceId": booked["id"], "amount": booked["totalAmount"]})

    # Then Check paid status asks SmartAccounts and shows PAID with nothing outstanding
    page.get_by_label("Uku invoice id").fill(good["invoiceId"])
    page.get_by_role("button", name="Show export record").click()
    expect(record.get_by_test_id("payment-status")).to_have_attribute("data-status", "UNPAID")
    record.get_by_role("button", name="Check paid status").click()
    expect(record.get_by_test_id("payment-status")).to_have_attribute("data-status", "PAID")
    expect(record.get_by_test_id("payment-outstanding")).to_have_text("0.00")
    expect(record.get_by_test_id("export-status")).to_be_focused()
    expect(record.get_by_role("button", name="Check paid status")).to_have_count(0)  # paid is final
    check("14-invoice-paid")

    # And no serious or critical accessibility violation, and no console or server error
    assert {name: found for name, found in seen.items() if found} == {}
    assert console.errors == []
