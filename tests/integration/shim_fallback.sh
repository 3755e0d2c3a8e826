#!/usr/bin/env bash
# The shim when no backend can start: exactly one stderr line naming the
# reason, then the program runs on the kernel as if the shim were absent;
# with DPDKUDP_REQUIRE=1 it exits with status 1 instead. Also: a program
# that never opens a UDP socket starts no engine and prints nothing; a
# missing backend module, or one from another build, is one line too; and
# the shim maps no backend library before its module is loaded.
#   shim_fallback.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
LIB="$BUILD/preload/libdpdkudp.so"
[ -f "$LIB" ] || fail "$LIB is missing"

netns_pair
ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV" tx off >/dev/null
LOGDIR=$(mktemp -d)
on_exit "rm -rf $LOGDIR"
cat >"$LOGDIR/server.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7777))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
PY

# 1. Missing interface: one line, then the kernel serves.
start_server missing '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE=nope0 \
  python3 "$LOGDIR/server.py"
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 500 >/dev/null || fail "kernel fallback did not serve"
[ "$(wc -l <"$LOGDIR/missing.err")" -eq 1 ] || fail "expected one stderr line, got: $(cat "$LOGDIR/missing.err")"
grep -q "interface nope0: no such interface; using the kernel" "$LOGDIR/missing.err" ||
  fail "unclear message: $(cat "$LOGDIR/missing.err")"
kill_server
pass "missing interface: '$(cat "$LOGDIR/missing.err")', the kernel served"

# 2. Bad value: one line naming key and value, then the kernel serves.
start_server badvalue '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BUSY_POLL_US=lots python3 "$LOGDIR/server.py"
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 100 >/dev/null || fail "kernel fallback did not serve"
[ "$(wc -l <"$LOGDIR/badvalue.err")" -eq 1 ] && grep -q 'DPDKUDP_BUSY_POLL_US="lots"' "$LOGDIR/badvalue.err" ||
  fail "unclear message: $(cat "$LOGDIR/badvalue.err")"
kill_server
pass "bad value: '$(cat "$LOGDIR/badvalue.err")', the kernel served"

# 3. DPDKUDP_REQUIRE=1: exit status 1 at the first UDP socket.
rc=0
in_srv env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE=nope0 DPDKUDP_REQUIRE=1 \
  python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print("not reached")' \
  >"$LOGDIR/req.out" 2>"$LOGDIR/req.err" || rc=$?
[ $rc -eq 1 ] || fail "DPDKUDP_REQUIRE=1 exit status $rc, want 1"
grep -q "not reached" "$LOGDIR/req.out" && fail "the program went on"
pass "DPDKUDP_REQUIRE=1 exits with status 1: $(tr '\n' ' ' <"$LOGDIR/req.err")"

# 4. DPDKUDP_BACKEND=off: silent at the default level, the kernel serves.
start_server off '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=off DPDKUDP_LOG=quiet python3 "$LOGDIR/server.py"
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 100 >/dev/null || fail "kernel did not serve"
[ ! -s "$LOGDIR/off.err" ] || fail "DPDKUDP_LOG=quiet still printed: $(cat "$LOGDIR/off.err")"
kill_server
pass "DPDKUDP_BACKEND=off with DPDKUDP_LOG=quiet: silent, the kernel served"

# 5. No UDP socket: no engine, no output, byte-identical behaviour.
out=$(in_srv env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE=nope0 sh -c 'echo hello | cat' 2>&1)
[ "$out" = "hello" ] || fail "a program without UDP sockets was disturbed: $out"
pass "a program without UDP sockets runs untouched"

