// Notifications: reload ready, connection failing or restored, export failed.

import { get, post } from "../api.js";
import { busy, formatTime, fill, h, humanise } from "../ui.js";

export async function notifications(panel, app) {
  const answer = await get("/v1/notifications");
  const list = h("ul", { class: "notifications" });
  for (const item of answer.notifications) {
    const read = h("button", { type: "button", class: "link", hidden: item.read }, "Mark as read");
    const entry = h("li", { class: item.read ? "read" : "unread", "data-kind": item.kind },
      h("div", { class: "check-head" }, h("strong", {}, item.title), h("span", { class: "hint" }, ` ${humanise(item.kind)} · ${formatTime(item.createdAt)}`)),
      h("p", {}, item.message), read);
    read.addEventListener("click", async () => {
      await busy(read, () => post(`/v1/notifications/${encodeURIComponent(item.id)}/read`));
      entry.className = "read";
      read.hidden = true;
      app.refreshUnread();
    });
    list.append(entry);
  }
  fill(panel, 
    h("h2", {}, "Notifications"),
    h("p", {}, answer.unread ? `${answer.unread} unread.` : "Nothing unread."),
    answer.notifications.length ? list : h("p", {}, "No notifications yet."),
  );
}
