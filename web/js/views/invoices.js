// Invoice export: an Uku invoice's export record to SmartAccounts (InvoiceExportOut), with Retry for a skipped or
// failed export and "Check paid status" for an exported invoice awaiting payment.

import { get, post } from "../api.js";
import { badge, busy, clearProblems, dl, field, formatTime, fill, h, humanise, notice, showProblem } from "../ui.js";

const RETRYABLE = new Set(["FAILED", "SKIPPED"]);
/** A reason code in words: UNKNOWN_VAT_TYPE → "Unknown VAT type", SA_VALIDATION_REJECTED → "SmartAccounts validation rejected". */
const reasonText = (code) => humanise(code).replace(/\bvat\b/gi, "VAT").replace(/^Sa\b/, "SmartAccounts");
const money = (value) => (value === null || value === undefined ? "—" : Number(value).toFixed(2));

/** Where in the page a failure or skip is fixed: [text before, link text, tab, text after]. */
const FIXES = {
  UNKNOWN_VAT_TYPE: ["Compare the line's VAT type with ", "the VAT types imported from SmartAccounts", "vat-types",
    " (import them again there after adding or allowing it in SmartAccounts), or correct the invoice in Uku; then retry."],
  NO_ARTICLE: ["Set an article that exists in SmartAccounts as the ", "default article code on the Settings tab", "settings",
    ", or give the line an article code SmartAccounts knows; then retry."],
  INTEGRATION_DISABLED: ["", "Enable the integration on the Overview tab", "overview", ", then retry."],
  NOT_CONNECTED: ["", "Save the API key and secret on the Connect tab", "connect", ", then retry."],
  CREDENTIALS_FAILING: ["", "Paste a fresh key pair on the Connect tab", "connect", ", then retry."],
};

/** The control that fixes a record's reason, as a sentence with a link to its tab (null when the page has none). */
export function fixFor(reason) {
  const fix = FIXES[reason];
  if (!fix) return null;
  const [before, link, tab, after] = fix;
  return h("p", { class: "fix", "data-testid": "export-fix" }, h("span", { class: "fix-label" }, "Fix: "), before,
    h("a", { href: `#${tab}` }, link), after);
}

const POLL_MS = 1500;
const POLL_FOR_MS = 120_000;

/** "net 385.00 · VAT 92.40 · gross 477.40" of one side of the totals check. */
function amounts(side) {
  return ["net", "vat", "gross"]
    .filter((key) => side && side[key] !== null && side[key] !== undefined)
    .map((key) => `${key === "vat" ? "VAT" : key} ${money(side[key])}`)
    .join(" · ") || "—";
}

function totalsCheck(totals) {
  if (!totals) return null;
  if (totals.matches) {
    return ["Totals check", h("span", { "data-testid": "totals-check", "data-matches": "true" },
      badge("OK"), " Matches SmartAccounts: ", amounts(totals.smartAccounts))];
  }
  return ["Totals check", h("div", { "data-testid": "totals-check", "data-matches": "false", class: "totals-mismatch" },
    h("p", {}, badge("MISMATCH"), " ", h("strong", {}, "The totals differ")),
    h("p", {}, "Uku: ", amounts(totals.uku)),
    h("p", {}, "SmartAccounts: ", amounts(totals.smartAccounts)))];
}

function paymentRows(payment) {
  if (!payment) return [];
  return [
    ["Paid status", h("span", { "data-testid": "payment-status", "data-status": payment.status }, badge(payment.status))],
    ["Outstanding amount", h("span", { "data-testid": "payment-outstanding" }, money(payment.outstandingAmount))],
    ["Paid status changed", formatTime(payment.changedAt)],
    ["Paid status checked", formatTime(payment.checkedAt)],
  ];
}

function list(title, items, testid) {
  if (!items || !items.length) return null;
  const id = `${testid}-title`;
  return h("section", { "aria-labelledby": id, "data-testid": testid },
    h("h3", { id }, title),
    h("ul", {}, items.map((text) => h("li", {}, text))));
}

