#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed (the browser test, test/e2e/authenticate.test.ts,
# drives /usr/bin/chromium with playwright-core). Silent when it is already there; otherwise
# installs the Debian package `chromium` (root only: apt-get update, apt-get install), showing
# apt's output only when that fails. Exits non-zero with a message saying what to do when it
# cannot. CHROMIUM=/path/to/chromium overrides the binary checked.
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian.sh" ensure-chromium chromium "${CHROMIUM:-/usr/bin/chromium}" CHROMIUM
