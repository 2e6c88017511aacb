// Connect tab: paste the API key and secret, Test connection, Save.

import { INTEGRATION, get, post, put } from "../api.js";
import { busy, clearProblems, field, fill, h, notice, showProblem } from "../ui.js";

const NAMES = { apiKey: "API key", apiSecret: "API secret" };

export async function connect(panel, app) {
  const state = await get(INTEGRATION);
  const form = h("form", { novalidate: true, "aria-labelledby": "connect-title" });
  const key = h("input", { type: "text", name: "apiKey", autocomplete: "off", spellcheck: "false" });
  const secret = h("input", { type: "password", name: "apiSecret", autocomplete: "off", spellcheck: "false" });
  const test = h("button", { type: "button" }, "Test connection");
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const result = h("div", { class: "result", "aria-live": "polite", "data-testid": "connect-result" });

  const intro = h("p", { "data-testid": "connect-intro" });
  const describe = (maskedKey) => {
    intro.textContent = "Generate an API key and secret in SmartAccounts (Settings → API access) and paste both here. "
      + (maskedKey ? `Saved key: ${maskedKey}. Leave both empty and click Test connection to test it.` : "No key is saved yet.");
  };
  describe(state.maskedKey);

  // The page words the answer itself: the service's message names the trimmed values by their field names.
  const answered = (answer) => {
    const trimmed = (answer.trimmed || []).map((n) => NAMES[n] || n);
    fill(result,
      notice(`Connected: SmartAccounts answers as ${answer.companyName}.${answer.saved ? " The credentials are saved." : ""}`, "ok"),
      h("p", {}, "Company: ", h("strong", { "data-testid": "tested-company" }, answer.companyName)),
      trimmed.length ? h("p", { class: "hint" }, `Spaces or line breaks around the pasted ${trimmed.join(" and ")} were removed.`) : null,
    );
  };
  const failed = (problem) => {
    fill(result);
    showProblem(form, problem, result);
  };
  const pair = () => ({ apiKey: key.value, apiSecret: secret.value });

  test.addEventListener("click", async () => {
    clearProblems(form);
    fill(result);
    try {
      const typed = key.value || secret.value;
      answered(await busy(test, () => post(`${INTEGRATION}/test-connection`, typed ? pair() : undefined)));
    } catch (problem) {
      failed(problem);
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    fill(result);
    try {
      const answer = await busy(save, () => put(`${INTEGRATION}/credentials`, pair()));
      answered(answer);
      secret.value = "";
      key.value = "";
      app.toast("Credentials saved.");
      get(INTEGRATION).then((fresh) => describe(fresh.maskedKey), () => { intro.textContent = "The key pair is saved."; });
    } catch (problem) {
      failed(problem);
    }
  });

  fill(form, 
    h("h2", { id: "connect-title" }, "Connect"),
    intro,
    state.enabled ? null : notice("Enable the integration on the Overview tab first.", "warn"),
    field("API key", key, { name: "apiKey" }),
    field("API secret", secret, { name: "apiSecret", hint: "SmartAccounts shows the secret only once, when the pair is generated." }),
    h("div", { class: "actions" }, test, save),
    result,
  );
  fill(panel, form);
}
