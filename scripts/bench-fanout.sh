#!/usr/bin/env bash
# Fan-out benchmark: CLIENTS WebSocket clients on `pushdesk serve` and, in the
# same run, on the Node socket.io server running the seed's events
# (tests/peers/node/server.js). Reports delivery latency p50/p99 at a steady
# rate, notifications delivered per second in a burst, and server memory per
# idle connection, side by side. Usage: scripts/bench-fanout.sh [CLIENTS] [RATE] [SECONDS] [BURST]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-1000}; rate=${2:-20}; seconds=${3:-5}; burst=${4:-100}
node_dir=tests/peers/node
[ -d "$node_dir/node_modules" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
cargo build --release --quiet -p pushdesk --bin pushdesk
cargo build --release --quiet -p pushdesk-e2e --example fanout
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
data=$(mktemp -d); trap 'rm -rf "$data"; kill $(jobs -p) 2>/dev/null || true' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
target/release/pushdesk serve --bind "127.0.0.1:$port" --data-dir "$data" --notify-rate 100000 --notify-burst 100000 2>/dev/null &
hub_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
ours=$(target/release/examples/fanout "http://127.0.0.1:$port" "$hub_pid" "$clients" "$rate" "$seconds" "$burst")
kill "$hub_pid"

coproc NODE { exec node "$node_dir/server.js" --port 0; }
read -r _ nport <&"${NODE[0]}"
theirs=$(target/release/examples/fanout "http://127.0.0.1:$nport" "$NODE_PID" "$clients" "$rate" "$seconds" "$burst")
kill "$NODE_PID"

python3 - "$ours" "$theirs" <<'PY'
import json, sys
o, n = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [
  ("steady delivered", f"{o['steady']['delivered']}/{o['steady']['expected']}", f"{n['steady']['delivered']}/{n['steady']['expected']}", ""),
  ("latency p50 (ms)", o['steady']['p50_ms'], n['steady']['p50_ms'], f"{n['steady']['p50_ms']/max(o['steady']['p50_ms'],1e-9):.2f}x lower"),
  ("latency p99 (ms)", o['steady']['p99_ms'], n['steady']['p99_ms'], f"{n['steady']['p99_ms']/max(o['steady']['p99_ms'],1e-9):.2f}x lower"),
  ("burst delivered/s", round(o['burst']['delivered_per_sec']), round(n['burst']['delivered_per_sec']), f"{o['burst']['delivered_per_sec']/max(n['burst']['delivered_per_sec'],1e-9):.2f}x"),
  ("burst complete", o['burst']['complete'], n['burst']['complete'], ""),
  ("KiB/idle conn (RSS)", round(o['memory']['kib_per_connection_rss'],1), round(n['memory']['kib_per_connection_rss'],1), ""),
  ("KiB/idle conn (PSS)", round(o['memory']['kib_per_connection_pss'],1), round(n['memory']['kib_per_connection_pss'],1), ""),
]
print(f"{o['clients']} clients, steady {o['steady']['rate']}/s, burst {o['burst']['sent']}")
print(f"{'':22} {'pushdesk serve':>16} {'node socket.io':>16} {'ratio':>14}")
for name, a, b, r in rows:
    print(f"{name:22} {str(a):>16} {str(b):>16} {r:>14}")
PY
