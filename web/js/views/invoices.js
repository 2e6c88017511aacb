// Invoice export: an Uku invoice's export record to SmartAccounts, with retry when it failed.

import { get, post } from "../api.js";
import { badge, busy, dl, field, formatTime, fill, h, humanise, notice, showProblem } from "../ui.js";

export async function invoices(panel) {
  const form = h("form", { novalidate: true, "aria-labelledby": "invoices-title" });
  const invoice = h("input", { type: "text", name: "invoiceId", autocomplete: "off" });
  const look = h("button", { type: "submit", class: "primary" }, "Show export record");
  const record = h("div", { "aria-live": "polite", "data-testid": "export-record" });

  const show = (data) => {
    const retry = h("button", { type: "button" }, "Retry export");
    retry.hidden = !/FAIL/.test(String(data.status || "")); // a failed export (whatever the record calls it) can be retried
    retry.addEventListener("click", async () => {
      try {
        show(await busy(retry, () => post(`/v1/invoices/${encodeURIComponent(invoice.value.trim())}/export/retry`)));
      } catch (problem) {
        showProblem(form, problem, record);
      }
    });
    const known = new Set(["status", "error", "errorKind", "message", "updatedAt", "exportedAt"]);
    fill(record, 
      h("p", {}, badge(data.status), " ", humanise(data.status)),
      data.message || data.error ? notice(data.message || data.error?.message || String(data.error), data.status === "FAILED" ? "error" : "info") : null,
      dl([
        data.exportedAt ? ["Exported", formatTime(data.exportedAt)] : null,
        data.updatedAt ? ["Updated", formatTime(data.updatedAt)] : null,
        ...Object.entries(data).filter(([k, v]) => !known.has(k) && (typeof v !== "object" || v === null))
          .map(([k, v]) => [humanise(k.replace(/([A-Z])/g, "_$1")), v === null ? "—" : String(v)]),
      ]),
      retry,
    );
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(record);
    if (!invoice.value.trim()) {
      showProblem(form, { body: { title: "The request is not valid" }, errors: [{ field: "invoiceId", message: "enter an Uku invoice id" }] });
      return;
    }
    try {
      show(await busy(look, () => get(`/v1/invoices/${encodeURIComponent(invoice.value.trim())}/export`)));
    } catch (problem) {
      if (problem.status === 501) fill(record, notice(`Invoice export is not available on this service yet: ${problem.message}`, "info"));
      else showProblem(form, problem, record);
    }
  });

  fill(form, 
    h("h2", { id: "invoices-title" }, "Invoice export"),
    h("p", {}, "Uku invoices are sent to SmartAccounts when they are issued. Look up an invoice's export record; a failed export can be retried."),
    field("Uku invoice id", invoice, { name: "invoiceId" }),
    h("div", { class: "actions" }, look),
    record,
  );
  fill(panel, form);
}
