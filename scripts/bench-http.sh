#!/usr/bin/env bash
# HTTP publish vs Socket.IO publish, side by side in one run, on the same
# `pushdesk serve` with CLIENTS WebSocket subscribers: the fan-out benchmark
# (tests/examples/fanout.rs) with its sender over Socket.IO, then over the
# HTTP API (POST /api/v1/notifications), alternating RUNS times (A B A B…),
# each on a fresh hub. Reports the medians: delivery latency p50/p99 at a
# steady RATE, and notifications delivered per second in a burst of BURST.
# Usage: scripts/bench-http.sh [CLIENTS] [RATE] [SECONDS] [BURST] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-1000}; rate=${2:-20}; seconds=${3:-5}; burst=${4:-200}; runs=${5:-3}
cargo build --release --quiet -p pushdesk --bin pushdesk
cargo build --release --quiet -p pushdesk-e2e --example fanout
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
data=$(mktemp -d); trap 'rm -rf "$data"; kill $(jobs -p) 2>/dev/null || true' EXIT

one() { # SENDER → one JSON result line
  local port dir pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir=$(mktemp -d -p "$data")
  target/release/pushdesk serve --bind "127.0.0.1:$port" --data-dir "$dir" --notify-rate 100000 --notify-burst 100000 --max-connections-per-ip 0 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  target/release/examples/fanout "http://127.0.0.1:$port" "$pid" "$clients" "$rate" "$seconds" "$burst" "$1"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

results=()
for _ in $(seq "$runs"); do
  results+=("$(one socketio)")
  results+=("$(one http)")
done

python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
by = {s: [r for r in runs if r["sender"] == s] for s in ("socketio", "http")}
def med(rs, f): return statistics.median(f(r) for r in rs)
rows = []
for name, f in [
    ("latency p50 (ms)", lambda r: r["steady"]["p50_ms"]),
    ("latency p99 (ms)", lambda r: r["steady"]["p99_ms"]),
    ("burst delivered/s", lambda r: r["burst"]["delivered_per_sec"]),
    ("burst publishes/s", lambda r: r["burst"]["delivered_per_sec"] / r["clients"]),
]:
    s, h = med(by["socketio"], f), med(by["http"], f)
    rows.append((name, s, h, h / s if s else float("nan")))
delivered = lambda rs: f"{sum(r['steady']['delivered'] for r in rs)}/{sum(r['steady']['expected'] for r in rs)}"
c = runs[0]
print(f"{c['clients']} subscribers, steady {c['steady']['rate']}/s for {c['steady']['sent']} sends, burst {c['burst']['sent']}; median of {len(by['http'])} alternating runs")
print(f"{'':22} {'Socket.IO publish':>18} {'HTTP publish':>14} {'HTTP / Socket.IO':>17}")
for name, s, h, r in rows:
    fmt = (lambda v: f"{v:,.0f}") if "burst" in name else (lambda v: f"{v:.2f}")
    print(f"{name:22} {fmt(s):>18} {fmt(h):>14} {r:>16.2f}x")
print(f"{'steady delivered':22} {delivered(by['socketio']):>18} {delivered(by['http']):>14}")
print(f"{'HTTP requests failed':22} {'':>18} {sum(r['http_failed'] for r in by['http']):>14}")
PY
