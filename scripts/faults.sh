#!/usr/bin/env bash
# Fault injection, longer than the suite's own run (crates/cli/tests/faults.rs):
# N notifications spread over SECONDS, published through a proxy that cuts,
# resets, stalls and delays every connection at random, to real
# `pushdesk listen` processes, with the hub SIGKILLed and restarted
# mid-burst; RUNS runs, each with a fresh seed. Prints each run's report
# (sent, acked, delivered, lost — must be 0 — and shown twice — must be 0 —
# per listener, and the faults injected); exits non-zero if any run failed.
# Usage: scripts/faults.sh [N] [SECONDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}; seconds=${2:-120}; runs=${3:-3}
cargo test --quiet -p pushdesk --test faults --no-run 2>/dev/null
status=0
for _ in $(seq "$runs"); do
  out=$(PUSHDESK_FAULTS_N=$n PUSHDESK_FAULTS_SECONDS=$seconds \
    cargo test --quiet -p pushdesk --test faults -- --nocapture --test-threads=1 2>&1) || status=1
  grep -E '^faults: ' <<<"$out" || { echo "$out" | tail -20; status=1; }
done
exit $status
