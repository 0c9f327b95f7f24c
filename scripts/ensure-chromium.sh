#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed (the browser test, test/e2e/authenticate.test.ts,
# drives /usr/bin/chromium with playwright-core). Silent when it is already there; otherwise
# installs the Debian package `chromium` (root only: apt-get update, apt-get install), showing
# apt's output only when that fails. Exits non-zero with a message saying what to do when it
# cannot. CHROMIUM=/path/to/chromium overrides the binary checked.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi

fail() {
  echo "ensure-chromium: $*" >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$CHROMIUM is missing and this system has no apt-get: install Chromium so that $CHROMIUM exists (or set CHROMIUM=/path/to/chromium)"
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "$CHROMIUM is missing: install Debian's chromium package as root (apt-get update && apt-get install -y chromium), or run this script as root"
fi

echo "ensure-chromium: installing Debian's chromium package (apt-get) ..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y chromium; } >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get install chromium failed (output above)"
fi
if [ ! -x "$CHROMIUM" ]; then
  tail -n 30 "$log" >&2
  fail "apt-get installed chromium but $CHROMIUM is still missing"
fi
echo "ensure-chromium: installed $CHROMIUM" >&2
