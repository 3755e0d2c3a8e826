#!/usr/bin/env bash
# Overlay endpoints against peers nothing of ours wrote. The client
# namespace is the far end of four tunnels to one unmodified echo server:
#   VXLAN, IPv4 outer (VNI 100) and IPv6 outer (VNI 101): Linux's own vxlan
#     devices; a kernel client echoes 2000 datagrams through each and pings;
#   GENEVE (VNI 102, 103) and GUE, IPv4 and IPv6 outer: python3-scapy builds the encapsulated frames,
#     answers the ARP that comes inside and checks every answer field by field;
#     where the kernel has the geneve and fou modules (detected; this
#     machine's has neither), Linux's geneve and ipip-over-GUE devices are
#     peers too;
#   wrong VNI, truncated headers and a critical GENEVE option: dropped,
#     nothing answered, counted per tunnel (dpdkudp-stat --json);
#   Wireshark's dissectors (tshark) decode the captured VXLAN and GENEVE
#     traffic with no warning.
# kernel mode: the server side is Linux's vxlan devices (the VXLAN part
# only: it validates the test against Linux itself).
#   tunnels.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"

IP6_SRV="2001:2:0:$SUBNET::2"
IP6_CLI="2001:2:0:$SUBNET::1"
INNER="198.19.$SUBNET"
# IPv6 inside the two VXLAN tunnels (2001:2:0:1xxx:: and 2xxx::, apart from
# the interface's 2001:2:0:$SUBNET::).
INNER6_4="2001:2:0:$((1000 + SUBNET))::"
INNER6_6="2001:2:0:$((2000 + SUBNET))::"
in_cli ip -6 addr add "$IP6_CLI/64" dev "$VETH_CLI" nodad
if [ "$MODE" = kernel ]; then
  in_srv ip -6 addr add "$IP6_SRV/64" dev "$VETH_SRV" nodad
else
  in_srv sysctl -qw "net.ipv6.conf.$VETH_SRV.disable_ipv6=1"
  cat >>"$SHIM_CONF" <<CONF
DPDKUDP_IP6=$IP6_SRV/64
DPDKUDP_TUNNEL=vxlan vni=100 remote=$IP_CLI inner=$INNER.2/27 inner6=${INNER6_4}2/64; vxlan vni=101 remote=$IP6_CLI inner=$INNER.34/27 inner6=${INNER6_6}2/64; geneve vni=102 remote=$IP_CLI inner=$INNER.66/27; geneve vni=103 remote=$IP6_CLI inner=$INNER.98/27; gue remote=$IP_CLI inner=$INNER.130/27; gue remote=$IP6_CLI inner=$INNER.162/27
CONF
fi

# Linux's VXLAN devices: the far end in the client namespace (and, in
# kernel mode, the server's end too).
vxlan_dev() {  # ns name vni remote local dev inner inner6
  ip netns exec "$1" ip link add "$2" type vxlan id "$3" remote "$4" local "$5" dstport 4789 dev "$6"
  ip netns exec "$1" ip addr add "$7" dev "$2"
  ip netns exec "$1" ip -6 addr add "$8" dev "$2" nodad
  ip netns exec "$1" ip link set "$2" up
}
vxlan_dev "$NS_CLI" vx4 100 "$IP_SRV" "$IP_CLI" "$VETH_CLI" "$INNER.1/27" "${INNER6_4}1/64"
vxlan_dev "$NS_CLI" vx6 101 "$IP6_SRV" "$IP6_CLI" "$VETH_CLI" "$INNER.33/27" "${INNER6_6}1/64"
if [ "$MODE" = kernel ]; then
  vxlan_dev "$NS_SRV" vx4 100 "$IP_CLI" "$IP_SRV" "$VETH_SRV" "$INNER.2/27" "${INNER6_4}2/64"
  vxlan_dev "$NS_SRV" vx6 101 "$IP6_CLI" "$IP6_SRV" "$VETH_SRV" "$INNER.34/27" "${INNER6_6}2/64"
fi

