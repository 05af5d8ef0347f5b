// Requests to the hub and what its acknowledgements mean. Pure.

import { DEFAULT_CHANNEL, asSubscriptions } from "./channels.js";

/** The outcome of a request sent with an acknowledgement. */
export type SendResult =
  /** The hub accepted it (`{ok:true, id?}`), or a server acked with something else. */
  | { status: "accepted"; id?: string }
  /** The hub refused it (`{ok:false, error}`). */
  | { status: "rejected"; error: string }
  /** No ack before the timeout: a server that never acks (the seed's), or a slow one. */
  | { status: "unacknowledged" }
  /** Not connected: nothing was sent. */
  | { status: "offline" };

/** What the send form collects. */
export interface NotificationDraft {
  title: string;
  body: string;
  tag: string;
  url: string;
  /** The channel to send to (`default`, or "", for the default channel). */
  channel: string;
}

/**
 * The `send_notification_request` payload. The seed's servers read `text`
 * (the title) and `num`; our hub also reads body, tag and url. The title is
 * sent as `text` only: the hub treats `title` as an alias of `text` and
 * refuses a request that has both. Empty optional fields are left out (an
 * absent body means the hub's default body, as the seed server sends), and
 * so is `channel` when it is `default`: a seed server gets what it always got.
 */
export function buildNotificationRequest(draft: NotificationDraft): Record<string, unknown> {
  const req: Record<string, unknown> = { text: draft.title, num: null };
  if (draft.body !== "") req["body"] = draft.body;
  if (draft.tag.trim() !== "") req["tag"] = draft.tag.trim();
  if (draft.url.trim() !== "") req["url"] = draft.url.trim();
  const channel = draft.channel.trim();
  if (channel !== "" && channel !== DEFAULT_CHANNEL) req["channel"] = channel;
  return req;
}

/** A socket.io ack callback's `(err, response)` as a SendResult. */
export function interpretAck(err: unknown, response: unknown): SendResult {
  if (err) return { status: "unacknowledged" };
  if (typeof response === "object" && response !== null && !Array.isArray(response)) {
    const r = response as Record<string, unknown>;
    if (r["ok"] === false) {
      const error = typeof r["error"] === "string" && r["error"] !== "" ? r["error"] : "refused by the hub";
      return { status: "rejected", error: error.slice(0, 500) };
    }
    const id = r["id"];
    if ((typeof id === "number" && Number.isFinite(id)) || (typeof id === "string" && id !== "" && id.length <= 256)) {
      return { status: "accepted", id: String(id) };
    }
  }
  return { status: "accepted" };
}

/** The sentence the send form shows for a result. */
export function describeSendResult(result: SendResult): string {
  switch (result.status) {
    case "accepted":
      return result.id !== undefined ? `Sent (#${result.id})` : "Sent";
    case "rejected":
      return `Refused: ${result.error}`;
    case "unacknowledged":
      return "Sent (no acknowledgement)";
    case "offline":
      return "Not connected: not sent";
  }
}

/** The outcome of changing what a connection follows (`subscribe` / `unsubscribe`). */
export type SubscribeResult =
  /** Done; `channels`: all the connection follows now, as the hub said (null: it did not say). */
  | { status: "accepted"; channels: string[] | null }
  | { status: "rejected"; error: string }
  | { status: "unacknowledged" }
  | { status: "offline" };

/** A `subscribe` / `unsubscribe` ack (`{ok:true, channels:[…]}` / `{ok:false, error}`) as a SubscribeResult. */
export function interpretSubscribeAck(err: unknown, response: unknown): SubscribeResult {
  const result = interpretAck(err, response);
  if (result.status !== "accepted") return result;
  const channels = typeof response === "object" && response !== null ? asSubscriptions((response as Record<string, unknown>)["channels"]) : null;
  return { status: "accepted", channels };
}

/** The notifications in a `history_request` ack (`{ok:true, notifications:[…]}`), or null. */
export function historyFromAck(err: unknown, response: unknown): unknown[] | null {
  if (err || typeof response !== "object" || response === null) return null;
  const r = response as Record<string, unknown>;
  if (r["ok"] !== true || !Array.isArray(r["notifications"])) return null;
  return r["notifications"];
}
