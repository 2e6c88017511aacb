// Client list with the Integration column: link a client to its SmartAccounts company (searchable list the saved
// key sees, or the company the client's own key pair belongs to), relink with the reload notice, unlink; each
// client's import status (the link, the company key's connection, the latest import: all in the client list's one
// answer), summary tasks by month and sync history per client.

import { INTEGRATION, del, get, post, put } from "../api.js";
import { badge, busy, clearProblems, field, formatMonth, formatTime, fill, h, humanise, nextId, notice, showProblem } from "../ui.js";
import { reloadProgress } from "./reload.js";

// The company key's failures that hold the imports of every client without its own key pair (the service's
// CREDENTIAL_FAILURES): nothing is imported until the pair is fixed, then the missed months follow.
const HELD_REASONS = new Set(["CREDENTIALS_REVOKED", "INVALID_CREDENTIALS", "SIGNATURE_REJECTED"]);
const FINISHED = new Set(["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELLED"]);
const amountFormat = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function integrationLabel(link) {
  if (!link || !link.integration) return "Not connected";
  return `SmartAccounts · ${link.companyName || link.companyId}`;
}

function companyLabel(company) {
  return `${company.name}${company.regCode ? ` (${company.regCode})` : ""}`;
}

/** A summary task value as an accountant reads it: amounts with two decimals, counts as whole numbers. */
export function formatValue(kind, value) {
  if (value === null || value === undefined) return "—";
  const number = Number(value);
  if (!Number.isFinite(number)) return String(value);
  return kind === "amount" ? amountFormat.format(number) : String(number);
}

/** What a client's imports are doing now, from what the API gives: the link's own status, the company key's
 * connection (shared by every client without its own key pair) and the latest import (the link's `latestImport`, or
 * the newest sync history entry: the same outcome, when, why). A link stored before the service kept its latest
 * import has none: then only what is known is said (its last successful month, or that nothing was imported yet). */
export function importState(link, connection, latest) {
  if (!link || !link.integration) return { code: "NOT_LINKED", label: "Not linked", kind: "muted" };
  if (link.status === "FAILING") {
    return { code: "FAILING", label: "Failing", kind: "bad", text: link.message || humanise(link.reason) };
  }
  if (!link.ownCredentials && connection?.status === "FAILING" && HELD_REASONS.has(connection.reason)) {
    return { code: "HELD", label: "Imports held", kind: "bad",
      text: `The company's SmartAccounts key pair is failing (${humanise(connection.reason)}): ${connection.message || ""} `
        + "Fix it on the Connect tab; the missed months are imported then." };
  }
  if (!link.ownCredentials && connection?.status === "NOT_CONNECTED") {
    return { code: "HELD", label: "Imports held", kind: "bad",
      text: "No company key pair is saved: save one on the Connect tab, or give this client its own key pair." };
  }
  if (latest?.outcome === "FAILED") {
    return { code: "IMPORT_FAILED", label: "Last import failed", kind: "bad",
      text: `${formatTime(latest.at)}: ${latest.message || humanise(latest.errorKind)}` };
  }
  if (latest?.outcome === "DEFERRED") {
    return { code: "WAITING_FOR_QUOTA", label: "Waiting for quota", kind: "warn",
      text: latest.message || "Waiting for the daily SmartAccounts quota; the import goes on when it renews." };
  }
  if (latest) {
    return { code: "OK", label: "OK", kind: "ok",
      text: link.lastImport ? `Last import: ${formatMonth(link.lastImport.month)}` : null };
  }
  if (link.lastImport) {
    return { code: "LAST_IMPORTED", label: `Imported ${formatMonth(link.lastImport.month)}`, kind: "muted",
      text: `${formatMonth(link.lastImport.month)} was the last month imported${link.lastImport.at ? ` (${formatTime(link.lastImport.at)})` : ""}. `
        + "How the latest import ended shows here after the next one; Summary tasks and history lists every import." };
  }
  return { code: "NOT_IMPORTED", label: "Not imported yet", kind: "muted",
    text: "Nothing has been imported for this client yet: the first import comes on the import day, or use Reload data." };
}

