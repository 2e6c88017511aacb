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

/** Fields of the settings answer that are not part of what PUT takes. */
const OUTPUT_ONLY = new Set(["version", "notice"]);

/** The PUT body: every field of the saved settings (those the page does not show included, e.g. a field a newer
 * service adds), with the edited ones on top; nothing the page does not show is ever dropped. */
export function settingsBody(saved, edited) {
  const kept = Object.fromEntries(Object.entries(saved || {}).filter(([key]) => !OUTPUT_ONLY.has(key)));
  return { ...kept, ...edited };
}

/** A value in a stable form for comparing: keys sorted, empty (null) entries left out, as the service treats them. */
const canonical = (value) => (value && typeof value === "object" && !Array.isArray(value)
  ? Object.fromEntries(Object.keys(value).sort().filter((key) => value[key] !== null && value[key] !== undefined)
    .map((key) => [key, canonical(value[key])]))
  : value ?? null);

/** What of the settings a user edits (the answer-only fields left out), as a string that compares. */
const edits = (value) => JSON.stringify(canonical(value && typeof value === "object"
  ? Object.fromEntries(Object.entries(value).filter(([key]) => !OUTPUT_ONLY.has(key))) : value));

/** The service's notice on a Save that changed the mapping, for a Save whose answer was lost. */
const MAPPING_NOTICE = "The field mapping changed. New imports use it from now on; use Reload data to fill the past 12 months with the new mapping.";

const LABELS = { taskTitle: "task title", topicId: "topic", recurrence: "recurrence", importDay: "import day",
  defaultArticleCode: "default article code", fieldMapping: "data fields" };

/** The settings someone else changed between `before` (what the page read) and `after` (what is saved now), in
 * words: ["task title", "data fields"]. Empty when the edits are the same (the record changed for another reason). */
export function changedSettings(before, after) {
  if (edits(before) === edits(after)) return [];
  if (!before || !after) return ["all settings"];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => !OUTPUT_ONLY.has(key));
  const names = keys.filter((key) => edits(before[key]) !== edits(after[key])).map((key) => LABELS[key] || "other settings");
  return [...new Set(names)];
}

