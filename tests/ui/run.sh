#!/usr/bin/env bash
# Builds the web UI (ui/) and runs its tests: the unit tests of its pure
# modules, then the browser tests (Chromium via playwright-core) in this
# folder, against the stand-in hub (standin-hub.mjs) by default, or against
# the real hub when PUSHDESK_HUB_CMD is set to a command that starts one on
# {port} (and, if it wants one, a data directory {dir}):
#
#   PUSHDESK_HUB_CMD='target/debug/pushdesk serve --bind 127.0.0.1:{port} --data-dir {dir}' tests/ui/run.sh
#
# The command runs from the repository root. Installs what is missing:
# Debian's chromium (set CHROMIUM_PATH to use another), a Japanese font for
# readable screenshots (best effort), and the npm packages (npm ci).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
    apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1
  }
}

export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "run.sh: installing chromium" >&2
  apt_install chromium || { echo "run.sh: no browser at $CHROMIUM_PATH; install Debian's chromium or set CHROMIUM_PATH" >&2; exit 1; }
fi
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=ja 2>/dev/null | head -1)" ]; then
  apt_install fonts-ipafont-gothic || echo "run.sh: no Japanese font: CJK in screenshots will be boxes" >&2
fi

# npm ci unless node_modules was installed after the last change to the lock file.
npm_ci() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

cd "$repo/ui"
npm_ci
npm test
# Only if its inputs changed: a fresh dist would make cargo rebuild the hub.
bash "$repo/scripts/build-ui.sh"

cd "$here"
npm_ci
if [ -n "${PUSHDESK_HUB_CMD:-}" ]; then
  echo "run.sh: browser tests against: $PUSHDESK_HUB_CMD" >&2
else
  echo "run.sh: browser tests against the stand-in hub (set PUSHDESK_HUB_CMD for the real one)" >&2
fi
node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec ./*.test.mjs
