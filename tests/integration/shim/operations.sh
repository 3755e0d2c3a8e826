#!/usr/bin/env bash
# What an operator sets to run a program under the shim and look into it:
#  1. DPDKUDP_CAPTURE: the frames the stack received and sent, in a pcap
#     file that tcpdump reads and tshark dissects; DPDKUDP_CAPTURE_LIMIT
#     bounds it and the frames left out are reported at exit.
#  2. DPDKUDP_OFFLOAD in shared mode: one program, two sockets; the rule
#     keeps one on the kernel (it answers, the stack never sees it) and the
#     other on the bypass; a send by an unbound socket to a remote the rules
#     keep on the kernel goes through the kernel.
#  3. DPDKUDP_PROFILE: the profile's settings in the start-up banner, a key
#     set in the file winning over the profile's.
#  4. DPDKUDP_LOG_TARGET=syslog: the shim's lines reach syslog, not stderr.
#  5. dedicated mode: datagrams for another kernel address of the interface
#     get one warning (DPDK, AF_XDP); 6. a forked child on DPDK, one warning.
#   operations.sh BUILD_DIR shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
[ "$2" = shim ] || { echo "operations.sh: shim mode only (these are the shim's own settings)" >&2; exit 2; }
shim_setup "$1" "$2"
STAT="$BUILD/tools/dpdkudp-stat"

# ---- 1. capture
CAP="$LOGDIR/capture.pcap"
start_under cap '^ready' env DPDKUDP_CAPTURE="$CAP" DPDKUDP_LOG=info "$PYTHON" "$HERE/py_echo_server.py" 7700
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7700 --count 200 --max-size 600 || fail "echo with capture on"
stop_bg cap
grep -q "DPDKUDP_CAPTURE: $CAP: [0-9]* frames written" "$LOGDIR/cap.log" ||
  { cat "$LOGDIR/cap.log" >&2; fail "no capture summary at exit"; }
# tcpdump reads the file: 200 datagrams each way, and the ARP exchange.
tcpdump -nr "$CAP" 2>/dev/null >"$LOGDIR/cap.txt" || fail "tcpdump -r $CAP"
to_srv=$(grep -c "IP $IP_CLI\.[0-9]* > $IP_SRV\.7700: UDP" "$LOGDIR/cap.txt" || true)
from_srv=$(grep -c "IP $IP_SRV\.7700 > $IP_CLI\.[0-9]*: UDP" "$LOGDIR/cap.txt" || true)
[ "$to_srv" -eq 200 ] && [ "$from_srv" -eq 200 ] ||
  { head -20 "$LOGDIR/cap.txt" >&2; fail "capture has $to_srv datagrams in and $from_srv out, want 200 each"; }
grep -qE "ARP, (Request|Reply)" "$LOGDIR/cap.txt" || fail "capture has no ARP"
# tshark dissects every UDP frame without a malformed one (the stack's
# checksums are computed before the hand-over on this backend).
n=$(tshark -r "$CAP" -Y "udp.port == 7700 && !_ws.malformed && !_ws.expert.severity >= error" 2>/dev/null | wc -l)
[ "$n" -eq 400 ] || fail "tshark: $n well-formed UDP frames on port 7700, want 400"
pass "DPDKUDP_CAPTURE: 200 datagrams each way and the ARP in a pcap file tcpdump and tshark read"

# The bound: a 4 KiB file stops growing, the rest is reported.
CAP2="$LOGDIR/small.pcap"
start_under capsmall '^ready' env DPDKUDP_CAPTURE="$CAP2" DPDKUDP_CAPTURE_LIMIT=4096 \
  "$PYTHON" "$HERE/py_echo_server.py" 7701
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7701 --count 100 --max-size 200 || fail "echo with a capture limit"
stop_bg capsmall
size=$(stat -c %s "$CAP2")
[ "$size" -le 4096 ] && [ "$size" -gt 1024 ] || fail "capture limit 4096: the file has $size bytes"
grep -qE "DPDKUDP_CAPTURE: .*: [0-9]+ frames written, [0-9]+ left out \(DPDKUDP_CAPTURE_LIMIT=4096 reached\)" \
  "$LOGDIR/capsmall.log" || { cat "$LOGDIR/capsmall.log" >&2; fail "no warning about the frames left out"; }
