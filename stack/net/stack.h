// The userspace UDP stack (IPv4 and IPv6) over one Backend.
//
// RX: poll(queue) takes one burst from the backend, parses it (Ethernet,
// 802.1Q, ARP, IPv4, IPv6 and its extension headers, UDP, ICMP, ICMPv6 and
// NDP), answers ARP, NDP and echo in place, and hands datagrams to sockets
// by reference. TX: sockets call send(), which
// routes, resolves the next hop, builds the frame directly in a backend
// buffer (the one copy of the payload) and transmits it.
//
// Threads: one poller per RX queue calls poll(); any thread may use
// sockets; timers run from on_timer() on a poller. The stack never makes a
// syscall on the data path except through the backend (and the socket
// notifier, which is the owner's).
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "backends/api/backend.h"
#include "stack/net/clock.h"
#include "stack/net/counters.h"
#include "stack/net/hooks.h"
#include "stack/net/icmp_rate_limit.h"
#include "stack/net/mpsc_queue.h"
#include "stack/net/multicast.h"
#include "stack/net/neighbor.h"
#include "stack/net/reclaim.h"
#include "stack/net/route.h"
#include "stack/net/tunnel.h"
#include "stack/net/udp_socket.h"
#include "stack/net/udp_table.h"
#include "stack/net/vlan_config.h"
#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"

namespace dpdkudp::stack {

struct StackConfig {
  wire::Ipv4Cidr address;           // our address and its subnet
  std::optional<Ipv4Addr> gateway;  // default route
  std::vector<Route> routes;        // extra routes (e.g. from /proc/net/route)
  uint32_t mtu = 0;                 // 0: the backend's MTU
  VlanConfig vlan;                  // 802.1Q mode (vlan_config.h)
  // Dedicated mode: the address belongs to the stack alone, so it answers
  // ARP, ICMP echo, sends port-unreachable and a gratuitous ARP on start.
  // Shared mode leaves those to the kernel.
  bool dedicated = true;
  uint16_t ephemeral_low = 32768;  // Linux's ip_local_port_range
  uint16_t ephemeral_high = 60999;
  uint8_t default_ttl = 64;
  uint32_t default_rcvbuf = UdpSocket::kDefaultRcvbuf;  // SO_RCVBUF of new sockets
  NeighborConfig neighbor;                              // for ARP and NDP alike
  IcmpRateLimiter::Config icmp_rate;

  // IPv6. Empty addresses6: no IPv6 on the bypass path (IPv6 sockets still
  // serve IPv4 peers). In dedicated mode the stack adds its link-local
  // address (fe80::/64 from the MAC, RFC 4291 appendix A) when none is
  // given, and defends every address by duplicate-address detection.
  std::vector<wire::Ipv6Cidr> addresses6;
  std::optional<Ipv6Addr> gateway6;  // default router (often link-local)
  std::vector<Route6> routes6;
  uint32_t ifindex = 0;  // the interface's index: our link-local scope id
  uint8_t default_hop_limit = 64;