# Everything the tunnels carry, for Wireshark's dissectors afterwards.
CAP="$LOGDIR/tunnels.pcap"
ip netns exec "$NS_CLI" tcpdump -i "$VETH_CLI" -U -w "$CAP" 'udp port 4789 or udp port 6081 or udp port 6080' >"$LOGDIR/tcpdump.log" 2>&1 &
TCPDUMP=$!
on_exit "kill -9 $TCPDUMP"
for _ in $(seq 50); do grep -q "listening on" "$LOGDIR/tcpdump.log" && break; sleep 0.1; done

PORT=7
# One dual-stack socket serves the IPv4 and the IPv6 inner addresses.
start_under echo '^ready' "$PYTHON" "$HERE/py_dual_server.py" $PORT --lifetime 120

# 1. VXLAN with Linux at the far end: IPv4 and IPv6 outer, the inner MTU
# (1450 and 1430: the largest datagrams 1422 and 1402 bytes) and ping.
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$INNER.2" $PORT --count 2000 --max-size 1422 ||
  fail "echo through VXLAN (IPv4 outer)"
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$INNER.34" $PORT --count 2000 --max-size 1402 ||
  fail "echo through VXLAN (IPv6 outer)"
for dst in "$INNER.2" "$INNER.34"; do
  in_cli ping -c 3 -i 0.2 -W 2 "$dst" >"$LOGDIR/ping.log" 2>&1 || { cat "$LOGDIR/ping.log" >&2; fail "ping $dst through VXLAN"; }
  grep -q " 0% packet loss" "$LOGDIR/ping.log" || { cat "$LOGDIR/ping.log" >&2; fail "ping $dst lost replies"; }
done
# The kernel learned the server's inner MAC from the ARP answered inside.
neigh=$(in_cli ip neigh show "$INNER.2" dev vx4)
echo "$neigh" | grep -qi "lladdr" || fail "no neighbour entry for $INNER.2 on vx4: '$neigh'"
pass "VXLAN, Linux at the far end: 2000 + 2000 datagrams echoed (IPv4 and IPv6 outer), ping answered, $MODE mode"

# 1a. IPv6 inside both VXLAN tunnels: NDP inside the overlay, the inner MTU
# (1450 and 1430: the largest datagrams 1402 and 1382 bytes), ping.
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "${INNER6_4}2" $PORT --count 1000 --max-size 1402 ||
  fail "echo over IPv6 inside VXLAN (IPv4 outer)"
in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "${INNER6_6}2" $PORT --count 1000 --max-size 1382 ||
  fail "echo over IPv6 inside VXLAN (IPv6 outer)"
for dst in "${INNER6_4}2" "${INNER6_6}2"; do
  in_cli ping -6 -c 3 -i 0.2 -W 2 "$dst" >"$LOGDIR/ping.log" 2>&1 || { cat "$LOGDIR/ping.log" >&2; fail "ping $dst through VXLAN"; }
done
neigh=$(in_cli ip -6 neigh show "${INNER6_4}2" dev vx4)
grep -qi "lladdr" <<<"$neigh" || fail "no NDP entry for ${INNER6_4}2 on vx4: '$neigh'"
pass "IPv6 inside VXLAN, Linux at the far end: 1000 + 1000 datagrams echoed, ping answered, the server found by NDP inside, $MODE mode"

