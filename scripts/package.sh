#!/usr/bin/env bash
# Builds the Linux packages, .deb and .rpm, into target/release/bundle/:
# release builds of `pushdesk-desktop` and the `pushdesk` CLI (one cargo
# run, so the release profile is built once), then Tauri's bundler
# (`tauri bundle`, from packaging/package.json) packs them with the desktop
# entry, icons and the systemd user units. AppImage needs a download at
# build time, so only the release workflow makes it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-ui.sh
echo "== package: bundler CLI"
(cd packaging && npm install --no-audit --no-fund --loglevel=error)
echo "== package: release build"
cargo build --release --locked -p pushdesk -p pushdesk-desktop -p pushdesk-desktop-core
echo "== package: bundle"
rm -rf target/release/bundle
(cd src-tauri && ../packaging/node_modules/.bin/tauri bundle --ci --bundles deb,rpm)
# Tauri writes the .deb's files as gzip (10.5 MiB); repack them with xz at
# level 9, whose 64 MiB window spans both binaries, which share most of
# their code: 5.2 MiB. Same files and control data.
for deb in target/release/bundle/deb/*.deb; do
  tmp=$(mktemp -d)
  dpkg-deb -R "$deb" "$tmp/root"
  dpkg-deb --root-owner-group -Zxz -z9 -b "$tmp/root" "$deb" >/dev/null
  rm -rf "$tmp"
done
ls -l target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm
