# Shared setup of the shim integration tests, sourced by every script here.
#
#   source "$HERE/shim_lib.sh"
#   shim_setup "$BUILD" "$MODE"   # MODE: kernel | shim
#   run_under prog args...        # prog in $NS_SRV, under the shim in shim mode
#   start_under name ready_regex prog args...   # same, in the background
#   start_cli   name ready_regex prog args...   # a kernel program in $NS_CLI
#   wait_bg name seconds          # waits (bounded) for a background program
#
# kernel mode: the server veth gets the kernel address and programs run
# plainly; this validates every test against Linux itself.
# shim mode: the server veth has NO kernel address (dedicated mode), so an
# answer proves the userspace stack produced it; programs run with
# LD_PRELOAD=libdpdkudp.so and DPDKUDP_REQUIRE=1, so a shim that cannot start
# fails the test loudly instead of silently using the kernel.
SHIM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SHIM_HERE/../lib.sh"

# Debian's interpreter, not whatever python3 comes first on PATH (a pyenv
# shim is a shell script that would run under LD_PRELOAD too).
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)

UNDER=(env)

shim_setup() {  # build mode
  BUILD=$(cd "$1" && pwd)
  MODE=$2
  case "$MODE" in
    kernel | shim) ;;
    *) fail "mode must be 'kernel' or 'shim', not '$MODE'" ;;
  esac
  SHIM_SO="$BUILD/preload/libdpdkudp.so"
  if [ "$MODE" = shim ] && [ ! -f "$SHIM_SO" ]; then
    fail "shim mode: $SHIM_SO does not exist (the preload library is not built yet)"
  fi
  netns_pair
  LOGDIR=$(mktemp -d)
  on_exit "rm -rf $LOGDIR"
  _BG_NAMES=()
  if [ "$MODE" = kernel ]; then
    ip -n "$NS_SRV" addr add "$IP_SRV/$PREFIX" dev "$VETH_SRV"
    in_srv ethtool -K "$VETH_SRV" tx off >/dev/null
    UNDER=(env UDP_TEST_MODE=kernel)
  else
    SHIM_CONF="$LOGDIR/dpdkudp.env"
    cat >"$SHIM_CONF" <<CONF
# written by $(basename "$0") (shim_lib.sh)
DPDKUDP_BACKEND=${SHIM_BACKEND:-af_packet}
DPDKUDP_IFACE=$VETH_SRV
DPDKUDP_IP=$IP_SRV/$PREFIX
DPDKUDP_MODE=dedicated
DPDKUDP_REQUIRE=1
DPDKUDP_LOG=warn
CONF
    # DPDK drives the veth through its AF_PACKET PMD: no PCI, no hugepages.
    if [ "${SHIM_BACKEND:-}" = dpdk ]; then
      echo "DPDKUDP_EAL_ARGS=--no-pci --vdev=net_af_packet0,iface=$VETH_SRV" >>"$SHIM_CONF"
    fi
    # A shim built with ThreadSanitizer (scripts/test's build-tsan) needs the
    # TSan runtime in the preload list too, right after the shim. Preloaded
    # alone into an uninstrumented program (env, python, socat), libtsan.so
    # comes in only as the shim's dependency, after libc in the symbol
    # search order: none of its interceptors (malloc, pthread_*) is used,
    # nothing initialises it, and when a library constructor (libnuma's,
    # via DPDK) calls our syscall() the instrumented interposer's first TSan
    # hook reads a null thread state: SIGSEGV. Not before the shim either:
    # the program's poll() would then enter TSan's interceptor first, which
    # ignores synchronisation for the length of a blocking call, and every
    # lock our poll() takes in there would go unseen (false races). Shim,
    # then TSan, then libc: the program calls the shim, the shim's
    # dlsym(RTLD_NEXT) calls reach TSan's interceptors, then libc.
    local preload=$SHIM_SO
    local tsan_rt
    tsan_rt=$(ldd "$SHIM_SO" | awk '$1 ~ /^libtsan\.so/ {print $3}')
    [ -z "$tsan_rt" ] || preload="$SHIM_SO $tsan_rt"
    UNDER=(env UDP_TEST_MODE=shim LD_PRELOAD="$preload" DPDKUDP_CONFIG="$SHIM_CONF")
  fi
  echo "mode=$MODE ns_srv=$NS_SRV ns_cli=$NS_CLI srv=$IP_SRV cli=$IP_CLI veth_srv=$VETH_SRV"
}

# The program under test: in the server namespace, under the shim by MODE.
run_under() { in_srv "${UNDER[@]}" "$@"; }

# Background programs: output (stdout+stderr) in $LOGDIR/<name>.log, pid in
# BG_PID[name]; waits (bounded, 10 s) for a line matching ready_regex.
declare -A BG_PID=()
_start_bg() {  # ns name ready cmd...
  local ns=$1 name=$2 ready=$3
  shift 3
  ip netns exec "$ns" "$@" >"$LOGDIR/$name.log" 2>&1 &
  local pid=$!
  BG_PID[$name]=$pid
  on_exit "kill -9 $pid"
  for _ in $(seq 100); do
    grep -qE "$ready" "$LOGDIR/$name.log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$LOGDIR/$name.log" >&2; fail "$name exited before it was ready"; }
    sleep 0.1
  done
  cat "$LOGDIR/$name.log" >&2
  fail "$name not ready within 10 s"
}
start_under() { local name=$1 ready=$2; shift 2; _start_bg "$NS_SRV" "$name" "$ready" "${UNDER[@]}" "$@"; }
start_cli() { _start_bg "$NS_CLI" "$@"; }

# Waits at most SECONDS for background program NAME to exit by itself and
# returns its exit status (kills it and fails when it does not exit).
wait_bg() {  # name seconds
  local name=$1 secs=$2 pid=${BG_PID[$1]}
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
    cat "$LOGDIR/$name.log" >&2
    fail "$name did not exit within $secs s"
  fi
  local rc=0
  wait "$pid" || rc=$?
  return $rc
}

# Sends SIGTERM to background program NAME and requires exit status 0 within 5 s.
stop_bg() {  # name
  kill -TERM "${BG_PID[$1]}" 2>/dev/null || true
  local rc=0
  wait_bg "$1" 5 || rc=$?
  [ $rc -eq 0 ] || { cat "$LOGDIR/$1.log" >&2; fail "$1 exited with status $rc after SIGTERM"; }
}

# The kernel echo peer (echo_peer.py) in the client namespace, on PORT and PORT+1.
start_peer() {  # port
  PEER_PORT=$1
  start_cli peer '^ready' "$PYTHON" "$SHIM_HERE/echo_peer.py" "$PEER_PORT" --lifetime 120
}
