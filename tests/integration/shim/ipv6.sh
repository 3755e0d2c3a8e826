#!/usr/bin/env bash
# IPv6 and dual stack with real, unmodified programs. In shim mode the
# server veth has IPv6 disabled in the kernel (no address, no NDP), so
# every answer proves the userspace stack: ping -6 answered, the kernel
# client's neighbour entry learned from the stack's advertisement, a Python
# dual-stack server (one AF_INET6 socket, IPV6_V6ONLY off) answering an
# IPv6 and an IPv4 client, AF_INET6's POSIX semantics (udp_posix6_test, the
# same binary on the kernel and under the shim), Node.js's udp6 echo (both
# families), and
# dnsmasq (its [::] socket is IPV6_V6ONLY, its 0.0.0.0 one separate)
# queried by dig over IPv6 and IPv4.
#   ipv6.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

IP6_SRV="2001:2:0:$SUBNET::2"
IP6_CLI="2001:2:0:$SUBNET::1"
in_cli ip -6 addr add "$IP6_CLI/64" dev "$VETH_CLI" nodad
if [ "$MODE" = kernel ]; then
  in_srv ip -6 addr add "$IP6_SRV/64" dev "$VETH_SRV" nodad
else
  in_srv sysctl -qw "net.ipv6.conf.$VETH_SRV.disable_ipv6=1"
  echo "DPDKUDP_IP6=$IP6_SRV/64" >>"$SHIM_CONF"
fi
echo "ipv6: srv=$IP6_SRV cli=$IP6_CLI"

# 1. A dual-stack Python server: both families on one socket.
PORT=7600
start_under dual '^ready' "$PYTHON" "$HERE/py_dual_server.py" $PORT --lifetime 120
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP6_SRV" $PORT --count 3000 --max-size 1452 ||
  fail "echo over IPv6 through the dual-stack server"
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" $PORT --count 3000 --max-size 1472 ||
  fail "echo over IPv4 through the dual-stack server"

# 2. ping -6, and the kernel's neighbour entry for the server, while the
# shim process is up (it is the only thing that can answer).
in_cli ping -6 -c 3 -i 0.2 -W 2 "$IP6_SRV" >"$LOGDIR/ping.log" 2>&1 || { cat "$LOGDIR/ping.log" >&2; fail "ping -6 $IP6_SRV"; }
grep -q " 0% packet loss" "$LOGDIR/ping.log" || { cat "$LOGDIR/ping.log" >&2; fail "ping -6 lost replies"; }
neigh=$(in_cli ip -6 neigh show "$IP6_SRV" dev "$VETH_CLI")
echo "$neigh" | grep -qi "lladdr $MAC_SRV" || fail "the client's neighbour entry for $IP6_SRV is '$neigh', want lladdr $MAC_SRV"
if [ "$MODE" = shim ]; then
  # dpdkudp-stat shows the stack's IPv6 address, its NDP and the [::] socket.
  stat=$("$BUILD/tools/dpdkudp-stat" "${BG_PID[dual]}" 2>&1) || { echo "$stat" >&2; fail "dpdkudp-stat"; }
  echo "$stat" | grep -q "ip6 .*$IP6_SRV/64" || { echo "$stat" >&2; fail "dpdkudp-stat does not show $IP6_SRV/64"; }
  echo "$stat" | grep -qE "ndp +[1-9][0-9]* received" || { echo "$stat" >&2; fail "dpdkudp-stat shows no NDP"; }
  echo "$stat" | grep -qF "[*]:$PORT" || { echo "$stat" >&2; fail "dpdkudp-stat does not show the socket [*]:$PORT"; }
