#!/usr/bin/env bash
# Makes sure Debian's mosquitto (an MQTT broker) is installed: the scale-out test,
# test/e2e/scale-out.test.ts, starts one on loopback for a coordinator and its workers. Silent
# when it is already there; otherwise installs the Debian package `mosquitto` (root only:
# apt-get update, apt-get install), showing apt's output only when that fails. Exits non-zero
# with a message saying what to do when it cannot. MOSQUITTO=/path/to/mosquitto overrides the
# binary checked.
set -euo pipefail
exec bash "$(dirname "$0")/ensure-debian.sh" ensure-mosquitto mosquitto "${MOSQUITTO:-/usr/sbin/mosquitto}" MOSQUITTO
