// The DPDK backend: the stack over any port DPDK drives (a NIC bound to
// vfio-pci, or a virtual device: net_af_packet, net_af_xdp, net_tap,
// net_ring, net_null, ...). This header is the whole public face of
// backends/dpdk/ and includes no DPDK header: the engine and tools include
// it, only the .cc files in this folder see DPDK.
//
//   dpdkudp::DpdkConfig config;
//   config.eal_args = "--no-huge -m 256 --no-pci --vdev=net_af_packet0,iface=veth0";
//   config.port = 0;
//   std::string error;
//   auto backend = dpdkudp::open_dpdk(config, &error);
//   if (!backend) { fprintf(stderr, "%s\n", error.c_str()); }
//
// EAL (DPDK's environment layer) is started once per process, by the first
// open_dpdk()/list_dpdk_ports()/init_dpdk_eal(), and is never torn down while
// the process runs (a mempool touched after rte_eal_cleanup() crashes; the
// reference library hit exactly that). Later calls reuse it: their
// eal_args are compared with the ones in force and, when different, a
// warning says they were ignored. If the first start failed, every later
// call fails with the same reason (EAL cannot be started twice).
//
// ## EAL arguments
//
// eal_args is split on whitespace (spaces, tabs, newlines); there is no
// shell quoting, so an argument cannot contain a space (none of EAL's
// need one). The program name (argv[0]) is "dpdkudp-eal" and is added by
// us. What the host program must not notice is taken care of by defaults
// that are added unless eal_args already has the option (or one it
// conflicts with):
//
//   --lcores=0@<cpu>       unless -l/-c/--lcores/--main-lcore given. <cpu> is
//                          the first CPU the calling thread may run on.
//   --no-telemetry         unless --telemetry/--no-telemetry given: no
//                          /var/run/dpdk/<prefix>/dpdk_telemetry socket.
//   --log-level=error      always first; a later --log-level in eal_args
//                          overrides it (DPDK's INFO chatter stays off).
//   --file-prefix=dpdkudp-<pid>
//                          unless --file-prefix given: two processes never
//                          share /var/run/dpdk/<prefix>.
//   memory, unless --no-huge/-m/--socket-mem/--in-memory given:
//     free hugepages (/proc/meminfo HugePages_Free > 0): --in-memory
//       (hugepages, no files anywhere; implies --no-shconf);
//     none: --no-huge -m 256 --no-shconf (256 MiB of ordinary memory; fine
//       for virtual devices, not for a real NIC: see README.md here).
//   --no-shconf            unless --in-memory/--proc-type/--no-shconf
//                          given: no shared config files, no multi-process
//                          socket.
//
// So with eal_args empty on a host with hugepages the effective line is
//   dpdkudp-eal --log-level=error --lcores=0@0 --no-telemetry
//               --file-prefix=dpdkudp-<pid> --in-memory
// and without hugepages
//   dpdkudp-eal --log-level=error --lcores=0@0 --no-telemetry
//               --file-prefix=dpdkudp-<pid> --no-huge -m 256 --no-shconf
// A real NIC needs no extra argument when it is bound to vfio-pci (PCI is
// probed by default); a virtual device needs its --vdev.
//
// How EAL is kept out of the host program's way:
//  - rte_eal_init() runs on a short-lived thread of ours (EAL pins the
//    calling thread to its main lcore) with every signal blocked, so the
//    threads EAL creates (interrupt thread, ...) inherit a fully blocked
//    mask and never take a signal meant for the program; the program's
//    threads keep their CPU affinity;
//  - signal dispositions (sigaction of every signal) are saved before and
//    restored after if EAL changed any;
//  - EAL's log goes through DpdkConfig::log (never to stdout); the usage
//    text and getopt complaints EAL prints to stdout/stderr on bad
//    arguments are captured (fds 1 and 2 point at a memory file for the
//    duration of rte_eal_init(), then back; anything else written there
//    meanwhile is replayed to the real stdout/stderr) and the essence ends
//    up in the one error line;
//  - getopt's global state (optind, ...) is restored by EAL itself;
//  - the runtime directory /var/run/dpdk/<prefix> (or
//    $XDG_RUNTIME_DIR/dpdk/<prefix> for non-root), which EAL creates even
//    with --no-shconf, is removed right after a start (and again at exit
//    if something was put in it later). /var/run/dpdk itself is left
//    alone: other DPDK processes may be using it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/api/backend.h"

