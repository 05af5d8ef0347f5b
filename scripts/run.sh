#!/usr/bin/env bash
# Runs Pushdesk from a checkout.
#
#   scripts/run.sh [FLAGS…]        the desktop app (pushdesk-desktop): tray,
#                                  native notifications, its own embedded hub
#                                  unless --server URL (or the Settings panel)
#                                  points it at another
#   scripts/run.sh serve [FLAGS…]  the hub (pushdesk serve) with its web UI on
#                                  http://127.0.0.1:5000; send from a shell with
#                                  target/release/pushdesk send --title Hello
#
# Without a display (no DISPLAY / WAYLAND_DISPLAY) it runs the hub.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-ui.sh

mode=desktop
if [ "${1:-}" = "serve" ]; then
  mode=serve
  shift
elif [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display here: starting the hub and its web UI instead (scripts/run.sh serve)" >&2
  mode=serve
fi

if [ "$mode" = serve ]; then
  cargo build --release --quiet -p pushdesk
  exec target/release/pushdesk serve "$@"
fi
cargo build --release --quiet -p pushdesk -p pushdesk-desktop-core -p pushdesk-desktop
echo "run: starting pushdesk-desktop (it starts pushdesk-tray, which stays in the tray; Quit is in the tray menu)" >&2
exec target/release/pushdesk-desktop "$@"
