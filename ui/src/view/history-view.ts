// The notification history list. One <li> per entry, keyed, so existing
// rows are reused when the list changes.

import { formatTime } from "../core/format.js";
import type { HubNotification } from "../core/notification.js";
import { safeHttpUrl } from "../core/url.js";
import { byId, h } from "./dom.js";

export class HistoryView {
  readonly #list = byId<HTMLOListElement>("history");
  readonly #empty = byId("history-empty");
  readonly #count = byId("history-count");
  #rows = new Map<string, HTMLLIElement>();
  /** An id to show once it is listed (a click can come before the history). */
  #pendingFocus: string | null = null;

  render(entries: readonly HubNotification[]): void {
    const now = Date.now();
    const rows = new Map<string, HTMLLIElement>();
    const nodes: HTMLLIElement[] = [];
    for (const n of entries) {
      const row = this.#rows.get(n.key) ?? renderItem(n, now);
      rows.set(n.key, row);
      nodes.push(row);
    }
    this.#rows = rows;
    // Move only what changed (a new row on top is one insertion), so
    // screen readers hear the additions and nothing else.
    const list = this.#list;
    let cursor = list.firstChild;
    for (const node of nodes) {
      if (node === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(node, cursor);
    }
    while (cursor !== null) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
    this.#empty.hidden = nodes.length > 0;
    this.#count.textContent = nodes.length > 0 ? String(nodes.length) : "";
    if (this.#pendingFocus !== null) this.focus(this.#pendingFocus);
  }

  /** Scrolls to and highlights the entry with this id (now, or once it is listed). */
  focus(id: string): void {
    this.#pendingFocus = id;
    let found: HTMLLIElement | null = null;
    for (const row of this.#rows.values()) {
      const match = row.dataset["id"] === id;
      row.classList.toggle("focused", match);
      if (match) {
        row.dataset["focused"] = "true";
        found = row;
      } else {
        delete row.dataset["focused"];
      }
    }
    if (found === null) return;
    this.#pendingFocus = null;
    found.tabIndex = -1;
    found.scrollIntoView({ block: "nearest" });
    found.focus({ preventScroll: true });
  }
}

function renderItem(n: HubNotification, now: number): HTMLLIElement {
  const when = n.timestamp ?? n.receivedAt;
  const title = h("strong", { className: n.title === "" ? "title untitled" : "title", text: n.title === "" ? "(no title)" : n.title });
  const time = h("time", { text: formatTime(when, now), attrs: { datetime: new Date(when).toISOString() } });
  const head = h("div", { className: "item-head" }, title, time);
  const li = h("li", { className: "item", attrs: { "data-testid": "history-item" } }, head);
  if (n.id !== null) li.dataset["id"] = n.id;
  if (n.tag !== "") li.dataset["tag"] = n.tag;
  if (n.urgency !== "") li.dataset["urgency"] = n.urgency;
  if (n.body !== "") li.append(h("p", { className: "body", text: n.body }));

  const meta: Node[] = [];
  if (n.tag !== "") meta.push(h("span", { className: "tag", text: n.tag, attrs: { title: "tag" } }));
  if (n.urgency !== "" && n.urgency !== "normal") meta.push(h("span", { className: "urgency", text: n.urgency }));
  if (n.url !== "") {
    const href = safeHttpUrl(n.url);
    meta.push(
      href !== null
        ? h("a", { className: "url", text: n.url, attrs: { href, target: "_blank", rel: "noopener noreferrer" } })
        : h("span", { className: "url", text: n.url }),
    );
  }
  if (n.data1 !== "") meta.push(h("span", { className: "data", text: `data1: ${n.data1}` }));
  if (n.id !== null) meta.push(h("span", { className: "id", text: `#${n.id}` }));
  if (n.delivery !== "" && n.delivery !== "shown") {
    meta.push(h("span", { className: "delivery", text: n.delivery, attrs: { "data-testid": "history-delivery" } }));
  }
  if (meta.length > 0) li.append(h("div", { className: "meta" }, ...meta));
  return li;
}
