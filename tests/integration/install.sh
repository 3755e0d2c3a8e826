#!/usr/bin/env bash
# `meson install` installs what an operator uses and nothing else: the
# shim and its backend modules in one directory, dpdkudp-run, dpdkudp-stat,
# the man pages, the example dpdkudp.env and systemd drop-in, and the bash
# completion (no dpdkudp-bench, no demo, nothing of tests/). The installed
# programs run; the installed dpdkudp-run names the installed library
# (prefix/libdir) and, given it with --lib, runs a program whose UDP
# sockets take the bypass with the installed library and the backend module
# beside it; the installed completion completes.
#   install.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
export DPDKUDP_CONFIG=  # never the host's /etc/dpdkudp.env
unset DPDKUDP_MODULE_DIR LD_PRELOAD
WORK=$(mktemp -d)
on_exit "rm -rf $WORK"
DEST=$WORK/root

# The build's directories, as the install uses them.
eval "$(meson introspect "$BUILD" --buildoptions | python3 -c '
import json, sys
opts = {o["name"]: o["value"] for o in json.load(sys.stdin)}
for k in ("prefix", "bindir", "libdir", "datadir", "mandir"):
    v = opts[k]
    if k != "prefix" and not v.startswith("/"):
        v = opts["prefix"].rstrip("/") + "/" + v
    print("%s=%s" % (k, v))
')"

meson install -C "$BUILD" --no-rebuild --destdir "$DEST" >"$WORK/install.log" 2>&1 ||
  fail "meson install --destdir failed: $(tail -5 "$WORK/install.log")"
pass "meson install --destdir $DEST (prefix $prefix)"

# 1. Exactly the operator's files.
# The modules libdpdkudp.so loads from beside itself: those this build has
# (dpdk, af_xdp, pcap: each when its libraries were found).
modules=()
for m in "$BUILD"/preload/libdpdkudp-*.so; do
  [ -f "$m" ] && modules+=("$libdir/$(basename "$m")")
done
{
  printf '%s\n' "$bindir/dpdkudp-run" "$bindir/dpdkudp-stat" "$libdir/libdpdkudp.so" "${modules[@]}" \
    "$mandir/man1/dpdkudp-run.1" "$mandir/man1/dpdkudp-stat.1" "$mandir/man5/dpdkudp.env.5" "$mandir/man7/dpdkudp.7" \
    "$datadir/doc/dpdkudp/examples/dpdkudp.env" "$datadir/doc/dpdkudp/examples/dpdkudp.conf" \
    "$datadir/bash-completion/completions/dpdkudp-run" "$datadir/bash-completion/completions/dpdkudp-stat"
} | sort >"$WORK/want"
(cd "$DEST" && find . ! -type d | sed 's/^\.//' | sort) >"$WORK/got"
if ! diff -u "$WORK/want" "$WORK/got" >"$WORK/diff"; then
  cat "$WORK/diff" >&2
  fail "installed files differ from the operator's set (- missing, + unexpected)"
fi
pass "installed exactly the $(wc -l <"$WORK/want") operator files (shim and its modules in $libdir: $(echo libdpdkudp.so "${modules[@]##*/}"); 2 programs, 4 man pages, 2 examples, 2 completions)"
grep -qE 'bench|demo|test' "$WORK/got" && fail "a developer's file was installed: $(grep -E 'bench|demo|test' "$WORK/got")"
grep -q '^/etc' "$WORK/got" && fail "something was installed into /etc"
pass "nothing of dpdkudp-bench, the demo or tests/, nothing in /etc"

RUN=$DEST$bindir/dpdkudp-run
STAT=$DEST$bindir/dpdkudp-stat
LIB=$DEST$libdir/libdpdkudp.so

# 2. The installed programs run, with no path into the build tree.
for f in "$RUN" "$STAT" "$LIB" "${modules[@]/#/$DEST}"; do
  rpath=$(readelf -d "$f" | grep -E 'R(UN)?PATH' || true)
  if grep -qF "$BUILD" <<<"$rpath"; then fail "$f keeps a RUNPATH into the build tree: $rpath"; fi
  libs=$(ldd "$f" 2>&1)
  if grep -q 'not found' <<<"$libs"; then fail "$f: $(grep 'not found' <<<"$libs")"; fi
done
pass "no installed binary has a RUNPATH into the build tree or a missing library"
out=$("$RUN" --help) || fail "installed dpdkudp-run --help failed"
grep -q '^Usage: ' <<<"$out" || fail "installed dpdkudp-run --help: no usage: $out"
out=$("$STAT" --help) || fail "installed dpdkudp-stat --help failed"
grep -q '^Usage: ' <<<"$out" || fail "installed dpdkudp-stat --help: no usage: $out"
pass "installed dpdkudp-run --help and dpdkudp-stat --help run"

# 3. Its library: without --lib, the installed dpdkudp-run uses
# prefix/libdir/libdpdkudp.so (the compiled-in DPDKUDP_LIBDIR; under
# --destdir that path is not ours, so it is named, not used).
netns_pair
in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
want_lib="$libdir/libdpdkudp.so"
rc=0
out=$(in_srv "$RUN" --backend af_packet --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --check 2>&1) || rc=$?
if [ -e "$want_lib" ]; then  # installed on this host too: the check uses it
  [ $rc -eq 0 ] && grep -qF "(library $want_lib)" <<<"$out" || fail "installed dpdkudp-run: $out (status $rc)"
else
  [ $rc -eq 127 ] && grep -qF "dpdkudp-run: $want_lib: no such file" <<<"$out" ||
    fail "installed dpdkudp-run does not look for $want_lib: $out (status $rc)"
fi
pass "installed dpdkudp-run looks for the library at prefix/libdir: $want_lib"

# With --lib naming the installed library (the path it has once the
# package is installed), --check opens the backend with it.
out=$(in_srv "$RUN" --lib "$LIB" --backend af_packet --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" --check) ||
  fail "installed dpdkudp-run --lib --check: $out"
grep -qF "dpdkudp-run: ok: backend=af_packet iface=$VETH_SRV" <<<"$out" && grep -qF "(library $LIB)" <<<"$out" ||
  fail "installed dpdkudp-run --lib --check: $out"
pass "installed dpdkudp-run --lib: $out"

# A program under the installed dpdkudp-run and library answers over the
# bypass; on AF_XDP its backend module is the installed one, loaded from
# beside the installed libdpdkudp.so.
backend=af_packet
[ -f "$DEST$libdir/libdpdkudp-af_xdp.so" ] && backend=af_xdp
cat >"$WORK/echo.py" <<'PY'
import signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7777))
print("ready", flush=True)
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
PY
LOGDIR=$WORK/logs
mkdir -p "$LOGDIR"
start_server echo '^ready' "$RUN" --lib "$LIB" --backend "$backend" --iface "$VETH_SRV" --ip "$IP_SRV/$PREFIX" \
  --require -- python3 "$WORK/echo.py"
