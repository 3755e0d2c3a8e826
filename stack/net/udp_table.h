// The UDP demultiplexing table: which socket gets a datagram, and which
// local ports are taken.
//
// Pollers read it without locks: each port has an immutable bucket of
// bindings (a value snapshot of each socket's addresses), swapped whole by
// writers under one mutex and freed through the Reclaimer once no poller
// can still see it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "stack/net/reclaim.h"
#include "stack/net/udp_socket.h"

namespace dpdkudp::stack {

// Which IP versions a binding receives: an IPv4 socket kV4; an IPv6 one
// bound to :: both unless IPV6_V6ONLY; bound to (or connected to) an IPv6
// address kV6; to a v4-mapped one kV4.
enum Families : uint8_t { kFamilyV4 = 1, kFamilyV6 = 2 };

// The source half of the flow hash that spreads an SO_REUSEPORT group
// over its sockets (UdpTable::lookup) and over its processes
// (engine/shared_ports.h): one flow, one socket, one process.
inline uint32_t source_hash(Ipv4Addr src, uint16_t src_port) {
  return (src.value * 0x9e3779b1u) ^ (uint32_t{src_port} * 0x85ebca6bu);
}
inline uint32_t source_hash6(const Ipv6Addr& src, uint16_t src_port) {
  uint32_t h = uint32_t{src_port} * 0x85ebca6bu;
  for (size_t i = 0; i < Ipv6Addr::kLen; i += 4) {
    uint32_t w = 0;
    std::memcpy(&w, src.octets.data() + i, 4);
    h ^= w * 0x9e3779b1u;
    h = (h << 13) | (h >> 19);
  }
  return h;
}

// A socket's addressing as the table sees it (remote unset when not
// connected).
struct UdpAddressing {
  uint8_t families = kFamilyV4;
  Ipv4Addr local_addr;   // any (0) = wildcard
  Ipv4Addr remote_addr;  // any = not connected
  Ipv6Addr local6;       // :: = wildcard
  Ipv6Addr remote6;      // :: = not connected
  uint16_t remote_port = 0;
};

struct UdpBinding {
  UdpSocket* socket = nullptr;
  Ipv4Addr local_addr;  // (IPv4 first: the common lookup reads these)
  Ipv4Addr remote_addr;
  uint16_t remote_port = 0;
  uint8_t families = kFamilyV4;
  bool reuse_addr = false;
  bool reuse_port = false;
  uint64_t order = 0;  // bind order; later binds win ties
  Ipv6Addr local6;
  Ipv6Addr remote6;
};

class UdpTable {
 public:
  UdpTable(Reclaimer& reclaimer, uint16_t ephemeral_low, uint16_t ephemeral_high);
  ~UdpTable();
  UdpTable(const UdpTable&) = delete;
  UdpTable& operator=(const UdpTable&) = delete;

  // Binds socket to local (port 0: an ephemeral port). Returns the port or
  // -EADDRINUSE / -EAGAIN (ephemeral range exhausted). A binding conflicts
  // with another of a family they share whose addresses overlap in it
  // (either is the wildcard, or they are equal), unless both allow reuse.
  int bind(UdpSocket* socket, const UdpAddressing& local, uint16_t port, bool reuse_addr, bool reuse_port);
  // IPv4 only: the IPv4 socket's form.
  int bind(UdpSocket* socket, Ipv4Addr local_addr, uint16_t port, bool reuse_addr, bool reuse_port) {
    UdpAddressing a;
    a.local_addr = local_addr;
    return bind(socket, a, port, reuse_addr, reuse_port);
  }
  // Re-addresses an existing binding (connect/disconnect).
  void update(UdpSocket* socket, uint16_t port, const UdpAddressing& addressing);
  void unbind(UdpSocket* socket, uint16_t port);

  // Poller side (inside a Reclaimer read section): Linux's scoring --
  // a match on the bound address, the connected address and the connected
  // port each outrank a wildcard; the best score wins; SO_REUSEPORT groups
  // spread by flow hash; otherwise the latest bind wins a tie.
  // *unconnected (when given) says whether the socket found is not
  // connected: another process may share its port (SO_REUSEPORT, fork).
  UdpSocket* lookup(Ipv4Addr dst, uint16_t dst_port, Ipv4Addr src, uint16_t src_port,
                    bool* unconnected = nullptr) const;
  // The same for an IPv6 datagram.
  UdpSocket* lookup6(const Ipv6Addr& dst, uint16_t dst_port, const Ipv6Addr& src, uint16_t src_port,
                     bool* unconnected = nullptr) const;

  // Every socket that accepts a broadcast datagram to dst_port (bound to
  // the wildcard or to `dst`, and not connected elsewhere).
  template <typename F>
  void for_each_broadcast_match(Ipv4Addr dst, uint16_t dst_port, Ipv4Addr src, uint16_t src_port, F&& fn) const {
    const Bucket* b = buckets_[dst_port].load(std::memory_order_acquire);
    if (b == nullptr) return;
    for (const UdpBinding& e : b->entries) {
      if ((e.families & kFamilyV4) != 0 && score(e, dst, src, src_port) >= 0) fn(e.socket);
    }
  }

  // Every IPv6 socket that accepts a datagram to group dst on dst_port
  // (bound to the wildcard or to the group, not connected elsewhere).
  template <typename F>
  void for_each_multicast6_match(const Ipv6Addr& dst, uint16_t dst_port, const Ipv6Addr& src, uint16_t src_port,
                                 F&& fn) const {
    const Bucket* b = buckets_[dst_port].load(std::memory_order_acquire);
    if (b == nullptr) return;
    for (const UdpBinding& e : b->entries) {
      if (score6(e, dst, src, src_port) >= 0) fn(e.socket);
    }
  }

  bool port_in_use(uint16_t port) const { return buckets_[port].load(std::memory_order_acquire) != nullptr; }
  size_t socket_count() const;

 private:
  struct Bucket {
    std::vector<UdpBinding> entries;
  };
  static int score(const UdpBinding& e, Ipv4Addr dst, Ipv4Addr src, uint16_t src_port);
  static int score6(const UdpBinding& e, const Ipv6Addr& dst, const Ipv6Addr& src, uint16_t src_port);
  template <typename Score>
  const UdpBinding* pick(const Bucket* b, uint32_t flow_hash, Score score) const;
  static UdpSocket* found(const UdpBinding* e, bool* unconnected) {
    if (e == nullptr) return nullptr;
    if (unconnected != nullptr) *unconnected = e->remote_port == 0;
    return e->socket;
  }
  bool conflicts(const Bucket* b, const UdpAddressing& local, bool reuse_addr, bool reuse_port) const;
  void publish(uint16_t port, std::unique_ptr<Bucket> next);  // with mutex_ held
  std::optional<uint16_t> pick_ephemeral(const UdpAddressing& local, bool reuse_addr, bool reuse_port);

  Reclaimer& reclaimer_;
  uint16_t ephemeral_low_;
  uint16_t ephemeral_high_;
  std::unique_ptr<std::atomic<Bucket*>[]> buckets_;  // 65536, indexed by port
  mutable std::mutex mutex_;
  uint64_t next_order_ = 1;
  uint64_t rng_state_;
  size_t sockets_ = 0;
};

}  // namespace dpdkudp::stack
