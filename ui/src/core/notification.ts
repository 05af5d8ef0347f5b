// A notification as the UI shows it, made from whatever the network sent.
// Pure: every field is checked and converted; nothing is trusted.

import { channelOf } from "./channels.js";

/** Longest strings kept for display (the hub limits less generously only if misconfigured). */
export const MAX_TITLE = 1024;
export const MAX_BODY = 8192;
export const MAX_SHORT = 256;
export const MAX_URL = 4096;

export interface HubNotification {
  /** Stable key for the UI: `id:<id>` when the hub gave one, else `local:<n>`. */
  key: string;
  /** The hub's id (seed servers send none). */
  id: string | null;
  /** The id as a number when it is a non-negative integer (the hub's ids are). */
  numericId: number | null;
  /** The channel it was sent to (`default` when the payload names none). */
  channel: string;
  title: string;
  body: string;
  tag: string;
  /** The url exactly as sent (it is rendered as a link only if it is http/https). */
  url: string;
  urgency: string;
  /** The seed's `data1`, as display text ("" when absent or null). */
  data1: string;
  /** When the hub made it (Unix ms), if it said. */
  timestamp: number | null;
  /** When this UI received it (Unix ms). */
  receivedAt: number;
  /** What the desktop app did with it (`shown`, `suppressed: …`, `error: …`); "" elsewhere. */
  delivery: string;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Strings as they are; numbers and booleans as text; anything else as "". */
export function asText(value: unknown, max: number): string {
  if (typeof value === "string") return clip(value, max);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return String(value);
  return "";
}

function asId(value: unknown): { id: string | null; numericId: number | null } {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    return { id: String(value), numericId: value };
  }
  if (typeof value === "string" && value !== "" && value.length <= MAX_SHORT) {
    const numericId = /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : null;
    return { id: value, numericId: numericId !== null && Number.isSafeInteger(numericId) ? numericId : null };
  }
  return { id: null, numericId: null };
}

/** Unix ms from a number (ms, or seconds when too small to be ms) or a date string. */
export function asTimestamp(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return value < 1e11 ? Math.round(value * 1000) : Math.round(value);
  }
  if (typeof value === "string" && value.length <= 64) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

function describeData(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (typeof value === "string") return clip(value, MAX_SHORT);
  try {
    return clip(JSON.stringify(value) ?? "", MAX_SHORT);
  } catch {
    return "";
  }
}

let localSeq = 0;

/** A notification from a `send_notification` payload, or null if it is not an object. */
export function normalizeNotification(raw: unknown, receivedAt: number): HubNotification | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const { id, numericId } = asId(r["id"]);
  localSeq += 1;
  return {
    key: id !== null ? `id:${id}` : `local:${localSeq}`,
    id,
    numericId,
    channel: channelOf(r),
    title: asText(r["title"], MAX_TITLE),
    body: asText(r["body"], MAX_BODY),
    tag: asText(r["tag"], MAX_SHORT),
    url: asText(r["url"], MAX_URL),
    urgency: asText(r["urgency"], 32),
    data1: describeData(r["data1"]),
    timestamp: asTimestamp(r["timestamp"]),
    receivedAt,
    delivery: asText(r["delivery"], MAX_SHORT),
  };
}