# 1b. GENEVE and GUE with Linux at the far end, where the kernel has the
# geneve and fou modules (detected: this machine's kernel has neither, and
# scapy below is the peer either way).
kernel_peer() {  # what dst max_size
  in_cli "$PYTHON" "$HERE/../udp_echo_client.py" "$2" $PORT --count 500 --max-size "$3" || fail "echo through $1"
  in_cli ping -c 3 -i 0.2 -W 2 "$2" >"$LOGDIR/ping.log" 2>&1 || { cat "$LOGDIR/ping.log" >&2; fail "ping through $1"; }
  pass "$1 with Linux at the far end: 500 datagrams echoed, ping answered"
}
if [ "$MODE" = shim ]; then
  if ip -n "$NS_CLI" link add gnv4 type geneve id 102 remote "$IP_SRV" dstport 6081 2>/dev/null; then
    ip -n "$NS_CLI" addr add "$INNER.65/27" dev gnv4
    ip -n "$NS_CLI" link set gnv4 up
    ip -n "$NS_CLI" link add gnv6 type geneve id 103 remote "$IP6_SRV" dstport 6081
    ip -n "$NS_CLI" addr add "$INNER.97/27" dev gnv6
    ip -n "$NS_CLI" link set gnv6 up
    kernel_peer "GENEVE (IPv4 outer)" "$INNER.66" 1422
    kernel_peer "GENEVE (IPv6 outer)" "$INNER.98" 1402
    ip -n "$NS_CLI" link del gnv4
    ip -n "$NS_CLI" link del gnv6
  else
    echo "note: this kernel has no geneve devices; scapy is the GENEVE peer"
  fi
  if ip netns exec "$NS_CLI" ip fou add port 6080 gue 2>/dev/null; then
    ip -n "$NS_CLI" link add gue4 type ipip remote "$IP_SRV" local "$IP_CLI" encap gue encap-sport auto \
      encap-dport 6080
    ip -n "$NS_CLI" addr add "$INNER.129/27" dev gue4
    ip -n "$NS_CLI" link set gue4 up
    kernel_peer "GUE (IPv4 outer, Linux's fou)" "$INNER.130" 1440
    ip -n "$NS_CLI" link del gue4
    ip netns exec "$NS_CLI" ip fou del port 6080
  else
    echo "note: this kernel has no fou (GUE) module; scapy is the GUE peer"
  fi
fi

if [ "$MODE" = shim ]; then
  # 2. GENEVE and GUE, IPv4 and IPv6 outer, with scapy at the far end
  # (the bad frames over IPv4).
  for t in geneve4 geneve6 gue4 gue6; do
    case $t in
      geneve4) kind=geneve net=64 vni=(--vni 102) ;;
      geneve6) kind=geneve net=96 vni=(--vni 103) ;;
      gue4) kind=gue net=128 vni=() ;;
      gue6) kind=gue net=160 vni=() ;;
    esac
    case $t in
      *4) local_ip=$IP_CLI remote_ip=$IP_SRV ;;
      *6) local_ip=$IP6_CLI remote_ip=$IP6_SRV ;;
    esac
    peer=(in_cli "$PYTHON" "$HERE/tunnel_peer.py")
    args=(--iface "$VETH_CLI" --kind $kind --local "$local_ip" --remote "$remote_ip" --mac "$MAC_SRV"
      --inner-local "$INNER.$((net + 1))" --inner-remote "$INNER.$((net + 2))" "${vni[@]}")
    out=$("${peer[@]}" echo "${args[@]}" --count 40 --ping 3 2>&1) || { echo "$out" >&2; fail "$t through scapy"; }
    echo "$out"
    if [ "${t: -1}" = 4 ]; then
      out=$("${peer[@]}" bad "${args[@]}" 2>&1) || { echo "$out" >&2; fail "$t: bad frames"; }
      echo "$out"
    fi
  done
  # A wrong VNI and a truncated header on the VXLAN port too.
  out=$(in_cli "$PYTHON" "$HERE/tunnel_peer.py" bad --iface "$VETH_CLI" --kind vxlan --local "$IP_CLI" \
    --remote "$IP_SRV" --mac "$MAC_SRV" --inner-local "$INNER.1" --inner-remote "$INNER.2" --vni 100 2>&1) ||
    { echo "$out" >&2; fail "vxlan: bad frames"; }
  echo "$out"

  # 3. Counted per tunnel, each drop under its reason.
  stat=$("$BUILD/tools/dpdkudp-stat" --json "${BG_PID[echo]}" 2>&1) || { echo "$stat" >&2; fail "dpdkudp-stat --json"; }
  echo "$stat" | "$PYTHON" -c '
import json, sys
d = json.loads(sys.stdin.read())
d = d[0] if isinstance(d, list) else d
def need(cond, what):
    if not cond:
        print("FAIL:", what, json.dumps(d["tunnels"], indent=1)); sys.exit(1)