out=$(in_cli python3 "$HERE/udp_echo_client.py" "$IP_SRV" 7777 --count 200 --max-size 1400) ||
  fail "echo through the installed dpdkudp-run on $backend: $out"
grep -q "bypass up: backend=$backend" "$LOGDIR/echo.err" || fail "no 'bypass up' line: $(cat "$LOGDIR/echo.err")"
maps=$(grep -oE '/[^ ]*libdpdkudp[^ ]*\.so' "/proc/$SERVER_PID/maps" | sort -u | tr '\n' ' ')
grep -qF "$LIB " <<<"$maps " || fail "the echo server did not map the installed library: $maps"
if [ $backend = af_xdp ]; then
  grep -qF "$DEST$libdir/libdpdkudp-af_xdp.so" <<<"$maps" || fail "the af_xdp module is not the installed one: $maps"
fi
grep -qF "$BUILD" <<<"$maps" && fail "the echo server mapped a library of the build tree: $maps"
stop_server echo
pass "an echo server under the installed dpdkudp-run on $backend: $out; mapped: $maps"

# 4. The installed bash completion completes options, listed values and
# the program after "--".
COMPLETION=$DEST$datadir/bash-completion/completions/dpdkudp-run
cmp -s "$COMPLETION" "$DEST$datadir/bash-completion/completions/dpdkudp-stat" ||
  fail "the dpdkudp-run and dpdkudp-stat completions differ"
complete_words() {  # words...: the completions of the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _dpdkudp; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$COMPLETION" "$@"
}
[ "$(complete_words "$RUN" --back)" = "--backend" ] || fail "dpdkudp-run --back<TAB>: $(complete_words "$RUN" --back)"
[ "$(complete_words "$RUN" --backend af_p | tr '\n' ' ')" = "af_packet af_packet_mmap " ] ||
  fail "dpdkudp-run --backend af_p<TAB>: $(complete_words "$RUN" --backend af_p)"
[ "$(complete_words "$RUN" --mode = sh)" = "shared" ] || fail "dpdkudp-run --mode=sh<TAB>: $(complete_words "$RUN" --mode = sh)"
grep -qx lo <<<"$(complete_words "$RUN" --iface l)" || fail "dpdkudp-run --iface l<TAB>: $(complete_words "$RUN" --iface l)"
grep -qx python3 <<<"$(complete_words "$RUN" -- pytho)" || fail "dpdkudp-run -- pytho<TAB>: $(complete_words "$RUN" -- pytho)"
[ "$(complete_words "$STAT" --js)" = "--json" ] || fail "dpdkudp-stat --js<TAB>: $(complete_words "$STAT" --js)"
pass "the installed completion: --back -> --backend, --backend af_p -> af_packet af_packet_mmap, --mode=sh -> shared, -- pytho -> python3, --iface l -> lo, dpdkudp-stat --js -> --json"

# 5. man finds the installed pages.
for page in dpdkudp-run dpdkudp-stat dpdkudp.env dpdkudp; do
  man --manpath="$DEST$mandir" -w "$page" >/dev/null 2>&1 || fail "man does not find $page in $DEST$mandir"
done
pass "man finds dpdkudp(7), dpdkudp-run(1), dpdkudp-stat(1), dpdkudp.env(5) in the installed mandir"
