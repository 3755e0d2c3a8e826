// IP_MULTICAST_LOOP to the host's kernel sockets (stack::HostMulticastLoop):
// a copy of each group datagram the stack sends out of the interface goes
// to the kernel through a raw socket (IPPROTO_RAW, the header ours) with
// the TTL or hop limit set to 0 and the interface as the multicast
// interface. Linux then loops it to its members on that interface, as it
// does a local sender's group datagram, and sends nothing on the wire: a
// datagram with TTL 0 never leaves the host.
//
// Linux loops only when it has a member of the group on the interface;
// without one it would transmit the copy (TTL 0 on the wire). So a copy
// is made only for groups the kernel has joined there, read from
// /proc/net/igmp and /proc/net/igmp6 at the engine's tick (every 100 ms
// while copies are asked for). A member that leaves between two reads
// can let a copy out with TTL 0 (routers drop it; a host on the link may
// take it): docs/compatibility.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "stack/net/hooks.h"

namespace dpdkudp::engine {

class HostMulticastLoopImpl final : public stack::HostMulticastLoop {
 public:
  HostMulticastLoopImpl(std::string iface, int ifindex);
  ~HostMulticastLoopImpl() override;

  bool kernel_member(stack::Ipv4Addr group) override;
  bool kernel_member6(const stack::Ipv6Addr& group) override;
  void loop_to_kernel(const uint8_t* l3, size_t len, bool v6) override;

  // The engine's tick: re-reads the kernel's memberships when copies were
  // asked for since the last read and it is older than 100 ms.
  void on_tick(uint64_t now_ns);

  // Parsers of /proc/net/igmp and /proc/net/igmp6 (the groups of one
  // interface), public for tests.
  static std::vector<stack::Ipv4Addr> parse_igmp(const std::string& text, const std::string& iface);
  static std::vector<stack::Ipv6Addr> parse_igmp6(const std::string& text, const std::string& iface);

  uint64_t copies() const { return copies_.load(std::memory_order_relaxed); }
  // Copies that could not be sent (no raw socket: CAP_NET_RAW; the first
  // is said once at the warn level).
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  // The kernel's groups on the interface, of each family.
  struct Groups {
    std::vector<stack::Ipv4Addr> v4;
    std::vector<stack::Ipv6Addr> v6;
  };
  int socket_for(bool v6);
  Groups read_groups() const;
  void store(Groups groups, uint64_t now_ns);
  const Groups& asked();  // a sender's look at the lists (read if need be)

  const std::string iface_;
  const int ifindex_;
  std::mutex lock_;  // the group lists and the sockets
  Groups groups_;
  int fd4_ = -1, fd6_ = -1;
  std::atomic<bool> asked_{false};
  uint64_t read_ns_ = 0;  // when the lists were read (monotonic); 0: not read
  std::atomic<uint64_t> copies_{0}, failures_{0};
};

}  // namespace dpdkudp::engine
