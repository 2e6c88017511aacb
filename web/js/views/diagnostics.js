// Diagnostics: the help page's troubleshooting checks, each with pass/fail, detail and fix. An owner or admin runs
// them live against SmartAccounts; anyone else sees the last kept run (`live` false, `checkedAt`) as such.

import { INTEGRATION, get } from "../api.js";
import { badge, busy, fill, formatDate, formatMonth, formatTime, h, notice } from "../ui.js";

/** The sentence saying what the checks shown are: a run just now, an earlier run, or no run with SmartAccounts yet. */
export function runSaid(answer) {
  if (answer.live) return `Run now against SmartAccounts, ${formatTime(answer.checkedAt)}.`;
  if (answer.checkedAt) {
    return `The result of the last run by a company owner or admin, ${formatTime(answer.checkedAt)}: not run now. Only owners and admins can run the checks against SmartAccounts.`;
  }
  return "The checks against SmartAccounts have not run yet (a company owner or admin runs them); only the checks that need no SmartAccounts call are shown.";
}

/** A check's detail as the rest of the page words things: SmartAccounts field keys as their labels, times in
 * Tallinn time, dates and months written out (the service words them for logs: "saleEntries", "2026-11-24 09:30 UTC"). */
export function readable(text, labels = new Map()) {
  if (!text) return text;
  return text
    .replace(/\b(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}) UTC\b/g, (_, day, time) => formatTime(`${day}T${time}:00Z`))
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (day) => formatDate(day))
    .replace(/\b\d{4}-(0[1-9]|1[0-2])\b(?!-)/g, (month) => formatMonth(month))
    .replace(/\b[a-z]+(?:[A-Z][a-z]*)+\b/g, (word) => labels.get(word) || word);
}

/** A detail that already ends with its own "Fix: …" is not given the fix a second time. */
const ownFix = (check) => Boolean(check.fix) && (check.detail || "").includes(check.fix);

export async function diagnostics(panel, app) {
  const results = h("div", { "aria-live": "polite" });
  const said = h("p", { "data-testid": "diagnostics-run" });
  const live = app.mayManage();
  const run = h("button", { type: "button", class: "primary" }, live ? "Run the checks again" : "Show the latest result");
  const load = async () => {
    try {
      const [answer, catalogue] = await Promise.all([get(`${INTEGRATION}/diagnostics`), get(`${INTEGRATION}/fields`)]);
      const labels = new Map(catalogue.fields.map((f) => [f.key, f.label]));
      said.textContent = runSaid(answer);
      fill(results,
        notice(answer.passed ? "All checks pass." : "Some checks fail: each says how to fix it.", answer.passed ? "ok" : "warn"),
        h("ol", { class: "checks" }, answer.checks.map((check) => h("li", { class: "check", "data-check": check.id, "data-status": check.status },
          h("div", { class: "check-head" }, badge(check.status), h("strong", {}, check.title)),
          h("p", { "data-testid": "check-detail" }, readable(check.detail, labels)),
          check.fix && !ownFix(check) ? h("p", { class: "fix" }, h("span", { class: "fix-label" }, "Fix: "), check.fix) : null))),
      );
    } catch (problem) {
      said.textContent = "";
      const text = problem.status === 403
        ? `${problem.message} (the live checks are for company owners and admins)` : problem.message;
      fill(results, notice(text, "error"));
    }
  };
  run.addEventListener("click", () => busy(run, load));
  fill(panel,
    h("h2", {}, "Diagnostics"),
    h("p", {}, "The troubleshooting checks of the help page."),
    said,
    h("div", { class: "actions" }, run),
    results,
  );
  await load();
}
