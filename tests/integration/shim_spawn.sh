#!/usr/bin/env bash
# A program under the shim that spawns children while it serves: Python's
# subprocess (vfork + exec, closing every inherited fd with close_range in
# the child, which shares the parent's memory until exec) and os.fork()
# without exec. The parent's offloaded socket must keep working throughout,
# and the children must not disturb it.
#   shim_spawn.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
LIB="$BUILD/preload/libdpdkudp.so"
[ -f "$LIB" ] || fail "$LIB is missing"

netns_pair
LOGDIR=$(mktemp -d)
on_exit "rm -rf $LOGDIR"
cat >"$LOGDIR/server.py" <<'PY'
import os, socket, subprocess, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7777))
print("ready", flush=True)
n = 0
while True:
    d, a = s.recvfrom(2048)
    n += 1
    if n % 50 == 0:
        subprocess.run(["true"], check=True)           # vfork/exec, close_fds
        subprocess.run([sys.executable, "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()"],
                       check=True)                     # exec of a program that itself uses UDP
        pid = os.fork()                                # fork without exec
        if pid == 0:
            s.close()                                  # the child drops its copy
            os._exit(0)
        os.waitpid(pid, 0)
    s.sendto(d, a)
PY
start_server spawn '^ready' env LD_PRELOAD="$LIB" DPDKUDP_CONFIG= DPDKUDP_BACKEND=af_packet DPDKUDP_IFACE="$VETH_SRV" \
  DPDKUDP_IP="$IP_SRV/$PREFIX" DPDKUDP_REQUIRE=1 /usr/bin/python3 "$LOGDIR/server.py"
in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 400 --max-size 512 --timeout 3 ||
  { cat "$LOGDIR/spawn.err" >&2; fail "the server stopped answering around its children"; }
kill -0 "$SERVER_PID" || fail "the server died"
kill_server
pass "offloaded socket kept working across 8 x (vfork+exec, exec of a UDP program, fork without exec)"