  // Overlay endpoints (tunnel.h): each adds an inner address and subnet.
  std::vector<TunnelConfig> tunnels;
};

class Stack final : private NeighborHooks,
                    private NeighborHooks6,
                    private SocketOwner,
                    private MulticastLink,
                    private MulticastLink6 {
  friend class Tunnel;

 public:
  static constexpr size_t kBurst = 32;

  Stack(Backend& backend, StackConfig config, const Clock& clock);
  ~Stack() override;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Sends the gratuitous ARP (dedicated mode). Call once the backend is up.
  void start();

  // One burst from `queue`: returns the frames taken from the backend.
  // One thread per queue. Queue 0 also drains datagrams looped back to our
  // own address.
  size_t poll(uint16_t queue);
  // Datagrams looped back to our own address wait for poll(0).
  bool loopback_pending() const { return loopback_count_.load(std::memory_order_acquire) != 0; }
  // Whether a poll() that finds nothing costs a system call (see
  // Capabilities::rx_costs_syscall).
  bool rx_costs_syscall() const { return backend_.capabilities().rx_costs_syscall; }
  // ARP retries and ageing, reclamation of closed sockets. From a poller,
  // a few times a second; costs nothing per packet.
  void on_timer();

  // A new unbound socket (ipv6: AF_INET6); the stack owns it until
  // UdpSocket::close().
  UdpSocket* open_udp(bool ipv6 = false);

  CounterSnapshot counters() const;
  // The destination of the latest unicast IPv4 datagram dropped as not
  // ours (0.0.0.0: none yet): the engine tells a dedicated-mode user when
  // it is another address of the host (their clients talk to the kernel's).
  Ipv4Addr last_foreign_destination() const { return Ipv4Addr(last_foreign_dst_.load(std::memory_order_relaxed)); }
  BackendStats backend_stats() const { return backend_.stats(); }
  const StackConfig& config() const { return config_; }
  uint32_t mtu() const { return mtu_; }
  MacAddr mac() const { return mac_; }
  RouteTable& routes() { return routes_; }
  RouteTable6& routes6() { return routes6_; }
  NeighborCache& neighbors() { return neighbors_; }
  NeighborCache6& neighbors6() { return neighbors6_; }
  Reclaimer& reclaimer() { return reclaimer_; }
  const Clock& clock() const { return clock_; }
  size_t open_sockets() const { return table_.socket_count(); }
  // Calls f(const UdpSocket&) for every open socket, under the socket-set
  // lock (opens and closes wait): for the stats publisher, not a fast path.
  template <typename F>
  void for_each_socket(F&& f) {
    std::lock_guard lock(sockets_lock_);
    for (const UdpSocket* s : sockets_) f(*s);
  }

  // Shared mode: reserve each bound port on the host. Set before sockets
  // are opened; the reserver must outlive the stack.
  void set_port_reserver(PortReserver* r) { port_reserver_ = r; }
  void set_poller_waker(PollerWaker* w) { poller_waker_.store(w, std::memory_order_release); }
  // Set before sockets are opened; must outlive the stack's sockets.
  void set_port_steering(PortSteeringHook* h) { port_steering_ = h; }
  // Other processes that receive the same frames (hooks.h). Set before
  // the pollers start; must outlive the stack.
  void set_port_sharing(const PortSharing* s) { port_sharing_ = s; }
  // IP_MULTICAST_LOOP to the host's kernel sockets (hooks.h). Set before
  // the pollers start; must outlive the stack.
  void set_host_multicast_loop(HostMulticastLoop* h) { host_loop_ = h; }
  // Other processes' members of our groups (hooks.h). Set before the
  // pollers start; must outlive the stack.
  void set_group_peers(GroupPeers* p) { group_peers_ = p; }
  // Every (group, local port) one of our sockets joined, IPv4 and IPv6
  // (sockets not bound yet are left out): what the engine publishes to the
  // other processes on the interface. Under the memberships' locks.
  std::vector<GroupKey> group_memberships() const;
  // A frame (link header first) from another process on the interface,
  // into the receive path as a looped-back frame (queue 0's driver takes
  // it). False when no buffer holds it (counted).
  bool inject_looped_frame(const uint8_t* frame, size_t len);
  // Counts n drops the engine saw for the stack (the copies of group
  // datagrams between processes lost on the way). Any thread.
  void count_drop(DropReason reason, uint64_t n = 1) { tx_counters_.drop(reason, n); }

  // IPv4 multicast (multicast.h): socket s joins (join) or leaves group
  // on the interface, for any source (source nullptr) or that one; 0 or
  // -errno as Linux's IP_ADD_MEMBERSHIP and friends.
  int multicast_membership(UdpSocket& s, Ipv4Addr group, const Ipv4Addr* source, bool join);
  // IP_BLOCK_SOURCE / IP_UNBLOCK_SOURCE on an any-source membership.
  int multicast_block(UdpSocket& s, Ipv4Addr group, Ipv4Addr source, bool block) {
    return multicast_->block(&s, group, source, block);
  }
  const MulticastGroups& multicast() const { return *multicast_; }
  // IPv6 multicast, the same with MLD (IPV6_JOIN_GROUP, MCAST_* with
  // AF_INET6 groups).
  int multicast6_membership(UdpSocket& s, const Ipv6Addr& group, const Ipv6Addr* source, bool join);
  int multicast6_block(UdpSocket& s, const Ipv6Addr& group, const Ipv6Addr& source, bool block) {
    return multicast6_->block(&s, group, source, block);
  }
  const MulticastGroups6& multicast6() const { return *multicast6_; }

  // Is addr one of ours (unicast; a tunnel's inner address too), so
  // datagrams to it loop inside?
  bool is_local_address(Ipv4Addr addr) const {
    return addr == config_.address.addr || (!tunnels_.empty() && tunnel_by_inner(addr) != nullptr);
  }
  // The configured tunnels, in order.
  size_t tunnel_count() const { return tunnels_.size(); }
  const Tunnel& tunnel(size_t i) const { return *tunnels_[i]; }
  Tunnel& tunnel(size_t i) { return *tunnels_[i]; }
  bool is_local_address6(const Ipv6Addr& addr) const {
    return find_address6(addr) >= 0 || (!tunnels_.empty() && tunnel_by_inner6(addr) != nullptr);
  }
  // Our IPv6 addresses (configured, then the link-local one the stack
  // added), and whether duplicate-address detection found another node
  // using one (it is then not used).
  struct Address6 {
    wire::Ipv6Cidr cidr;
    bool duplicate = false;
  };
  std::vector<Address6> addresses6() const;
  bool ipv6_enabled() const { return !addrs6_.empty(); }
  // The path MTU to an IPv6 destination: the route's, lowered by a Packet
  // Too Big (RFC 8201) for 10 minutes (Linux's ip6_rt_mtu_expires). For
  // the TX path and IPV6_MTU.
  uint32_t path_mtu6(const Ipv6Addr& dst, uint32_t route_mtu) const {
    if (pmtu6_count_.load(std::memory_order_acquire) == 0) return route_mtu;
    return learned_mtu6(dst, route_mtu);
  }

 private:
  struct RxBatch;
  struct OutFrame;

  // ---- socket plumbing (SocketOwner: UdpSocket calls these) ----
  int socket_bind(UdpSocket& s, Endpoint local) override;
  // Takes (addr, port) in the table and, when a reserver is set, on the
  // host; with s.addr_lock_ held. Returns the port or -errno.
  int bind_port(UdpSocket& s, const Endpoint& local);
  int reserve_and_bind(UdpSocket& s, const Endpoint& local, const UdpAddressing& key);
  void unbind_port(UdpSocket& s);
  // The table's view of the socket's addressing (with s.addr_lock_ held).
  static UdpAddressing addressing_of(const UdpSocket& s);
  // An endpoint the socket's family may use, canonical (v4-mapped as IPv4),
  // or -errno.
  static int check_family(const UdpSocket& s, Endpoint& e);
  int socket_connect(UdpSocket& s, Endpoint remote) override;
  int socket_disconnect(UdpSocket& s) override;
  int64_t socket_send(UdpSocket& s, std::span<const iovec> iov, const Endpoint* dst) override;
  int64_t socket_send_batch(UdpSocket& s, std::span<SendSlot> msgs) override;
  void socket_close(UdpSocket& s) override;
  void release_packets(std::span<Packet* const> pkts) override { backend_.release(pkts); }
  void release(Packet* pkt) { backend_.release({&pkt, 1}); }
  void release(std::span<Packet* const> pkts) { backend_.release(pkts); }

  // ---- RX ----
  void receive(Packet* pkt, RxBatch& batch);
  void receive_frame(Packet* pkt, RxBatch& batch);  // the Ethernet header on
  void receive_arp(Packet* pkt, size_t l2_len, RxBatch& batch);
  void receive_ipv4(Packet* pkt, size_t l2_len, RxBatch& batch);
  void receive_udp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch);
  void receive_icmp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch);
  void receive_igmp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch);  // stack_multicast.cc
  // MLD (ICMPv6 130-132, 143; checksum verified): queries to the groups.
  void receive_mld(Packet* pkt, std::span<const uint8_t> msg, RxBatch& batch);  // stack_multicast.cc
  // A copy of a received datagram onto s's queue (false: no room there, or
  // no buffer; counted).
  bool deliver_copy(UdpSocket* s, const Packet* pkt, RxBatch& batch);
  // A datagram to an IPv6 group: a copy to every socket that takes it.
  void deliver_multicast6(Packet* pkt, const Ipv6Addr& group, const Ipv6Addr& src, RxBatch& batch);
  // A broadcast or multicast datagram: a copy to every socket that takes it.
  void deliver_broadcast(Packet* pkt, RxBatch& batch);
  void icmp_error_to_socket(Ipv4Addr offender, uint8_t type, uint8_t code, uint16_t mtu,
                            std::span<const uint8_t> original);
  void send_port_unreachable(const Packet* pkt, size_t l2_len, RxBatch& batch);
  // Does this stack answer ARP, NDP, echo and closed ports for the frame
  // in hand: inside a tunnel always; on the interface in dedicated mode,
  // and then only the one process of those sharing it that answers.
  bool answers_for_host(const RxBatch& batch) const;
  void drop(Packet* pkt, DropReason reason, RxBatch& batch);
  // Appends a datagram (meta filled in) to the batch's run for socket s,
  // or drops it when s's receive buffer is full.
  void enqueue_datagram(UdpSocket* s, Packet* pkt, RxBatch& batch);

  // ---- RX, IPv6 (stack_ipv6.cc) ----
  void receive_ipv6(Packet* pkt, size_t l2_len, RxBatch& batch);
  void receive_udp6(Packet* pkt, size_t l2_len, size_t l4_off, RxBatch& batch);
  void receive_icmp6(Packet* pkt, size_t l2_len, size_t l4_off, RxBatch& batch);
  void receive_ns(Packet* pkt, std::span<const uint8_t> icmp, RxBatch& batch);
  void receive_na(Packet* pkt, std::span<const uint8_t> icmp, RxBatch& batch);
  void icmp6_error_to_socket(const Ipv6Addr& offender, uint8_t type, uint8_t code, uint32_t info,
                             std::span<const uint8_t> original);
  void send_port_unreachable6(const Packet* pkt, size_t l2_len, RxBatch& batch);
  // Index in addrs6_ of one of our addresses, or -1.
  int find_address6(const Ipv6Addr& a) const {
    for (size_t i = 0; i < addrs6_.size(); ++i) {
      if (addrs6_[i].cidr.addr == a) return static_cast<int>(i);
    }
    return -1;
  }
  // The source address for a datagram to dst (RFC 6724 in small: same
  // scope first, then the longest matching prefix), or nullopt.
  std::optional<Ipv6Addr> select_source6(const Ipv6Addr& dst) const;
  // Accepted at L2 and L3: all-nodes and our solicited-node groups.
  bool accepts_multicast6(const Ipv6Addr& group) const;
  void note_duplicate6(size_t index, const MacAddr& from);
  uint32_t learned_mtu6(const Ipv6Addr& dst, uint32_t route_mtu) const;
  void learn_mtu6(const Ipv6Addr& dst, uint32_t mtu, uint64_t now_ns);
  // ---- tunnels (stack_tunnel.cc) ----
  void start_tunnels();
  Tunnel* tunnel_by_inner6(const Ipv6Addr& addr) const;
  Tunnel* tunnel_by_inner(Ipv4Addr addr) const {
    for (const auto& t : tunnels_) {
      if (t->config().inner.addr == addr) return t.get();
    }
    return nullptr;
  }
  // Is port one of the tunnels' outer UDP ports (of that outer family)?
  bool is_tunnel_port(uint16_t port, bool v6) const {
    for (const auto& t : tunnels_) {
      if (t->config().outer_port() == port && t->config().outer_v6 == v6) return true;
    }
    return false;
  }
  bool is_tunnel_local(Ipv4Addr addr) const;
  // A datagram to a tunnel port (checksum verified, meta set): decapsulate
  // and receive the inner frame as the tunnel's.
  void receive_tunnel(Packet* pkt, size_t l4_off, bool outer_v6, RxBatch& batch);
  // The address and subnet the frame in hand was sent to: the interface's
  // or the tunnel's inner one.
  const wire::Ipv4Cidr& rx_address(const RxBatch& batch) const;
  // Frames answered from RX (ARP, echo, errors): encapsulated when the
  // request came through a tunnel.
  void send_reply(Packet* pkt, RxBatch& batch);
  // Writes the outer headers of a tunnel frame whose inner frame is built
  // (inner Ethernet included) and resolves the outer next hop. Returns the
  // frame when it can go now; nullptr when it is held for ARP/NDP or was
  // dropped (and counted).
  // What dispatch() learned about one tunnel's next hops, kept for the rest
  // of its batch (a burst usually goes to one peer through one tunnel), as
  // dispatch() keeps the interface's next hop.
  struct TunnelHops {
    const Tunnel* tunnel = nullptr;  // whose hops these are
    Ipv4Addr inner_hop;
    uint64_t inner_mac = 0;  // lookup_packed()'s word; 0: not known
    bool outer_routed = false;
    Ipv4Addr outer_hop;
    Ipv6Addr outer_hop6;
    uint64_t outer_mac = 0;
    void use_for(const Tunnel& t) {
      if (tunnel != &t) {
        *this = TunnelHops{};
        tunnel = &t;
      }
    }
  };
  Packet* encapsulate(Tunnel& t, Packet* pkt, uint64_t now_ns, TunnelHops* hops = nullptr);
  // A datagram routed into a tunnel: inner neighbour, then encapsulate().
  Packet* send_tunneled(const OutFrame& f, uint64_t now_ns, TunnelHops& hops);

  // ---- TX ----
  size_t link_header_len(const Tunnel* link) const { return link ? link->encap_len() : link_header_len(); }
  // The link header of a frame on `link`: the interface's, or a tunnel's
  // inner Ethernet (nothing for GUE) after room for the outer headers.
  void emit_link_header(Packet* pkt, const MacAddr& dst, uint16_t ethertype, const Tunnel* link, uint16_t vlan) const;
  // Writes the 14-byte Ethernet header at the front of pkt and asks for the
  // 802.1Q tag `vlan` takes (0: the stack's own VLAN) through kTxVlanInsert;
  // transmit() inserts it in software when the device does not.
  static constexpr size_t link_header_len() { return wire::EthernetFrame::kHeaderLen; }
  void emit_link_header(Packet* pkt, const MacAddr& dst, uint16_t ethertype, uint16_t vlan = 0) const;
  // The tag a frame on `vlan` carries: 0 for none (access mode, the native
  // VLAN, no VLAN at all), else the TCI with the configured priority.
  uint16_t tx_tci(uint16_t vlan) const {
    if (vlan == 0) vlan = tx_vlan_;
    return vlan == 0 || vlan == config_.vlan.native ? 0 : static_cast<uint16_t>(vlan | tx_pcp_bits_);
  }
  // A frame whose header is written goes on `vlan` instead (a trunk
  // neighbour heard on another VLAN than the stack's own).
  void retag(Packet* pkt, uint16_t vlan) const;
  // The 802.1Q tags the device would not insert, moved into the headroom.
  static void insert_tags(std::span<Packet*> pkts);
  // Hands frames to the backend (serialised per TX queue, bounded retries);
  // drops and counts what it would not take.
  size_t transmit(uint16_t queue, std::span<Packet*> pkts);
  // A datagram built in a TX buffer, waiting for its link header.
  struct OutFrame {
    enum Kind : uint8_t { kToNextHop, kToMac, kLoopback };
    Packet* pkt = nullptr;
    Kind kind = kToNextHop;
    bool v6 = false;
    Ipv4Addr next_hop;        // kToNextHop: resolve through ARP
    MacAddr mac{};            // kToMac: broadcast / multicast
    Ipv6Addr next_hop6;       // kToNextHop, v6: resolve through NDP
    uint16_t link = 0;        // kToNextHop: the route's link (tunnel link - 1)
    bool loop = false;        // kToMac: a copy to our own group members too
    bool loop_host = false;   // kToMac: and one to the host's kernel members
    bool loop_peers = false;  // kToMac: and one to other processes' members
  };
  // Validates, routes and builds one datagram (payload copied once).
  // Returns the payload length or -errno (nothing allocated then).
  int64_t build_datagram(UdpSocket& s, std::span<const iovec> iov, const Endpoint* dst, OutFrame& out,
                         const Ipv6Addr* src6 = nullptr);
  [[gnu::noinline]] int64_t build_datagram6(UdpSocket& s, std::span<const iovec> iov, const Endpoint& dst,
                                            size_t payload_len, OutFrame& out, const Ipv6Addr* src6);
  // NDP and IPv6 control messages: the ICMPv6 message written by `fill`
  // (len bytes) into a frame from src to dst, sent at once.
  template <typename Fill>
  void send_icmp6(const MacAddr& eth_dst, const Ipv6Addr& src, const Ipv6Addr& dst, size_t len, Fill fill,
                  uint16_t vlan = 0, Tunnel* link = nullptr);
  // `link`: inside that tunnel (encapsulated), from its inner address.
  void send_ns(const Ipv6Addr& target, const MacAddr* unicast_to, bool dad, uint16_t vlan = 0, Tunnel* link = nullptr);
  void send_na(const Ipv6Addr& target, const Ipv6Addr& dst, const MacAddr& eth_dst, bool solicited, bool override_flag,
               uint16_t vlan = 0, Tunnel* link = nullptr);
  void start6();
  // Resolves link addresses and hands the frames to the backend in one
  // burst (frames waiting for ARP are held by the neighbor cache).
  void dispatch(std::span<OutFrame> frames);
  void send_arp(wire::ArpOp op, const MacAddr& eth_dst, const MacAddr& target_mac, Ipv4Addr target_ip,
                Tunnel* link = nullptr, uint16_t vlan = 0);
  uint16_t tx_queue_for_thread() const;

  // ---- MulticastLink and MulticastLink6 (stack_multicast.cc) ----
  void send_report(std::span<const wire::IgmpGroupRecord> records) override;
  void send_old(int version, bool leave, const Ipv4Addr& group) override;
  int listen_to_group(const Ipv4Addr& group, bool on) override;
  void send_report(std::span<const wire::MldGroupRecord> records) override;
  void send_old(int version, bool leave, const Ipv6Addr& group) override;
  int listen_to_group(const Ipv6Addr& group, bool on) override;
  // An IGMP message (checksum set) to dst, in an IPv4 header with Router
  // Alert, TTL 1, from the interface's address.
  void send_igmp(std::span<const uint8_t> msg, Ipv4Addr dst);
  // An MLD message to dst from our link-local address (:: without one),
  // hop limit 1 behind a Hop-by-Hop Router Alert; emit writes it and its
  // checksum for the source it is given, and returns its length.
  template <class Emit>
  void send_mld(size_t len, const Ipv6Addr& dst, Emit&& emit);
  // A frame whose link header is written back into RX through queue 0's
  // poller, flagged as a NIC would have left it on the way out and back in
  // (checksums good: they may have been left to the device).
  void push_loopback(Packet* pkt);
  // A copy of a multicast frame for the stack's own members
  // (IP_MULTICAST_LOOP), into RX as a looped-back frame.
  void loop_multicast_copy(const Packet* pkt);
  // A group datagram received from the wire, where the backend gave it to
  // this process alone: a copy for each other process with a member.
  void forward_to_peers(const Packet* pkt, const GroupKey& key);

  // ---- NeighborHooks (ARP) and NeighborHooks6 (NDP) ----
  void send_request(Ipv4Addr target, const MacAddr* unicast_to, uint16_t vlan) override;
  void send_request(Ipv6Addr target, const MacAddr* unicast_to, uint16_t vlan) override;
  void transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t vlan) override;
  void drop_unresolved(Packet* pkt, Ipv4Addr target) override;
  void drop_unresolved(Packet* pkt, Ipv6Addr target) override;

  // Monotonic time as of the last burst or timer: the TX path reads this
  // instead of the clock (ARP ageing needs no better than milliseconds).
  uint64_t coarse_now_ns() const { return coarse_now_ns_.load(std::memory_order_relaxed); }

  Backend& backend_;
  StackConfig config_;
  const Clock& clock_;
  Capabilities caps_;
  MacAddr mac_;
  uint32_t mtu_;
  // 802.1Q, from config_.vlan: the VIDs received (bit 0: untagged), the
  // VLAN an untagged frame belongs to, the VLAN of frames to a neighbour
  // with none of its own (0: untagged), the priority bits, whether a trunk
  // learns its neighbours' VLANs, and whether transmit() inserts tags.
  std::bitset<4096> rx_vids_;
  uint16_t untagged_vlan_ = 0;
  uint16_t tx_vlan_ = 0;
  uint16_t tx_pcp_bits_ = 0;
  bool learn_vlans_ = false;
  bool tags_in_software_ = false;
  // A trunk resolves a neighbour on each of its VLANs (its own first, the
  // native one, the allowed ones; at most kMaxResolveVlans): the answer
  // says which VLAN the neighbour is on.
  static constexpr size_t kMaxResolveVlans = 64;
  std::vector<uint16_t> resolve_vlans_;
  std::atomic<uint64_t> coarse_now_ns_{0};

  PortReserver* port_reserver_ = nullptr;
  PortSteeringHook* port_steering_ = nullptr;
  HostMulticastLoop* host_loop_ = nullptr;
  GroupPeers* group_peers_ = nullptr;
  const PortSharing* port_sharing_ = nullptr;
  std::atomic<PollerWaker*> poller_waker_{nullptr};
  Reclaimer reclaimer_;
  RouteTable routes_;
  RouteTable6 routes6_;
  NeighborCache neighbors_;
  NeighborCache6 neighbors6_;
  // Our IPv6 addresses, fixed at construction; duplicate_ set by DAD.
  struct OwnAddress6 {
    wire::Ipv6Cidr cidr;
    std::unique_ptr<std::atomic<bool>> duplicate;
  };
  std::vector<OwnAddress6> addrs6_;
  std::atomic<uint64_t> dad_until_ns_{0};  // optimistic DAD: a defender before this is a duplicate
  // Path MTUs learned from Packet Too Big: a few destinations, the oldest
  // replaced; the count lets the TX path skip the lock when there are none.
  struct LearnedMtu6 {
    Ipv6Addr dst;
    uint32_t mtu = 0;
    uint64_t expires_ns = 0;
  };
  static constexpr size_t kMaxLearnedMtu6 = 64;
  static constexpr uint64_t kLearnedMtuNs = 600'000'000'000;
  mutable std::mutex pmtu6_lock_;
  std::vector<LearnedMtu6> pmtu6_;
  std::atomic<uint32_t> pmtu6_count_{0};
  std::vector<std::unique_ptr<Tunnel>> tunnels_;
  UdpTable table_;
  std::unique_ptr<MulticastGroups> multicast_;
  std::unique_ptr<MulticastGroups6> multicast6_;
  IcmpRateLimiter icmp_limiter_;  // guarded by icmp_limiter_lock_ (pollers of all queues)

  // Datagrams to our own address, processed by queue 0's poller.
  PacketMpscQueue loopback_;
  std::atomic<uint32_t> loopback_count_{0};

  // TX buffers taken from the backend a burst at a time, per thread slot
  // (the backend's alloc is a shared ring; this is a plain array).
  struct alignas(64) TxBufferCache {
    static constexpr size_t kCapacity = 32;
    Packet* bufs[kCapacity];
    size_t count = 0;
  };
  Packet* alloc_tx_buffer();
  std::unique_ptr<TxBufferCache[]> tx_buffer_cache_;

  struct alignas(64) TxLock {
    std::atomic_flag held = ATOMIC_FLAG_INIT;
  };
  std::unique_ptr<TxLock[]> tx_locks_;
  std::mutex icmp_limiter_lock_;  // several pollers may send errors

  std::mutex sockets_lock_;
  std::unordered_set<UdpSocket*> sockets_;  // open sockets, freed with the stack

  std::unique_ptr<RxQueueCounters[]> rx_counters_;
  TxCounters tx_counters_;
  std::atomic<uint64_t> next_socket_id_{1};
  std::atomic<uint32_t> last_foreign_dst_{0};  // last_foreign_destination()
};

}  // namespace dpdkudp::stack
