#!/usr/bin/env bash
# Runs every test: formatting, lints, unit and property tests, the
# end-to-end tests against real peers (Node socket.io, the seed's
# Flask-SocketIO app, socketioxide, Redis, our own `pushdesk serve`), which
# install themselves on first use (npm ci, a Python venv under
# tests/peers/python/.venv), and the web UI's tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== web UI build (embedded by the hub)"
scripts/build-ui.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== Windows and macOS: the desktop app and the portable crates' unit tests type-check"
# Nothing is linked, so no foreign SDK is needed. mingw's gcc builds the
# Windows C bits (ring, the resource file); for macOS no C compiler exists
# here, so ring's C is skipped (CC=true): its Rust is still checked.
# The unit tests the release workflow runs on Windows and macOS must
# compile there too (`--lib --profile test`: the libraries with their tests).
portable=(-p pushdesk-socketio -p pushdesk-hub-model -p pushdesk-text -p pushdesk-hub -p pushdesk-notifier -p pushdesk-desktop-core -p pushdesk-desktop)
cargo check --locked -p pushdesk-desktop -p pushdesk-desktop-core -p pushdesk-notifier --target x86_64-pc-windows-gnu
cargo check --locked "${portable[@]}" --lib --profile test --target x86_64-pc-windows-gnu
export CC_x86_64_apple_darwin=true AR_x86_64_apple_darwin=true
cargo check --locked -p pushdesk-desktop -p pushdesk-desktop-core -p pushdesk-notifier --target x86_64-apple-darwin
cargo check --locked "${portable[@]}" --lib --profile test --target x86_64-apple-darwin
unset CC_x86_64_apple_darwin AR_x86_64_apple_darwin
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  profile=default
  [ -n "${CI:-}" ] && profile=ci
  cargo nextest run --workspace --locked --profile "$profile"
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked
fi

echo "== web UI: unit tests, then browser tests against the real hub"
PUSHDESK_HUB_CMD='target/debug/pushdesk serve --bind 127.0.0.1:{port} --data-dir {dir}' bash tests/ui/run.sh
