// The neighbor cache: ARP's for IPv4, Neighbor Discovery's (RFC 4861) for
// IPv6, one class template instantiated for each address type.
//
// Readers (every TX on any thread) go through a lock-free fast path: each
// slot is guarded by a sequence counter, so lookup() never takes a lock and
// never sees a torn (ip, mac) pair. Everything that changes the table
// (learning, resolution, timers) takes one mutex and runs off the fast path.
// Hooks are always called with that mutex released.
//
// RFC 4861's states map onto ARP's: INCOMPLETE, REACHABLE and STALE as
// named; DELAY and PROBE are the stale entry's unicast refresh (sent at the
// next on_timer() after a stale hit, answered or failed after max_probes
// retransmit times); FAILED and PERMANENT as for ARP.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "backends/api/packet.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;

struct NeighborConfig {
  size_t capacity = 1024;                  // slots; rounded up to a power of two
  uint64_t reachable_ns = 30'000'000'000;  // confirmed entry is fresh this long
  uint64_t retrans_ns = 1'000'000'000;     // between requests while resolving
  unsigned max_probes = 3;                 // requests before resolution fails
  uint64_t gc_ns = 60'000'000'000;         // unused stale/failed entries freed after
  // Frames held while resolving one address: Linux's unres_qlen default
  // (101), so a sendmmsg burst to a new neighbour is held whole, as there.
  size_t max_pending_per_neighbor = 101;
  size_t max_pending_total = 1024;  // frames held while resolving, all addresses
};

// What the cache asks of its owner. Called without the cache's lock held,
// from whichever thread drove the cache (an app thread in enqueue_pending,
// the poller in update()/on_timer()). An owner of both caches derives from
// both instantiations: transmit_resolved() has one signature for both and is
// overridden once; send_request() and drop_unresolved() are overloads.
//
// `vlan` is the 802.1Q VLAN the neighbour was heard on, for a stack on a
// trunk (vlan_config.h); 0 means the stack's own. It travels beside the MAC.
template <typename Addr>
class BasicNeighborHooks {
 public:
  virtual ~BasicNeighborHooks() = default;
  // Broadcast a request for target (IPv4: an ARP request; IPv6: a Neighbor
  // Solicitation to its solicited-node group), or unicast it to `unicast_to`
  // when refreshing an entry we already know (RFC 1122 §2.3.2.1, RFC 4861
  // §7.3.3's PROBE).
  virtual void send_request(Addr target, const MacAddr* unicast_to, uint16_t vlan) = 0;
  // A frame held for target can go: fill its destination MAC and send it.
  virtual void transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t vlan) = 0;
  // Resolution failed, or the pending queue overflowed: the frame is the
  // owner's to count and release.
  virtual void drop_unresolved(Packet* pkt, Addr target) = 0;
};

using NeighborHooks = BasicNeighborHooks<Ipv4Addr>;
using NeighborHooks6 = BasicNeighborHooks<wire::Ipv6Addr>;

enum class NeighborState : uint8_t { kEmpty, kIncomplete, kReachable, kStale, kFailed, kPermanent };

template <typename Addr>
struct BasicNeighborEntrySnapshot {
  Addr ip;
  MacAddr mac{};
  uint16_t vlan = 0;
  NeighborState state = NeighborState::kEmpty;
  size_t pending = 0;
};

using NeighborEntrySnapshot = BasicNeighborEntrySnapshot<Ipv4Addr>;
using NeighborEntrySnapshot6 = BasicNeighborEntrySnapshot<wire::Ipv6Addr>;

struct NeighborStats {
  uint64_t requests_sent = 0;
  uint64_t resolved = 0;
  uint64_t failed = 0;           // resolutions that ran out of probes
  uint64_t pending_dropped = 0;  // frames dropped: queue full or resolution failed
  uint64_t table_full = 0;       // new addresses refused because no slot was free
};

// Implemented in neighbor.cc, instantiated there for Ipv4Addr and Ipv6Addr
// only.
template <typename Addr>
class BasicNeighborCache {
 public:
  using Address = Addr;
  using Hooks = BasicNeighborHooks<Addr>;
  using EntrySnapshot = BasicNeighborEntrySnapshot<Addr>;