need(len(d["tunnels"]) == 6, "six tunnels")
v4, v6, g, g6, u, u6 = d["tunnels"]
need(v4["rx_frames"] >= 2003 and v4["tx_frames"] >= 2003, "vxlan 100 in/out")
need(v6["rx_frames"] >= 2003 and v6["tx_frames"] >= 2003, "vxlan 101 in/out")
for x in (g, g6, u, u6):
    need(x["rx_frames"] >= 43 and x["tx_frames"] >= 43, x["tunnel"] + " in/out")
# vxlan port: one wrong VNI and one truncated; geneve: wrong VNI, truncated,
# critical option; gue: truncated.
need(v4["drops"]["no_match"] == 1 and v4["drops"]["malformed"] == 1, "vxlan drops")
need(g["drops"]["no_match"] == 1 and g["drops"]["malformed"] == 1 and g["drops"]["unsupported"] == 1, "geneve drops")
need(u["drops"]["malformed"] == 1, "gue drops")
r = d["drops"]["by_reason"]
need(r["tunnel_no_match"] == 2 and r["tunnel_malformed"] == 3 and r["tunnel_unsupported"] == 1, "drop reasons")
print("counted: vxlan in/out %d/%d, geneve %d, gue %d; drops by reason %d/%d/%d" % (v4["rx_frames"],
      v4["tx_frames"], g["rx_frames"], u["rx_frames"], r["tunnel_no_match"], r["tunnel_malformed"],
      r["tunnel_unsupported"]))
' || fail "tunnel counters"
  pass "GENEVE and GUE, IPv4 and IPv6 outer, through scapy at the far end (40 datagrams + 3 pings each, every field checked); wrong VNI, truncated and critical-option frames dropped and counted"
fi

stop_bg echo
kill -INT $TCPDUMP 2>/dev/null || true
wait $TCPDUMP 2>/dev/null || true

# 4. Wireshark decodes what went over the tunnels with no warning.
TSHARK=$(command -v tshark || true)
[ -n "$TSHARK" ] || fail "tshark is missing: run scripts/bootstrap"
decoded=$("$TSHARK" -r "$CAP" -V 2>&1) || { echo "$decoded" | tail -20 >&2; fail "tshark -r"; }
grep -q "VXLAN Network Identifier (VNI): 100" <<<"$decoded" ||
  { cat "$LOGDIR/tcpdump.log" >&2; echo "$decoded" | head -30 >&2; fail "tshark: no VXLAN VNI 100"; }
grep -q "VXLAN Network Identifier (VNI): 101" <<<"$decoded" || fail "tshark: no VXLAN VNI 101"
if [ "$MODE" = shim ]; then
  grep -q "Generic Network Virtualization Encapsulation" <<<"$decoded" || fail "tshark: no GENEVE"
  grep -q "Virtual Network Identifier (VNI): 0x000066" <<<"$decoded" || fail "tshark: no GENEVE VNI 102"
  grep -q "Virtual Network Identifier (VNI): 0x000067" <<<"$decoded" || fail "tshark: no GENEVE VNI 103"
fi
# The frames we sent (from the server's address): no expert warning or
# error (the bad frames the test itself crafted are excluded).
# (IP and UDP checksums validated, outer and inner). Wireshark has no GUE
# dissector: a GUE frame's other port, a flow hash from the ephemeral
# range, would be offered to whatever dissector registered that port
# (EtherNet/IP's 44818, BACnet's 47808, ...), which then flags the payload
# as undecoded: GUE's port is decoded as plain data.
warn=$("$TSHARK" -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -d udp.port==6080,data -r "$CAP" -Y "(ip.src==$IP_SRV || ipv6.src==$IP6_SRV) && _ws.expert.severity >= warning" \
  -T fields -e frame.number -e _ws.expert.message 2>"$LOGDIR/tshark.err") || { cat "$LOGDIR/tshark.err" >&2; fail "tshark -Y"; }
[ -z "$warn" ] || { echo "$warn" | head -20 >&2; fail "tshark flags the server's tunnel frames"; }
frames=$("$TSHARK" -r "$CAP" -Y "ip.src==$IP_SRV || ipv6.src==$IP6_SRV" 2>/dev/null | wc -l)
[ "$frames" -ge 4000 ] || fail "only $frames server frames captured"
pass "tshark decodes $frames tunnel frames from the server without a warning, $MODE mode"