tcpdump -nr "$CAP2" >/dev/null 2>&1 || fail "the bounded capture is not a readable pcap file"
pass "DPDKUDP_CAPTURE_LIMIT=4096: the file stops at $size bytes, the frames left out are reported"

# A capture file that cannot be written: one line, the kernel (or exit with
# DPDKUDP_REQUIRE=1, as here).
rc=0
run_under env DPDKUDP_CAPTURE=/nonexistent-dir/x.pcap "$PYTHON" -c \
  'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("0.0.0.0", 7702))' \
  >"$LOGDIR/badcap.log" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "DPDKUDP_CAPTURE=/nonexistent-dir/x.pcap: .*nonexistent-dir" "$LOGDIR/badcap.log" ||
  { cat "$LOGDIR/badcap.log" >&2; fail "an unwritable capture file: status $rc"; }
pass "DPDKUDP_CAPTURE to an unwritable file: one line naming it, exit status 1 with DPDKUDP_REQUIRE=1"

# ---- 2. selective offload, shared mode: the kernel keeps its address.
ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
SHARED_CONF="$LOGDIR/shared.env"
sed -e 's/^DPDKUDP_MODE=.*/DPDKUDP_MODE=shared/' -e '/^DPDKUDP_IP=/d' "$SHIM_CONF" >"$SHARED_CONF"
echo "DPDKUDP_OFFLOAD=kernel port=7711; kernel remote=$IP_CLI remote_port=7790" >>"$SHARED_CONF"
cat >"$LOGDIR/two.py" <<'PY'
import select, signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("0.0.0.0", 7710))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("0.0.0.0", 7711))
print("ready", flush=True)
end = time.monotonic() + 60
counts = {7710: 0, 7711: 0}
while time.monotonic() < end:
    for s in select.select([a, b], [], [], 0.2)[0]:
        data, peer = s.recvfrom(2048)
        if data == b"report":
            # An unbound socket's send to a remote the rules keep on the kernel.
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.sendto(b"from-unbound", (peer[0], 7790))
            print("counts", counts[7710], counts[7711], flush=True)
            continue
        counts[s.getsockname()[1]] += 1
        s.sendto(data, peer)
PY
start_under two '^ready' env DPDKUDP_CONFIG="$SHARED_CONF" "$PYTHON" "$LOGDIR/two.py"
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7710 --count 100 --max-size 500 || fail "offloaded socket :7710"
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7711 --count 100 --max-size 500 ||
  { cat "$LOGDIR/two.log" >&2; in_srv ss -uanp >&2; fail "kernel socket :7711"; }
pid=${BG_PID[two]}
# The region is refreshed a few times a second: wait (bounded) for the count.
for _ in $(seq 30); do
  stat=$("$STAT" "$pid" 2>&1) || { echo "$stat" >&2; fail "dpdkudp-stat"; }
  echo "$stat" | grep -q "udp delivered 100$" && break
  sleep 0.1
