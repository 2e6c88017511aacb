// Reload data: a confirmation, then a progress bar fed by the reload job (clients done of total, calls used,
// waiting for the daily quota with its resume time, the estimated finish when the service gives one).

import { get, post } from "../api.js";
import { busy, formatTime, fill, h, humanise, notice, showProblem } from "../ui.js";

const FINISHED = new Set(["COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELLED"]);

// The bar follows the calls (a one-client reload of a large company takes hours, maybe days, with 0 of 1 clients
// done all along); before any estimate exists, and once finished, the clients.
function bar(job, done, total, finished) {
  if (finished) return { max: "1", value: "1" };
  if (job.callsExpected > 0) {
    return { max: String(job.callsExpected), value: String(Math.min(job.callsUsed || 0, job.callsExpected)) };
  }
  return { max: String(total || 1), value: String(done) };
}

export function reloadProgress(area, app) {
  let timer = null;

  const render = (job) => {
    const total = Math.max(job.clientsTotal || 0, 0);
    const done = Math.min(job.clientsDone || 0, total);
    const finished = FINISHED.has(job.status);
    const calls = job.callsExpected ? `${job.callsUsed} of about ${job.callsExpected} SmartAccounts calls` : `${job.callsUsed ?? 0} SmartAccounts calls used`;
    const errors = Object.entries(job.errors || {});
    fill(area, 
      h("div", { class: "progress-box", "data-testid": "reload-progress", "data-status": job.status },
        h("label", { for: "reload-bar" }, `Reload data: ${humanise(job.status)}`),
        h("progress", { id: "reload-bar", ...bar(job, done, total, finished) }),
        h("p", { "data-testid": "reload-counts" }, `${done} of ${total} clients done · ${calls}`),
        job.status === "WAITING_FOR_QUOTA"
          ? notice(`Waiting for the daily SmartAccounts quota; resumes ${formatTime(job.resumesAt)}.`, "warn") : null,
        job.estimatedFinishAt && !finished ? h("p", {}, `Estimated finish: ${formatTime(job.estimatedFinishAt)}`) : null,
        finished && job.finishedAt ? h("p", {}, `Finished ${formatTime(job.finishedAt)}.`) : null,
        errors.length ? h("ul", { class: "errors" }, errors.map(([client, e]) =>
          h("li", {}, `${client}: ${e.message || humanise(e.kind)}`))) : null,
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

  const confirmAndStart = (button, path, text) => {
    const yes = h("button", { type: "button", class: "primary", value: "confirm" }, "Confirm reload");
    const no = h("button", { type: "button", value: "cancel" }, "Cancel");
    const dialog = h("dialog", { "aria-labelledby": "confirm-title", class: "confirm" },
      h("h2", { id: "confirm-title" }, "Reload data?"), h("p", {}, text), h("div", { class: "actions" }, no, yes));
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
      try {
        const job = await busy(yes, () => post(path));
        close();
        render(job);
        if (job.joined) app.toast("A reload is already running; following it.");
        follow(job.jobId);
      } catch (problem) {
        showProblem(dialog, problem, dialog.querySelector("p"));
      }
    });
    dialog.showModal();
    yes.focus();
  };

  return { follow, stop, confirmAndStart, render };
}
