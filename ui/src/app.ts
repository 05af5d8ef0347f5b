// The UI logic: wires a HubTransport to the views. Knows nothing of Socket.IO.

import { HistoryList } from "./core/history.js";
import { normalizeNotification } from "./core/notification.js";
import type { HubTransport } from "./transport/hub-transport.js";
import { DesktopAlerts } from "./view/desktop-alerts.js";
import { HistoryView } from "./view/history-view.js";
import { SendForm } from "./view/send-form.js";
import { SharedTextView } from "./view/shared-text-view.js";
import { StatusView } from "./view/status-view.js";

/** How many notifications to ask for on connect. */
export const HISTORY_REQUEST_LIMIT = 50;

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
  const text = new SharedTextView((t) => transport.sendText(t));
  new SendForm((draft) => transport.sendNotification(draft));

  const receive = (payload: unknown, live: boolean): boolean => {
    const n = normalizeNotification(payload, Date.now());
    if (n === null) return false;
    const outcome = history.add(n);
    if (outcome !== "added" && outcome !== "replaced") return false;
    if (live) alerts?.show(n);
    return true;
  };

  transport.onStatus((s) => {
    status.status(s);
    text.online(s.state === "connected");
    if (s.state === "connected") {
      void transport.requestHistory(HISTORY_REQUEST_LIMIT).then((list) => {
        if (list === null) return;
        let changed = false;
        for (const payload of list) changed = receive(payload, false) || changed;
        if (changed) historyView.render(history.entries);
      });
    }
  });
  transport.onCount((n) => status.count(n));
  transport.onText((t) => text.remote(t));
  transport.onWelcome((w) => {
    if (w.lastId !== undefined && history.hubLastId(w.lastId)) historyView.render(history.entries);
  });
  transport.onNotification((payload) => {
    if (receive(payload, true)) historyView.render(history.entries);
  });

  transport.onFocus?.((id) => historyView.focus(id));

  historyView.render(history.entries);
  transport.connect();
}
