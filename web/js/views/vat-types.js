// VAT types: the VAT types imported from SmartAccounts (SmartAccounts → Uku), which invoice export checks every
// invoice line against, with "Import VAT types again" for owners and admins.

import { INTEGRATION, get, post } from "../api.js";
import { busy, fill, formatTime, h, notice, showProblem } from "../ui.js";

const percent = (value) => (value === null || value === undefined ? "—" : `${Number(value)} %`);

export async function vatTypes(panel, app) {
  const section = h("section", { "aria-labelledby": "vat-title" });
  const table = h("div", { "aria-live": "polite", "data-testid": "vat-types" });
  const show = (answer) => {
    const rows = answer.vatTypes.map((t) => h("tr", { "data-code": t.code },
      h("th", { scope: "row" }, t.code),
      h("td", { class: "num" }, percent(t.percentage)),
      h("td", {}, t.descriptionEn || t.descriptionEt || "—"),
      h("td", { "data-testid": "vat-usable" }, !t.inSmartAccounts
        ? "No: SmartAccounts no longer lists it"
        : t.activeForSales ? "Yes" : "No: not allowed on sales in SmartAccounts")));
    fill(table,
      h("p", { "data-testid": "vat-fetched" }, answer.fetchedAt
        ? `Imported from SmartAccounts ${formatTime(answer.fetchedAt)}.`
        : "Not imported yet: they are imported when the key pair is saved, once a day, and with the button below."),
      rows.length
        ? h("div", { class: "table-wrap" }, h("table", { "aria-labelledby": "vat-title" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Code"), h("th", { scope: "col", class: "num" }, "Rate"),
            h("th", { scope: "col" }, "Description"), h("th", { scope: "col" }, "Usable on invoices"))),
          h("tbody", {}, rows)))
        : null,
    );
  };
  let refresh = null;
  if (app.mayManage()) {
    refresh = h("button", { type: "button", class: "primary" }, "Import VAT types again");
    refresh.addEventListener("click", async () => {
      try {
        show(await busy(refresh, () => post(`${INTEGRATION}/vat-types/refresh`)));
        app.toast("VAT types imported from SmartAccounts.");
      } catch (problem) {
        showProblem(section, problem, table);
      }
    });
  }
  show(await get(`${INTEGRATION}/vat-types`));
  fill(section,
    h("h2", { id: "vat-title" }, "VAT types"),
    h("p", {}, "The VAT types of your SmartAccounts company. Every line of an invoice sent to SmartAccounts must use one of them that is allowed on sales. After adding or changing a VAT type in SmartAccounts, import them again here, then retry the failed invoice exports."),
    refresh ? h("div", { class: "actions" }, refresh) : notice("Importing them again needs the Company Owner or Admin role on a Team or Elite plan.", "info"),
    table,
  );
  fill(panel, section);
}
