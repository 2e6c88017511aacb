// Small DOM helpers shared by the views: element builder, problems next to their fields, dates.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces a node's children, skipping the null/false placeholders of optional parts. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

/** A labelled control with a slot for its error; `control` gets an id, `aria-describedby` and `data-field`. */
export function field(label, control, { name, hint } = {}) {
  const id = control.id || nextId("f");
  control.id = id;
  if (name) control.dataset.field = name;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const describedBy = [`${id}-error`];
  let hintNode = null;
  if (hint) {
    hintNode = h("p", { class: "hint", id: `${id}-hint` }, hint);
    describedBy.push(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", describedBy.join(" "));
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintNode, error);
}

export function clearProblems(scope) {
  for (const node of scope.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const node of scope.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  for (const node of scope.querySelectorAll(".form-problem")) node.remove();
}

/** Shows a problem: each `errors` entry under the control whose data-field matches, the rest as one alert. */
export function showProblem(scope, problem, anchor) {
  clearProblems(scope);
  const unplaced = [];
  let first = null;
  for (const error of problem.errors || []) {
    const control = findControl(scope, error.field);
    if (!control) {
      unplaced.push(`${error.field}: ${error.message}`);
      continue;
    }
    const slot = document.getElementById(`${control.id}-error`);
    control.setAttribute("aria-invalid", "true");
    if (slot) {
      slot.hidden = false;
      slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
    }
    first = first || control;
  }
  const box = h(
    "div",
    { class: "form-problem", role: "alert" },
    h("strong", {}, problem.body?.title || "Something went wrong"),
    h("p", {}, problem.errors?.length ? "Please correct the fields marked below." : problem.message),
    unplaced.length ? h("ul", {}, unplaced.map((text) => h("li", {}, text))) : null,
  );
  (anchor || scope).prepend(box);
  if (first) first.focus();
  return box;
}

function findControl(scope, name) {
  if (!name) return null;
  let candidate = name;
  while (candidate) {
    const control = scope.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
    if (control) return control;
    candidate = candidate.includes(".") ? candidate.slice(0, candidate.lastIndexOf(".")) : "";
  }
  return null;
}

export function notice(text, kind = "info") {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

export function badge(status) {
  const kind = {
    CONNECTED: "ok", OK: "ok", PASS: "ok", COMPLETED: "ok", SUCCEEDED: "ok", EXPORTED: "ok",
    FAILING: "bad", FAIL: "bad", FAILED: "bad", NOT_CONNECTED: "muted", NOT_LINKED: "muted", SKIPPED: "muted",
    RUNNING: "busy", QUEUED: "busy", WAITING_FOR_QUOTA: "warn", PARTIAL: "warn", COMPLETED_WITH_ERRORS: "warn",
    PENDING: "busy", PAID: "ok", PARTLY_PAID: "warn", UNPAID: "muted", MISMATCH: "bad",
  }[status] || "muted";
  return h("span", { class: `badge badge-${kind}` }, humanise(status));
}

export function humanise(code) {
  if (!code) return "";
  if (code === "OK") return "OK";
  const text = String(code).toLowerCase().replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric" });
const timeFormat = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Europe/Tallinn",
});

export function formatDate(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-").map(Number);
  return dateFormat.format(new Date(Date.UTC(y, m - 1, d)));
}

export function formatTime(iso) {
  return iso ? `${timeFormat.format(new Date(iso))} (Tallinn)` : "—";
}

export function formatMonth(month) {
  if (!month) return "—";
  const [y, m] = month.split("-").map(Number);
  return new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, 1)),
  );
}

/** Runs an async action from a button: disables it meanwhile and marks the region busy. A disabled button loses
 * the focus to <body>; when nothing else took it meanwhile (a field with an error, a new view) it gets it back. */
export async function busy(button, action) {
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    const lost = !document.activeElement || document.activeElement === document.body;
    if (hadFocus && lost && button.isConnected && !button.hidden) button.focus();
  }
}

export function dl(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}