namespace dpdkudp {

enum class DpdkLogLevel { kError, kWarn, kInfo };
// One line, no newline. Called from the opening thread and, for DPDK's own
// log, from any thread DPDK logs on.
using DpdkLogFn = std::function<void(DpdkLogLevel level, const std::string& line)>;

struct DpdkConfig {
  // See "EAL arguments" above. Only the first start of EAL uses them.
  std::string eal_args;
  uint16_t port = 0;  // DPDK port id (see list_dpdk_ports())
  // RX/TX queue pairs, one poller each. More than one spreads IPv4/UDP
  // flows by RSS (when the device has it); clamped to what the device
  // has (capabilities().rx_queues says what was configured). 0 means 1.
  uint16_t queues = 1;
  uint32_t rx_ring = 1024;  // descriptors per RX queue (adjusted to the
  uint32_t tx_ring = 1024;  // device's limits)
  uint32_t mtu = 0;         // L3 MTU, 68..9000; 0: the device's current one

  // Offloads: each is enabled when the device has it and reported in
  // capabilities(); false keeps it off (the stack does the work).
  bool rx_checksum = true;  // RX IPv4 header + UDP checksum verdicts
  bool tx_checksum = true;  // TX IPv4 header + UDP checksum
  bool vlan_strip = true;   // RX 802.1Q tag -> vlan_tci
  bool vlan_insert = true;  // TX vlan_tci -> 802.1Q tag

  // Mbuf pool (one per port, NUMA-local to the device). 0 = computed:
  //   n = queues * (rx_ring + tx_ring)      descriptors the device holds
  //     + queues * 2 * 64                   bursts in the pollers' hands
  //     + lcores * 384                      per-lcore caches (256, up to 1.5x)
  //     + socket_mbufs                      held on socket queues and in
  //                                         the stack's TX caches
  //   rounded up to 2^k - 1 (what the ring under the mempool holds best).
  // Defaults (1 queue, 1024/1024, 1 lcore): 10752 -> 16383 mbufs of
  // 128 (rte_mbuf) + 128 (Packet, private area) + 128 (headroom) + 2048
  // bytes = 38 MiB. The data room grows to hold mtu + 26 bytes (Ethernet,
  // two VLAN tags, CRC) rounded up to 1 KiB: ~9.3 KiB per mbuf at MTU 9000.
  // A slow reader cannot take them all: each socket holds at most its
  // SO_RCVBUF (datagrams charged payload + 256 bytes, Linux's rule), then
  // the stack drops and counts; the device counts rx_no_buffer if the
  // pool still runs dry.
  uint32_t socket_mbufs = 8192;
  uint32_t pool_size = 0;

  // After start, how long to wait for the link to come up.
  uint32_t link_wait_ms = 3000;
  // Link still down after link_wait_ms: true = fail open_dpdk() with an
  // error, false = a warning and go on (frames flow once it comes up).
  bool require_link = true;