done
echo "$stat" | grep -q ":7710" || { echo "$stat" >&2; fail "the offloaded socket :7710 is not the stack's"; }
! echo "$stat" | grep -q ":7711" || { echo "$stat" >&2; fail "the socket :7711 the rule keeps on the kernel is in the stack"; }
delivered=$(echo "$stat" | grep -oE "udp delivered [0-9]+" | grep -oE "[0-9]+" | head -1)
[ "${delivered:-0}" -eq 100 ] || { echo "$stat" >&2; fail "the stack delivered ${delivered:-?} datagrams, want the 100 of :7710"; }
# The kernel sender's datagram from the unbound socket (rule: remote port 7790).
start_cli sink '^ready' "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7790)); s.settimeout(10)
print("ready", flush=True)
print(s.recvfrom(100)[0].decode(), flush=True)'
sent_before=$(echo "$stat" | grep -oE "udp sent [0-9]+" | grep -oE "[0-9]+" | head -1)
in_cli "$PYTHON" -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'report', ('$IP_SRV', 7710))"
wait_bg sink 10 || fail "the unbound socket's datagram to :7790 did not arrive"
grep -q "^from-unbound$" "$LOGDIR/sink.log" || fail "sink got: $(cat "$LOGDIR/sink.log")"
sleep 0.5  # a refresh of the region
stat=$("$STAT" "$pid" 2>&1)
sent_after=$(echo "$stat" | grep -oE "udp sent [0-9]+" | grep -oE "[0-9]+" | head -1)
[ "$sent_after" = "$sent_before" ] || fail "the stack sent $((sent_after - sent_before)) datagrams, the rule keeps :7790 on the kernel"
stop_bg two
grep -q "^counts 100 100$" "$LOGDIR/two.log" || fail "per-socket counts: $(grep counts "$LOGDIR/two.log")"
pass "DPDKUDP_OFFLOAD, shared mode: :7710 on the bypass (100 delivered by the stack), :7711 and a send to :7790 on the kernel"

# A bad rule: one line naming the key and the entry.
rc=0
run_under env DPDKUDP_OFFLOAD="offload port=53; kernel prot=7" "$PYTHON" -c \
  'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)' >"$LOGDIR/badrule.log" 2>&1 || rc=$?
grep -q 'DPDKUDP_OFFLOAD=.*entry 2 "kernel prot=7": unknown condition "prot"' "$LOGDIR/badrule.log" ||
  { cat "$LOGDIR/badrule.log" >&2; fail "a bad DPDKUDP_OFFLOAD entry is not named (status $rc)"; }
pass "a bad DPDKUDP_OFFLOAD entry: one line naming the entry and the condition"

# ---- 3. profiles: the banner (DPDKUDP_LOG=info) says what is in force.
ip -n "$NS_SRV" addr del "$IP_SRV/$PREFIX" dev "$VETH_SRV"
run_under env DPDKUDP_PROFILE=throughput DPDKUDP_TX_RING=1024 DPDKUDP_LOG=info "$PYTHON" -c \
  'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("0.0.0.0", 7720))' >"$LOGDIR/prof.log" 2>&1 ||
  { cat "$LOGDIR/prof.log" >&2; fail "a program under DPDKUDP_PROFILE=throughput"; }
for want in "rx_ring=4096" "tx_ring=1024" "rcvbuf_default=4194304" "busy_poll_us=200" "profile=throughput"; do
  grep -q "$want" "$LOGDIR/prof.log" || { cat "$LOGDIR/prof.log" >&2; fail "the banner does not say $want"; }
done
pass "DPDKUDP_PROFILE=throughput: its rings, buffers and spin in force, DPDKUDP_TX_RING=1024 over the profile's"

# ---- 4. syslog: a stand-in daemon at /dev/log (bind-mounted over a real
# one in a private mount namespace, so the host's logging is untouched).
SINK_DIR="$LOGDIR/syslog"
mkdir "$SINK_DIR"
if [ -e /dev/log ]; then
  start_cli syslog '^ready' "$PYTHON" "$HERE/syslog_sink.py" "$SINK_DIR/log"
  wrap=(unshare -m sh -c "mount --bind '$SINK_DIR/log' /dev/log && exec \"\$@\"" sh)
else
  start_cli syslog '^ready' "$PYTHON" "$HERE/syslog_sink.py" /dev/log
  wrap=()
fi
rc=0
in_srv "${wrap[@]}" "${UNDER[@]}" env DPDKUDP_LOG_TARGET=syslog DPDKUDP_LOG=info "$PYTHON" -c \
  'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("0.0.0.0", 7730))' \
  >"$LOGDIR/sys_stderr.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || { cat "$LOGDIR/sys_stderr.log" >&2; fail "a program with DPDKUDP_LOG_TARGET=syslog: status $rc"; }
for _ in $(seq 50); do grep -q "dpdkudp: " "$LOGDIR/syslog.log" && break; sleep 0.1; done
stop_bg syslog
grep -qE "^<[0-9]+>.*dpdkudp: .*backend=" "$LOGDIR/syslog.log" ||
  { cat "$LOGDIR/syslog.log" "$LOGDIR/sys_stderr.log" >&2; fail "the banner did not reach syslog"; }
