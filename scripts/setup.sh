#!/usr/bin/env bash
# Installs what building and testing Pushdesk needs on Debian/Ubuntu:
# system packages (only those missing) and the Rust components. Idempotent.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
command -v cc >/dev/null || need+=(build-essential)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v bc >/dev/null || need+=(bc)
# The HTTP API tests publish with curl, as users do.
command -v curl >/dev/null || need+=(curl)
command -v redis-server >/dev/null || need+=(redis-server)
# The native notifier's tests: dunst on a private D-Bus with its own Xvfb.
command -v dunst >/dev/null || need+=(dunst)
command -v dbus-daemon >/dev/null || need+=(dbus)
command -v dbus-launch >/dev/null || need+=(dbus-x11)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xauth >/dev/null || need+=(xauth)
command -v notify-send >/dev/null || need+=(libnotify-bin)
command -v gdbus >/dev/null || need+=(libglib2.0-bin)
# The desktop app (Tauri 2 on Debian's WebKitGTK 4.1) and its end-to-end
# tests (WebKitWebDriver behind tauri-driver).
pc() { command -v pkg-config >/dev/null && pkg-config --exists "$1"; }
pc webkit2gtk-4.1 || need+=(libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev)
pc gtk+-3.0 || need+=(libgtk-3-dev)
pc libsoup-3.0 || need+=(libsoup-3.0-dev)
pc ayatana-appindicator3-0.1 || need+=(libayatana-appindicator3-dev)
pc librsvg-2.0 || need+=(librsvg2-dev)
pc openssl || need+=(libssl-dev)
[ -e /usr/include/xdo.h ] || need+=(libxdo-dev)
command -v file >/dev/null || need+=(file)
command -v WebKitWebDriver >/dev/null || need+=(webkit2gtk-driver)
# Packaging: the .deb's dependency check and the user units' check.
command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
command -v systemd-analyze >/dev/null || need+=(systemd)
# Type-checking the Windows build runs its resource compiler.
command -v x86_64-w64-mingw32-windres >/dev/null || need+=(binutils-mingw-w64-x86-64)
# windres preprocesses with mingw's gcc, which also builds ring's C for Windows.
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. Install it with rustup (https://rustup.rs), Rust 1.94 or newer, then run this again." >&2
  exit 1
fi
if command -v rustup >/dev/null; then
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
fi

# tauri-driver: the WebDriver front for the desktop app's end-to-end tests.
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ ! -x "$cargo_bin/tauri-driver" ]; then
  echo "setup: cargo install tauri-driver"
  cargo install tauri-driver --locked --version 2.1.0 --quiet
fi
# Targets the desktop app is type-checked for (its Windows and macOS code).
if command -v rustup >/dev/null; then
  for t in x86_64-pc-windows-gnu x86_64-apple-darwin; do
    rustup target list --installed 2>/dev/null | grep -qx "$t" || rustup target add "$t"
  done
fi