fi
stop_bg dual
grep -q "^echoed6 3000$" "$LOGDIR/dual.log" || fail "dual-stack server IPv6 count: $(cat "$LOGDIR/dual.log")"
grep -q "^echoed4 3000$" "$LOGDIR/dual.log" || fail "dual-stack server IPv4 count: $(cat "$LOGDIR/dual.log")"
pass "python3 dual-stack server: 3000 IPv6 and 3000 IPv4 datagrams on one AF_INET6 socket; ping -6 and NDP answered, $MODE mode"

# 3. AF_INET6's POSIX semantics (udp_posix6_test) against a kernel
# dual-stack echo peer.
TEST6_BIN="$BUILD/tests/integration/shim/udp_posix6_test"
[ -x "$TEST6_BIN" ] || fail "$TEST6_BIN is not built"
start_cli peer6 '^ready' "$PYTHON" "$HERE/py_dual_server.py" 7630 --lifetime 120
rc=0
run_under env PEER6_IP="$IP6_CLI" PEER_IP="$IP_CLI" PEER_PORT=7630 LOCAL6_IP="$IP6_SRV" LOCAL_IP="$IP_SRV" \
  "$TEST6_BIN" --gtest_color=no ${GTEST_FILTER:+--gtest_filter=$GTEST_FILTER} || rc=$?
stop_bg peer6
[ $rc -eq 0 ] || fail "udp_posix6_test failed in $MODE mode (status $rc)"
pass "AF_INET6 POSIX semantics, $MODE mode"

# 4. Node.js udp6 (libuv): an IPv6 and an IPv4 client against one server.
# IPv6 datagrams up to 1452 bytes: the most a 1500-byte link carries
# unfragmented (the stack does not reassemble, as for IPv4).
NODE=$(command -v node || true)
[ -n "$NODE" ] || fail "node is missing: run scripts/bootstrap (package nodejs)"
start_under node6 '^ready' env UDP_TYPE=udp6 "$NODE" "$HERE/node_dgram_echo.js" server 7610
in_cli env UDP_TYPE=udp6 "$NODE" "$HERE/node_dgram_echo.js" client "$IP6_SRV" 7610 1000 1452 || fail "node udp6 client over IPv6"
in_cli "$NODE" "$HERE/node_dgram_echo.js" client "$IP_SRV" 7610 1000 || fail "node udp4 client against the udp6 server"
stop_bg node6
grep -q "^echoed 2000$" "$LOGDIR/node6.log" || fail "node udp6 server count: $(cat "$LOGDIR/node6.log")"
pass "node.js udp6 echo: 1000 IPv6 and 1000 IPv4 datagrams, $MODE mode"

# 5. dnsmasq on [::] and 0.0.0.0, dig over both families.
DNS_PORT=5353
NAME=test.dpdkudp
ANSWER=198.18.0.77
start_under dnsmasq 'started, version' dnsmasq --no-daemon --conf-file=/dev/null --port=$DNS_PORT --no-resolv \
  --no-hosts --user=root --pid-file= --log-facility=- --log-queries --address=/$NAME/$ANSWER
for i in $(seq 50); do
  got=$(in_cli dig @"$IP6_SRV" -p $DNS_PORT $NAME A +short +tries=1 +time=2) || true
  [ "$got" = "$ANSWER" ] || { cat "$LOGDIR/dnsmasq.log" >&2; fail "IPv6 query $i: dig answered '$got', want $ANSWER"; }
  got=$(in_cli dig @"$IP_SRV" -p $DNS_PORT $NAME A +short +tries=1 +time=2) || true
  [ "$got" = "$ANSWER" ] || { cat "$LOGDIR/dnsmasq.log" >&2; fail "IPv4 query $i: dig answered '$got', want $ANSWER"; }
done
stop_bg dnsmasq
q6=$(grep -c "query\[A\] $NAME from $IP6_CLI" "$LOGDIR/dnsmasq.log" || true)
q4=$(grep -c "query\[A\] $NAME from $IP_CLI" "$LOGDIR/dnsmasq.log" || true)
[ "$q6" -eq 50 ] && [ "$q4" -eq 50 ] || fail "dnsmasq logged $q6 IPv6 and $q4 IPv4 queries, want 50 each"
pass "dnsmasq on [::] and 0.0.0.0: 50 IPv6 and 50 IPv4 dig queries, $MODE mode"