  BasicNeighborCache(NeighborConfig config, Hooks& hooks);
  ~BasicNeighborCache();
  BasicNeighborCache(const BasicNeighborCache&) = delete;
  BasicNeighborCache& operator=(const BasicNeighborCache&) = delete;

  // Fast path, lock-free, any thread: the MAC for ip if it is known
  // (reachable, stale or permanent). A stale hit is still returned and marks
  // the entry for a unicast refresh by the next on_timer().
  std::optional<MacAddr> lookup(Addr ip, uint64_t now_ns) const {
    uint64_t packed = lookup_packed(ip, now_ns);
    if (packed == 0) return std::nullopt;
    MacAddr mac;
    std::memcpy(mac.data(), &packed, mac.size());
    return mac;
  }
  // The same for the TX fast path: the MAC's 6 bytes in memory order in
  // the low bytes, the VLAN in bits 48..59, kPackedValid set; 0 on a miss.
  // A plain integer comes back in a register (an optional<array> goes
  // through the stack).
  static constexpr uint64_t kPackedValid = uint64_t{1} << 63;
  static constexpr int kPackedVlanShift = 48;
  uint64_t lookup_packed(Addr ip, uint64_t now_ns) const;
  static uint16_t packed_vlan(uint64_t packed) { return (packed >> kPackedVlanShift) & 0x0fff; }

  // After a lookup miss: hold pkt until ip resolves. Starts resolution (one
  // request now, then every retrans_ns) when none is running. Returns false
  // when the frame could not be held (limits, full table); the caller keeps
  // it and must drop it.
  bool enqueue_pending(Addr ip, Packet* pkt, uint64_t now_ns);

  // Learned from ARP or NDP. `create`: make an entry if none exists (a
  // request or reply addressed to us); otherwise only refresh an existing one
  // (RFC 826's merge rule; RFC 4861 §7.2.5 likewise ignores an advertisement
  // nobody asked for). Sends the frames held for ip.
  // `vlan`: where it was heard (0: the stack's own VLAN, or none).
  void update(Addr ip, const MacAddr& mac, uint64_t now_ns, bool create, uint16_t vlan = 0);

  // A static entry that never ages (configuration, or seeding from the
  // kernel's table with `permanent` false: seeded entries start stale).
  void insert(Addr ip, const MacAddr& mac, uint64_t now_ns, bool permanent);

  // Retries, failures, refresh probes and garbage collection.
  void on_timer(uint64_t now_ns);

  // Releases all held frames through drop_unresolved (shutdown).
  void flush_pending();

  std::vector<EntrySnapshot> snapshot() const;
  NeighborStats stats() const;

 private:
  struct Slot;
  struct Pending;
  struct Deferred;  // hook calls collected under mutex_, made after it is released
  Slot* find_slot(Addr ip) const;
  Slot* claim_slot(Addr ip, uint64_t now_ns);  // with mutex_ held
  // update() and insert(): ip is at mac, if accept(current view) says so.
  template <typename Accept>
  // `link` is the packed MAC and VLAN (pack_link in neighbor.cc).
  void learn(Addr ip, uint64_t link, NeighborState state, uint64_t now_ns, bool create, Accept accept);
  // Seqlock writes, with mutex_ held. The first keeps the confirmation time.
  void publish(Slot& slot, Addr ip, uint64_t link, NeighborState state);
  void publish(Slot& slot, Addr ip, uint64_t link, NeighborState state, uint64_t confirmed_ns);
  // With mutex_ held.
  Pending settle(Slot& slot, Addr ip, uint64_t link, NeighborState state, uint64_t now_ns);
  void erase(Slot& slot);
  bool evict_one();
  std::pair<Packet*, Addr> take_oldest_pending();  // frame and its address
  void age(Slot& slot, uint64_t now_ns, Deferred& work);
  void run(Deferred& work);  // without mutex_

  NeighborConfig config_;
  Hooks& hooks_;
  size_t mask_;
  std::unique_ptr<Slot[]> slots_;
  mutable std::mutex mutex_;
  size_t pending_total_ = 0;
  NeighborStats stats_;
};

using NeighborCache = BasicNeighborCache<Ipv4Addr>;
using NeighborCache6 = BasicNeighborCache<wire::Ipv6Addr>;

extern template class BasicNeighborCache<Ipv4Addr>;
extern template class BasicNeighborCache<wire::Ipv6Addr>;

}  // namespace dpdkudp::stack
