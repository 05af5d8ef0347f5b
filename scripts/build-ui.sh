#!/usr/bin/env bash
# Builds the web UI into ui/dist, which the hub embeds (crates/hub/build.rs).
set -euo pipefail
cd "$(dirname "$0")/../ui"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