# 6. Shared mode (shim; AF_PACKET or AF_XDP): the kernel keeps its IPv4 and
# IPv6 addresses (and, with AF_XDP, ARP and NDP) and the stack takes the
# same addresses (DPDKUDP_IP6 unset: read from /proc/net/if_inet6) for its
# sockets' ports; the dual-stack server's datagrams of both families must be
# delivered by the stack. With AF_XDP the stack learns its neighbours from
# the kernel's tables (/proc/net/arp, rtnetlink for IPv6), which learn the
# client from its own resolution of the server.
case "$MODE/${SHIM_BACKEND:-af_packet}" in
  shim/af_packet | shim/af_packet_mmap | shim/af_xdp)
    in_srv sysctl -qw "net.ipv6.conf.$VETH_SRV.disable_ipv6=0"
    in_srv ip -6 addr add "$IP6_SRV/64" dev "$VETH_SRV" nodad
    in_srv ip addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
    # The client resolves the server afresh (the kernel learns the client
    # from that, and the stack from the kernel).
    in_cli ip -6 neigh flush dev "$VETH_CLI"
    in_cli ip neigh flush dev "$VETH_CLI"
    SHARED_CONF="$LOGDIR/shared.env"
    printf 'DPDKUDP_BACKEND=%s\nDPDKUDP_IFACE=%s\nDPDKUDP_MODE=shared\nDPDKUDP_REQUIRE=1\nDPDKUDP_LOG=warn\n' \
      "${SHIM_BACKEND:-af_packet}" "$VETH_SRV" >"$SHARED_CONF"
    SHARED_UNDER=("${UNDER[@]}")
    for i in "${!SHARED_UNDER[@]}"; do
      case "${SHARED_UNDER[$i]}" in DPDKUDP_CONFIG=*) SHARED_UNDER[$i]="DPDKUDP_CONFIG=$SHARED_CONF" ;; esac
    done
    _start_bg "$NS_SRV" shared '^ready' "${SHARED_UNDER[@]}" "$PYTHON" "$HERE/py_dual_server.py" 7640 --lifetime 60
    in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP6_SRV" 7640 --count 500 --max-size 1452 ||
      fail "shared mode: echo over IPv6"
    in_cli ping -c 1 -W 2 "$IP_SRV" >/dev/null 2>&1 || true  # the kernel meets the client (ARP)
    in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$IP_SRV" 7640 --count 500 --max-size 1472 ||
      fail "shared mode: echo over IPv4"
    sleep 0.5  # the stats region is republished every engine tick
    stat=$("$BUILD/tools/dpdkudp-stat" "${BG_PID[shared]}" 2>&1) || { echo "$stat" >&2; fail "dpdkudp-stat (shared)"; }
    echo "$stat" | grep -q "ip6 .*$IP6_SRV/64" || { echo "$stat" >&2; fail "shared mode: the stack did not take $IP6_SRV"; }
    delivered=$(echo "$stat" | sed -n 's/.*udp delivered \([0-9]*\).*/\1/p' | head -1)
    [ "${delivered:-0}" -eq 1000 ] || { echo "$stat" >&2; fail "shared mode: the stack delivered ${delivered:-0} of 1000"; }
    stop_bg shared
    grep -q "^echoed6 500$" "$LOGDIR/shared.log" && grep -q "^echoed4 500$" "$LOGDIR/shared.log" ||
      fail "shared mode counts: $(cat "$LOGDIR/shared.log")"
    pass "shared mode (${SHIM_BACKEND:-af_packet}): the stack took the kernel's addresses' datagrams, 500 IPv6 + 500 IPv4"
    ;;
esac
