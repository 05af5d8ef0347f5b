#!/usr/bin/env bash
# Publish rate of one hub: N notifications posted one after another over one
# keep-alive HTTP connection (POST /api/v1/notifications), each answered
# after its history commit, so the rate is bounded by the commit (with
# synchronous=FULL, one fsync of the WAL each). Publishes are serialised by
# the hub's publish lock, so concurrent senders share this rate.
# The data directory is made under DIR (default: a temporary directory), so
# pass one on the disk you care about.
# Usage: scripts/bench-publish.sh [N] [DIR]   (PUSHDESK_BIN: the hub binary;
#        default: a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}; parent=${2:-${TMPDIR:-/tmp}}
bin=${PUSHDESK_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet -p pushdesk --bin pushdesk
  bin=target/release/pushdesk
fi
data=$(mktemp -d -p "$parent"); trap 'rm -rf "$data"; kill $(jobs -p) 2>/dev/null || true' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --bind "127.0.0.1:$port" --data-dir "$data" --notify-rate 1000000 --notify-burst 1000000 2>/dev/null &
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
python3 - "$port" "$n" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
body = json.dumps({"title": "bench", "body": "x" * 100})
start = time.perf_counter()
for i in range(n):
    c.request("POST", "/api/v1/notifications", body, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit(f"publish {i}: HTTP {r.status}")
took = time.perf_counter() - start
print(json.dumps({"published": n, "seconds": round(took, 3), "per_sec": round(n / took), "ms_each": round(took / n * 1000, 3)}))
PY
