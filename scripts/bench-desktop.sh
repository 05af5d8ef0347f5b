#!/usr/bin/env bash
# Footprint and latency of pushdesk-desktop beside a minimal Tauri 2 app, in
# one run (release builds, Xvfb, a private D-Bus with dunst): PSS of all the
# app's processes with the window open and closed to the tray, idle
# wake-ups, cold start to connected, and hub emit → Notify latency.
# Usage: scripts/bench-desktop.sh [SAMPLES]   (default 200 notifications)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-ui.sh
cargo build --release --locked -p pushdesk-desktop-core --bin pushdesk-tray
cargo build --release --locked -p pushdesk-desktop --bin pushdesk-desktop --example minimal --example footprint
exec target/release/examples/footprint "${1:-200}"
