// Settings tab: task title with its placeholders previewed, topic, recurrence, import day with the next import date,
// Configure data fields (main fields, Show more, New custom field inside the dropdown), Save, and Reload data.

import { INTEGRATION, get, post, put } from "../api.js";
import { nextImport } from "../import-day.js";
import { busy, clearProblems, field, formatDate, formatMonth, fill, h, nextId, notice, showProblem } from "../ui.js";
import { reloadProgress } from "./reload.js";

const NEW_FIELD = "__new__";
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];

export function previewTitle(template, month, client) {
  const [y, m] = month.split("-").map(Number);
  const values = { month, monthName: MONTHS[m - 1], year: String(y), client };
  return template.replace(/\{\{|\}\}|\{(\w+)\}/g, (match, name) => {
    if (match === "{{") return "{";
    if (match === "}}") return "}";
    return name in values ? values[name] : match;
  });
}

export async function settings(panel, app) {
  const [state, catalogue, customFields, topics] = await Promise.all([
    get(INTEGRATION), get(`${INTEGRATION}/fields`), get("/v1/custom-task-fields"), get("/v1/topics"),
  ]);
  const saved = state.settings;
  let fields = customFields.fields;
  const current = saved || {
    taskTitle: "Bookkeeping {client} {monthName} {year}", topicId: topics.topics[0]?.id || "", recurrence: "MONTHLY",
    importDay: { rule: "LAST_WORK_DAY", day: null }, fieldMapping: {},
  };

  const form = h("form", { novalidate: true, class: "settings", "aria-labelledby": "settings-title" });
  const title = h("input", { type: "text", name: "taskTitle", value: current.taskTitle, maxlength: "200" });
  const titlePreview = h("p", { class: "preview", "aria-live": "polite", "data-testid": "title-preview" });
  const topic = h("select", { name: "topicId" },
    topics.topics.map((t) => h("option", { value: t.id, selected: t.id === current.topicId }, t.name)));
  const recurrence = h("select", { name: "recurrence" }, h("option", { value: "MONTHLY", selected: true }, "Monthly"));
  const ruleName = nextId("rule");
  const rules = [
    ["LAST_WORK_DAY", "Last work day of the month"],
    ["LAST_CALENDAR_DAY", "Last calendar day of the month"],
    ["DAY_OF_FOLLOWING_MONTH", "Day of the following month"],
  ].map(([value, label]) => {
    const input = h("input", { type: "radio", name: ruleName, value, checked: current.importDay.rule === value });
    return { input, node: h("label", { class: "choice" }, input, ` ${label}`) };
  });
  const day = h("input", { type: "number", name: "day", min: "1", max: "28", value: current.importDay.day ?? 5, inputmode: "numeric" });
  const nextDate = h("p", { class: "preview", "aria-live": "polite", "data-testid": "next-import" });
  const importDayFieldset = h("fieldset", { class: "import-day" },
    h("legend", {}, "Import data"), rules.map((r) => r.node), field("Day (1 to 28)", day, { name: "importDay.day" }), nextDate);
  rules[0].input.dataset.field = "importDay.rule";

  const rule = () => rules.find((r) => r.input.checked)?.input.value || "LAST_WORK_DAY";
  const importDay = () => (rule() === "DAY_OF_FOLLOWING_MONTH" ? { rule: rule(), day: Number(day.value) } : { rule: rule() });

  const updatePreview = () => {
    const next = nextImport(importDay());
    day.disabled = rule() !== "DAY_OF_FOLLOWING_MONTH";
    nextDate.textContent = next
      ? `Next import: ${formatDate(next.date)} (imports ${formatMonth(next.month)})`
      : "Next import: pick a day from 1 to 28.";
    nextDate.dataset.date = next ? next.date : "";
    const month = next ? next.month : new Date().toISOString().slice(0, 7);
    titlePreview.textContent = `Preview: ${previewTitle(title.value, month, "Väike Raamatupidamine OÜ")}`;
  };
  title.addEventListener("input", updatePreview);
  day.addEventListener("input", updatePreview);
  for (const r of rules) r.input.addEventListener("change", updatePreview);

  // Configure data fields: one row per SmartAccounts field, mapped to a custom task field or left blank.
  const rows = h("tbody");
  const selects = new Map();
  const moreRows = [];
  const optionsFor = (selected) => [
    h("option", { value: "" }, "— not imported —"),
    fields.map((f) => h("option", { value: f.id, selected: f.id === selected }, `${f.name} (${f.type})`)),
    h("option", { value: NEW_FIELD }, "+ New custom field…"),
  ];
  for (const item of catalogue.fields) {
    const select = h("select", { name: `fieldMapping.${item.key}`, "aria-label": `Uku custom task field for ${item.label}` },
      optionsFor(current.fieldMapping[item.key] || ""));
    select.dataset.field = `fieldMapping.${item.key}`;
    select.id = nextId("map");
    const error = h("p", { class: "field-error", id: `${select.id}-error`, hidden: true });
    select.setAttribute("aria-describedby", `${select.id}-error`);
    const creator = h("div", { class: "creator", hidden: true });
    select.dataset.previous = select.value;
    select.addEventListener("change", () => {
      if (select.value === NEW_FIELD) openCreator(item, select, creator);
      else select.dataset.previous = select.value;
    });
    selects.set(item.key, select);
    const row = h("tr", { hidden: !item.main && !current.fieldMapping[item.key] },
      h("th", { scope: "row" }, h("span", {}, item.label), h("span", { class: "hint" }, item.description)),
      h("td", {}, select, error, creator));
    if (!item.main) moreRows.push(row);
    rows.append(row);
  }
  const showMore = h("button", { type: "button", class: "link", "aria-expanded": "false" }, "Show more");
  showMore.addEventListener("click", () => {
    const open = showMore.getAttribute("aria-expanded") !== "true";
    showMore.setAttribute("aria-expanded", String(open));
    showMore.textContent = open ? "Show fewer" : "Show more";
    for (const row of moreRows) row.hidden = !open && !selects.get(rowKey(row)).value;
  });
  const rowKey = (row) => [...selects.entries()].find(([, s]) => row.contains(s))[0];

  function openCreator(item, select, creator) {
    const name = h("input", { type: "text", name: "name", value: item.label });
    const type = h("select", { name: "type" }, ["number", "currency", "text"].map((t) =>
      h("option", { value: t, selected: t === (item.kind === "amount" ? "currency" : "number") }, t)));
    const create = h("button", { type: "button", class: "primary" }, "Create field");
    const cancel = h("button", { type: "button" }, "Cancel");
    creator.replaceChildren(
      h("p", { class: "hint" }, `New custom task field for ${item.label}`),
      h("div", { class: "row" }, field("Field name", name, { name: "name" }), field("Type", type, { name: "type" })),
      h("div", { class: "actions" }, create, cancel),
    );
    creator.hidden = false;
    name.focus();
    const close = (value) => {
      select.value = value;
      select.dataset.previous = value;
      creator.hidden = true;
      creator.replaceChildren();
      select.focus();
    };
    cancel.addEventListener("click", () => close(select.dataset.previous || ""));
    create.addEventListener("click", async () => {
      try {
        const made = await busy(create, () => post("/v1/custom-task-fields", { name: name.value, type: type.value }));
        fields = [...fields, made];
        for (const [, other] of selects) {
          const keep = other === select ? made.id : other.value;
          other.replaceChildren(...optionsFor(keep).flat());
          other.value = keep === NEW_FIELD ? "" : keep;
        }
        close(made.id);
        app.toast(`Custom field “${made.name}” created.`);
      } catch (problem) {
        showProblem(creator, problem);
      }
    });
  }

  const unsaved = state.settings ? null : notice("Summary task settings are not saved yet: the values below are suggestions.", "info");
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const saveResult = h("div", { "aria-live": "polite", "data-testid": "settings-result" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    fill(saveResult);
    const fieldMapping = {};
    for (const [key, select] of selects) fieldMapping[key] = select.value && select.value !== NEW_FIELD ? select.value : null;
    const body = { taskTitle: title.value, topicId: topic.value, recurrence: recurrence.value, importDay: importDay(), fieldMapping };
    try {
      const answer = await busy(save, () => put(`${INTEGRATION}/settings`, body));
      fill(saveResult, notice("Settings saved.", "ok"), answer.notice ? notice(answer.notice, "warn") : null);
      if (unsaved) unsaved.remove();
    } catch (problem) {
      showProblem(form, problem, saveResult);
    }
  });

  const reloadArea = h("div", { class: "reload" });
  const progress = reloadProgress(reloadArea, app);
  const reloadButton = h("button", { type: "button", class: "reload-button" }, "Reload data");
  reloadButton.addEventListener("click", () => progress.confirmAndStart(reloadButton, `${INTEGRATION}/reload`,
    "Reload data re-imports the last 12 months for every connected client and overwrites the summary task field values. Uku does this in the background and notifies you when ready."));
  if (state.runningReload) progress.follow(state.runningReload.jobId);

  fill(form, 
    h("h2", { id: "settings-title" }, "Settings"),
    unsaved,
    h("div", { class: "grid" },
      h("div", {}, field("Task title", title, { name: "taskTitle", hint: "Placeholders: {client}, {month}, {monthName}, {year}." }), titlePreview),
      field("Topic", topic, { name: "topicId" }),
      field("Recurrence", recurrence, { name: "recurrence", hint: "Summary tasks are always monthly." }),
      importDayFieldset),
    h("h3", { id: "fields-title" }, "Configure data fields"),
    h("p", { class: "hint" }, "Map each SmartAccounts field to a Uku custom task field. Fields left blank are not imported."),
    h("div", { class: "table-wrap" }, h("table", { class: "mapping", "aria-labelledby": "fields-title" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "SmartAccounts field"), h("th", { scope: "col" }, "Uku custom task field"))),
      rows)),
    showMore,
    saveResult,
    h("div", { class: "dialog-foot" }, reloadButton, h("div", { class: "actions" }, save)),
    reloadArea,
  );
  fill(panel, form);
  updatePreview();
  return () => progress.stop();
}
