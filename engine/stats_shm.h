// The live-stats region: one POSIX shared-memory object per shim process,
// /dev/shm/dpdkudp.<pid>, that the engine rewrites a few times a second
// from its poller and dpdkudp-stat reads from outside.
//
// The region is self-describing (drop-reason names travel with their
// counters) and versioned, so a tool and a library from different builds
// either agree or say so. Consistency is a sequence lock: the writer makes
// seq odd, writes, makes it even; a reader copies the region and keeps the
// copy only if seq was even and unchanged across the copy. The fast path
// never touches the region: the poller copies the stack's own counters into
// it on its timer tick.
//
// Standard library, POSIX and base/ only: the tool links this, not the engine.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dpdkudp::engine::stats {

inline constexpr uint64_t kMagic = 0x3154415453445544ULL;  // "DUDSTAT1" little-endian
// 2: IPv6 and NDP; 3: tunnels; 4: hand-offs, IGMP; 5: MLD; 6: a socket's family, fd and last reader (SocketSlot)
inline constexpr uint32_t kVersion = 6;
inline constexpr size_t kMaxSockets = 1024;
inline constexpr size_t kMaxDropReasons = 40;
inline constexpr size_t kDropNameLen = 24;
inline constexpr size_t kMaxTunnels = 16;
inline constexpr size_t kTunnelDropReasons = 4;   // stack::TunnelDrop, in order
inline constexpr char kShmPrefix[] = "dpdkudp.";  // /dev/shm/dpdkudp.<pid>
inline constexpr char kShmDir[] = "/dev/shm";

struct SocketSlot {
  uint64_t id;
  uint32_t local_addr;   // host byte order; 0 with local_port 0: unbound
  uint32_t remote_addr;  // 0 with remote_port 0: not connected
  uint16_t local_port;
  uint16_t remote_port;
  uint32_t rcvbuf;
  uint64_t rx_datagrams;
  uint64_t rx_bytes;
  uint64_t rx_drops;  // receive buffer full
  uint64_t tx_datagrams;
  uint64_t tx_bytes;
  uint64_t tx_drops;
  uint64_t queued_bytes;
  uint64_t queued_datagrams;
  // IPv6 endpoints (local_addr / remote_addr unused then).
  uint8_t local_v6, remote_v6;
  uint8_t ipv6;  // an AF_INET6 socket (its endpoints may still be IPv4 ones, v4-mapped)
  uint8_t local6[16], remote6[16];
  // The application's fd for the socket (-1: not known, e.g. a socket the
  // engine opened itself) and the tid of the thread that last received on
  // it (0: none yet), as the shim recorded them.
  int32_t fd;
  int32_t last_reader_tid;
};

// One overlay endpoint (DPDKUDP_TUNNEL), described and counted.
struct TunnelSlot {
  char describe[96];  // "vxlan vni=100 remote=198.18.1.1 inner=198.19.1.2/24 port=4789 mtu=1450"
  uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
  uint64_t drops[kTunnelDropReasons];  // malformed, no_match, unsupported, inner
};

// Counters, each a running total since the engine started.
struct Totals {
  // The stack.
  uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
  uint64_t udp_delivered, udp_sent, loopback;
  uint64_t arp_received, arp_replies_sent, arp_requests_sent;
  uint64_t icmp_echo_replies, icmp_errors_received, icmp_unreach_sent, icmp_rate_limited;
  uint64_t ndp_received, ndp_adverts_sent, ndp_solicits_sent;
  uint64_t igmp_received, igmp_sent;
  uint64_t mld_received, mld_sent;
  // The backend (NIC level).
  uint64_t nic_rx_packets, nic_tx_packets, nic_rx_missed, nic_rx_no_buffer, nic_rx_errors, nic_tx_errors;
  // Datagrams bypass sockets moved through their kernel fd (loopback,
  // other interfaces), which the stack never sees.
  uint64_t kernel_rx_datagrams, kernel_tx_datagrams;
  // Datagrams passed between the processes holding a socket after a fork
  // (engine/stats.h KernelPathCounters).
  uint64_t handoff_sent, handoff_received, handoff_dropped;
  // The pollers.
  uint64_t poller_sleeps, poller_wakeups;
  uint64_t drops[kMaxDropReasons];
};

