#!/usr/bin/env bash
# Fuzzes the protocol decoders for a bounded time (default 30 s).
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain
# accept them. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../crates/socketio-client"
seconds=${1:-30}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/decode
# Seed the corpus with real packets so the fuzzer starts from valid shapes.
i=0
for p in '0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000}' '42["count_update",{"user_count":1}]' \
         '451-["up",{"_placeholder":true,"num":0}]' '43/admin,12["ok"]' '44{"message":"no"}' '40/x,{"sid":"s"}'; do
  printf '\0%s' "$p" > "fuzz/corpus/decode/seed$i"; i=$((i+1))
done
RUSTC_BOOTSTRAP=1 cargo fuzz run decode -- -max_total_time="$seconds" -print_final_stats=1
