#!/usr/bin/env bash
# Receive benchmark: `pushdesk listen --json --no-notify` and a
# socket.io-client 4.8 script printing the same lines
# (tests/peers/node/bench-listen.js --print), one at a time, alternating
# A B A B, against the same blasting server (tests/peers/node/blast.js: on
# every connection it emits COUNT `send_notification` events, hub-shaped, as
# fast as it can). Each client's stdout goes into a pipe drained by a reader
# that times the lines from the first to the COUNT-th. The same again without
# printing: the library's receive loop (crates/socketio-client/examples/
# recv_bench.rs) against bench-listen.js counting only. Reports every run,
# the medians, and the ratios of the medians.
# Usage: scripts/bench-listen.sh [COUNT, default 100000] [ROUNDS, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}; rounds=${2:-4}
node_dir=tests/peers/node
[ -d "$node_dir/node_modules" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
# One cargo invocation, so both share one feature resolution (no rebuilds).
cargo build --release --quiet -p pushdesk --bin pushdesk -p pushdesk-socketio --example recv_bench
target=${CARGO_TARGET_DIR:-target}
ours=$target/release/pushdesk
recv=$target/release/examples/recv_bench

coproc SERVER { exec node "$node_dir/blast.js" --port 0 --count "$count"; }
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
read -r word port <&"${SERVER[0]}"
[ "$word" = LISTENING ] || { echo "blast.js did not start" >&2; exit 1; }
url="http://127.0.0.1:$port"

# The pipe's reader: times lines from the first byte to the COUNT-th newline
# (reading as a consumer would, in large chunks), then checks every line is
# one whole `{"event":"send_notification","data":{…}}` object.
drain='
import json, sys, time
n = int(sys.argv[1]); buf = []; lines = 0; first = last = None
read = sys.stdin.buffer.raw.read
while True:
    chunk = read(1 << 16)
    if not chunk:
        break
    now = time.perf_counter()
    if first is None:
        first = now
    buf.append(chunk)
    if lines < n:
        lines += chunk.count(b"\n")
        if lines >= n:
            last = now
all_lines = b"".join(buf).split(b"\n")
ok = all_lines[-1] == b"" and len(all_lines) - 1 == n
for i, l in enumerate(all_lines[:-1]):
    if not l.startswith(b"{\"event\":\"send_notification\",\"data\":{") or (i % 997 == 0 and json.loads(l)["data"]["id"] != i + 1):
        ok = False
        break
secs = (last or time.perf_counter()) - (first or 0)
print(json.dumps({"lines": lines, "seconds": secs, "rate": lines / secs if secs > 0 else 0, "ok": ok}))
'
field() { sed -E "s/.*\"$1\": ?([0-9.e+-]+).*/\\1/"; }
print_run() { # CLIENT-COMMAND... ; prints events/s
  local res
  res=$("$@" | python3 -c "$drain" "$count")
  case $res in *'"ok": true'*) ;; *) echo "bad output from $1: $res" >&2; exit 1 ;; esac
  echo "$res" | field rate
}

declare -a np op nc oc
printf '%-6s %26s %26s %20s %20s\n' round "node print (events/s)" "pushdesk listen (events/s)" "node recv (ev/s)" "ours recv (ev/s)"
for r in $(seq "$rounds"); do
  np[r]=$(print_run node "$node_dir/bench-listen.js" "$url" "$count" --print)
  op[r]=$(RUST_LOG=warn print_run "$ours" listen --server "$url" --json --no-notify --count "$count")
  nc[r]=$(node "$node_dir/bench-listen.js" "$url" "$count" | field rate)
  oc[r]=$("$recv" "$url" "$count" | field rate)
  printf '%-6s %26.0f %26.0f %20.0f %20.0f\n' "$r" "${np[r]}" "${op[r]}" "${nc[r]}" "${oc[r]}"
done
python3 - "${np[*]}" "${op[*]}" "${nc[*]}" "${oc[*]}" <<'PY'
import statistics, sys
np_, op, nc, oc = (statistics.median(map(float, a.split())) for a in sys.argv[1:])
print(f"{'median':6} {np_:26.0f} {op:26.0f} {nc:20.0f} {oc:20.0f}")
print(f"printing: pushdesk listen / socket.io-client = {op / np_:.2f}x")
print(f"receive loop only: pushdesk-socketio / socket.io-client = {oc / nc:.2f}x")
PY
