// Connection status, user count, the reconnect button and the token form.

import { describeStatus, isAuthError, type ConnectionStatus } from "../core/status.js";
import { byId } from "./dom.js";

export interface StatusViewOptions {
  onReconnect: () => void;
  onToken: (token: string) => void;
}

export class StatusView {
  readonly #status = byId("connection-status");
  readonly #count = byId("user-count");
  readonly #reconnect = byId<HTMLButtonElement>("reconnect");
  readonly #tokenForm = byId<HTMLFormElement>("token-form");
  readonly #tokenInput = byId<HTMLInputElement>("token");
  readonly #warning = byId("warning");
  readonly #server = byId("server");

  constructor(options: StatusViewOptions) {
    this.#reconnect.addEventListener("click", () => options.onReconnect());
    this.#tokenForm.addEventListener("submit", (e) => {
      e.preventDefault();
      const token = this.#tokenInput.value.trim();
      this.#tokenInput.value = "";
      this.#tokenForm.hidden = true;
      options.onToken(token);
    });
  }

  status(s: ConnectionStatus): void {
    this.#status.textContent = describeStatus(s);
    this.#status.dataset["state"] = s.state;
    if (s.state === "reconnecting") this.#status.dataset["attempt"] = String(s.attempt);
    else delete this.#status.dataset["attempt"];
    this.#status.title = s.state === "reconnecting" && s.error ? s.error : "";
    const down = s.state === "disconnected";
    this.#reconnect.hidden = !down;
    const wantsToken = down && s.refused === true && isAuthError(s.reason);
    this.#tokenForm.hidden = !wantsToken;
    if (wantsToken) this.#tokenInput.focus();
    if (s.state !== "connected") this.#count.textContent = "–";
  }

  count(n: number): void {
    this.#count.textContent = String(n);
  }

  server(label: string): void {
    this.#server.textContent = label;
  }

  warn(message: string): void {
    this.#warning.textContent = message;
    this.#warning.hidden = message === "";
  }
}
