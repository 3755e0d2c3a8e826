#!/usr/bin/env bash
# Unmodified programs over a bad link (issue 16): the shim's backend wrapped
# by the fault injector (DPDKUDP_FAULTS: drops, duplicates, reorders,
# delays, truncates and corrupts frames both ways). What must hold is what
# Linux gives on such a link: lost datagrams are lost, duplicates may come
# twice, but no reply is ever damaged, nothing hangs or crashes, every
# damaged frame is counted under a drop reason, and the programs stop
# cleanly. Kernel mode runs the same programs on Linux alone, unfaulted
# (this kernel has no netem to fault it).
#   faults.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
command -v dnsmasq >/dev/null || fail "dnsmasq is missing: run scripts/bootstrap (package dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing: run scripts/bootstrap (package dnsutils)"

FAULTS="drop=0.02,dup=0.02,reorder=0.02,delay=0.02,truncate=0.01,corrupt=0.02,delay_us=2000,seed=$$"
if [ "$MODE" = shim ]; then
  echo "DPDKUDP_FAULTS=$FAULTS" >>"$SHIM_CONF"
  echo "faults: $FAULTS"
fi
# The server's fault counts (the line it prints as it stops) and drops.
check_counted() {  # name
  local log="$LOGDIR/$1.log"
  [ "$MODE" = shim ] || return 0
  grep -q "DPDKUDP_FAULTS: injecting faults" "$log" || fail "$1: no start-up warning about the faults"
  local line
  line=$(grep "DPDKUDP_FAULTS: injected" "$log") || fail "$1: no fault counts at exit"
  echo "$1: $line"
  grep -qE "rx: drop=[1-9]" <<<"$line" || fail "$1: no RX drop injected (the test proves nothing)"
  grep -qE "corrupt=[1-9][0-9]*; tx:" <<<"$line" || fail "$1: no RX corruption injected"
}
# Drops by reason of a running server (the damage must be counted).
check_drops() {  # name
  [ "$MODE" = shim ] || return 0
  local json
  json=$("$BUILD/tools/dpdkudp-stat" --json "${BG_PID[$1]}") || fail "dpdkudp-stat --json ${BG_PID[$1]}"
  "$PYTHON" - "$json" <<'PY' || fail "$1: damaged frames not counted"
import json, sys
d = json.loads(sys.argv[1]); d = d[0] if isinstance(d, list) else d
r = d["drops"]["by_reason"]
caught = sum(r.get(k, 0) for k in ("ip_checksum", "udp_checksum", "ip_malformed", "udp_malformed", "eth_truncated"))
print("counted:", {k: v for k, v in r.items() if v})
sys.exit(0 if caught > 0 else 1)
PY
}

PORT=7400
# 1. A blocking server (python3, recvfrom/sendto).
start_under blocking '^ready' "$PYTHON" "$HERE/py_echo_server.py" $PORT
in_cli "$PYTHON" "$HERE/lossy_echo_client.py" "$IP_SRV" $PORT --count 1000 --wait 0.15 ||
  fail "blocking server over the bad link"
check_drops blocking
stop_bg blocking
check_counted blocking
pass "blocking python3 echo server over a bad link: losses only, no damaged reply, stopped cleanly ($MODE mode)"

# 2. An event-loop server (python3 asyncio: epoll).
start_under asyncio '^ready' "$PYTHON" "$HERE/py_asyncio_echo.py" server $((PORT + 1))
in_cli "$PYTHON" "$HERE/lossy_echo_client.py" "$IP_SRV" $((PORT + 1)) --count 1000 --wait 0.15 ||
  fail "asyncio server over the bad link"
stop_bg asyncio
check_counted asyncio
pass "asyncio echo server over a bad link: losses only, no damaged reply, stopped cleanly ($MODE mode)"

# 3. dnsmasq answering dig, which retries what was lost (+tries=5).
DNS_PORT=5353
NAME=test.dpdkudp
ANSWER=198.18.0.77
start_under dnsmasq 'started, version' dnsmasq --no-daemon --conf-file=/dev/null --port=$DNS_PORT --no-resolv \
  --no-hosts --user=root --pid-file= --log-facility=- --address=/$NAME/$ANSWER
for i in $(seq 300); do
  # dig says ";; communications error ... timed out" for each retry.
  got=$(in_cli dig @"$IP_SRV" -p $DNS_PORT $NAME A +short +tries=5 +time=1 | grep -v '^;;') || true
  [ "$got" = "$ANSWER" ] || fail "query $i: dig answered '$got', want $ANSWER"
done
stop_bg dnsmasq
check_counted dnsmasq
pass "dnsmasq answered 300 of 300 dig queries (with dig's retries) over a bad link ($MODE mode)"
