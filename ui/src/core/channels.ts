// Channels: every notification belongs to one; a client follows some. Pure.
//
// A channel name is 1–64 of A–Z a–z 0–9 _ -. `*` is not a channel but a
// subscription meaning every channel. A notification without a `channel`
// (the hub leaves it out for `default`; seed servers never send one) is in
// `default`.

export const DEFAULT_CHANNEL = "default";
/** The subscription that follows every channel. */
export const ALL_CHANNELS = "*";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `value` is a channel name (what a notification can be sent to). */
export function isChannelName(value: unknown): value is string {
  return typeof value === "string" && NAME.test(value);
}

/** Whether `value` can be followed: a channel name, or `*` for all of them. */
export function isSubscription(value: unknown): value is string {
  return value === ALL_CHANNELS || isChannelName(value);
}

/**
 * The channel of a `send_notification` payload: its `channel` when that is a
 * channel name; `default` when it is absent (or null, or empty). A value that
 * is no channel name (only a broken server would send one) counts as
 * `default` too, so that every entry has a name that can be filtered on.
 */
export function channelOf(payload: unknown): string {
  if (typeof payload !== "object" || payload === null) return DEFAULT_CHANNEL;
  const value = (payload as Record<string, unknown>)["channel"];
  return isChannelName(value) ? value : DEFAULT_CHANNEL;
}

/** The channel to send to, from what the send form's field holds. */
export type SendChannel = { ok: true; channel: string } | { ok: false; error: string };

/** An empty field means `default`; `*` and anything not a channel name are refused. */
export function checkSendChannel(value: string): SendChannel {
  const v = value.trim();
  if (v === "") return { ok: true, channel: DEFAULT_CHANNEL };
  if (v === ALL_CHANNELS) return { ok: false, error: "“*” is for following every channel: send to one channel" };
  if (!isChannelName(v)) return { ok: false, error: "A channel name is 1–64 letters, digits, “_” or “-”" };
  return { ok: true, channel: v };
}

/** A parsed channel list: the valid names (de-duplicated, in order) and what was not a name. */
export interface ChannelList {
  channels: string[];
  invalid: string[];
}

/**
 * A comma and/or whitespace separated list: empty items dropped, each name
 * once (first occurrence kept), names that are not valid in `invalid`. With
 * `subscriptions`, `*` is allowed and, being every channel, stands alone:
 * a list that contains it is `["*"]`.
 */
export function parseChannelList(text: string, { subscriptions = false }: { subscriptions?: boolean } = {}): ChannelList {
  const channels: string[] = [];
  const invalid: string[] = [];
  const seen = new Set<string>();
  for (const item of text.split(/[\s,]+/)) {
    if (item === "" || seen.has(item)) continue;
    seen.add(item);
    if (subscriptions ? isSubscription(item) : isChannelName(item)) channels.push(item);
    else invalid.push(item);
  }
  if (subscriptions && channels.includes(ALL_CHANNELS)) return { channels: [ALL_CHANNELS], invalid };
  return { channels, invalid };
}

/**
 * What a client follows, from what the user typed: an empty field is
 * `["default"]` (as for a client that names none); an error names the items
 * that are not channel names.
 */
export function parseSubscriptions(text: string): { ok: true; channels: string[] } | { ok: false; error: string } {
  const { channels, invalid } = parseChannelList(text, { subscriptions: true });
  if (invalid.length > 0) {
    const list = invalid.slice(0, 3).map((s) => `“${s.length > 40 ? `${s.slice(0, 40)}…` : s}”`).join(", ");
    return { ok: false, error: `not a channel name: ${list}${invalid.length > 3 ? ", …" : ""}` };
  }
  return { ok: true, channels: channels.length > 0 ? channels : [DEFAULT_CHANNEL] };
}

/** A list as the fields show it: `a, b`. */
export function formatChannelList(channels: readonly string[]): string {
  return channels.join(", ");
}

/** A list of subscriptions from the network (an ack, `welcome`, stored settings), or null if it is not one. */
export function asSubscriptions(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const item of value) if (isSubscription(item) && !out.includes(item)) out.push(item);
  return out;
}

/** Whether a client with these subscriptions receives notifications of `channel`. */
export function follows(subscriptions: readonly string[], channel: string): boolean {
  return subscriptions.includes(ALL_CHANNELS) || subscriptions.includes(channel);
}

/** Whether two subscription lists are the same set. */
export function sameChannels(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((c) => sb.has(c));
}

/** The `subscribe` and `unsubscribe` that turn subscriptions `from` into `to`. */
export function channelDiff(from: readonly string[], to: readonly string[]): { subscribe: string[]; unsubscribe: string[] } {
  return {
    subscribe: to.filter((c, i) => !from.includes(c) && to.indexOf(c) === i),
    unsubscribe: from.filter((c, i) => !to.includes(c) && from.indexOf(c) === i),
  };
}

/** Channel names sorted for a menu: `default` first, then by name. */
export function sortChannels(channels: Iterable<string>): string[] {
  return [...new Set(channels)].sort((a, b) => {
    if (a === b) return 0;
    if (a === DEFAULT_CHANNEL) return -1;
    if (b === DEFAULT_CHANNEL) return 1;
    return a < b ? -1 : 1;
  });
}
