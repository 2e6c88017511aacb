// Reload data: a confirmation, then a progress bar fed by the reload job (clients done of total, calls used,
// waiting for the daily quota with its resume time, the estimated finish when the service gives one).

import { get, post } from "../api.js";
import { busy, formatTime, fill, h, humanise, notice, showProblem } from "../ui.js";

const FINISHED = new Set(["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELLED"]);

// The bar follows the calls (a one-client reload of a large company takes hours, maybe days, with 0 of 1 clients
// done all along); before any estimate exists, and once finished, the clients.
// The expected calls grow as the reload learns the clients' sizes ("36 of about 40" becomes "78 of about 143"): the
// bar never goes back, it holds the furthest share shown for the job until the figures pass it.
export function bar(job, done, total, finished, shown = 0) {
  if (finished) return { max: "1", value: "1" };
  if (job.callsExpected > 0) {
    const max = job.callsExpected;
    const used = Math.min(job.callsUsed || 0, max);
    return { max: String(max), value: String(Math.max(used, Math.min(Math.ceil(shown * max), max))) };
  }
  const max = total || 1;
  return { max: String(max), value: String(Math.max(done, Math.min(Math.ceil(shown * max), max))) };
}

export function reloadProgress(area, app) {
  let timer = null;
  let furthest = { jobId: null, share: 0 };
  let names = null; // client id -> name, read once when a job names clients in its errors
  let naming = null;
  let last = null;

  const clientName = (id) => (names && names.get(id)) || "A client";
  const loadNames = async () => {
    try {
      const { clients } = await get("/v1/clients");
      names = new Map(clients.map((c) => [c.id, c.name]));
    } catch {
      names = new Map(); // the errors then say "A client"
    }
  };

  const render = (job) => {
    const total = Math.max(job.clientsTotal || 0, 0);
    const done = Math.min(job.clientsDone || 0, total);
    const finished = FINISHED.has(job.status);
    if (furthest.jobId !== job.jobId) furthest = { jobId: job.jobId, share: 0 };
    const shape = bar(job, done, total, finished, furthest.share);
    furthest.share = Math.max(furthest.share, Number(shape.value) / Number(shape.max));
    // waiting for the quota: an estimate earlier than the resume time is not shown (it cannot finish before)
    const estimate = job.estimatedFinishAt && !finished
      && !(job.status === "WAITING_FOR_QUOTA" && job.resumesAt && new Date(job.estimatedFinishAt) < new Date(job.resumesAt));
    const calls = job.callsExpected ? `${job.callsUsed} of about ${job.callsExpected} SmartAccounts calls` : `${job.callsUsed ?? 0} SmartAccounts calls used`;
    const errors = Object.entries(job.errors || {});
    last = job;
    if (errors.length && names === null && !naming) naming = loadNames().then(() => render(last)); // named once read
    fill(area, 
      h("div", { class: "progress-box", "data-testid": "reload-progress", "data-status": job.status },
        h("label", { for: "reload-bar" }, `Reload data: ${humanise(job.status)}`),
        h("progress", { id: "reload-bar", ...shape }),
        h("p", { "data-testid": "reload-counts" }, `${done} of ${total} clients done · ${calls}`),
        job.status === "WAITING_FOR_QUOTA"
          ? notice(`Waiting for the daily SmartAccounts quota; resumes ${formatTime(job.resumesAt)}.`, "warn") : null,
        estimate ? h("p", {}, `Estimated finish: ${formatTime(job.estimatedFinishAt)}`) : null,
        finished && job.finishedAt ? h("p", {}, `Finished ${formatTime(job.finishedAt)}.`) : null,
        errors.length ? h("ul", { class: "errors", "data-testid": "reload-errors" }, errors.map(([client, e]) =>
          h("li", { "data-client": client }, `${clientName(client)}: ${e.message || humanise(e.kind)}`))) : null,
      ),
    );
  };

  const follow = (jobId) => {
    stop();
    const tick = async () => {
      try {
        const job = await get(`/v1/reload-jobs/${encodeURIComponent(jobId)}`);
        render(job);
        if (FINISHED.has(job.status)) {
          timer = null;
          app.toast(job.status === "COMPLETED" ? "Reload data is ready: summary tasks are up to date." : `Reload data ended: ${humanise(job.status)}.`,
            job.status === "COMPLETED" ? "info" : "error");
          app.refreshUnread();
          return;
        }
      } catch (problem) {
        fill(area, notice(problem.message, "error"));
      }
      timer = setTimeout(tick, 1000);
    };
    tick();
  };

  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };

  /** The confirmation, then the reload. `unsaved` (a sentence) warns that the tab has unsaved changes the reload
   * would not use, and the confirm button then saves them first (`save` answers false when the save was refused). */
  const confirmAndStart = (button, path, text, { unsaved = null, save = null } = {}) => {
    const yes = h("button", { type: "button", class: "primary", value: "confirm" }, unsaved ? "Save, then reload" : "Confirm reload");
    const no = h("button", { type: "button", value: "cancel" }, "Cancel");
    const dialog = h("dialog", { "aria-labelledby": "confirm-title", class: "confirm" },
      h("h2", { id: "confirm-title" }, "Reload data?"),
      unsaved ? notice(`${unsaved} Save them first, or cancel and undo them.`, "warn") : null,
      h("p", {}, text), h("div", { class: "actions" }, no, yes));
    document.body.append(dialog);
    const close = () => {
      dialog.close();
      dialog.remove();
      button.focus();
    };
    no.addEventListener("click", close);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close();
    });
    yes.addEventListener("click", async () => {
      const started = (job) => {
        render(job);
        if (job.joined) app.toast("A reload is already running; following it.");
        follow(job.jobId);
      };
      if (unsaved && save) {
        close();
        if (!(await save())) return; // the form shows why
        try {
          started(await post(path));
        } catch (problem) {
          fill(area, notice(problem.message, "error"));
        }
        return;
      }
      try {
        const job = await busy(yes, () => post(path));
        close();
        started(job);
      } catch (problem) {
        showProblem(dialog, problem, dialog.querySelector("p"));
      }
    });
    dialog.showModal();
    yes.focus();
  };

  return { follow, stop, confirmAndStart, render };
}