! grep -q "dpdkudp: " "$LOGDIR/sys_stderr.log" || { cat "$LOGDIR/sys_stderr.log" >&2; fail "shim lines still on stderr"; }
pass "DPDKUDP_LOG_TARGET=syslog: the shim's lines in syslog, none on stderr"

# ---- 5. dedicated mode, a client of another (kernel) address on the same
# interface: the program cannot answer it; one warning says why, once. The
# stack must see such frames: DPDK's (here over net_af_packet, which takes
# every frame) and AF_XDP's (its program steers a wildcard-bound port
# whatever the address) do; AF_PACKET's filter keeps them from it.
KERNEL_IP="198.18.$SUBNET.3"
ip -n "$NS_SRV" addr add "$KERNEL_IP/$PREFIX" dev "$VETH_SRV"
deaf_check() {  # backend env...
  local backend=$1 port=$2
  shift 2
  start_under "deaf_$backend" '^ready' env DPDKUDP_BACKEND="$backend" "$@" "$PYTHON" "$HERE/py_echo_server.py" "$port"
  in_cli "$PYTHON" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(5): s.sendto(b'x', ('$KERNEL_IP', $port))"
  local log="$LOGDIR/deaf_$backend.log"
  for _ in $(seq 30); do grep -q "the kernel's address" "$log" && break; sleep 0.1; done
  stop_bg "deaf_$backend"
  [ "$(grep -c "datagrams for $KERNEL_IP, the kernel's address on $VETH_SRV, reach the bypass" "$log")" -eq 1 ] ||
    { cat "$log" >&2; fail "$backend: no (or more than one) warning for datagrams to the kernel's address $KERNEL_IP"; }
  pass "dedicated mode, $backend: datagrams for the kernel's $KERNEL_IP on the interface get one warning"
}
ran=0
if [ -f "$BUILD/preload/libdpdkudp-dpdk.so" ]; then
  deaf_check dpdk 7740 DPDKUDP_EAL_ARGS="--no-pci --vdev=net_af_packet0,iface=$VETH_SRV"
  ran=1
fi
if [ -f "$BUILD/preload/libdpdkudp-af_xdp.so" ]; then
  deaf_check af_xdp 7741
  ran=1
fi
[ $ran -eq 1 ] || echo "operations.sh: neither DPDK nor AF_XDP is built: section 5 not run" >&2

# ---- 6. a forked child on DPDK (one EAL per process image): its inherited
# sockets go through the kernel, and one warning says so, however many
# datagrams it sends.
if [ -f "$BUILD/preload/libdpdkudp-dpdk.so" ]; then
  cat >"$LOGDIR/forker.py" <<PY
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7750))
s.sendto(b"parent", ("$IP_CLI", 7751))
pid = os.fork()
if pid == 0:
    for _ in range(3):
        s.sendto(b"child", ("$IP_CLI", 7751))
    os._exit(0)
os.waitpid(pid, 0)
print("done", flush=True)
PY
  rc=0
  run_under env DPDKUDP_BACKEND=dpdk DPDKUDP_EAL_ARGS="--no-pci --vdev=net_af_packet0,iface=$VETH_SRV" \
    "$PYTHON" "$LOGDIR/forker.py" >"$LOGDIR/forker.log" 2>&1 || rc=$?
  [ $rc -eq 0 ] && grep -q "^done$" "$LOGDIR/forker.log" || { cat "$LOGDIR/forker.log" >&2; fail "the forking program: status $rc"; }
  [ "$(grep -c "forked child [0-9]*: its inherited sockets use the kernel path (a dpdk engine cannot be shared" \
    "$LOGDIR/forker.log")" -eq 1 ] || { cat "$LOGDIR/forker.log" >&2; fail "no (or more than one) warning for the forked child"; }
  pass "dpdk: a forked child sending on an inherited socket gets one warning that it runs on the kernel path"
fi
