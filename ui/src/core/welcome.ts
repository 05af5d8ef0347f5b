// Our hub's `welcome`, checked field by field. Pure.

import { asSubscriptions } from "./channels.js";

/** What the token may do (`welcome.rights`): channel patterns it may read and write, and the shared text. */
export interface HubRights {
  read: string[];
  write: string[];
  text: boolean;
}

/** What the hub says about itself on connect (our hub's `welcome`; seed servers send none). */
export interface HubWelcome {
  /** The newest notification id the hub has handed out (0: none yet). */
  lastId?: number;
  version?: string;
  /** The channels this connection follows (hubs with channels). */
  channels?: string[];
  /** What the token may do (hubs with channels). */
  rights?: HubRights;
  /** `"yjs"`: the hub merges the shared text as a Yjs document over `text_sync` (see core/crdt-text.ts). */
  text?: "yjs";
  /** The epoch of the hub's shared-text document (`text_epoch`; see core/crdt-text.ts). */
  textEpoch?: number;
}

/** At most this many patterns are kept from a `rights` list. */
const MAX_PATTERNS = 256;

function patterns(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const p of value) {
    if (typeof p === "string" && p !== "" && p.length <= 128 && !out.includes(p)) out.push(p);
    if (out.length >= MAX_PATTERNS) break;
  }
  return out;
}

/** A `welcome` payload as a HubWelcome (fields that are missing or malformed are left out). */
export function parseWelcome(raw: unknown): HubWelcome {
  const m = (typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const w: HubWelcome = {};
  const lastId = m["last_id"];
  if (typeof lastId === "number" && Number.isSafeInteger(lastId) && lastId >= 0) w.lastId = lastId;
  if (typeof m["version"] === "string") w.version = m["version"].slice(0, 64);
  const channels = asSubscriptions(m["channels"]);
  if (channels !== null) w.channels = channels;
  const r = m["rights"];
  if (typeof r === "object" && r !== null && !Array.isArray(r)) {
    const rr = r as Record<string, unknown>;
    const read = patterns(rr["read"]);
    const write = patterns(rr["write"]);
    if (read !== null && write !== null && typeof rr["text"] === "boolean") {
      w.rights = { read, write, text: rr["text"] };
    }
  }
  if (m["text"] === "yjs") w.text = "yjs";
  const textEpoch = m["text_epoch"];
  if (typeof textEpoch === "number" && Number.isInteger(textEpoch) && textEpoch >= 0 && textEpoch <= 0xffffffff) {
    w.textEpoch = textEpoch;
  }
  return w;
}