  // Runs first on the thread that calls rte_eal_init(), before it (the
  // engine marks the thread as its own, so the shim passes the calls EAL
  // and the drivers make during start-up straight to libc).
  std::function<void()> eal_thread_init;
  // Warnings and notes from the backend and DPDK's own log (at the
  // --log-level in force). Empty: "dpdkudp: dpdk: <line>" on stderr.
  // Only the first EAL start sets where DPDK's own log goes.
  DpdkLogFn log;
};

// Opens config.port: starts EAL if needed, creates (or reuses) the port's
// mbuf pool, configures the queues and offloads, starts the port with
// promiscuous mode off and waits for the link. On failure returns nullptr
// and, when error is given, sets it to one line starting "dpdk: ", e.g.
//   dpdk: EAL start failed: unrecognized option '--bogus' (EAL arguments: ...)
//   dpdk: no DPDK ports (did you pass --vdev or bind a NIC with dpdk-devbind.py?)
//   dpdk: DPDKUDP_DPDK_PORT=3: only 1 port(s) (ids 0)
//   dpdk: port 0 (net_ring0) is already open in this process
//   dpdk: port 0: MTU 9000 above the device's maximum 1500
//   dpdk: port 0 (0000:01:00.0): link down after 3000 ms (cable? peer?)
// A port is open at most once at a time; the backend's destructor stops it
// (the pool stays, for the next open of the port). The backend is
// poll-mode: wait_fd() is -1 (the poller naps), see DpdkBackend.
std::unique_ptr<Backend> open_dpdk(const DpdkConfig& config, std::string* error);

// Starts EAL (if not yet) with the defaults above. open_dpdk() and
// list_dpdk_ports() call it; exposed for tools and tests.
bool init_dpdk_eal(const std::string& eal_args, const std::function<void()>& thread_init, const DpdkLogFn& log,
                   std::string* error);

// The argv EAL was (or would be) started with for eal_args, defaults
// merged in (for the banner and the tests). argv[0] included.
std::vector<std::string> dpdk_eal_argv(const std::string& eal_args);
// The EAL argv in force, empty before a successful start.
std::vector<std::string> dpdk_eal_argv_in_use();
// EAL's runtime directory (/var/run/dpdk/<prefix>), "" before a start. It
// no longer exists after a successful start (see above).
std::string dpdk_eal_runtime_dir();

// One port as DPDK sees it, for `--list-ports`.
struct DpdkPortInfo {
  uint16_t port = 0;
  std::string device;  // e.g. "0000:01:00.0", "net_af_packet0"
  std::string driver;  // e.g. "net_ixgbe", "net_af_packet"
  MacAddr mac{};
  bool link_up = false;
  uint32_t link_speed_mbps = 0;  // 0: unknown
  int numa_socket = -1;          // -1: unknown
  uint16_t mtu = 0;
  uint16_t max_mtu = 0;
  uint16_t max_rx_queues = 0;
  uint16_t max_tx_queues = 0;
  bool open = false;                     // opened by this process
  std::vector<std::string> rx_offloads;  // DPDK's names, e.g. "IPV4_CKSUM"
  std::vector<std::string> tx_offloads;
};

// Every port DPDK sees, starting EAL with eal_args first if needed. On
// failure (EAL cannot start) returns {} and sets *error; no ports is not a
// failure (empty vector, error untouched).
std::vector<DpdkPortInfo> list_dpdk_ports(const std::string& eal_args, std::string* error);
// Multi-line human-readable form of one port.
std::string to_string(const DpdkPortInfo& info);

// For the banner and the stats tool, given the Backend open_dpdk()
// returned (anything else: "" / {}):
//   "port 0 (net_af_packet0, net_af_packet), 1 queue(s) x 1024/1024, 16383 mbufs"
std::string describe_dpdk_backend(const Backend& backend);
//   "rx: ipv4-csum udp-csum vlan-strip; tx: ipv4-csum udp-csum" or
//   "rx: none; tx: none"
std::string describe_dpdk_offloads(const Backend& backend);

struct DpdkQueueStats {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_errors = 0;  // q_errors: drivers put RX drops here
};
// Per-queue counters (DPDK keeps them for the first 16 queues).
std::vector<DpdkQueueStats> dpdk_queue_stats(const Backend& backend);

}  // namespace dpdkudp
