// The integration dialog as a reference page: local sign-in, then one tab per part of the help page.

import { call, get, saveSession, session } from "./api.js";
import { busy, field, h, showProblem } from "./ui.js";
import { overview } from "./views/overview.js";
import { connect } from "./views/connect.js";
import { settings } from "./views/settings.js";
import { diagnostics } from "./views/diagnostics.js";
import { clients } from "./views/clients.js";
import { notifications } from "./views/notifications.js";
import { invoices } from "./views/invoices.js";
import { vatTypes } from "./views/vat-types.js";

const VIEWS = [
  { id: "overview", label: "Overview", view: overview },
  { id: "connect", label: "Connect", view: connect },
  { id: "settings", label: "Settings", view: settings },
  { id: "diagnostics", label: "Diagnostics", view: diagnostics },
  { id: "clients", label: "Client list", view: clients },
  { id: "notifications", label: "Notifications", view: notifications },
  { id: "invoices", label: "Invoice export", view: invoices },
  { id: "vat-types", label: "VAT types", view: vatTypes },
];

const app = {
  go: (id) => selectTab(id, true),
  toast(text, kind = "info") {
    const node = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
    document.getElementById("toasts").append(node);
    setTimeout(() => node.remove(), 8000);
  },
  refreshUnread,
  showUnread,
  /** Owner or admin on a Team or Elite plan: the management routes answer (others get the service's 403). */
  mayManage() {
    const who = session();
    return Boolean(who) && who.role !== "member" && who.plan !== "free";
  },
};

function renderSignIn() {
  const form = document.getElementById("signin-form");
  form.replaceChildren();
  const company = h("input", { type: "text", name: "company", value: "demo-company", autocomplete: "off", required: true, list: "companies" });
  const role = h("select", { name: "role" }, ["owner", "admin", "member"].map((r) => h("option", { value: r }, r)));
  const plan = h("select", { name: "plan" }, ["team", "elite", "free"].map((p) => h("option", { value: p }, p)));
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  form.append(
    h("datalist", { id: "companies" }, h("option", { value: "demo-company" })),
    field("Uku company", company, { name: "company", hint: "The demo company of make run is demo-company." }),
    h("div", { class: "row" }, field("Role", role, { name: "role" }), field("Plan", plan, { name: "plan" })),
    h("div", { class: "actions" }, submit),
  );
  form.onsubmit = async (event) => {
    event.preventDefault();
    try {
      const body = { company: company.value.trim(), role: role.value, plan: plan.value };
      const answer = await busy(submit, () => call("POST", "/local/token", body));
      saveSession(answer);
      start();
    } catch (problem) {
      showProblem(form, problem);
    }
  };
}

