// The notification history list, and the channel filter above it. One <li>
// per entry, keyed, so existing rows are reused when the list changes.

import { formatTime } from "../core/format.js";
import { filterByChannel } from "../core/history.js";
import type { HubNotification } from "../core/notification.js";
import { safeHttpUrl } from "../core/url.js";
import { byId, h } from "./dom.js";

export class HistoryView {
  readonly #list = byId<HTMLOListElement>("history");
  readonly #empty = byId("history-empty");
  readonly #count = byId("history-count");
  readonly #filter = byId<HTMLSelectElement>("history-filter");
  #rows = new Map<string, HTMLLIElement>();
  /** An id to show once it is listed (a click can come before the history). */
  #pendingFocus: string | null = null;
  /** All entries (the filter picks what is shown). */
  #entries: readonly HubNotification[] = [];
  /** The channels in the filter, after "All channels". */
  #options: readonly string[] = [];

  constructor() {
    this.#filter.addEventListener("change", () => this.#draw());
  }

  render(entries: readonly HubNotification[]): void {
    this.#entries = entries;
    this.#draw();
  }

  /** The channels the filter offers (besides "All channels"); the one picked stays. */
  channels(names: readonly string[]): void {
    const picked = this.#filter.value;
    const list = picked !== "" && !names.includes(picked) ? [...names, picked] : [...names];
    if (list.length === this.#options.length && list.every((c, i) => c === this.#options[i])) return;
    this.#options = list;
    const all = h("option", { text: "All channels", attrs: { value: "" } });
    this.#filter.replaceChildren(all, ...list.map((name) => h("option", { text: name, attrs: { value: name } })));
    this.#filter.value = picked;
  }

  /** The channel shown, or null for all. */
  get #picked(): string | null {
    const v = this.#filter.value;
    return v === "" ? null : v;
  }

  #draw(): void {
    const entries = filterByChannel(this.#entries, this.#picked);
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
    this.#empty.textContent = this.#entries.length > 0 ? "No notifications in this channel." : "No notifications yet.";
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
    if (found === null) {
      // Listed, but hidden by the channel filter: show all channels.
      if (this.#picked !== null && this.#entries.some((e) => e.id === id)) {
        this.#filter.value = "";
        this.#draw();
      }
      return;
    }
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
  li.dataset["channel"] = n.channel;
  if (n.tag !== "") li.dataset["tag"] = n.tag;
  if (n.urgency !== "") li.dataset["urgency"] = n.urgency;
  if (n.body !== "") li.append(h("p", { className: "body", text: n.body }));

  const meta: Node[] = [h("span", { className: "channel", text: n.channel, attrs: { title: "channel", "data-testid": "history-channel" } })];
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
  li.append(h("div", { className: "meta" }, ...meta));
  return li;
}
