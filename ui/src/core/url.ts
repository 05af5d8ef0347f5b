// URL rules, pure (no DOM): which links may be rendered and which hub to use.

/** The normalized href of `value` if it is an absolute http: or https: URL, else null. */
export function safeHttpUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  if (trimmed === "" || trimmed.length > 4096) return null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.hostname === "") return null;
  return url.href;
}

/** Where the UI connects, and why (for a warning when `?server=` was unusable). */
export interface ServerChoice {
  url: string;
  /** Set when a `?server=` value was given but could not be used. */
  warning?: string;
}

/** The hub the seed's own server listens on, used when the page has no http(s) origin. */
export const FALLBACK_SERVER = "http://127.0.0.1:5000";

/**
 * The hub URL for a page at `pageHref`: `?server=URL` when it is an http(s)
 * URL, else the page's own origin (the hub serves this UI), else the seed's
 * default address.
 */
export function resolveServerUrl(pageHref: string): ServerChoice {
  let page: URL | null = null;
  try {
    page = new URL(pageHref);
  } catch {
    page = null;
  }
  const origin = page && (page.protocol === "http:" || page.protocol === "https:") ? page.origin : FALLBACK_SERVER;
  const requested = page?.searchParams.get("server");
  if (requested === null || requested === undefined || requested.trim() === "") return { url: origin };
  const safe = safeHttpUrl(requested);
  if (safe === null) {
    return { url: origin, warning: `ignored ?server=${requested}: not an http(s) URL` };
  }
  const url = new URL(safe);
  // socket.io-client takes the path as its namespace: keep scheme, host and port only.
  return { url: url.origin };
}
