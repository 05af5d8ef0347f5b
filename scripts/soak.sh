#!/usr/bin/env bash
# Soak benchmark: CLIENTS receivers on `pushdesk serve` for MINUTES with
# RATE notifications per second and CHURN receivers per second leaving and
# coming back (replaying after their last id), with the tray
# (`pushdesk-tray`, on Xvfb and a private D-Bus with dunst showing every
# notification) connected to the same hub. Reports notifications sent,
# acked, received, ids missed or repeated by any receiver (must be 0), and
# the hub's and the tray's resident memory after a one-minute warm-up and
# at the end (tests/examples/soak.rs).
# Usage: scripts/soak.sh [CLIENTS] [MINUTES] [RATE] [CHURN]
# (PROFILE=debug uses the debug builds instead of release ones.)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-1000}; minutes=${2:-30}; rate=${3:-5}; churn=${4:-2}
profile=${PROFILE:-release}
flag=(--release); [ "$profile" = debug ] && flag=()
scripts/setup.sh >/dev/null
scripts/build-ui.sh >/dev/null
cargo build "${flag[@]}" --locked --quiet -p pushdesk --bin pushdesk -p pushdesk-desktop-core --bin pushdesk-tray -p pushdesk-e2e --example soak
bin=target/$profile
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work=$(mktemp -d)
tray_pid=""
cleanup() {
  set +e
  # The tray first: xvfb-run then stops its Xvfb and the bus by itself.
  [ -n "$tray_pid" ] && kill "$tray_pid" 2>/dev/null && sleep 1
  kill $(jobs -p) 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/pushdesk" serve --bind "127.0.0.1:$port" --data-dir "$work/hub" \
  --notify-rate 100000 --notify-burst 100000 --max-connections-per-ip 0 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
# The tray, as a user runs it, on its own display and session bus.
xvfb-run -a dbus-run-session -- sh -c "dunst >/dev/null 2>&1 & exec '$bin/pushdesk-tray' --server 'http://127.0.0.1:$port' --data-dir '$work/tray'" >"$work/tray.log" 2>&1 &
for _ in $(seq 100); do
  tray_pid=$(pgrep -f "pushdesk-tray --server http://127.0.0.1:$port " | head -1 || true)
  [ -n "$tray_pid" ] && break; sleep 0.1
done
[ -n "$tray_pid" ] || { echo "soak: the tray did not start" >&2; cat "$work/tray.log" >&2; exit 1; }
"$bin/examples/soak" "http://127.0.0.1:$port" "$hub_pid" "$tray_pid" "$clients" "$minutes" "$rate" "$churn"
