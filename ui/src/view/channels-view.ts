// The Channels field in the header (browsers: which channels this page
// follows) and the line next to the connection status that says what went
// wrong with them.

import { formatChannelList, parseSubscriptions } from "../core/channels.js";
import { byId } from "./dom.js";

export type ChannelsNote = "error" | "warn" | "info";

export class ChannelsView {
  readonly #form = byId<HTMLFormElement>("channels-form");
  readonly #input = byId<HTMLInputElement>("channels");
  readonly #button = byId<HTMLButtonElement>("channels-apply");
  readonly #note = byId("channels-status");

  /** `apply` is called with a valid list; the field is disabled until it settles. */
  constructor(initial: readonly string[], apply: (channels: string[]) => Promise<void>) {
    this.#form.hidden = false;
    this.#input.value = formatChannelList(initial);
    this.#form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (this.#button.disabled) return;
      const parsed = parseSubscriptions(this.#input.value);
      if (!parsed.ok) {
        this.note("error", `Channels: ${parsed.error}`);
        this.#input.focus();
        return;
      }
      this.#button.disabled = true;
      this.#input.setAttribute("aria-busy", "true");
      void apply(parsed.channels).finally(() => {
        this.#button.disabled = false;
        this.#input.removeAttribute("aria-busy");
      });
    });
  }

  /** Shows the list in the field. */
  show(channels: readonly string[]): void {
    this.#input.value = formatChannelList(channels);
  }

  /** A message next to the connection status ("": none). */
  note(kind: ChannelsNote, text: string): void {
    this.#note.textContent = text;
    this.#note.dataset["state"] = kind;
    this.#note.hidden = text === "";
  }
}