function stateBadge(state) {
  return h("span", { class: `badge badge-${state.kind}` }, state.label);
}

function renderState(cell, state) {
  cell.dataset.state = state.code;
  cell.removeAttribute("aria-busy");
  fill(cell, stateBadge(state), state.text ? h("p", { class: state.kind === "bad" ? "reason" : "hint" }, state.text) : null);
}

function lastMonths(count) {
  const now = new Date();
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - (count - 1), 1));
  return [from.toISOString().slice(0, 7), to.toISOString().slice(0, 7)];
}

export async function clients(panel, app) {
  const [list, state, catalogue] = await Promise.all([get("/v1/clients"), get(INTEGRATION), get(`${INTEGRATION}/fields`)]);
  const labels = Object.fromEntries(catalogue.fields.map((f) => [f.key, f.label]));
  const kinds = Object.fromEntries(catalogue.fields.map((f) => [f.key, f.kind]));
  const details = h("section", { class: "client-details", "aria-live": "polite" });
  const body = h("tbody");
  const statusCells = new Map();
  let progress = null;

  for (const client of list.clients) {
    const link = client.integration;
    const open = h("button", { type: "button", class: "integration-cell", "data-client": client.id,
      "aria-label": `Integration for ${client.name}: ${integrationLabel(link)}` }, integrationLabel(link));
    open.addEventListener("click", () => editLink(client, open));
    const show = h("button", { type: "button", class: "link", "data-details": client.id,
      "aria-label": `Summary tasks and history of ${client.name}` }, "Summary tasks and history");
    show.addEventListener("click", () => showDetails(client));
    const status = h("td", { "data-testid": "client-status" });
    statusCells.set(client.id, status);
    // the list's answer has it all (the link, its latest import): no request per client
    renderState(status, importState(link, state.connection, link?.latestImport));
    body.append(h("tr", { "data-client-row": client.id },
      h("th", { scope: "row" }, client.name),
      h("td", {}, client.registryCode || "—"),
      h("td", {}, open),
      status,
      h("td", {}, show)));
  }

  async function editLink(client, opener) {
    const link = client.integration || {};
    const dialog = h("dialog", { class: "editor", "aria-labelledby": "editor-title" });
    const form = h("form", { novalidate: true });
    const integration = h("select", { name: "integration" },
      h("option", { value: "" }, "None"),
      h("option", { value: "smartaccounts", selected: link.integration === "smartaccounts", disabled: !state.enabled }, "SmartAccounts"));
    const search = h("input", { type: "search", name: "search", autocomplete: "off", placeholder: "Name or registry code" });
    const company = h("select", { name: "companyId", size: "6", class: "company-list" });
    const own = h("input", { type: "checkbox", name: "own", checked: link.ownCredentials });
    const key = h("input", { type: "text", name: "apiKey", autocomplete: "off", spellcheck: "false" });
    const secret = h("input", { type: "password", name: "apiSecret", autocomplete: "off" });
    const check = h("button", { type: "button" }, "Check key pair");
    // which SmartAccounts company the client's own key pair belongs to: the saved one's, or the pasted one's once checked
    const ownCompany = h("p", { class: "own-company", role: "status", "data-testid": "own-company" },
      link.ownCredentials ? `The saved key pair belongs to ${companyLabel({ name: link.companyName, regCode: link.companyRegCode })}.` : "");
    const ownFields = h("div", { class: "own-keys", hidden: !link.ownCredentials },
      field("Client's API key", key, { name: "apiKey" }),
      field("Client's API secret", secret, { name: "apiSecret", hint: link.ownCredentials ? `Saved: ${link.maskedKey}. Paste both to replace it.` : null }),
      h("div", { class: "actions" }, check), ownCompany);
    const companies = h("div", { class: "company-picker" },
      field("Search SmartAccounts companies", search, { name: "search" }),
      field("SmartAccounts company", company, { name: "companyId", hint: "The list the company's saved key pair sees." }));
    const linked = link.integration
      ? h("p", { "data-testid": "linked-company" }, "Linked now to ",
        h("strong", {}, companyLabel({ name: link.companyName || link.companyId, regCode: link.companyRegCode })),
        link.ownCredentials ? ` with the client's own key pair ${link.maskedKey}.` : " with the company's key pair.")
      : null;
    const status = h("div", { "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const unlink = h("button", { type: "button", class: "danger", hidden: !link.integration }, "Unlink");
    const cancel = h("button", { type: "button" }, "Close");

    let searchTimer = null;
    let asked = 0;
    let loaded = false;
    let loading = Promise.resolve();
    const loadCompanies = () => {
      const mine = ++asked; // answers can come back out of order: only the latest search fills the list
      clearTimeout(searchTimer);
      searchTimer = null;
      company.setAttribute("aria-busy", "true");
      loading = (async () => {
        try {
          const answer = await get(`${INTEGRATION}/companies?search=${encodeURIComponent(search.value.trim())}`);
          if (mine !== asked) return;
          // the one company a search leaves is the one picked; else the user's pick, or the linked company
          const chosen = answer.companies.length === 1 ? answer.companies[0].id : company.value || link.companyId;
          company.replaceChildren(...answer.companies.map((c) =>
            h("option", { value: c.id, selected: c.id === chosen }, companyLabel(c))));
          if (!answer.companies.length) company.append(h("option", { disabled: true, value: "" }, "No company matches"));
          loaded = true;
        } catch (problem) {
          if (mine !== asked) return;
          company.replaceChildren();
          showProblem(form, problem, status);
        } finally {
          if (mine === asked) company.removeAttribute("aria-busy");
        }
      })();
      return loading;
    };

    // The client's own key pair: tested (not saved) to learn the company it belongs to, the one the client is linked to.
    let tested = null; // { key, secret, company }
    const checkPair = async () => {
      if (tested && tested.key === key.value && tested.secret === secret.value) return tested.company;
      const answer = await post(`${INTEGRATION}/test-connection`, { apiKey: key.value, apiSecret: secret.value });
      const belongs = { id: answer.companyId, name: answer.companyName, regCode: answer.companyRegCode };
      tested = { key: key.value, secret: secret.value, company: belongs };
      ownCompany.textContent = `This key pair belongs to ${companyLabel(belongs)}.`
        + (answer.trimmed?.length ? " Spaces around the pasted values were removed." : "");
      return belongs;
    };
    const pasted = () => key.value !== "" || secret.value !== "";
    const forgetTest = () => {
      tested = null;
      ownCompany.textContent = "";
    };
    key.addEventListener("input", forgetTest);
    secret.addEventListener("input", forgetTest);
    check.addEventListener("click", async () => {
      clearProblems(form);
      try {
        await busy(check, checkPair);
      } catch (problem) {
        showProblem(form, problem, status);
      }
    });

    const sync = () => {
      const on = integration.value === "smartaccounts";
      own.closest(".field").hidden = !on;
      companies.hidden = !on || own.checked; // a client's own key pair decides its company
      ownFields.hidden = !on || !own.checked;
      if (on && !own.checked && !loaded) loadCompanies();
    };
    search.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(loadCompanies, 250);
    });
    integration.addEventListener("change", sync);
    own.addEventListener("change", sync);

    const close = () => {
      dialog.close();
      dialog.remove();
      opener.focus();
    };
    const done = async (message, extra) => {
      close();
      await clients(panel, app);
      panel.querySelector(`[data-client="${CSS.escape(client.id)}"]`)?.focus(); // the re-rendered row's button
      app.toast(message);
      if (extra) panel.querySelector(".client-details")?.prepend(extra);
    };
    const refuse = (title, errors) => showProblem(form, { body: { title }, errors, message: title }, status);
    cancel.addEventListener("click", close);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close();
    });
    unlink.addEventListener("click", async () => {
      try {
        await busy(unlink, () => del(`/v1/clients/${encodeURIComponent(client.id)}/integration`));
        await done(`${client.name} is no longer linked to SmartAccounts.`);
      } catch (problem) {
        showProblem(form, problem, status);
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearProblems(form);
      if (integration.value !== "smartaccounts") {
        if (link.integration) unlink.click();
        else close();
        return;
      }
      const bodyJson = { integration: "smartaccounts" };
      if (own.checked) {
        if (!pasted()) {
          if (link.ownCredentials) {
            close(); // the saved pair and its company stay as they are
            app.toast(`Nothing changed: ${client.name} stays linked to ${link.companyName} with its own key pair.`);
            return;
          }
          refuse("Paste the client's key pair", [
            { field: "apiKey", message: "Paste the client's API key from SmartAccounts (Settings → Connected services)." },
            { field: "apiSecret", message: "Paste the client's API secret with it." },
          ]);
          return;
        }
        try {
          const belongs = await busy(save, checkPair);
          Object.assign(bodyJson, { companyId: belongs.id, apiKey: key.value, apiSecret: secret.value });
        } catch (problem) {
          showProblem(form, problem, status);
          return;
        }
      } else {
        if (searchTimer) loadCompanies(); // Enter while a search waits: search now, then save what it leaves
        await loading; // a search still answering decides what is picked
        if (!company.value) {
          refuse("Pick a SmartAccounts company", [
            { field: "companyId", message: "Pick the client's company from the list (search by name or registry code)." },
          ]);
          return;
        }
        bodyJson.companyId = company.value;
      }
      try {
        const answer = await busy(save, () => put(`/v1/clients/${encodeURIComponent(client.id)}/integration`, bodyJson));
        await done(`${client.name} is linked to ${answer.companyName}.`,
          answer.notice ? notice(answer.notice, "warn") : null);
      } catch (problem) {
        showProblem(form, problem, status);
      }
    });

    fill(form,
      h("h2", { id: "editor-title" }, `Integration for ${client.name}`),
      linked,
      field("Integration", integration, { name: "integration", hint: state.enabled ? null : "Enable SmartAccounts on the Overview tab first." }),
      h("div", { class: "field" }, h("label", { class: "choice" }, own, " Use the client's own SmartAccounts key pair")),
      companies,
      ownFields,
      status,
      h("div", { class: "actions" }, unlink, h("span", { class: "spacer" }), cancel, save),
    );
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    sync();
    integration.focus();
  }

  async function showDetails(client) {
    if (progress) progress.stop();
    const [from, to] = lastMonths(13);
    const id = encodeURIComponent(client.id);
    const titleId = nextId("details");
    const summary = h("div", { "data-testid": "client-summary" });
    const data = h("div", {});
    const reloadArea = h("div", { class: "reload" });
    const reload = h("button", { type: "button", disabled: true }, "Reload data for this client");
    // The reload's progress calls the app when the job finishes (toast, unread count): then the tables are read again,
    // so that they show what the reload imported.
    let refreshing = false;
    const afterReload = () => {
      const status = reloadArea.querySelector("[data-status]")?.dataset.status;
      if (!FINISHED.has(status) || refreshing) return;
      refreshing = true;
      load()
        .catch((problem) => data.prepend(notice(`The tables could not be read again: ${problem.message}`, "error")))
        .finally(() => { refreshing = false; });
    };
    progress = reloadProgress(reloadArea, { ...app,
      toast: (...args) => { app.toast(...args); afterReload(); },
      refreshUnread: (...args) => { app.refreshUnread(...args); afterReload(); } });
    reload.addEventListener("click", () => progress.confirmAndStart(reload, `/v1/clients/${id}/integration/reload`,
      `Reload data re-imports the last 12 months of ${client.name} and overwrites its summary task field values.`));

    const load = async () => {
      const [tasks, history, link] = await Promise.all([
        get(`/v1/clients/${id}/summary-tasks?from=${from}&to=${to}`), get(`/v1/clients/${id}/sync-history`),
        get(`/v1/clients/${id}/integration`),
      ]);
      // the link's latest import; for a link stored before it had one, the newest history entry says the same
      const now = importState(link, state.connection, link.latestImport || history.entries[0]);
      const cell = statusCells.get(client.id);
      if (cell) renderState(cell, now);
      reload.disabled = !link.integration;
      fill(summary, h("p", {}, stateBadge(now), " ", integrationLabel(link),
        link.ownCredentials ? ` · own key ${link.maskedKey}` : "",
        link.lastImport ? ` · last import ${formatMonth(link.lastImport.month)}` : ""),
      now.kind === "bad" ? notice(now.text, "error") : null);
      const keys = [...new Set(tasks.tasks.flatMap((t) => Object.keys(t.values || {})))];
      fill(data,
        h("h4", { id: `${titleId}-tasks` }, "Summary tasks by month"),
        tasks.tasks.length
          ? h("div", { class: "table-wrap" }, h("table", { "aria-labelledby": `${titleId}-tasks`, "data-testid": "summary-tasks" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Month"), h("th", { scope: "col" }, "Task"),
              keys.map((k) => h("th", { scope: "col", class: "num" }, labels[k] || k)))),
            h("tbody", {}, [...tasks.tasks].reverse().map((t) => h("tr", { "data-month": t.month },
              h("th", { scope: "row" }, formatMonth(t.month)), h("td", {}, t.title),
              keys.map((k) => h("td", { class: "num", "data-key": k }, formatValue(kinds[k], t.values?.[k]))))))))
          : h("p", {}, "No summary tasks yet: wait for the next import day or use Reload data."),
        h("h4", { id: `${titleId}-history` }, "Sync history"),
        history.entries.length
          ? h("div", { class: "table-wrap" }, h("table", { "aria-labelledby": `${titleId}-history`, "data-testid": "sync-history" },
            h("thead", {}, h("tr", {}, ["When", "Why", "Months", "Outcome", "Values", "Tasks changed", "Calls"].map((c) => h("th", { scope: "col" }, c)))),
            h("tbody", {}, history.entries.map((e) => h("tr", { "data-entry": e.id },
              h("td", {}, formatTime(e.at)), h("td", {}, humanise(e.reason)),
              h("td", {}, e.months.length > 1 ? `${formatMonth(e.months[0])} – ${formatMonth(e.months.at(-1))}` : formatMonth(e.months[0])),
              h("td", {}, badge(e.outcome),
                e.errorKind ? h("span", { "data-testid": "error-kind" }, ` ${humanise(e.errorKind)}`) : null,
                e.message ? h("p", { class: "reason" }, e.message) : null),
              h("td", { "data-testid": "history-values" }, historyValues(e.values)),
              h("td", { class: "num" }, e.tasksChanged), h("td", { class: "num" }, e.callsUsed))))))
          : h("p", {}, "No imports yet."),
      );
    };

    // An import's values per month, folded away: twelve months of a reload are long.
    const historyValues = (values) => {
      const months = Object.keys(values || {}).sort();
      if (!months.length) return "—";
      return h("details", {},
        h("summary", {}, months.length === 1 ? "1 month" : `${months.length} months`),
        h("ul", { class: "month-values" }, months.map((m) => h("li", { "data-month": m },
          h("strong", {}, formatMonth(m)), ": ",
          Object.entries(values[m]).map(([k, v]) => `${labels[k] || k} ${formatValue(kinds[k], v)}`).join(" · ")))));
    };

    fill(details, h("p", { role: "status" }, "Loading…"));
    try {
      await load();
      fill(details,
        h("h3", { id: titleId, tabindex: "-1" }, client.name),
        summary,
        h("div", { class: "actions" }, reload), reloadArea,
        data,
      );
      details.querySelector("h3").focus();
    } catch (problem) {
      fill(details, notice(problem.message, "error"));
    }
  }

  fill(panel,
    h("h2", {}, "Client list"),
    state.enabled ? null : notice("SmartAccounts is disabled: enable it on the Overview tab to link clients.", "warn"),
    h("div", { class: "table-wrap" }, h("table", { class: "clients", "aria-label": "Clients" },
      h("thead", {}, h("tr", {}, ["Client", "Registry code", "Integration", "Status", "Details"].map((c) => h("th", { scope: "col" }, c)))),
      body)),
    details,
  );
  return () => progress && progress.stop();
}