struct Region {
  uint64_t magic;
  uint32_t version;
  uint32_t size;  // sizeof(Region) of the writer
  uint64_t seq;   // accessed through std::atomic_ref
  int32_t pid;
  uint32_t mtu;
  uint64_t start_ticks;  // /proc/<pid>/stat field 22: tells a reused pid apart
  uint64_t started_unix_ns;
  uint64_t updated_unix_ns;
  uint64_t updated_mono_ns;
  uint32_t queues;
  uint32_t drop_reason_count;
  char comm[32];
  char backend[32];
  char mode[16];
  char iface[32];
  char address[48];
  char address6[160];     // the stack's IPv6 addresses, space-separated ("" without IPv6)
  char description[160];  // backend details: XDP mode, DPDK driver, offloads
  char drop_names[kMaxDropReasons][kDropNameLen];
  Totals totals;
  uint32_t tunnel_count;
  TunnelSlot tunnels[kMaxTunnels];
  uint32_t socket_count;  // open sockets (may exceed kMaxSockets)
  uint32_t sockets_shown;
  SocketSlot sockets[kMaxSockets];
};

static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "the sequence lock must work across processes");
static_assert(std::is_trivially_copyable_v<Region>);

// ---- the drop hierarchy ----

// Where a drop reason sits on a datagram's way from the wire to the
// application. One table, by reason name, for dpdkudp-stat (which reads the
// names a region carries), the [PERF] line and the shim's exit line.
enum class DropClass : uint8_t {
  kMalformed,
  kChecksum,
  kNotForUs,
  kUnsupported,
  kFragment,
  kNoSocket,
  kSocketBufferFull,
  kArpUnresolved,
  kTxFailed,
  kUnclassified,  // a name this build does not know
  kCount,
};
inline constexpr size_t kDropClassCount = static_cast<size_t>(DropClass::kCount);
DropClass drop_class(std::string_view reason);

struct DropClassTotals {
  std::array<uint64_t, kDropClassCount> n{};
  uint64_t operator[](DropClass c) const { return n[static_cast<size_t>(c)]; }
};
// Sums counts[0..count) by the class of name_of(i).
template <typename NameOf>
DropClassTotals drops_by_class(const uint64_t* counts, size_t count, NameOf&& name_of) {
  DropClassTotals t;
  for (size_t i = 0; i < count; ++i) t.n[static_cast<size_t>(drop_class(name_of(i)))] += counts[i];
  return t;
}

// ---- writer side (the engine) ----

class Writer {
 public:
  Writer() = default;
  ~Writer();  // unlinks the object if this process created it
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Creates /dev/shm/dpdkudp.<getpid()>, removing stale objects of dead
  // processes first. False with *error on failure.
  bool open(std::string* error);
  bool is_open() const { return region_ != nullptr; }
  Region* region() { return region_; }
  void begin_update();
  void end_update();
  void close();

 private:
  Region* region_ = nullptr;
  pid_t owner_ = 0;
  std::string name_;
};

// ---- reader side (dpdkudp-stat) ----

enum class ReadStatus { kOk, kMissing, kStale, kBadVersion, kBusy, kError };

struct Snapshot {
  ReadStatus status = ReadStatus::kError;
  std::string error;
  std::unique_ptr<Region> region;  // set when kOk (or kStale: last values)
};

// Reads the region of pid. kStale: the object exists but its process is
// gone (SIGKILL); the last published values are still returned.
Snapshot read_region(pid_t pid);
// What read_region does once the object is mapped: checks the header
// (kBusy, kBadVersion), takes a consistent copy under the sequence lock,
// and makes it safe to print whatever the bytes were (every text field
// ends within its array; counts stay as written, readers clamp them to
// the arrays). status kOk with the copy, or the reason; `name` is for the
// messages. The mapping must be 8-byte aligned. Any thread.
Snapshot snapshot_of(const void* mapped, size_t map_len, const std::string& name);
// Every pid with a region in /dev/shm, ascending.
std::vector<pid_t> list_regions();
// Removes the region of pid if its process is gone. True if removed.
bool remove_if_stale(pid_t pid);

}  // namespace dpdkudp::engine::stats
