#!/usr/bin/env bash
# Builds the web UI into ui/dist, which the hub embeds (crates/hub/build.rs).
set -euo pipefail
cd "$(dirname "$0")/../ui"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Skip when dist is newer than every input: rebuilding gives dist new
# mtimes, and the hub (which embeds it) and everything above it recompile.
if [ -f dist/index.html ] && [ -z "$(find src public index.html package.json package-lock.json \
  tsconfig.json vite.config.js -newer dist/index.html -print -quit)" ]; then
  echo "web UI: dist is up to date"
  exit 0
fi
npm run build --silent