# 6. A backend module that is missing, or from another build: one line
# naming the file and why, then the kernel serves. (DPDKUDP_MODULE_DIR
# set: only that directory is searched.)
if [ -f "$BUILD/preload/libdpdkudp-af_xdp.so" ]; then
  mkdir "$LOGDIR/nomodules"
  start_server nomodule '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_xdp DPDKUDP_MODE=shared DPDKUDP_IFACE="$VETH_SRV" \
    DPDKUDP_MODULE_DIR="$LOGDIR/nomodules" python3 "$LOGDIR/server.py"
  in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 100 >/dev/null || fail "kernel fallback did not serve"
  [ "$(wc -l <"$LOGDIR/nomodule.err")" -eq 1 ] &&
    grep -q "backend af_xdp: module libdpdkudp-af_xdp.so not found (.*nomodules/libdpdkudp-af_xdp.so.*); using the kernel" \
      "$LOGDIR/nomodule.err" || fail "unclear message: $(cat "$LOGDIR/nomodule.err")"
  kill_server
  pass "missing module: '$(cat "$LOGDIR/nomodule.err")', the kernel served"

  # A module that says it is from another version (what a module left
  # over from an older install looks like).
  mkdir "$LOGDIR/oldmodules"
  cat >"$LOGDIR/old.c" <<'C'
struct module { unsigned abi; const char* version; const char* name; void* open; };
static const struct module m = {1, "0.0.0-old", "af_xdp", (void*)1};
const struct module* dpdkudp_backend_module(void) { return &m; }
C
  cc -shared -fPIC -o "$LOGDIR/oldmodules/libdpdkudp-af_xdp.so" "$LOGDIR/old.c" || fail "cannot build the old module"
  start_server oldmodule '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_xdp DPDKUDP_MODE=shared DPDKUDP_IFACE="$VETH_SRV" \
    DPDKUDP_MODULE_DIR="$LOGDIR/oldmodules" python3 "$LOGDIR/server.py"
  in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 100 >/dev/null || fail "kernel fallback did not serve"
  [ "$(wc -l <"$LOGDIR/oldmodule.err")" -eq 1 ] &&
    grep -q "libdpdkudp-af_xdp.so is from dpdkudp 0.0.0-old .*install them together; using the kernel" \
      "$LOGDIR/oldmodule.err" || fail "unclear message: $(cat "$LOGDIR/oldmodule.err")"
  kill_server
  pass "module from another build: '$(cat "$LOGDIR/oldmodule.err")', the kernel served"
fi

# 7. The shim alone pulls in no backend library: DPDK, libbpf and libxdp
# load only with their module.
maps=$(env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE=nope0 cat /proc/self/maps)
if grep -qE 'librte_|libbpf|libxdp' <<<"$maps"; then
  fail "a process under the shim mapped backend libraries: $(grep -oE '[^ /]*(librte_|libbpf|libxdp)[^ ]*' <<<"$maps" | sort -u | tr '\n' ' ')"
fi
pass "the shim maps no DPDK, libbpf or libxdp until a backend module is loaded"

# 8. LD_PRELOAD by a relative path, and a daemon that chdir()s before its
# first socket: the modules are still found beside the library (with no
# LD_LIBRARY_PATH, which meson test sets, to find them by another way).
if [ -f "$BUILD/preload/libdpdkudp-af_xdp.so" ]; then
  cat >"$LOGDIR/chdir_server.py" <<'PY'
import os, socket
os.chdir("/")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7777))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
PY
  # ./libdpdkudp.so from its own directory: after chdir("/") that names
  # nothing.
  rel=./$(basename "$LIB")
  start_server chdir '^ready' env -u LD_LIBRARY_PATH -C "$(dirname "$LIB")" LD_PRELOAD="$rel" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_xdp \
    DPDKUDP_MODE=shared DPDKUDP_IFACE="$VETH_SRV" DPDKUDP_LOG=info DPDKUDP_REQUIRE=1 /usr/bin/python3 "$LOGDIR/chdir_server.py"
  in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 100 >/dev/null || fail "the chdir()ed server did not serve"
  grep -q "started: backend=af_xdp" "$LOGDIR/chdir.err" || fail "no bypass after chdir: $(cat "$LOGDIR/chdir.err")"
  kill_server
  pass "LD_PRELOAD=$rel and chdir(\"/\") before the first socket: af_xdp module found, the bypass served"
fi