function renderWho() {
  const who = document.getElementById("who");
  const current = session();
  who.replaceChildren();
  if (!current) return;
  who.append(
    h("span", {}, `${current.company} · ${current.role} · ${current.plan} plan`),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
}

function signOut() {
  saveSession(null);
  start();
}

function renderTabs() {
  const tabs = document.getElementById("tabs");
  const panels = document.getElementById("panels");
  tabs.replaceChildren();
  panels.replaceChildren();
  for (const { id, label } of VIEWS) {
    const tab = h("button", {
      type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`, "aria-selected": "false",
      tabindex: "-1", dataset: { tab: id },
    }, label, id === "notifications" ? h("span", { class: "count", id: "unread" }) : null);
    tab.addEventListener("click", () => selectTab(id, true));
    tab.addEventListener("keydown", onTabKey);
    tabs.append(tab);
    panels.append(h("div", { role: "tabpanel", id: `panel-${id}`, "aria-labelledby": `tab-${id}`, tabindex: "0", hidden: true, class: "panel" }));
  }
}

function onTabKey(event) {
  const all = [...document.querySelectorAll('[role="tab"]')];
  const index = all.indexOf(event.currentTarget);
  const target = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: all.length - 1 }[event.key];
  if (target === undefined) return;
  event.preventDefault();
  const next = all[(target + all.length) % all.length];
  selectTab(next.dataset.tab, true);
}

let current = null;
let generation = 0;

/** Asks before the current view's unsaved changes are thrown away; resolves true to go on. */
function confirmLeave(text) {
  return new Promise((resolve) => {
    const stay = h("button", { type: "button", class: "primary" }, "Stay");
    const leave = h("button", { type: "button", class: "danger" }, "Discard changes");
    const dialog = h("dialog", { "aria-labelledby": "leave-title", class: "confirm" },
      h("h2", { id: "leave-title" }, "Discard unsaved changes?"), h("p", {}, `${text} Leaving the tab throws them away.`),
      h("div", { class: "actions" }, leave, stay));
    const opener = document.activeElement;
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      if (!answer && opener && opener.isConnected) opener.focus();
      resolve(answer);
    };
    stay.addEventListener("click", () => done(false));
    leave.addEventListener("click", () => done(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    stay.focus();
  });
}

const unsavedText = () => (current && current.unsaved ? current.unsaved() : null);

async function selectTab(id, focus = false) {
  const entry = VIEWS.find((v) => v.id === id) || VIEWS[0];
  const pending = unsavedText();
  if (pending && !(await confirmLeave(pending))) {
    if (current && location.hash !== `#${current.id}`) history.replaceState(null, "", `#${current.id}`);
    return;
  }
  const mine = ++generation; // a view still loading when another tab (or the same) is chosen is dropped
  if (current && current.cleanup) current.cleanup();
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.tab === entry.id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
  }
  for (const panel of document.querySelectorAll('[role="tabpanel"]')) panel.hidden = panel.id !== `panel-${entry.id}`;
  if (location.hash !== `#${entry.id}`) history.replaceState(null, "", `#${entry.id}`);
  const panel = document.getElementById(`panel-${entry.id}`);
  delete panel.dataset.ready;
  panel.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading…"));
  panel.setAttribute("aria-busy", "true");
  current = { id: entry.id };
  const view = h("div", { class: "view" });
  refreshUnread(); // the count is as fresh as the last tab chosen
  try {
    const made = await entry.view(view, app); // a cleanup function, or { cleanup, unsaved }
    const { cleanup = null, unsaved = null } = typeof made === "function" ? { cleanup: made } : made || {};
    if (mine !== generation) {
      if (cleanup) cleanup();
      return;
    }
    current.cleanup = cleanup;
    current.unsaved = unsaved;
    panel.replaceChildren(view);
  } catch (problem) {
    if (mine !== generation) return;
    panel.replaceChildren(h("div", { class: "notice notice-error", role: "alert" }, problem.message || String(problem)));
    if (problem.status === 401) signOut();
  }
  panel.removeAttribute("aria-busy");
  panel.dataset.ready = entry.id;
}

/** The tab's unread count, from an answer of GET /v1/notifications (the Notifications view passes its own). */
function showUnread(unread) {
  const node = document.getElementById("unread");
  if (node) node.textContent = unread ? ` ${unread} unread` : "";
}

let unreadAsked = 0;

async function refreshUnread() {
  const mine = ++unreadAsked; // an older answer arriving late never overwrites a newer one
  try {
    const { unread } = await get("/v1/notifications");
    if (mine === unreadAsked) showUnread(unread);
  } catch {
    // the count is a nicety; the Notifications tab shows the error itself
  }
}

function start() {
  renderWho();
  const signedIn = Boolean(session());
  document.getElementById("signin").hidden = signedIn;
  document.getElementById("dialog").hidden = !signedIn;
  if (!signedIn) {
    renderSignIn();
    return;
  }
  renderTabs();
  const who = session();
  const readOnly = who.role === "member" || who.plan === "free";
  document.getElementById("read-only").hidden = !readOnly;
  current = null;
  selectTab(location.hash.slice(1) || "overview");
}

// A hash naming a tab (a link such as href="#connect") selects it; any other hash is left alone.
window.addEventListener("hashchange", () => {
  const id = location.hash.slice(1);
  if (session() && current && VIEWS.some((v) => v.id === id) && id !== current.id) selectTab(id);
});

// "Skip to content" moves the focus to the content; the hash keeps naming the tab, so nothing is re-rendered.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  document.getElementById("main").focus();
});

window.addEventListener("beforeunload", (event) => {
  if (unsavedText()) event.preventDefault();
});

start();
