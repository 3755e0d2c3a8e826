#!/usr/bin/env bash
# The shim in secure-execution mode reads no configuration and starts
# nothing. secure_probe loads libdpdkudp.so and opens a UDP socket through
# it, with DPDKUDP_CONFIG naming a file with a bad value and
# DPDKUDP_REQUIRE=1 in the environment:
#   run plainly (AT_SECURE=0), the shim reads that file and exits with its
#     one error line (the probe does reach the shim's start-up);
#   run setuid to another user (AT_SECURE=1), the shim reads nothing, prints
#     nothing and the socket is the kernel's.
#   secure.sh BUILD_DIR shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
[ "${2:-}" = shim ] || fail "secure.sh runs in shim mode only"
BUILD=$(cd "$1" && pwd)
[ "$(id -u)" = 0 ] || fail "needs root (a setuid copy of the probe)"
id nobody >/dev/null 2>&1 || fail "no user 'nobody' to setuid to"

# A directory every user may read: the setuid probe runs as nobody.
DIR=$(mktemp -d)
on_exit "rm -rf $DIR"
chmod 755 "$DIR"
cp "$BUILD/tests/integration/shim/secure_probe" "$BUILD/preload/libdpdkudp.so" "$DIR/"
chmod 755 "$DIR/secure_probe" "$DIR/libdpdkudp.so"
printf 'DPDKUDP_BACKEND=bogus\nDPDKUDP_REQUIRE=1\n' >"$DIR/bad.env"
chmod 644 "$DIR/bad.env"
run() {  # probe, output file; returns the probe's status
  env DPDKUDP_CONFIG="$DIR/bad.env" DPDKUDP_REQUIRE=1 DPDKUDP_LOG=debug "$1" "$DIR/libdpdkudp.so" >"$2" 2>&1
}

rc=0
run "$DIR/secure_probe" "$DIR/plain.out" || rc=$?
cat "$DIR/plain.out"
[ $rc -eq 1 ] || fail "plain run: status $rc, expected 1 (the shim exiting on the bad configuration)"
grep -q 'dpdkudp: config: .*DPDKUDP_BACKEND="bogus"' "$DIR/plain.out" || fail "plain run: no configuration error line"
pass "without secure execution the shim reads DPDKUDP_CONFIG and exits on its bad value (DPDKUDP_REQUIRE=1)"

cp "$DIR/secure_probe" "$DIR/secure_probe_suid"
chown nobody "$DIR/secure_probe_suid"
chmod 4755 "$DIR/secure_probe_suid"
rc=0
run "$DIR/secure_probe_suid" "$DIR/secure.out" || rc=$?
cat "$DIR/secure.out"
[ $rc -eq 0 ] || fail "setuid run: status $rc, expected 0"
grep -q '^at_secure=1 ' "$DIR/secure.out" || fail "setuid run: AT_SECURE is not set (the test proves nothing)"
grep -q 'fd=ok' "$DIR/secure.out" || fail "setuid run: no socket"
if grep -q 'dpdkudp' "$DIR/secure.out"; then fail "setuid run: the shim said something (it read its configuration)"; fi
pass "in secure execution (setuid, AT_SECURE=1) the shim read no configuration, printed nothing, and the socket was the kernel's"
