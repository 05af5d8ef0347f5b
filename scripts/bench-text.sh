#!/usr/bin/env bash
# Shared text: the Yjs path against the seed's full-text path, side by side
# in one run, on `pushdesk serve`. CLIENTS clients type CPS characters per
# second each for SECONDS (tests/examples/text_typing.rs), first as Yjs
# peers over text_sync, then as full-text writers (text_update_request,
# merged by the hub), alternating RUNS times (A B A B…), each on a fresh
# hub. Reports the medians of the edit → remote render latency p50/p99 and
# of the hub's CPU, then the stored size after EDITS keystrokes
# (crates/hub/examples/text_size.rs).
# Usage: scripts/bench-text.sh [CLIENTS] [CPS] [SECONDS] [RUNS] [EDITS]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-20}; cps=${2:-10}; seconds=${3:-60}; runs=${4:-3}; edits=${5:-100000}
cargo build --release --quiet -p pushdesk --bin pushdesk
cargo build --release --quiet -p pushdesk-e2e --example text_typing
cargo build --release --quiet -p pushdesk-hub --example text_size
data=$(mktemp -d); trap 'rm -rf "$data"; kill $(jobs -p) 2>/dev/null || true' EXIT

one() { # MODE → one JSON result line
  local port dir pid
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir=$(mktemp -d -p "$data")
  target/release/pushdesk serve --bind "127.0.0.1:$port" --data-dir "$dir" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  target/release/examples/text_typing "http://127.0.0.1:$port" "$pid" "$clients" "$cps" "$seconds" "$1"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

results=()
for _ in $(seq "$runs"); do
  results+=("$(one yjs)")
  results+=("$(one full)")
done
size=$(target/release/examples/text_size "$edits")

python3 - "$size" "${results[@]}" <<'PY'
import json, statistics, sys
size = json.loads(sys.argv[1])
runs = [json.loads(a) for a in sys.argv[2:]]
by = {m: [r for r in runs if r["mode"] == m] for m in ("yjs", "full")}
def med(rs, k): return statistics.median(r[k] for r in rs)
print(f"{runs[0]['clients']} clients typing, medians of {len(by['yjs'])} runs each")
print(f"{'':28} {'Yjs (text_sync)':>16} {'full text (seed)':>17}")
for label, k, fmt in [("edit → render p50 (ms)", "latency_p50_ms", "{:.2f}"),
                      ("edit → render p99 (ms)", "latency_p99_ms", "{:.2f}"),
                      ("hub CPU (% of one core)", "hub_cpu_pct", "{:.1f}")]:
    print(f"{label:28} {fmt.format(med(by['yjs'], k)):>16} {fmt.format(med(by['full'], k)):>17}")
for m in ("yjs", "full"):
    seen = sum(r["seen"] for r in by[m]); expected = sum(r["expected"] for r in by[m])
    print(f"{m}: keystrokes seen by the others {seen} / {expected}")
print(f"after {size['edits']} keystrokes: text {size['text_bytes']} B, "
      f"document {size['snapshot_bytes']} B, stored log {size['stored_bytes']} B "
      f"({size['cuts']} cuts into new epochs), database file {size['database_bytes']} B "
      f"({size['edits_per_s']:.0f} stored edits/s)")
PY
