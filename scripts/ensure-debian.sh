#!/usr/bin/env bash
# Makes sure a Debian package's binary is there: silent when it is; otherwise installs the
# package (root only: apt-get update, apt-get install), showing apt's output only when that
# fails. Exits non-zero with a message saying what to do when it cannot.
#   scripts/ensure-debian.sh <script name> <package> <binary> <VARIABLE that overrides the binary>
set -euo pipefail

NAME="$1"
PACKAGE="$2"
BINARY="$3"
OVERRIDE="$4"
if [ -x "$BINARY" ]; then
  exit 0
fi

fail() {
  echo "$NAME: $*" >&2
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$BINARY is missing and this system has no apt-get: install $PACKAGE so that $BINARY exists (or set $OVERRIDE=/path/to/$PACKAGE)"
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "$BINARY is missing: install Debian's $PACKAGE package as root (apt-get update && apt-get install -y $PACKAGE), or run this script as root"
fi

echo "$NAME: installing Debian's $PACKAGE package (apt-get) ..." >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y "$PACKAGE"; } >"$log" 2>&1; then
  cat "$log" >&2
  fail "apt-get install $PACKAGE failed (output above)"
fi
if [ ! -x "$BINARY" ]; then
  tail -n 30 "$log" >&2
  fail "apt-get installed $PACKAGE but $BINARY is still missing"
fi
echo "$NAME: installed $BINARY" >&2
