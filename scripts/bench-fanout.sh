#!/usr/bin/env bash
# Fan-out benchmark: CLIENTS WebSocket clients on `pushdesk serve` and, in the
# same run, on the Node socket.io server running the seed's events
# (tests/peers/node/server.js). Reports delivery latency p50/p99 at a steady
# rate, notifications delivered per second in a burst, and server memory per
# idle connection, side by side. ROUNDS rounds (default 5), each a fresh hub
# then the Node server, so the two alternate; every figure is the median
# over the rounds (one run's p50 swings with the machine's other load), and
# each round's p50/p99 is printed too.
# Usage: scripts/bench-fanout.sh [CLIENTS] [RATE] [SECONDS] [BURST] [ROUNDS]
# (PUSHDESK_BIN=path: the hub binary to measure instead of this tree's build)
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-1000}; rate=${2:-20}; seconds=${3:-5}; burst=${4:-100}; rounds=${5:-5}
node_dir=tests/peers/node
[ -d "$node_dir/node_modules" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
# One cargo invocation, so both share one feature resolution (no rebuilds).
cargo build --release --quiet -p pushdesk --bin pushdesk -p pushdesk-e2e --example fanout
# PUSHDESK_BIN=path runs another build of the hub (e.g. to compare two commits).
hub_bin=${PUSHDESK_BIN:-target/release/pushdesk}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
data=$(mktemp -d); trap 'rm -rf "$data"; kill $(jobs -p) 2>/dev/null || true' EXIT

# One round: a fresh hub, then the Node server, each measured by fanout.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ours_runs=(); node_runs=()
for r in $(seq "$rounds"); do
  rm -rf "$data"/*
  port=$(free_port)
  "$hub_bin" serve --bind "127.0.0.1:$port" --data-dir "$data" --notify-rate 100000 --notify-burst 100000 --max-connections-per-ip 0 2>/dev/null &
  hub_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  ours_runs+=("$(target/release/examples/fanout "http://127.0.0.1:$port" "$hub_pid" "$clients" "$rate" "$seconds" "$burst")")
  kill "$hub_pid"; wait "$hub_pid" 2>/dev/null || true

  coproc NODE { exec node "$node_dir/server.js" --port 0; }
  read -r _ nport <&"${NODE[0]}"
  node_pid=$NODE_PID
  node_runs+=("$(target/release/examples/fanout "http://127.0.0.1:$nport" "$node_pid" "$clients" "$rate" "$seconds" "$burst")")
  kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
  echo "round $r/$rounds done" >&2
done

python3 - "$rounds" "${ours_runs[@]}" "${node_runs[@]}" <<'PY'
import json, statistics, sys
k = int(sys.argv[1])
ours = [json.loads(a) for a in sys.argv[2:2 + k]]
node = [json.loads(a) for a in sys.argv[2 + k:2 + 2 * k]]
med = lambda runs, f: statistics.median(f(r) for r in runs)
p50 = lambda r: r['steady']['p50_ms']
p99 = lambda r: r['steady']['p99_ms']
bps = lambda r: r['burst']['delivered_per_sec']
rss = lambda r: r['memory']['kib_per_connection_rss']
pss = lambda r: r['memory']['kib_per_connection_pss']
o, n = ours[0], node[0]
print(f"{o['clients']} clients, steady {o['steady']['rate']}/s, burst {o['burst']['sent']}; {k} rounds, hub then Node each round")
print("per round (ms):  " + "  ".join(f"p50 {p50(a):.1f}/{p50(b):.1f} p99 {p99(a):.1f}/{p99(b):.1f}" for a, b in zip(ours, node)) + "  (hub/Node)")
rows = [
  ("steady delivered (min)", f"{min(r['steady']['delivered'] for r in ours)}/{o['steady']['expected']}", f"{min(r['steady']['delivered'] for r in node)}/{n['steady']['expected']}", ""),
  ("latency p50 (ms)", med(ours, p50), med(node, p50), f"{med(node, p50)/max(med(ours, p50),1e-9):.2f}x lower"),
  ("latency p99 (ms)", med(ours, p99), med(node, p99), f"{med(node, p99)/max(med(ours, p99),1e-9):.2f}x lower"),
  ("burst delivered/s", round(med(ours, bps)), round(med(node, bps)), f"{med(ours, bps)/max(med(node, bps),1e-9):.2f}x"),
  ("burst complete", all(r['burst']['complete'] for r in ours), all(r['burst']['complete'] for r in node), ""),
  ("KiB/idle conn (RSS)", round(med(ours, rss),1), round(med(node, rss),1), ""),
  ("KiB/idle conn (PSS)", round(med(ours, pss),1), round(med(node, pss),1), ""),
]
print(f"{'median of ' + str(k):22} {'pushdesk serve':>16} {'node socket.io':>16} {'ratio':>14}")
for name, a, b, r in rows:
    print(f"{name:22} {str(a):>16} {str(b):>16} {r:>14}")
PY
