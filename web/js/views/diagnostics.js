// Diagnostics: the help page's troubleshooting checks, each with pass/fail, detail and fix.

import { INTEGRATION, get } from "../api.js";
import { badge, busy, fill, h, notice } from "../ui.js";

export async function diagnostics(panel) {
  const results = h("div", { "aria-live": "polite" });
  const run = h("button", { type: "button", class: "primary" }, "Run the checks again");
  const load = async () => {
    try {
      const answer = await get(`${INTEGRATION}/diagnostics`);
      fill(results, 
        notice(answer.passed ? "All checks pass." : "Some checks fail: each says how to fix it.", answer.passed ? "ok" : "warn"),
        h("ol", { class: "checks" }, answer.checks.map((check) => h("li", { class: "check", "data-check": check.id, "data-status": check.status },
          h("div", { class: "check-head" }, badge(check.status), h("strong", {}, check.title)),
          h("p", {}, check.detail),
          check.fix ? h("p", { class: "fix" }, h("span", { class: "fix-label" }, "Fix: "), check.fix) : null))),
      );
    } catch (problem) {
      const text = problem.status === 403
        ? `${problem.message} (the live checks are for company owners and admins)` : problem.message;
      fill(results, notice(text, "error"));
    }
  };
  run.addEventListener("click", () => busy(run, load));
  fill(panel, 
    h("h2", {}, "Diagnostics"),
    h("p", {}, "The troubleshooting checks of the help page, run now against SmartAccounts."),
    h("div", { class: "actions" }, run),
    results,
  );
  await load();
}
