"""Parts of the web page checked in the browser on their own: fields other branches add, and the import-day preview.

The reload job's `callsExpected`/`estimatedFinishAt`, the WAITING_FOR_QUOTA status with `resumesAt`, and the
integration state's `quota` are shown when the service sends them. The Settings tab's next import date, computed
in the page while the user edits, is the service's own calendar (`domain/import_day.py`) for every month.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import Page, expect

from smartaccounts_sync.domain.import_day import ImportDay, import_date_for
from smartaccounts_sync.domain.months import YearMonth
from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def _open(page: Page, stack) -> None:
    page.goto(f"{stack.api_url}/app/")
    page.wait_for_load_state("networkidle")


def test_reload_progress_shows_quota_wait_calls_expected_and_estimate(stack, page: Page, console) -> None:
    # Given the page's reload progress view, When a job waits for the daily quota with an estimate
    _open(page, stack)
    shown = page.evaluate(
        """async () => {
          const { reloadProgress } = await import('/app/js/views/reload.js');
          const area = document.createElement('div');
          document.body.append(area);
          reloadProgress(area, { toast() {}, refreshUnread() {} }).render({
            jobId: 'r-1', status: 'WAITING_FOR_QUOTA', clientsTotal: 40, clientsDone: 12, callsUsed: 990,
            callsExpected: 2400, resumesAt: '2026-11-25T22:00:00Z', estimatedFinishAt: '2026-11-27T03:30:00Z',
            errors: {},
          });
          const bar = area.querySelector('progress');
          return { text: area.innerText, value: bar.value, max: bar.max };
        }"""
    )
    # Then the bar (following the calls: a large client's reload is 0 of 1 clients done for hours), the counts, the
    # resume time in Tallinn and the estimated finish are shown
    assert (shown["value"], shown["max"]) == (990, 2400)
    assert "12 of 40 clients done · 990 of about 2400 SmartAccounts calls" in shown["text"]
    assert "Waiting for the daily SmartAccounts quota; resumes 26 Nov 2026, 00:00 (Tallinn)" in shown["text"]
    assert "Estimated finish: 27 Nov 2026, 05:30 (Tallinn)" in shown["text"]
    # and a job without the new fields still reads well
    older = page.evaluate(
        """async () => {
          const { reloadProgress } = await import('/app/js/views/reload.js');
          const area = document.createElement('div');
          reloadProgress(area, { toast() {}, refreshUnread() {} }).render({
            jobId: 'r-2', status: 'RUNNING', clientsTotal: 2, clientsDone: 1, callsUsed: 17, errors: {} });
          document.body.append(area);
          const bar = area.querySelector('progress');
          return { text: area.innerText, value: bar.value, max: bar.max };
        }"""
    )
    assert "1 of 2 clients done · 17 SmartAccounts calls used" in older["text"] and "Estimated" not in older["text"]
    assert (older["value"], older["max"]) == (1, 2)  # no estimate: the clients
    assert console.errors == []


def test_overview_shows_the_daily_quota_when_the_service_sends_it(stack, page: Page) -> None:
    _open(page, stack)
    fact = page.evaluate(
        """async () => {
          const { quotaFacts } = await import('/app/js/views/overview.js');
          return [quotaFacts(null), quotaFacts({ usedToday: 120, reservedForSchedule: 200, dailyLimit: 1000,
                                                  resetsAt: '2026-11-24T22:00:00Z' })];
        }"""
    )
    assert fact[0] is None
    assert fact[1] == [
        "Daily SmartAccounts calls",
        "120 of 1000 used today, 200 kept for the scheduled import; resets 25 Nov 2026, 00:00 (Tallinn)",
    ]


def test_overview_says_when_smartaccounts_itself_says_the_key_s_day_is_spent(stack, page: Page) -> None:
    # Given the service saying SmartAccounts refuses the key until 16:00 Tallinn, with only 120 calls counted by Uku
    _open(page, stack)
    fact = page.evaluate(
        """async () => {
          const { quotaFacts } = await import('/app/js/views/overview.js');
          const [term, value] = quotaFacts({ usedToday: 120, reservedForSchedule: 0, dailyLimit: 1000,
                                             resetsAt: '2026-11-24T22:00:00Z', spentUntil: '2026-11-24T14:00:00Z' });
          return [term, value.textContent];
        }"""
    )
    # Then the page says whose word it is, why Uku's count is lower, and until when nothing is sent
    assert fact == [
        "Daily SmartAccounts calls",
        "SmartAccounts says today's calls for this API key are spent (120 of 1000 were made by Uku; another program "
        "may use the same key). Uku sends none until 24 Nov 2026, 16:00 (Tallinn).",
    ]


def test_next_import_preview_is_the_services_calendar(stack, page: Page) -> None:
    # Given every month from 2024 to 2030 and each import rule
    months = [f"{year}-{month:02d}" for year in range(2024, 2031) for month in range(1, 13)]
    rules = {
        "LAST_WORK_DAY": ImportDay.last_work_day(),
        "LAST_CALENDAR_DAY": ImportDay.last_calendar_day(),
        "DAY_OF_FOLLOWING_MONTH": ImportDay.day_of_following_month(28),
    }
    _open(page, stack)
    # When the page computes the import dates
    in_page = page.evaluate(
        """async (months) => {
          const { importDateFor } = await import('/app/js/import-day.js');
          const out = {};
          for (const rule of ['LAST_WORK_DAY', 'LAST_CALENDAR_DAY', 'DAY_OF_FOLLOWING_MONTH'])
            out[rule] = months.map((m) => importDateFor(m, { rule, day: 28 }));
          return out;
        }""",
        months,
    )
    # Then they are the service's, Estonian public holidays included
    for name, rule in rules.items():
        expected = [import_date_for(YearMonth.parse(m), rule).isoformat() for m in months]
        assert in_page[name] == expected, name
    assert dt.date.fromisoformat(in_page["LAST_WORK_DAY"][2]) == dt.date(2024, 3, 28)  # Good Friday 29 March 2024


def test_a_member_sees_the_dialog_read_only_and_the_refusal_in_plain_words(stack, page: Page, console) -> None:
    # Given a member of a company on the team plan, signed in on the local stack
    _open(page, stack)
    page.get_by_label("Uku company").fill("web-member")
    page.get_by_label("Role").select_option("member")
    page.get_by_role("button", name="Sign in").click()
    # Then the dialog says changes need an Owner or Admin, and Enable is refused with the service's words
    expect(page.locator("#read-only")).to_be_visible()
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_role("alert")).to_contain_text("Your role cannot change this")
    expect(page.get_by_test_id("enabled")).to_have_text("Disabled")
    assert console.errors == []


def test_export_record_flags_a_totals_mismatch_and_lists_smartaccounts_messages(stack, page: Page, console) -> None:
    # Given an export record as the service's own model serialises it: reconciled with SmartAccounts, totals that
    # differ, partly paid, with SmartAccounts' messages and a warning (a real stack does not make this combination)
    from smartaccounts_sync.api.routes.invoice_export import (
        AmountsOut,
        InvoiceExportOut,
        PaymentOut,
        SmartAccountsInvoiceOut,
        TotalsCheckOut,
    )

    at = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
    record = InvoiceExportOut(
        invoice_id="inv-mismatch", number="T-77", kind="invoice", status="EXPORTED", reason=None, message=None,
        smart_accounts_messages=["Row 2: rounding applied"],
        smart_accounts=SmartAccountsInvoiceOut(invoice_id="sa-9", invoice_number="T-77", client_id="cl-5"),
        reconciled=True,
        totals=TotalsCheckOut(matches=False, uku=AmountsOut(net="100.00", vat="24.00", gross="124.00"),
                              smart_accounts=AmountsOut(net="100.00", vat="24.01", gross="124.01")),
        payment=PaymentOut(status="PARTLY_PAID", outstanding_amount="24.01", changed_at=at, checked_at=at),
        warnings=["Buyer address shortened to two lines"], attempts=1, created_at=at, updated_at=at, exported_at=at,
    ).model_dump_json()
    page.route("**/v1/invoices/inv-mismatch/export", lambda route: route.fulfill(
        status=200, content_type="application/json", body=record))
    _open(page, stack)
    page.get_by_label("Uku company").fill("web-export-parts")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("tab", name="Invoice export").click()

    # When the record is looked up
    page.get_by_label("Uku invoice id").fill("inv-mismatch")
    page.get_by_role("button", name="Show export record").click()

    # Then the mismatch is flagged with both figures, and SmartAccounts' messages and the warning are listed
    shown = page.get_by_test_id("export-record")
    totals = shown.get_by_test_id("totals-check")
    expect(totals).to_have_attribute("data-matches", "false")
    expect(totals).to_contain_text("The totals differ")
    expect(totals).to_contain_text("Uku: net 100.00 · VAT 24.00 · gross 124.00")
    expect(totals).to_contain_text("SmartAccounts: net 100.00 · VAT 24.01 · gross 124.01")
    expect(shown.get_by_test_id("smartaccounts-messages")).to_contain_text("Row 2: rounding applied")
    expect(shown.get_by_test_id("export-warnings")).to_contain_text("Buyer address shortened to two lines")
    expect(shown).to_contain_text("already booked there")
    expect(shown.get_by_test_id("payment-status")).to_contain_text("Partly paid")
    expect(shown.get_by_test_id("payment-outstanding")).to_have_text("24.01")
    expect(shown.get_by_role("button", name="Check paid status")).to_be_visible()
    expect(shown.get_by_role("button", name="Retry export")).to_have_count(0)
    assert axe_violations(page) == []
    assert console.errors == []
