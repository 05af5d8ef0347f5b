#!/usr/bin/env bash
# Tests the .deb from scripts/package.sh the way a user gets it: checks that
# its Depends cover every shared library its binaries link (dpkg-shlibdeps),
# installs it with apt, verifies the systemd user units, runs the installed
# binaries (tests/tests/installed.rs: --version, serve + send + listen
# through the units' command lines, the desktop app hidden under Xvfb and
# D-Bus until its notification reaches dunst), then removes it and checks
# that none of its files are left. Needs root or sudo, and changes the
# machine only while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

debs=(target/release/bundle/deb/*.deb)
[ -f "${debs[0]}" ] && [ ${#debs[@]} -eq 1 ] || {
  echo "package-test: want exactly one .deb in target/release/bundle/deb (run scripts/package.sh)" >&2
  exit 1
}
deb="${debs[0]}"
name=$(dpkg-deb -f "$deb" Package)
echo "== package test: $deb ($(du -h "$deb" | cut -f1), package $name)"

work=$(mktemp -d)
installed=0
cleanup() {
  [ "$installed" -eq 1 ] && $SUDO apt-get remove -y -q "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Depends names every package dpkg-shlibdeps finds for the binaries, with
# at least the version it asks for.
dpkg-deb -x "$deb" "$work/root"
mkdir -p "$work/debian" && touch "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -eroot/usr/bin/pushdesk -eroot/usr/bin/pushdesk-desktop -eroot/usr/bin/pushdesk-tray 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package-test: dpkg-shlibdeps found nothing" >&2; exit 1; }
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
python3 - "$shlibs" "$depends" <<'PY'
import re, subprocess, sys

def parse(field):
    out = {}
    for item in field.split(","):
        m = re.fullmatch(r"\s*([a-z0-9.+-]+)\s*(?:\(>=\s*([^)]+)\))?\s*", item.split("|")[0])
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out

def at_least(declared, wanted):
    return any(v is not None and subprocess.run(
        ["dpkg", "--compare-versions", v, "ge", wanted]).returncode == 0 for v in declared)

need, have = parse(sys.argv[1]), parse(sys.argv[2])
bad = []
for pkg, versions in need.items():
    wanted = next((v for v in versions if v), None)
    if pkg not in have:
        bad.append(f"{pkg} missing")
    elif wanted and not at_least(have[pkg], wanted):
        bad.append(f"{pkg} needs >= {wanted}")
if bad:
    sys.exit("package-test: Depends is incomplete: " + "; ".join(bad) + f" (dpkg-shlibdeps: {sys.argv[1]})")
PY

echo "== package test: apt-get install"
timeout 600 $SUDO apt-get install -y -q --no-install-recommends "./$deb"
installed=1
[ "$(dpkg-query -W -f '${Status}' "$name")" = "install ok installed" ]

# The user units parse and point at installed programs.
mkdir -m 700 "$work/runtime"
XDG_RUNTIME_DIR="$work/runtime" systemd-analyze verify --user \
  /usr/lib/systemd/user/pushdesk-serve.service /usr/lib/systemd/user/pushdesk-listen.service

echo "== package test: the installed binaries"
pushdesk --version
if cargo nextest --version >/dev/null 2>&1; then
  PUSHDESK_INSTALLED_ROOT=/ cargo nextest run --workspace --locked --run-ignored only \
    -E 'binary(installed)'
else
  PUSHDESK_INSTALLED_ROOT=/ cargo test --workspace --locked --test installed -- --ignored
fi

echo "== package test: apt-get remove"
# Absolute paths of its files, whether the archive names them ./usr/… or usr/….
dpkg-deb -c "$deb" | awk '{print $NF}' | sed -E 's|^\./|/|; s|^([^/])|/\1|' | grep -v '/$' > "$work/files"
[ -s "$work/files" ] || { echo "package-test: no files listed in $deb" >&2; exit 1; }
timeout 300 $SUDO apt-get remove -y -q "$name"
installed=0
status=$(dpkg-query -W -f '${Status}' "$name" 2>/dev/null || true)
case "$status" in "" | *not-installed*) ;; *) echo "package-test: $name still '$status'" >&2; exit 1 ;; esac
left=0
while read -r f; do
  if [ -e "$f" ]; then echo "package-test: $f left after remove" >&2; left=1; fi
done < "$work/files"
[ "$left" -eq 0 ]
echo "package test: ok"
