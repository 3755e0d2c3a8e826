// The interfaces through which the stack reaches what lies outside it: the
// host's port table, the device's steering, a socket's owner and the
// engine's poller. The engine and the shim implement them; the stack only
// calls them. Each says from which threads it is called.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "backends/api/backend.h"
#include "stack/net/endpoint.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;
using wire::Ipv6Addr;

class UdpSocket;

// Takes local ports on the host for the stack's sockets (shared mode: a
// kernel UDP socket per port keeps other processes off it and stops the
// kernel answering port-unreachable for it). Called under the socket's
// address lock, from app threads.
class PortReserver {
 public:
  virtual ~PortReserver() = default;
  // Reserves `local` (port 0 asks for any free port) for the socket's
  // family: an IPv4 endpoint, or an IPv6 one (:: on a socket that is not
  // IPV6_V6ONLY takes the IPv4 port too, as on the host). Returns the port
  // and sets *token, or -errno (EADDRINUSE, EACCES, ...).
  virtual int reserve(const UdpSocket& socket, const Endpoint& local, bool reuse_addr, bool reuse_port,
                      uintptr_t* token) = 0;
  virtual void release(uintptr_t token) = 0;
};

// Tells the device which local ports the stack owns (AF_XDP: the XDP
// program's port map), so their datagrams are steered to the stack and
// everything else stays with the kernel. addr 0 (or ::): any of our
// addresses. From app threads (bind, close).
class PortSteeringHook {
 public:
  virtual ~PortSteeringHook() = default;
  // 0 or a positive errno. share: PortShare flags (backends/api/backend.h),
  // the socket's SO_REUSEPORT and SO_REUSEADDR (another process's sockets
  // with the same may share the port).
  virtual int steer(Ipv4Addr addr, uint16_t port, bool on, uint32_t share) = 0;
  // The same for IPv6 datagrams to (addr, port).
  virtual int steer6(const Ipv6Addr& addr, uint16_t port, bool on, uint32_t share) = 0;
  // An IPv4 group the stack joined (on) or left (off): its datagrams, and
  // IGMP, to the stack. Nothing to do where every frame reaches the stack.
  virtual int steer_group(Ipv4Addr /*group*/, bool /*on*/) { return 0; }
  virtual int steer_group6(const Ipv6Addr& /*group*/, bool /*on*/) { return 0; }
};

// Other processes' stacks that receive the same frames (AF_PACKET hands
// every packet socket on an interface a copy of each frame): which process
// takes a datagram, and which one answers for the host. The stack asks for
// every datagram that an unconnected socket of its own, or none, would
// take. From pollers; must not block, and costs a few loads when the port
// is not shared.
class PortSharing {
 public:
  enum class Owner : uint8_t {
    kUs,            // this process takes it (the hash chose us, or nobody else shares)
    kOtherProcess,  // another process's socket takes it
    kNobody,        // no process serves the port
  };
  virtual ~PortSharing() = default;
  virtual Owner owner(Ipv4Addr dst, uint16_t dst_port, Ipv4Addr src, uint16_t src_port) const = 0;
  virtual Owner owner6(const Ipv6Addr& dst, uint16_t dst_port, const Ipv6Addr& src, uint16_t src_port) const = 0;
  // Whether this process answers ARP, NDP, echo and sends port unreachable
  // (dedicated mode): one process of those sharing the interface does.
  virtual bool answers_for_host() const = 0;
};

// How a socket tells its owner that readiness changed. Both calls come
// from stack threads and must not block.
class SocketNotifier {
 public:
  virtual ~SocketNotifier() = default;
  virtual void ring() = 0;   // the socket became readable (data or error)
  virtual void clear() = 0;  // the socket is no longer readable
};

// IP_MULTICAST_LOOP beyond the stack's own sockets: a copy of each group
// datagram the stack sends out of the interface, for the host's kernel
// sockets that joined the group there (the stack loops to its own members
// itself). The engine implements it; from app threads and pollers.
class HostMulticastLoop {
 public:
  virtual ~HostMulticastLoop() = default;
  // Whether the host's kernel has a member of the group on the interface:
  // a view a few ticks old at most, read without blocking.
  virtual bool kernel_member(Ipv4Addr group) = 0;
  virtual bool kernel_member6(const Ipv6Addr& group) = 0;
  // Hands the kernel the datagram whose IPv4 or IPv6 header starts at l3
  // (len bytes, header and payload as they go out). Must not block.
  virtual void loop_to_kernel(const uint8_t* l3, size_t len, bool v6) = 0;
};

// A multicast group and a UDP port, as processes sharing an interface
// publish their members (engine/shared_ports.h). The address in network
// order, an IPv4 group in the first four bytes.
struct GroupKey {
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
  bool v6 = false;

  static GroupKey of(Ipv4Addr group, uint16_t port) {
    GroupKey k;
    wire::store_be32(k.addr.data(), group.value);
    k.port = port;
    return k;
  }
  static GroupKey of(const Ipv6Addr& group, uint16_t port) {
    GroupKey k;
    k.addr = group.octets;
    k.port = port;
    k.v6 = true;
    return k;
  }
  bool operator==(const GroupKey&) const = default;
};

// The other processes on the interface that have members of a group
// (engine/group_peers.h): IP_MULTICAST_LOOP reaches their members, and
// where the backend hands a group datagram to one process only (AF_XDP)
// the stack passes copies to the others. From app threads and pollers.
class GroupPeers {
 public:
  virtual ~GroupPeers() = default;
  // Whether another process has a socket on key.port in group key.addr
  // (a view as fresh as the last change any process published).
  virtual bool member(const GroupKey& key) = 0;
  // Hands each such process a copy of the frame (link header first, no
  // VLAN tag). Must not block.
  virtual void send_copies(const GroupKey& key, const uint8_t* frame, size_t len) = 0;
  // A group datagram from the wire reaches one process only: the stack
  // passes copies of what it receives to the others.
  virtual bool forward_received() const = 0;
  // A socket of the stack joined or left a group (app threads, after the
  // stack's own change): the process's records are published again.
  virtual void memberships_changed() = 0;
};

// Wakes the poller of queue 0 when the stack queued work for it from
// another thread (a datagram looped back to our own address).
class PollerWaker {
 public:
  virtual ~PollerWaker() = default;
  virtual void wake() = 0;
};

}  // namespace dpdkudp::stack
