// Notifications: reload ready, connection failing or restored, export failed.

import { get, post } from "../api.js";
import { busy, formatTime, fill, h, humanise, showProblem } from "../ui.js";

const unreadText = (n) => (n ? `${n} unread.` : "Nothing unread.");

export async function notifications(panel, app) {
  const answer = await get("/v1/notifications");
  let unread = answer.unread;
  app.showUnread(unread); // the tab's count and this view's say the same
  const count = h("p", { "data-testid": "unread-count", tabindex: "-1" }, unreadText(unread));
  const list = h("ul", { class: "notifications" });
  for (const item of answer.notifications) {
    const read = h("button", { type: "button", class: "link", hidden: item.read }, "Mark as read");
    const entry = h("li", { class: item.read ? "read" : "unread", "data-kind": item.kind },
      h("div", { class: "check-head" }, h("strong", {}, item.title), h("span", { class: "hint" }, ` ${humanise(item.kind)} · ${formatTime(item.createdAt)}`)),
      h("p", {}, item.message), read);
    read.addEventListener("click", async () => {
      try {
        await busy(read, () => post(`/v1/notifications/${encodeURIComponent(item.id)}/read`));
      } catch (problem) {
        showProblem(entry, problem);
        return;
      }
      entry.className = "read";
      unread = Math.max(unread - 1, 0);
      count.textContent = unreadText(unread);
      app.showUnread(unread);
      // the button goes away: the focus moves to the next Mark as read, else to the count
      const next = [...list.querySelectorAll("button.link")].find((b) => !b.hidden && b !== read);
      read.hidden = true;
      (next || count).focus();
    });
    list.append(entry);
  }
  fill(panel,
    h("h2", {}, "Notifications"),
    count,
    answer.notifications.length ? list : h("p", {}, "No notifications yet."),
  );
}
