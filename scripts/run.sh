#!/usr/bin/env bash
# Runs the Pushdesk hub (`pushdesk serve`) with its web UI, on
# http://127.0.0.1:5000 by default (PUSHDESK_BIND=ADDR to change it), keeping
# its history in the OS data directory. Open the printed URL in a browser;
# send from a shell with `target/release/pushdesk send --title Hello`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-ui.sh
cargo build --release --quiet -p pushdesk
exec target/release/pushdesk serve "$@"
