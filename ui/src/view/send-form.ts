// The send-a-notification form.

import { describeSendResult, type NotificationDraft, type SendResult } from "../core/ack.js";
import { byId } from "./dom.js";

export class SendForm {
  readonly #form = byId<HTMLFormElement>("notify-form");
  readonly #title = byId<HTMLInputElement>("notify-title");
  readonly #body = byId<HTMLTextAreaElement>("notify-body");
  readonly #tag = byId<HTMLInputElement>("notify-tag");
  readonly #url = byId<HTMLInputElement>("notify-url");
  readonly #button = byId<HTMLButtonElement>("notify-send");
  readonly #result = byId<HTMLOutputElement>("notify-result");

  constructor(send: (draft: NotificationDraft) => Promise<SendResult>) {
    this.#form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.#submit(send);
    });
  }

  async #submit(send: (draft: NotificationDraft) => Promise<SendResult>): Promise<void> {
    const draft: NotificationDraft = {
      title: this.#title.value,
      body: this.#body.value,
      tag: this.#tag.value,
      url: this.#url.value,
    };
    if (draft.title.trim() === "") {
      this.#show("error", "A title is needed");
      this.#title.focus();
      return;
    }
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