export async function settings(panel, app) {
  const [state, catalogue, customFields, topics] = await Promise.all([
    get(INTEGRATION), get(`${INTEGRATION}/fields`), get("/v1/custom-task-fields"), get("/v1/topics"),
  ]);
  let saved = state.settings;
  // the version Save writes over (If-Match): what was read; a write since then by anyone is a 409 CONFLICT
  let version = state.version;
  let fields = customFields.fields;
  let topicList = topics.topics;
  const current = saved || {
    taskTitle: "Bookkeeping {client} {monthName} {year}", topicId: topicList[0]?.id || "", recurrence: "MONTHLY",
    importDay: { rule: "LAST_WORK_DAY", day: null }, fieldMapping: {}, defaultArticleCode: null,
  };

  const form = h("form", { novalidate: true, class: "settings", "aria-labelledby": "settings-title" });
  const title = h("input", { type: "text", name: "taskTitle", value: current.taskTitle, maxlength: "200" });
  const titlePreview = h("p", { class: "preview", "aria-live": "polite", "data-testid": "title-preview" });
  const topicOptions = (selected) => [
    topicList.length ? null : h("option", { value: "" }, "— no topic yet: create one —"),
    topicList.map((t) => h("option", { value: t.id, selected: t.id === selected }, t.name)),
    h("option", { value: NEW_FIELD }, "+ New topic…"),
  ].flat().filter(Boolean);
  const topic = h("select", { name: "topicId" }, topicOptions(current.topicId));
  topic.dataset.previous = topic.value;
  const topicCreator = h("div", { class: "creator", hidden: true });
  topic.addEventListener("change", () => {
    if (topic.value === NEW_FIELD) openTopicCreator();
    else topic.dataset.previous = topic.value;
  });
  const article = h("input", { type: "text", name: "defaultArticleCode", id: "default-article-code", value: current.defaultArticleCode || "",
    maxlength: "128", autocomplete: "off", spellcheck: "false" });
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
      if (!name.value.trim()) {
        showProblem(creator, nameProblem("Enter a name for the new custom task field."));
        return;
      }
      try {
        const made = await busy(create, () => post("/v1/custom-task-fields", { name: name.value.trim(), type: type.value }));
        fields = [...fields, made];
        for (const [, other] of selects) {
          const keep = other === select ? made.id : other.value;
          other.replaceChildren(...optionsFor(keep).flat());
          other.value = keep === NEW_FIELD ? "" : keep;
        }
        close(made.id);
        app.toast(`Custom field “${made.name}” created.`);
      } catch (problem) {
        // taken by a field this page did not list (made meanwhile by someone else, or by a try of this button
        // whose answer was lost): the list is read again and that field picked
        const known = new Set(fields.map((f) => f.id));
        const found = problem.code === "CONFLICT" ? await readAgain(get("/v1/custom-task-fields"), "fields", name.value) : null;
        if (found) {
          fields = found.list;
          for (const [, other] of selects) {
            const keep = other.value; // "+ New custom field…" stays on the select whose creator is open
            other.replaceChildren(...optionsFor(keep === NEW_FIELD ? "" : keep).flat());
            other.value = keep;
          }
        }
        if (found && found.match && !known.has(found.match.id)) {
          close(found.match.id);
          changed();
          app.toast(`A custom field “${found.match.name}” already existed (made meanwhile): it is picked.`);
          return;
        }
        showProblem(creator, nameTaken(problem, "A custom task field with this name already exists: pick it in the list, or choose another name."));
      }
    });
    enterCreates(name, create);
  }

  function openTopicCreator() {
    const name = h("input", { type: "text", name: "name", value: "" });
    const create = h("button", { type: "button", class: "primary" }, "Create topic");
    const cancel = h("button", { type: "button" }, "Cancel");
    topicCreator.replaceChildren(
      h("p", { class: "hint" }, "New Uku topic for the summary tasks"),
      field("Topic name", name, { name: "name" }),
      h("div", { class: "actions" }, create, cancel),
    );
    topicCreator.hidden = false;
    name.focus();
    const close = (value) => {
      topic.value = value;
      topic.dataset.previous = value;
      topicCreator.hidden = true;
      topicCreator.replaceChildren();
      topic.focus();
      changed();
    };
    cancel.addEventListener("click", () => close(topic.dataset.previous || ""));
    create.addEventListener("click", async () => {
      if (!name.value.trim()) {
        showProblem(topicCreator, nameProblem("Enter a name for the new topic."));
        return;
      }
      try {
        const made = await busy(create, () => post("/v1/topics", { name: name.value.trim() }));
        topicList = [...topicList, made];
        topic.replaceChildren(...topicOptions(made.id));
        close(made.id);
        app.toast(`Topic “${made.name}” created.`);
      } catch (problem) {
        const known = new Set(topicList.map((t) => t.id));
        const found = problem.code === "CONFLICT" ? await readAgain(get("/v1/topics"), "topics", name.value) : null;
        if (found) {
          topicList = found.list;
          const keep = topic.dataset.previous || "";
          topic.replaceChildren(...topicOptions(keep));
          topic.value = NEW_FIELD;
        }
        if (found && found.match && !known.has(found.match.id)) {
          topic.replaceChildren(...topicOptions(found.match.id));
          close(found.match.id);
          app.toast(`A topic “${found.match.name}” already existed (made meanwhile): it is picked.`);
          return;
        }
        showProblem(topicCreator, nameTaken(problem, "A topic with this name already exists: pick it in the list, or choose another name."));
      }
    });
    enterCreates(name, create);
  }

  const unsaved = state.settings ? null : notice("Summary task settings are not saved yet: the values below are suggestions.", "info");
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const saveResult = h("div", { "aria-live": "polite", "data-testid": "settings-result" });
  const body = () => {
    const fieldMapping = {};
    for (const [key, select] of selects) fieldMapping[key] = select.value && select.value !== NEW_FIELD ? select.value : null;
    return settingsBody(saved, {
      taskTitle: title.value, topicId: topic.value === NEW_FIELD ? "" : topic.value, recurrence: recurrence.value,
      importDay: importDay(), fieldMapping, defaultArticleCode: article.value.trim() || null,
    });
  };
  let savedBody = null; // what Save last stored (or what was loaded): the tab has unsaved changes when it differs
  const dirty = () => savedBody !== null && JSON.stringify(body()) !== savedBody;
  const changed = () => {
    saveState.textContent = dirty() ? "Unsaved changes." : "";
  };
  const saveState = h("p", { class: "hint", "aria-live": "polite", "data-testid": "unsaved-state" });
  const write = (sent) => put(`${INTEGRATION}/settings`, sent, { "If-Match": String(version) });
  /** Writes over the version read. A CONFLICT says the integration record was written since, and the settings saved
   * now tell by whom: the same as sent (this user's earlier Save, whose answer was lost: it stands), the same as read
   * (the service on its own: an import's next date, a connection check, enabling; the same body is written over the
   * new version, as nobody's edit is in the way), else someone else's Save (theirs are answered, nothing written). */
  const writeOverRead = async (sent) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return { answer: await write(sent) };
      } catch (problem) {
        if (problem.code !== "CONFLICT" || attempt === 3) throw problem;
        const fresh = await get(INTEGRATION);
        if (fresh.settings && !changedSettings(sent, fresh.settings).length) {
          const mapping = saved && edits(saved.fieldMapping) !== edits(sent.fieldMapping);
          return { answer: { ...fresh.settings, version: fresh.version, notice: mapping ? MAPPING_NOTICE : null } };
        }
        if (changedSettings(saved, fresh.settings).length) return { theirs: fresh };
        version = fresh.version;
      }
    }
  };
  /** Saves the form; true when saved, false when the service (or the page) refused it, problems shown, or someone
   * else saved the settings meanwhile (the form keeps this user's values, the choice is offered). */
  const submit = async () => {
    clearProblems(form);
    fill(saveResult);
    const sent = body();
    if (!sent.topicId) {
      showProblem(form, { body: { title: "A topic is needed" }, errors: [{ field: "topicId",
        message: "Pick the Uku topic of the summary tasks, or create one with “+ New topic…” in the list." }] }, saveResult);
      return false;
    }
    try {
      const { answer, theirs } = await busy(save, () => writeOverRead(sent));
      if (theirs) {
        showConflict(theirs);
        return false;
      }
      saved = answer;
      version = answer.version;
      savedBody = JSON.stringify(body());
      changed();
      fill(saveResult, notice("Settings saved.", "ok"), answer.notice ? notice(answer.notice, "warn") : null);
      if (unsaved) unsaved.remove();
      return true;
    } catch (problem) {
      showProblem(form, problem, saveResult);
      return false;
    }
  };

  /** Someone else saved the settings since this tab read them: nothing was written. The user's values stay on
   * screen; they choose to load the saved ones (theirs), or to save their own over them knowingly. */
  const showConflict = (theirs) => {
    const what = changedSettings(saved, theirs.settings);
    const loadSaved = h("button", { type: "button", class: "primary" }, "Load the saved settings");
    const keepMine = h("button", { type: "button" }, "Save mine over theirs");
    const box = h("div", { class: "form-problem", role: "alert", "data-testid": "settings-conflict" },
      h("strong", {}, "Someone else saved the settings meanwhile"),
      h("p", {}, saved
        ? `Another user saved the settings after you opened or last saved them here (changed: ${what.join(", ")}). Your changes were not saved, and are still on screen.`
        : "Another user saved the settings for the first time after you opened this tab. Your values were not saved, and are still on screen."),
      h("p", {}, "Load the saved settings to see theirs (your changes here are then discarded), or save yours over theirs."),
      h("div", { class: "actions" }, keepMine, loadSaved));
    fill(saveResult, box);
    loadSaved.addEventListener("click", async () => {
      try {
        await busy(loadSaved, loadSavedSettings);
        fill(saveResult, notice("The saved settings are loaded.", "info"));
        title.focus();
      } catch (problem) {
        showProblem(form, problem, saveResult);
      }
    });
    keepMine.addEventListener("click", () => {
      // theirs becomes what this save knowingly replaces: its version, and the fields the page does not show
      saved = theirs.settings;
      version = theirs.version;
      submit();
    });
    loadSaved.focus();
  };

  /** Reads the saved settings (with the topics and custom fields, which may be new) and shows them in the form. */
  const loadSavedSettings = async () => {
    const [fresh, freshFields, freshTopics] = await Promise.all([
      get(INTEGRATION), get("/v1/custom-task-fields"), get("/v1/topics"),
    ]);
    fields = freshFields.fields;
    topicList = freshTopics.topics;
    saved = fresh.settings;
    version = fresh.version;
    if (saved) showValues(saved);
    if (saved && unsaved) unsaved.remove();
    savedBody = JSON.stringify(body());
    changed();
  };

  /** Puts settings into the form's controls (any open "New …" creator is closed). */
  const showValues = (values) => {
    title.value = values.taskTitle;
    topicCreator.hidden = true;
    topicCreator.replaceChildren();
    topic.replaceChildren(...topicOptions(values.topicId));
    topic.value = values.topicId;
    topic.dataset.previous = topic.value;
    article.value = values.defaultArticleCode || "";
    for (const r of rules) r.input.checked = r.input.value === values.importDay.rule;
    day.value = values.importDay.day ?? 5;
    const open = showMore.getAttribute("aria-expanded") === "true";
    for (const [key, select] of selects) {
      const value = values.fieldMapping[key] || "";
      select.replaceChildren(...optionsFor(value).flat());
      select.value = value;
      select.dataset.previous = value;
      const row = select.closest("tr");
      const creator = row.querySelector(".creator");
      creator.hidden = true;
      creator.replaceChildren();
      if (moreRows.includes(row)) row.hidden = !open && !value;
    }
    updatePreview();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  const reloadArea = h("div", { class: "reload" });
  const progress = reloadProgress(reloadArea, app);
  const reloadButton = h("button", { type: "button", class: "reload-button" }, "Reload data");
  reloadButton.addEventListener("click", () => progress.confirmAndStart(reloadButton, `${INTEGRATION}/reload`,
    "Reload data re-imports the last 12 months for every connected client and overwrites the summary task field values. Uku does this in the background and notifies you when ready.",
    dirty() ? { unsaved: "Your changes on this tab are not saved yet, and Reload data uses the saved settings.", save: submit } : {}));
  if (state.runningReload) progress.follow(state.runningReload.jobId);

  fill(form, 
    h("h2", { id: "settings-title" }, "Settings"),
    unsaved,
    h("div", { class: "grid" },
      h("div", {}, field("Task title", title, { name: "taskTitle", hint: "Placeholders: {client}, {month}, {monthName}, {year}." }), titlePreview),
      h("div", {}, field("Topic", topic, { name: "topicId" }), topicCreator),
      field("Recurrence", recurrence, { name: "recurrence", hint: "Summary tasks are always monthly." }),
      importDayFieldset,
      field("Default article code (invoice export)", article, { name: "defaultArticleCode",
        hint: "The SmartAccounts article used for invoice lines without an article code SmartAccounts knows. Empty: such lines are not exported." })),
    h("h3", { id: "fields-title" }, "Configure data fields"),
    h("p", { class: "hint" }, "Map each SmartAccounts field to a Uku custom task field. Fields left blank are not imported."),
    h("div", { class: "table-wrap" }, h("table", { class: "mapping", "aria-labelledby": "fields-title" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "SmartAccounts field"), h("th", { scope: "col" }, "Uku custom task field"))),
      rows)),
    showMore,
    saveResult,
    h("div", { class: "dialog-foot" }, reloadButton, h("div", { class: "actions" }, saveState, save)),
    reloadArea,
  );
  fill(panel, form);
  updatePreview();
  savedBody = JSON.stringify(body());
  return { cleanup: () => progress.stop(), unsaved: () => (dirty() ? "Your changes on the Settings tab are not saved." : null) };
}

/** Enter in a "New …" name creates it (it would otherwise submit the whole Settings form, half-edited). */
function enterCreates(input, button) {
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (!button.disabled) button.click();
  });
}

/** The list read again after a name was refused as taken: `{ list, match }`, match the entry of that name (null
 * when none); null when the list cannot be read (the refusal is then shown as it is). */
async function readAgain(reading, key, name) {
  try {
    const list = (await reading)[key];
    const wanted = name.trim().toLocaleLowerCase();
    return { list, match: list.find((item) => item.name.toLocaleLowerCase() === wanted) || null };
  } catch {
    return null;
  }
}

const nameProblem = (message) => ({ body: { title: "A name is needed" }, errors: [{ field: "name", message }] });

/** A CONFLICT on creating something named: the name is taken (the service's generic conflict title says less). */
function nameTaken(problem, message) {
  if (problem.code !== "CONFLICT") return problem;
  return { body: { title: "This name is taken" }, message, errors: [{ field: "name", message }] };
}
