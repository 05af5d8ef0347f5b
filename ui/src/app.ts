// The UI logic: wires a HubTransport to the views. Knows nothing of Socket.IO.

import { DEFAULT_CHANNEL, follows, formatChannelList, isChannelName, sameChannels, sortChannels } from "./core/channels.js";
import { HistoryList } from "./core/history.js";
import { normalizeNotification } from "./core/notification.js";
import type { ConnectionStatus } from "./core/status.js";
import type { HubRights } from "./core/welcome.js";
import type { HubTransport } from "./transport/hub-transport.js";
import { ChannelsView } from "./view/channels-view.js";
import { DesktopAlerts } from "./view/desktop-alerts.js";
import { HistoryView } from "./view/history-view.js";
import { SendForm } from "./view/send-form.js";
import { SharedTextView } from "./view/shared-text-view.js";
import { StatusView } from "./view/status-view.js";

/** How many notifications to ask for on connect. */
export const HISTORY_REQUEST_LIMIT = 50;

/** Where the channels a page follows are kept (see view/channel-store.ts). */
export interface ChannelPreference {
  get(): string[];
  set(channels: string[]): void;
}

export interface AppOptions {
  transport: HubTransport;
  history: HistoryList;
  /** Which hub, shown in the header. */
  serverLabel?: string;
  /** Shown under the header (e.g. an unusable `?server=`). */
  warning?: string;
  /** Called with a token typed into the token form (when the hub refused us). */
  onToken?: (token: string) => void;
  /** Browser notifications for live ones; off in the desktop app. */
  desktopAlerts?: boolean;
  /**
   * The channels this page follows. With a transport that has
   * `setChannels`, the header's Channels field changes them.
   */
  channels?: ChannelPreference;
}

export function startApp(options: AppOptions): void {
  const { transport, history } = options;
  const historyView = new HistoryView();
  const alerts = options.desktopAlerts === false ? null : new DesktopAlerts();
  const status = new StatusView({
    onReconnect: () => transport.connect(),
    onToken: (token) => {
      options.onToken?.(token);
      transport.connect();
    },
  });
  if (options.warning) status.warn(options.warning);
  if (options.serverLabel) status.server(options.serverLabel);
  const text = new SharedTextView((t, base) => transport.sendText(t, base), transport.textSync);
  const sendForm = new SendForm((draft) => transport.sendNotification(draft));

  /** What the connection follows, when the hub said (`welcome`, acks). */
  let followed: string[] | null = null;
  let rights: HubRights | null = null;
  let lastStatus: ConnectionStatus = { state: "connecting" };

  const redraw = (): void => {
    const seen = history.channels;
    historyView.channels(seen);
    historyView.render(history.entries);
    // The send form suggests every channel seen, followed, or writable by name.
    const names = new Set([DEFAULT_CHANNEL, ...seen]);
    for (const c of followed ?? []) if (isChannelName(c)) names.add(c);
    for (const p of rights?.write ?? []) if (isChannelName(p)) names.add(p);
    sendForm.channels(sortChannels(names));
  };

  const receive = (payload: unknown, live: boolean): boolean => {
    const n = normalizeNotification(payload, Date.now());
    if (n === null) return false;
    const outcome = history.add(n);
    if (outcome !== "added" && outcome !== "replaced") return false;
    if (live) alerts?.show(n);
    return true;
  };

  const loadHistory = (): void => {
    void transport.requestHistory(HISTORY_REQUEST_LIMIT).then((list) => {
      if (list === null) return;
      let changed = false;
      for (const payload of list) changed = receive(payload, false) || changed;
      if (changed) redraw();
    });
  };

  /** The connection follows `channels` now: entries of other channels go. */
  const nowFollowing = (channels: string[]): void => {
    followed = channels;
    history.retain((n) => follows(channels, n.channel));
    redraw();
  };

  const prefs = options.channels;
  const setChannels = transport.setChannels?.bind(transport);
  const channelsView =
    prefs !== undefined && setChannels !== undefined
      ? new ChannelsView(prefs.get(), async (wanted) => {
          const result = await setChannels(wanted);
          switch (result.status) {
            case "accepted": {
              const now = result.channels ?? wanted;
              prefs.set(now);
              channelsView?.show(now);
              channelsView?.note("info", "");
              nowFollowing(now);
              // The history of what is newly followed (each id still once).
              loadHistory();
              return;
            }
            case "rejected":
              // What was followed before stays (and is still what is stored).
              channelsView?.note("error", `Channels: ${result.error}`);
              return;
            case "unacknowledged":
              prefs.set(wanted);
              channelsView?.note("warn", "Channels: the hub did not answer (does it have channels?)");
              return;
            case "offline":
              // Asked for on the next connect; after a refusal, that is now.
              prefs.set(wanted);
              channelsView?.note("info", "");
              if (lastStatus.state === "disconnected") transport.connect();
              return;
          }
        })
      : null;

  transport.onStatus((s) => {
    lastStatus = s;
    status.status(s);
    text.online(s.state === "connected" || transport.textKeptOffline === true);
    if (s.state !== "connected") followed = null;
    if (s.state === "connected") loadHistory();
  });
  transport.onCount((n) => status.count(n));
  transport.onText((t) => text.remote(t));
  transport.onWelcome((w) => {
    text.welcome(w);
    if (w.lastId !== undefined) history.hubLastId(w.lastId);
    if (w.rights !== undefined) rights = w.rights;
    if (w.channels !== undefined) {
      nowFollowing(w.channels);
      // The hub did not give this page all it asked for (its token's rights).
      const wanted = prefs?.get();
      if (channelsView !== null && wanted !== undefined && !sameChannels(wanted, w.channels)) {
        channelsView.note("warn", `Following: ${w.channels.length > 0 ? formatChannelList(w.channels) : "no channel"}`);
      }
    } else {
      redraw();
    }
  });
  transport.onNotification((payload) => {
    if (receive(payload, true)) redraw();
  });

  transport.onFocus?.((id) => historyView.focus(id));

  redraw();
  transport.connect();
}
