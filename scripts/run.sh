#!/usr/bin/env bash
# Runs Pushdesk as far as it exists today: a hub speaking the seed's protocol
# (the Node reference server from tests/peers, until `pushdesk serve` lands)
# and `pushdesk listen` connected to it, printing every event as JSON.
# A demo notification is sent once the listener is up. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet -p pushdesk
node_dir=tests/peers/node
[ -d "$node_dir/node_modules" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --silent)

coproc HUB { exec node "$node_dir/server.js" --port "${PUSHDESK_PORT:-0}"; }
trap 'kill "$HUB_PID" 2>/dev/null || true' EXIT
read -r word port <&"${HUB[0]}"
[ "$word" = LISTENING ] || { echo "the hub did not start" >&2; exit 1; }
url="http://127.0.0.1:$port"
echo "hub listening on $url — listening with: target/release/pushdesk listen --server $url --json" >&2

(sleep 1; cd "$node_dir" && node -e '
  const s = require("socket.io-client").io(process.argv[1], { transports: ["websocket"] });
  s.on("connect", () => s.emit("send_notification_request", { text: "Hello from Pushdesk", num: 1 }, () => {}));
  setTimeout(() => process.exit(0), 500);' "$url") &
exec target/release/pushdesk listen --server "$url" --json
