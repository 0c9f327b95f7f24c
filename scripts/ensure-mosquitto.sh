#!/usr/bin/env bash
# Makes sure Debian's mosquitto (an MQTT broker) is installed: the scale-out test,
# test/e2e/scale-out.test.ts, starts one on loopback for a coordinator and its workers. Silent
# when it is already there; otherwise installs the Debian package `mosquitto` (root only:
# apt-get update, apt-get install), showing apt's output only when that fails. Exits non-zero
# with a message saying what to do when it cannot. MOSQUITTO=/path/to/mosquitto overrides the
# binary checked.
set -euo pipefail

MOSQUITTO="${MOSQUITTO:-/usr/sbin/mosquitto}"
if [ -x "$MOSQUITTO" ]; then
  exit 0
fi

fail() {
  echo "ensure-mosquitto: $*" >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$MOSQUITTO is missing and this system has no apt-get: install mosquitto so that $MOSQUITTO exists (or set MOSQUITTO=/path/to/mosquitto)"
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "$MOSQUITTO is missing: install Debian's mosquitto package as root (apt-get update && apt-get install -y mosquitto), or run this script as root"
fi

echo "ensure-mosquitto: installing Debian's mosquitto package (apt-get) ..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y mosquitto; } >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get install mosquitto failed (output above)"
fi
if [ ! -x "$MOSQUITTO" ]; then
  tail -n 30 "$log" >&2
  fail "apt-get installed mosquitto but $MOSQUITTO is still missing"
fi
echo "ensure-mosquitto: installed $MOSQUITTO" >&2
