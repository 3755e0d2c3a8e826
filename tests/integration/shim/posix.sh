#!/usr/bin/env bash
# Linux UDP semantics through the POSIX API (udp_posix_test, GoogleTest) in
# the server namespace, against a kernel echo peer in the client namespace.
#   posix.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

TEST_BIN="$BUILD/tests/integration/shim/udp_posix_test"
[ -x "$TEST_BIN" ] || fail "$TEST_BIN is not built"

# The _FORTIFY_SOURCE entry points really are what the binary calls.
imports=$(nm -D --undefined-only "$TEST_BIN")
for sym in __recv_chk __recvfrom_chk __read_chk __poll_chk __ppoll_chk; do
  grep -qw "$sym" <<<"$imports" || fail "udp_posix_test does not import $sym: the fortified file lost its flags"
done
pass "udp_posix_test imports __recv_chk __recvfrom_chk __read_chk __poll_chk __ppoll_chk"

start_peer 7100
# ARP both ways before the timing-sensitive tests.
in_cli ping -c 1 -W 2 "$IP_SRV" >/dev/null 2>&1 || true

rc=0
run_under env PEER_IP="$IP_CLI" PEER_PORT="$PEER_PORT" LOCAL_IP="$IP_SRV" LOCAL_PREFIX="$PREFIX" LOCAL_IFACE="$VETH_SRV" \
  "$TEST_BIN" --gtest_color=no ${GTEST_FILTER:+--gtest_filter=$GTEST_FILTER} || rc=$?
stop_bg peer
[ $rc -eq 0 ] || fail "udp_posix_test failed in $MODE mode (status $rc)"
pass "POSIX UDP semantics, $MODE mode"
