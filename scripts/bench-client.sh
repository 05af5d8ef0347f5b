#!/usr/bin/env bash
# Acked-echo benchmark: our Rust client (crates/socketio-client/examples/
# echo_bench.rs) and socket.io-client 4.8 (tests/peers/node/bench-echo.js),
# each against the same server in one run: the Node socket.io server, then
# socketioxide (single-threaded). One request at a time, then 64 in flight.
# Reports acks/s and client CPU µs per ack (user + system), and the ratios.
# Usage: scripts/bench-client.sh [SECONDS per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
node_dir=tests/peers/node
[ -d "$node_dir/node_modules" ] || (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
cargo build --release --quiet -p pushdesk-socketio --example echo_bench
cargo build --release --quiet -p pushdesk-e2e --example siox_echo_server
ours=target/release/examples/echo_bench

field() { sed -E "s/.*\"$1\":([0-9.e+-]+).*/\\1/"; }
printf '%-12s %-6s %22s %22s %14s %14s\n' server flight "socket.io-client" "pushdesk-socketio" "rate ratio" "cpu/ack ratio"
for server in node socketioxide; do
  if [ "$server" = node ]; then
    coproc SERVER { exec node "$node_dir/server.js" --port 0; }
  else
    coproc SERVER { exec target/release/examples/siox_echo_server; }
  fi
  read -r word port <&"${SERVER[0]}"
  [ "$word" = LISTENING ] || { echo "$server did not start" >&2; exit 1; }
  url="http://127.0.0.1:$port"
  for n in 1 64; do
    js=$(node "$node_dir/bench-echo.js" "$url" "$n" "$seconds")
    rs=$("$ours" "$url" "$n" "$seconds")
    jr=$(echo "$js" | field rate); rr=$(echo "$rs" | field rate)
    jc=$(echo "$js" | field cpu_us_per_ack); rc=$(echo "$rs" | field cpu_us_per_ack)
    printf '%-12s %-6s %9.0f/s %6.1f µs/ack %9.0f/s %6.1f µs/ack %13.2fx %13.2fx\n' \
      "$server" "$n" "$jr" "$jc" "$rr" "$rc" "$(echo "$rr / $jr" | bc -l)" "$(echo "$jc / $rc" | bc -l)"
  done
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
done
