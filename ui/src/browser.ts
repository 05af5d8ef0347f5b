// Entry point for browsers: Socket.IO to the hub that served this page, or
// to `?server=URL`.

import { startApp } from "./app.js";
import { HistoryList } from "./core/history.js";
import { resolveServerUrl } from "./core/url.js";
import { SocketIoTransport } from "./transport/socketio.js";
import { ChannelStore } from "./view/channel-store.js";
import { TokenStore } from "./view/token-store.js";

export function startBrowser(): void {
  const server = resolveServerUrl(location.href);
  const tokens = new TokenStore(server.url);
  const channels = new ChannelStore(server.url);
  const history = new HistoryList(200);

  const transport = new SocketIoTransport({
    url: server.url,
    preferWebSocket: server.url !== location.origin,
    // auth.channels; the Channels field changes them (setChannels).
    channels: channels.get(),
    auth: () => {
      const auth: Record<string, unknown> = {};
      const token = tokens.get();
      if (token !== null) auth["token"] = token;
      // Our hub replays what we missed after this id; other servers ignore it.
      if (history.lastId !== undefined) auth["last_id"] = history.lastId;
      return auth;
    },
  });

  startApp({
    transport,
    history,
    serverLabel: server.url,
    onToken: (token) => tokens.set(token),
    channels,
    ...(server.warning !== undefined ? { warning: server.warning } : {}),
  });
}
