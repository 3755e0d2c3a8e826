#!/usr/bin/env bash
# Bad configuration and a missing interface: exactly one clear line on
# stderr naming the key / value / interface, and a non-zero exit from the
# engine-only test server (the shim falls back to the kernel instead).
#   engine_failures.sh BUILD_DIR [dpdk]   (dpdk: also the DPDK backend's failures)
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
ECHO="$BUILD/tests/integration/engine_echo"
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"

expect_one_line() {  # description regex env...
  local what=$1 regex=$2
  shift 2
  local rc=0
  env -i PATH="$PATH" DPDKUDP_CONFIG= "$@" "$ECHO" 7 >"$DIR/out" 2>"$DIR/err" </dev/null || rc=$?
  [ $rc -ne 0 ] || fail "$what: exited 0"
  [ "$(wc -l <"$DIR/err")" -eq 1 ] || fail "$what: expected one line on stderr, got: $(cat "$DIR/err")"
  grep -qE "$regex" "$DIR/err" || fail "$what: stderr '$(cat "$DIR/err")' does not match /$regex/"
  pass "$what: $(cat "$DIR/err")"
}

expect_one_line "missing interface" 'interface nope0: no such interface' \
  DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE=nope0 DPDKUDP_IP=198.18.0.2/24
expect_one_line "bad value" 'DPDKUDP_MTU="90000".*68 to 9000' DPDKUDP_MTU=90000
expect_one_line "unknown variable" 'DPDKUDP_IFCE.*DPDKUDP_IFACE' DPDKUDP_IFCE=eth0
printf 'DPDKUDP_BACKEND=af_packet\nDPDKUDP_BUSY_POLL_US=-3\n' >"$DIR/bad.env"
expect_one_line "bad value in a file" "bad.env:2: DPDKUDP_BUSY_POLL_US=\"-3\"" DPDKUDP_CONFIG="$DIR/bad.env"
expect_one_line "missing config file" 'nothere.env' DPDKUDP_CONFIG="$DIR/nothere.env"
expect_one_line "backend off" 'DPDKUDP_BACKEND=off' DPDKUDP_BACKEND=off
expect_one_line "no interface" 'DPDKUDP_IFACE is not set' DPDKUDP_BACKEND=af_packet

if [ "${2:-}" = dpdk ]; then
expect_one_line "dpdk: bad EAL arguments" '^dpdkudp: dpdk: .*(EAL|eal)' \
  DPDKUDP_BACKEND=dpdk DPDKUDP_IP=198.18.0.2/24 DPDKUDP_EAL_ARGS=--no-such-eal-option
expect_one_line "dpdk: no ports" 'no DPDK ports' \
  DPDKUDP_BACKEND=dpdk DPDKUDP_IP=198.18.0.2/24 DPDKUDP_EAL_ARGS=--no-pci
fi
