// Overview tab: Enable / Disable, connection status with reason and fix, company name, masked key, imports.

import { INTEGRATION, get, post } from "../api.js";
import { badge, busy, dl, formatDate, formatMonth, formatTime, fill, h, humanise, notice, showProblem } from "../ui.js";

export function quotaFacts(quota) {
  if (!quota) return null;
  if (quota.spentUntil) {
    // SmartAccounts refused the key for its daily limit: its word counts, not the service's own count
    return [
      "Daily SmartAccounts calls",
      h("span", { "data-testid": "quota-spent" },
        `SmartAccounts says today's calls for this API key are spent (${quota.usedToday} of ${quota.dailyLimit} were made by Uku; `
        + `another program may use the same key). Uku sends none until ${formatTime(quota.spentUntil)}.`),
    ];
  }
  return [
    "Daily SmartAccounts calls",
    `${quota.usedToday} of ${quota.dailyLimit} used today, ${quota.reservedForSchedule} kept for the scheduled import; resets ${formatTime(quota.resetsAt)}`,
  ];
}

export async function overview(panel, app) {
  const state = await get(INTEGRATION);
  const connection = state.connection || {};
  const toggle = h("button", { type: "button", class: state.enabled ? "" : "primary", "data-toggle": "" }, state.enabled ? "Disable" : "Enable");
  const section = h("section", { "aria-labelledby": "overview-title" });
  toggle.addEventListener("click", async () => {
    try {
      await busy(toggle, () => post(`${INTEGRATION}/${state.enabled ? "disable" : "enable"}`));
      app.toast(state.enabled ? "SmartAccounts is disabled; its configuration and links are kept." : "SmartAccounts is enabled.");
      await overview(panel, app);
      panel.querySelector("[data-toggle]")?.focus(); // the view is drawn anew: the focus stays on the button
    } catch (problem) {
      showProblem(section, problem);
    }
  });
  const reload = state.runningReload;
  fill(section, 
    h("h2", { id: "overview-title" }, "Overview"),
    h("div", { class: "status-line" },
      h("span", {}, "Integration: "),
      h("span", { class: `badge badge-${state.enabled ? "ok" : "muted"}`, "data-testid": "enabled" }, state.enabled ? "Enabled" : "Disabled"),
      toggle),
    state.enabled
      ? h("p", { class: "hint" }, "SmartAccounts appears as an option in the Integration column of your client list.")
      : h("p", { class: "hint" }, "Enabling does not pull data yet; it makes the integration available to your clients."),
    dl([
      ["Connection", h("span", { "data-testid": "connection" }, badge(connection.status), connection.reason ? ` ${humanise(connection.reason)}` : "")],
      ["SmartAccounts company", h("span", { "data-testid": "company-name" }, state.companyName || "—")],
      ["API key", state.maskedKey || "not saved"],
      ["Last import", state.lastImport ? `${formatMonth(state.lastImport.month)} · ${formatTime(state.lastImport.at)}` : "none yet"],
      ["Next import", state.nextImport ? `${formatDate(state.nextImport.date)} (imports ${formatMonth(state.nextImport.month)})` : "not scheduled"],
      ["Linked clients", String(state.linkedClients ?? 0)],
      quotaFacts(state.quota),
      reload ? ["Reload data", `${humanise(reload.status)}: ${reload.clientsDone} of ${reload.clientsTotal} clients done`] : null,
    ]),
    connection.status === "FAILING" && connection.message
      ? notice(connection.message, "error") : null,
    connection.status === "FAILING"
      ? h("p", {}, h("a", { href: "#connect" }, "Paste a fresh key pair on the Connect tab"), " or ",
        h("a", { href: "#diagnostics" }, "run the diagnostics"), ".")
      : null,
    state.enabled && connection.status === "NOT_CONNECTED"
      ? h("p", {}, "Next: ", h("a", { href: "#connect" }, "paste the API key and secret on the Connect tab"), ".")
      : null,
  );
  fill(panel, section);
}
