// The hub's access token (when it requires one), per hub, in localStorage.
// `?token=` on the page URL sets it and is then removed from the address bar.

export class TokenStore {
  readonly #key: string;
  #memory: string | null = null;

  constructor(serverUrl: string) {
    this.#key = `pushdesk.token:${serverUrl}`;
    const url = new URL(location.href);
    const fromQuery = url.searchParams.get("token");
    if (fromQuery !== null) {
      this.set(fromQuery);
      url.searchParams.delete("token");
      history.replaceState(history.state, "", url.href);
    }
  }

  get(): string | null {
    try {
      return localStorage.getItem(this.#key) ?? this.#memory;
    } catch {
      return this.#memory;
    }
  }

  set(token: string): void {
    this.#memory = token === "" ? null : token;
    try {
      if (token === "") localStorage.removeItem(this.#key);
      else localStorage.setItem(this.#key, token);
    } catch {
      // storage disabled: keep it in memory
    }
  }
}
