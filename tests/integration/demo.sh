#!/usr/bin/env bash
# The README's first command, scripts/demo, on the build under test (as it
# is: DEMO_BUILD_DIR): its set-up steps say what they do, and the demo
# itself succeeds (the in-memory echo, then the unmodified Python server
# under the shim answering ping and 10,000 datagrams, its exit counters
# showing the traffic went through the stack).
#   demo.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
require_root_and_netns
OUT=$(mktemp)
on_exit "rm -f $OUT"
rc=0
DEMO_BUILD_DIR="$BUILD" timeout 300 "$HERE/../../scripts/demo" >"$OUT" 2>&1 || rc=$?
[ $rc -eq 0 ] || { tail -30 "$OUT" >&2; fail "scripts/demo exited with status $rc"; }
for step in "== 0. setting up" "-- packages" "-- configure: $BUILD as it is" "-- build (ninja -C $BUILD)" "-- build done" \
  "== 1. the userspace stack alone" "== 2. an unmodified program under the shim"; do
  grep -qF -- "$step" "$OUT" || { cat "$OUT" >&2; fail "the demo does not say '$step'"; }
done
pass "scripts/demo says each set-up step (packages, configure, build) before the demo"
grep -q "echo: 10000 datagrams of 1..1472 bytes intact" "$OUT" || { cat "$OUT" >&2; fail "the demo's echo client"; }
grep -q " 0% packet loss" "$OUT" || { cat "$OUT" >&2; fail "the demo's ping"; }
delivered=$(grep -oE "exit: .*udp_delivered=[0-9]+" "$OUT" | grep -oE "udp_delivered=[0-9]+" | cut -d= -f2)
[ "${delivered:-0}" -ge 10000 ] || { cat "$OUT" >&2; fail "the shim's exit counters show ${delivered:-no} datagrams delivered"; }
pass "scripts/demo: ping and 10,000 datagrams answered by the Python server under the shim (udp_delivered=$delivered)"
