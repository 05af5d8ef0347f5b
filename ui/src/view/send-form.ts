// The send-a-notification form.

import { describeSendResult, type NotificationDraft, type SendResult } from "../core/ack.js";
import { checkSendChannel } from "../core/channels.js";
import { byId, h } from "./dom.js";

export class SendForm {
  readonly #form = byId<HTMLFormElement>("notify-form");
  readonly #title = byId<HTMLInputElement>("notify-title");
  readonly #body = byId<HTMLTextAreaElement>("notify-body");
  readonly #tag = byId<HTMLInputElement>("notify-tag");
  readonly #url = byId<HTMLInputElement>("notify-url");
  readonly #channel = byId<HTMLInputElement>("notify-channel");
  readonly #channelList = byId<HTMLDataListElement>("notify-channels");
  readonly #button = byId<HTMLButtonElement>("notify-send");
  readonly #result = byId<HTMLOutputElement>("notify-result");
  #listed: readonly string[] = [];

  constructor(send: (draft: NotificationDraft) => Promise<SendResult>) {
    this.#form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submit(send);
    });
  }

  /** The channels the channel field suggests (its datalist). */
  channels(names: readonly string[]): void {
    if (names.length === this.#listed.length && names.every((c, i) => c === this.#listed[i])) return;
    this.#listed = [...names];
    this.#channelList.replaceChildren(...names.map((name) => h("option", { attrs: { value: name } })));
  }

  async #submit(send: (draft: NotificationDraft) => Promise<SendResult>): Promise<void> {
    const channel = checkSendChannel(this.#channel.value);
    if (this.#title.value.trim() === "") {
      this.#show("error", "A title is needed");
      this.#title.focus();
      return;
    }
    if (!channel.ok) {
      this.#show("error", channel.error);
      this.#channel.focus();
      return;
    }
    const draft: NotificationDraft = {
      title: this.#title.value,
      body: this.#body.value,
      tag: this.#tag.value,
      url: this.#url.value,
      channel: channel.channel,
    };
    this.#button.disabled = true;
    this.#show("pending", "Sending…");
    try {
      const result = await send(draft);
      const state = { accepted: "ok", unacknowledged: "noack", rejected: "error", offline: "error" }[result.status];
      this.#show(state, describeSendResult(result));
    } finally {
      this.#button.disabled = false;
    }
  }

  #show(state: string, text: string): void {
    this.#result.dataset["state"] = state;
    this.#result.textContent = text;
  }
}
