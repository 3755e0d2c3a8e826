#!/usr/bin/env bash
# dpdkudp-run: every usage error or bad setting is one clear line and exit
# status 2 before anything runs (an unknown option, a missing --config
# file, a bad backend, mode or number from an option, the environment or the
# file, no program); --check validates, opens the backend and says what
# would be used (0), or why it cannot (1); and a program run through it
# takes the bypass.
#   run_tool.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
RUN="$BUILD/tools/dpdkudp-run"
B="$BUILD/tools/dpdkudp-bench"
STAT="$BUILD/tools/dpdkudp-stat"
[ -x "$RUN" ] || fail "$RUN is missing"
export DPDKUDP_CONFIG=  # never the host's /etc/dpdkudp.env
LOGDIR=$(mktemp -d)
on_exit "rm -rf $LOGDIR"

# expect NAME STATUS MAX_LINES PATTERN CMD...: the exit status, at most
# MAX_LINES on stderr (CLI11's own errors add a "Run with --help" line),
# one matching PATTERN, and the program never ran.
expect() {
  local name=$1 want=$2 lines=$3 pattern=$4
  shift 4
  local rc=0
  "$@" >"$LOGDIR/$name.out" 2>"$LOGDIR/$name.err" || rc=$?
  [ $rc -eq "$want" ] || fail "$name: exit status $rc, want $want ($(cat "$LOGDIR/$name.err"))"
  [ "$(wc -l <"$LOGDIR/$name.err")" -le "$lines" ] || fail "$name: more than $lines stderr lines: $(cat "$LOGDIR/$name.err")"
  grep -q -- "$pattern" "$LOGDIR/$name.err" "$LOGDIR/$name.out" || fail "$name: unclear message: $(cat "$LOGDIR/$name.err")"
  if grep -q '^ran$' "$LOGDIR/$name.out"; then fail "$name: the program ran"; fi
  pass "$name: status $want, '$(head -1 "$LOGDIR/$name.err" "$LOGDIR/$name.out" | grep -v '^==>' | grep . | head -1)'"
}
printf 'DPDKUDP_BACKEND=af_packet\nDPDKUDP_BUSY_POL_US=10\n' >"$LOGDIR/typo.env"
expect bad_backend 2 1 'DPDKUDP_BACKEND="bogus": must be one of' "$RUN" --backend bogus -- echo ran
expect bad_mode 2 1 'DPDKUDP_MODE="weird"' "$RUN" --mode weird -- echo ran
expect bad_number 2 1 'DPDKUDP_BUSY_POLL_US="-5"' "$RUN" --busy-poll-us -5 -- echo ran
expect bad_ip6 2 1 'DPDKUDP_IP6="2001:2::2": address 1 "2001:2::2": needs a prefix length' \
  "$RUN" --ip6 2001:2::2 -- echo ran
expect bad_gateway6 2 1 'DPDKUDP_GATEWAY6="ff02::1": must be a unicast IPv6 address' \
  "$RUN" --gateway6 ff02::1 -- echo ran
expect bad_environment 2 1 'DPDKUDP_MTU="big"' env DPDKUDP_MTU=big "$RUN" -- echo ran
expect file_typo 2 1 'typo.env:2: DPDKUDP_BUSY_POL_US.*did you mean DPDKUDP_BUSY_POLL_US' \
  "$RUN" --config "$LOGDIR/typo.env" -- echo ran
expect unknown_option 2 2 'not expected' "$RUN" --bogus -- echo ran
expect missing_config 2 2 'File does not exist: /nope' "$RUN" --config /nope -- echo ran
expect no_program 2 1 'no program given' "$RUN"
expect check_off 0 0 'would run on the kernel' "$RUN" --backend off --check
expect check_no_iface 1 1 'check failed: interface nope0: no such interface' \
  "$RUN" --backend af_packet --iface nope0 --check

# --list-ports probes only what DPDK may drive: devices bound to a DPDK
# driver, or named with --eal-args; a NIC the kernel drives (this host's
# virtio one) is never touched, so no probe failure is printed.
if [ -f "$BUILD/preload/libdpdkudp-dpdk.so" ]; then
  rc=0
  timeout 60 "$RUN" --list-ports >"$LOGDIR/ports.out" 2>"$LOGDIR/ports.err" || rc=$?
  [ $rc -eq 0 ] || fail "--list-ports: status $rc ($(cat "$LOGDIR/ports.err"))"
  [ ! -s "$LOGDIR/ports.err" ] || fail "--list-ports printed on stderr: $(head -3 "$LOGDIR/ports.err")"
  pass "--list-ports: $(head -1 "$LOGDIR/ports.out"), nothing on stderr"
fi

netns_pair
ip netns exec "$NS_SRV" ethtool -K "$VETH_SRV" tx off >/dev/null
expect check_ok 0 0 "dpdkudp-run: ok: backend=af_packet iface=$VETH_SRV ip=$IP_SRV/$PREFIX" \
  in_srv "$RUN" --backend af_packet --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --check
expect check_ip6 0 0 "dpdkudp-run: ok: backend=af_packet iface=$VETH_SRV ip=$IP_SRV/$PREFIX .*ip6=2001:2:0:$SUBNET::2/64" \
  in_srv "$RUN" --backend af_packet --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --ip6 "2001:2:0:$SUBNET::2/64" --check
if [ -f "$BUILD/preload/libdpdkudp-af_xdp.so" ]; then
  expect check_af_xdp 0 0 "dpdkudp-run: ok: backend=af_xdp iface=$VETH_SRV" \
    in_srv "$RUN" --backend af_xdp --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --check
fi

# A real run: an echo server under dpdkudp-run answers over the bypass
# (dpdkudp-stat sees its datagrams).
start_server echo "" "$RUN" --backend af_packet --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --require -- \
  "$B" echo -p 9000 -d 30 --idle-stop 10
sleep 0.5
out=$(in_cli "$B" pingpong -t "$IP_SRV:9000" -n 200 -s 64)
grep -q "count=200 lost=0" <<<"$out" || fail "pingpong through dpdkudp-run: $out"
json=$("$STAT" "$SERVER_PID" --json) || fail "dpdkudp-stat found no shim in the program dpdkudp-run started"
grep -q '"backend": *"af_packet"' <<<"$json" || fail "not on the bypass: $json"
kill_server
pass "a program run through dpdkudp-run answers over the bypass: $out"
[ "$(grep -c 'bypass up: backend=af_packet' "$LOGDIR/echo.err")" -eq 1 ] ||
  fail "no (or more than one) 'bypass up' line: $(cat "$LOGDIR/echo.err")"
pass "dpdkudp-run says once that the bypass is up: $(grep 'bypass up' "$LOGDIR/echo.err" | cut -c1-80)..."