export async function invoices(panel) {
  let poll = null;
  const stopPoll = () => {
    if (poll) clearTimeout(poll);
    poll = null;
  };
  const form = h("form", { novalidate: true, "aria-labelledby": "invoices-title" });
  const invoice = h("input", { type: "text", name: "invoiceId", autocomplete: "off" });
  const look = h("button", { type: "submit", class: "primary" }, "Show export record");
  const record = h("div", { "aria-live": "polite", "data-testid": "export-record" });
  let shownId = null; // the invoice whose record is on screen (the field may have been edited since)

  const path = () => `/v1/invoices/${encodeURIComponent(shownId)}/export`;

  /** Runs a record action from its button; the new record replaces the old one and the focus goes to its title. */
  const act = async (button, action, said) => {
    clearProblems(form);
    try {
      const data = await busy(button, action);
      show(data, said(data));
      record.querySelector("h3")?.focus();
    } catch (problem) {
      showProblem(form, problem, record);
    }
  };

  /** After Retry: the old failure is gone from the screen; the record is read again until the worker has tried. */
  const queued = (before) => {
    shownId = before.invoiceId;
    fill(record,
      notice("Queued for export again: SmartAccounts is checked for this invoice first, so it is never booked twice. The result is shown here when the export has run.", "info"),
      h("h3", { tabindex: "-1", "data-testid": "export-status", "data-status": "QUEUED" },
        `Invoice ${before.number || before.invoiceId}: `, badge("QUEUED")),
      dl([["Attempts so far", h("span", { "data-testid": "export-attempts" }, String(before.attempts ?? 0))]]),
    );
    const until = Date.now() + POLL_FOR_MS;
    const tick = async () => {
      poll = null;
      try {
        const fresh = await get(path());
        const tried = fresh.attempts !== before.attempts || fresh.updatedAt !== before.updatedAt || !RETRYABLE.has(fresh.status);
        if (tried && fresh.status !== "PENDING") {
          const hadFocus = record.contains(document.activeElement) || document.activeElement === document.body;
          show(fresh, notice(`Tried again: ${humanise(fresh.status)}.`, fresh.status === "EXPORTED" ? "ok" : "warn"));
          if (hadFocus) record.querySelector("h3")?.focus();
          return;
        }
      } catch {
        // a failed read is tried again on the next tick
      }
      if (Date.now() < until) poll = setTimeout(tick, POLL_MS);
      else record.prepend(notice("Still queued: look the invoice up again in a while.", "warn"));
    };
    poll = setTimeout(tick, POLL_MS);
  };

  /** A CONFLICT on Retry: the record changed since it was shown (retried or exported meanwhile, from another
   * screen or by the worker), so the record as it is now replaces the stale one, with the service's words. */
  const showCurrent = async (problem) => {
    try {
      show(await get(path()), notice(problem.message, "info"));
      record.querySelector("h3")?.focus();
      return true;
    } catch {
      return false;
    }
  };

  const show = (data, said = null) => {
    stopPoll();
    shownId = data.invoiceId;
    const sa = data.smartAccounts;
    const failed = data.status === "FAILED";
    const actions = [];
    if (RETRYABLE.has(data.status)) {
      const retry = h("button", { type: "button" }, "Retry export");
      retry.addEventListener("click", async () => {
        clearProblems(form);
        try {
          await busy(retry, () => post(`${path()}/retry`)); // 202: its record is the one before the new try
          queued(data);
          record.querySelector("h3")?.focus();
        } catch (problem) {
          if (problem.code === "CONFLICT" && await showCurrent(problem)) return;
          showProblem(form, problem, record);
        }
      });
      actions.push(retry);
    }
    if (data.status === "EXPORTED" && data.payment && data.payment.status !== "PAID") { // paid is final
      const check = h("button", { type: "button" }, "Check paid status");
      check.addEventListener("click", () => act(check, () => get(`${path()}?refreshPayment=true`),
        (fresh) => notice(`Paid status checked in SmartAccounts: ${humanise(fresh.payment?.status)}.`, "ok")));
      actions.push(check);
    }
    fill(record,
      said,
      h("h3", { tabindex: "-1", "data-testid": "export-status", "data-status": data.status },
        `Invoice ${data.number || data.invoiceId}: `, badge(data.status)),
      data.reason || data.message
        ? h("div", { class: `notice notice-${failed ? "error" : data.status === "SKIPPED" ? "warn" : "info"}`, "data-testid": "export-reason" },
          data.reason ? h("strong", {}, reasonText(data.reason)) : null,
          data.reason && data.message ? ": " : null,
          data.message || null,
          RETRYABLE.has(data.status) ? fixFor(data.reason) : null)
        : null,
      list("SmartAccounts said", data.smartAccountsMessages, "smartaccounts-messages"),
      dl([
        ["Uku invoice id", data.invoiceId],
        data.number ? ["Uku invoice number", data.number] : null,
        data.kind ? ["Kind", data.kind === "credit" ? "Credit invoice" : "Invoice"] : null,
        sa ? ["SmartAccounts invoice number", h("span", { "data-testid": "sa-number" }, sa.invoiceNumber || sa.number || "—")] : null,
        sa ? ["SmartAccounts invoice id", h("span", { "data-testid": "sa-invoice-id" }, sa.invoiceId)] : null,
        sa?.clientId ? ["SmartAccounts buyer (client id)", h("span", { "data-testid": "sa-client-id" }, sa.clientId)] : null,
        data.reconciled ? ["Found in SmartAccounts", "already booked there, nothing was posted again"] : null,
        totalsCheck(data.totals),
        ...paymentRows(data.payment),
        ["Attempts", h("span", { "data-testid": "export-attempts" }, String(data.attempts ?? 0))],
        ["Created", formatTime(data.createdAt)],
        ["Updated", formatTime(data.updatedAt)],
        data.exportedAt ? ["Exported", formatTime(data.exportedAt)] : null,
      ]),
      list("Warnings", data.warnings, "export-warnings"),
      actions.length ? h("div", { class: "actions" }, actions) : null,
    );
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stopPoll();
    fill(record);
    shownId = null;
    if (!invoice.value.trim()) {
      showProblem(form, { body: { title: "The request is not valid" }, errors: [{ field: "invoiceId", message: "enter an Uku invoice id" }] });
      return;
    }
    clearProblems(form);
    try {
      show(await busy(look, () => get(`/v1/invoices/${encodeURIComponent(invoice.value.trim())}/export`)));
    } catch (problem) {
      if (problem.status === 404) {
        fill(record, notice(`No export record for this invoice: ${problem.message}`, "info"));
      } else {
        showProblem(form, problem, record);
      }
    }
  });

  fill(form,
    h("h2", { id: "invoices-title" }, "Invoice export"),
    h("p", {}, "Uku invoices are sent to SmartAccounts when they are issued. Look up an invoice's export record: its status and why, SmartAccounts' invoice, the totals check and the paid status. A skipped or failed export can be retried once its cause is fixed."),
    field("Uku invoice id", invoice, { name: "invoiceId" }),
    h("div", { class: "actions" }, look),
    record,
  );
  fill(panel, form);
  return stopPoll;
}
