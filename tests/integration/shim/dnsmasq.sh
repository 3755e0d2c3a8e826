#!/usr/bin/env bash
# Debian's dnsmasq as the DNS server under test, dig (BIND 9, libuv) from the
# kernel side; then the reverse: dig under test against a kernel dnsmasq.
#
# The options work in both modes: no --bind-interfaces / --listen-address /
# --interface (those need the kernel to own the address, which dedicated
# shim mode does not) and no --local-service (it answers only sources on a
# subnet the kernel has an address in). So dnsmasq binds 0.0.0.0:5353 (and
# [::]:5353), learns each query's destination and interface from IP_PKTINFO,
# names the interface with ioctl(SIOCGIFNAME) on the UDP socket itself, and
# answers with sendmsg + IP_PKTINFO (ipi_spec_dst = the query's destination,
# ipi_addr left uninitialised).
#   dnsmasq.sh BUILD_DIR kernel|shim
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/shim_lib.sh"
shim_setup "$1" "$2"
command -v dnsmasq >/dev/null || fail "dnsmasq is missing: run scripts/bootstrap (package dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing: run scripts/bootstrap (package dnsutils)"
echo "version: $(dnsmasq --version | head -1)"
echo "version: $(dig -v 2>&1 | head -1)"

DNS_PORT=5353
NAME=test.dpdkudp
ANSWER=198.18.0.77
dnsmasq_args=(--no-daemon --conf-file=/dev/null --port=$DNS_PORT --no-resolv --no-hosts
  --user=root --pid-file= --log-facility=- --log-queries
  --address=/$NAME/$ANSWER)

start_under dnsmasq 'started, version' dnsmasq "${dnsmasq_args[@]}"
for i in $(seq 200); do
  got=$(in_cli dig @"$IP_SRV" -p $DNS_PORT $NAME A +short +tries=1 +time=2) || true
  [ "$got" = "$ANSWER" ] || { cat "$LOGDIR/dnsmasq.log" >&2; fail "query $i: dig answered '$got', want $ANSWER"; }
done
stop_bg dnsmasq
queries=$(grep -c "query\[A\] $NAME from $IP_CLI" "$LOGDIR/dnsmasq.log" || true)
[ "$queries" -eq 200 ] || fail "dnsmasq logged $queries queries from $IP_CLI, want 200"
pass "dnsmasq answered 200 of 200 dig queries, $MODE mode"

# Reverse: dig under test, dnsmasq on the kernel in the client namespace.
start_cli dnsmasq_cli 'started, version' dnsmasq "${dnsmasq_args[@]}"
for i in $(seq 20); do
  got=$(run_under dig @"$IP_CLI" -p $DNS_PORT $NAME A +short +tries=1 +time=2) || true
  [ "$got" = "$ANSWER" ] || { cat "$LOGDIR/dnsmasq_cli.log" >&2; fail "dig run $i answered '$got', want $ANSWER"; }
done
stop_bg dnsmasq_cli
pass "dig asked a kernel dnsmasq 20 times, $MODE mode"
