// The socket-facing half of the stack: addressing and the TX path.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include "stack/net/stack.h"
#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/udp.h"

namespace dpdkudp::stack {

using wire::Ipv4Packet;
using wire::UdpDatagram;

namespace {

constexpr size_t kIpUdpHeaders = Ipv4Packet::kMinHeaderLen + UdpDatagram::kHeaderLen;
constexpr size_t kMaxUdpPayload = 65535 - kIpUdpHeaders;
constexpr int kTxRetries = 64;

// The socket's sharing options, as the port steering takes them.
uint32_t share_flags(const UdpSocket& s) {
  return (s.reuse_port() ? kShareReusePort : 0u) | (s.reuse_addr() ? kShareReuseAddr : 0u);
}

// The one copy of a datagram: the app's payload straight into the frame,
// summed from the source on the way when software does the checksum (the
// frame is never read back).
[[gnu::always_inline]] inline wire::PartialChecksum copy_payload(std::span<const iovec> iov, uint8_t* out, bool sum) {
  wire::PartialChecksum payload_sum;
  for (const iovec& v : iov) {
    if (v.iov_len == 0) continue;
    const auto* src_bytes = static_cast<const uint8_t*>(v.iov_base);
    if (sum) payload_sum.add(src_bytes, v.iov_len);
    std::memcpy(out, src_bytes, v.iov_len);
    out += v.iov_len;
  }
  return payload_sum;
}

}  // namespace

// ---------------------------------------------------------------- addressing

UdpAddressing Stack::addressing_of(const UdpSocket& s) {
  UdpAddressing a;
  if (s.local_) {
    const Endpoint& l = *s.local_;
    if (!l.v6) {
      a.families = kFamilyV4;
      a.local_addr = l.addr;
    } else if (l.addr6.is_unspecified()) {
      a.families = static_cast<uint8_t>(kFamilyV6 | (s.v6only() ? 0 : kFamilyV4));
    } else {
      a.families = kFamilyV6;
      a.local6 = l.addr6;
    }
  }
  if (s.remote_) {
    const Endpoint& r = *s.remote_;
    if (r.v6) {
      a.families &= kFamilyV6;
      a.remote6 = r.addr6;
    } else {
      a.families &= kFamilyV4;
      a.remote_addr = r.addr;
    }
    a.remote_port = r.port;
  }
  return a;
}

int Stack::check_family(const UdpSocket& s, Endpoint& e) {
  if (!s.ipv6_) return e.v6 ? -EAFNOSUPPORT : 0;
  e = e.canonical();
  // Linux: an IPV6_V6ONLY socket has no route to a v4-mapped peer.
  if (!e.v6 && s.v6only()) return -ENETUNREACH;
  return 0;
}

int Stack::bind_port(UdpSocket& s, const Endpoint& local) {
  UdpAddressing key;
  if (!local.v6) {
    key.local_addr = local.addr;
  } else {
    key.families = static_cast<uint8_t>(kFamilyV6 | (local.addr6.is_unspecified() && !s.v6only() ? kFamilyV4 : 0));
    key.local6 = local.addr6;
  }
  int bound = reserve_and_bind(s, local, key);
  if (bound < 0 || port_steering_ == nullptr) return bound;
  const auto port = static_cast<uint16_t>(bound);
  // Steered by the socket's own address, or the wildcard for any of ours.
  int err = 0;
  if ((key.families & kFamilyV4) != 0) {
    Ipv4Addr steer_addr = is_local_address(local.addr) ? local.addr : Ipv4Addr::any();
    err = port_steering_->steer(steer_addr, port, true, share_flags(s));
    if (err == 0) {
      s.steered_addr_ = steer_addr;
      s.steered_ = true;
    }
  }
  // A stack without IPv6 takes no IPv6 traffic: its port stays the kernel's.
  if (err == 0 && (key.families & kFamilyV6) != 0 && ipv6_enabled()) {
    Ipv6Addr steer_addr = is_local_address6(local.addr6) ? local.addr6 : Ipv6Addr();
    err = port_steering_->steer6(steer_addr, port, true, share_flags(s));
    if (err == 0) {
      s.steered_addr6_ = steer_addr;
      s.steered6_ = true;
    }
  }
  if (err != 0) {
    if (s.steered_) port_steering_->steer(s.steered_addr_, port, false, share_flags(s));
    s.steered_ = false;
    table_.unbind(&s, port);
    if (s.reservation_ != 0 && port_reserver_ != nullptr) port_reserver_->release(s.reservation_);
    s.reservation_ = 0;
    return -err;
  }
  return bound;
}

int Stack::reserve_and_bind(UdpSocket& s, const Endpoint& local, const UdpAddressing& key) {
  if (port_reserver_ == nullptr) return table_.bind(&s, key, local.port, s.reuse_addr_, s.reuse_port_);
  // The host picks ephemeral ports, so they are free for the kernel too. A
  // port the host gives that our table holds (a socket bound before the
  // reserver was set) is given back and another asked for, a few times.
  for (int attempt = 0; attempt < 8; ++attempt) {
    uintptr_t token = 0;
    int got = port_reserver_->reserve(s, local, s.reuse_addr_, s.reuse_port_, &token);
    if (got < 0) return got;
    int bound = table_.bind(&s, key, static_cast<uint16_t>(got), s.reuse_addr_, s.reuse_port_);
    if (bound >= 0) {
      s.reservation_ = token;
      return bound;
    }
    port_reserver_->release(token);
    if (local.port != 0) return bound;
  }
  return -EADDRINUSE;
}

void Stack::unbind_port(UdpSocket& s) {
  table_.unbind(&s, s.local_->port);
  if (port_steering_ != nullptr) {
    if (s.steered_) port_steering_->steer(s.steered_addr_, s.local_->port, false, share_flags(s));
    if (s.steered6_) port_steering_->steer6(s.steered_addr6_, s.local_->port, false, share_flags(s));
  }
  s.steered_ = false;
  s.steered6_ = false;
  if (s.reservation_ != 0 && port_reserver_ != nullptr) port_reserver_->release(s.reservation_);
  s.reservation_ = 0;
}

int Stack::socket_bind(UdpSocket& s, Endpoint local) {
  if (!s.ipv6_ && local.v6) return -EAFNOSUPPORT;
  std::lock_guard lock(s.addr_lock_);
  if (s.closed_) return -EBADF;
  if (s.local_) return -EINVAL;  // already bound
  if (s.ipv6_) {
    local = local.canonical();
    if (!local.v6 && s.v6only()) return -EINVAL;  // a v4-mapped address on a v6-only socket
  }
  if (local.v6) {
    const Ipv6Addr& a = local.addr6;
    if (a.is_link_local()) {
      if (local.scope_id == 0) return -EINVAL;  // Linux: a link-local bind names its interface
      if (config_.ifindex != 0 && local.scope_id != config_.ifindex) return -EADDRNOTAVAIL;
    } else {
      local.scope_id = 0;
    }
    if (!a.is_unspecified() && !a.is_multicast() && !is_local_address6(a)) return -EADDRNOTAVAIL;
  } else if (!local.addr.is_unspecified() && !is_local_address(local.addr) && !local.addr.is_broadcast() &&
             local.addr != config_.address.directed_broadcast() && !local.addr.is_multicast()) {
    return -EADDRNOTAVAIL;
  }
  const bool named_port = local.port != 0;
  int port = bind_port(s, local);
  if (port < 0) return port;
  local.port = static_cast<uint16_t>(port);
  s.local_ = local;
  s.explicit_addr_ = !local.is_unspecified();
  s.explicit_port_ = named_port;  // Linux: SOCK_BINDPORT_LOCK only for a named port
  s.publish_addresses();
  return 0;
}

int Stack::socket_connect(UdpSocket& s, Endpoint remote) {
  if (int rc = check_family(s, remote); rc < 0) return rc;
  if (!remote.v6) {
    bool broadcast = remote.addr.is_broadcast() || remote.addr == config_.address.directed_broadcast();
    if (broadcast && !s.broadcast()) return -EACCES;
    if (!broadcast && !remote.addr.is_multicast() && !is_local_address(remote.addr) && !routes_.lookup(remote.addr)) {
      return -ENETUNREACH;
    }
  } else {
    const Ipv6Addr& a = remote.addr6;
    if (a.is_link_local() || (a.is_multicast() && a.multicast_scope() <= 2)) {
      if (remote.scope_id == 0 && a.is_multicast()) remote.scope_id = s.multicast_ifindex6();  // IPV6_MULTICAST_IF
      if (remote.scope_id == 0) return -EINVAL;  // Linux: connecting to a link-local peer needs its interface
      if (config_.ifindex != 0 && remote.scope_id != config_.ifindex) return -ENETUNREACH;
    } else {
      remote.scope_id = 0;
      if (a.is_unspecified()) return -ENETUNREACH;  // Linux's "::" is loopback: the kernel's
      if (!a.is_multicast() && !is_local_address6(a) && !routes6_.lookup(a)) return -ENETUNREACH;
    }
  }
  std::lock_guard lock(s.addr_lock_);
  if (s.closed_) return -EBADF;
  if (!s.local_) {  // autobind, as Linux does on connect
    Endpoint any = s.ipv6_ ? Endpoint::ipv6(Ipv6Addr(), 0) : Endpoint{Ipv4Addr::any(), 0};
    int port = bind_port(s, any);
    if (port < 0) return port;
    any.port = static_cast<uint16_t>(port);
    s.local_ = any;
    s.explicit_port_ = false;
  }
  // Linux fills in the local address the route picked (getsockname shows it).
  Endpoint& local = *s.local_;
  if (!remote.v6) {
    if (local.v6 && !local.addr6.is_unspecified()) return -ENETUNREACH;  // bound to an IPv6 address
    if (local.v6) local = Endpoint{Ipv4Addr::any(), local.port};
    if (local.addr.is_unspecified()) {
      // The address of the link the route takes (a tunnel's inner one).
      RouteResult r;
      local.addr = !tunnels_.empty() && routes_.lookup_into(remote.addr, r) && r.link != 0
                       ? tunnels_[r.link - 1]->config().inner.addr
                       : config_.address.addr;
    }
  } else {
    if (!local.v6) return -ENETUNREACH;  // bound to an IPv4 (v4-mapped) address
    if (local.addr6.is_unspecified()) {
      std::optional<Ipv6Addr> src = select_source6(remote.addr6);
      if (!src) return -ENETUNREACH;
      local.addr6 = *src;
      local.scope_id = src->is_link_local() ? config_.ifindex : 0;
    }
  }
  s.remote_ = remote;
  table_.update(&s, s.local_->port, addressing_of(s));
  s.publish_addresses();
  return 0;
}

int Stack::socket_disconnect(UdpSocket& s) {
  std::lock_guard lock(s.addr_lock_);
  if (s.closed_) return -EBADF;
  s.remote_.reset();
  if (s.local_) {
    if (!s.explicit_addr_) {
      uint16_t port = s.local_->port;
      s.local_ = s.ipv6_ ? Endpoint::ipv6(Ipv6Addr(), port) : Endpoint{Ipv4Addr::any(), port};
    }
    if (!s.explicit_port_) {  // udp_disconnect(): an autobound port goes too
      unbind_port(s);
      s.local_.reset();
    } else {
      table_.update(&s, s.local_->port, addressing_of(s));
    }
  }
  s.publish_addresses();
  return 0;
}

void Stack::socket_close(UdpSocket& s) {
  {
    std::lock_guard lock(s.addr_lock_);
    if (s.closed_) return;
    s.closed_ = true;
    if (s.local_) unbind_port(s);
    s.local_.reset();
    s.remote_.reset();
    s.publish_addresses();
  }
  multicast_->drop_socket(&s, clock_.monotonic_ns());
  multicast6_->drop_socket(&s, clock_.monotonic_ns());
  {
    std::lock_guard lock(sockets_lock_);
    sockets_.erase(&s);
  }
  // A poller may still be delivering to it: free it (and whatever it was
  // handed) once every poller has passed a quiescent point.
  UdpSocket* p = &s;
  reclaimer_.retire([p] { delete p; });
}

// ---------------------------------------------------------------- TX

uint16_t Stack::tx_queue_for_thread() const {
  uint16_t queues = std::max<uint16_t>(caps_.tx_queues, 1);
  if (queues == 1) return 0;
  thread_local const size_t hash = std::hash<std::thread::id>{}(std::this_thread::get_id());
  return static_cast<uint16_t>(hash % queues);
}

Packet* Stack::alloc_tx_buffer() {
  size_t slot = this_thread_slot();
  if (slot >= kThreadSlots) {
    Packet* p = nullptr;
    return backend_.alloc({&p, 1}) == 1 ? p : nullptr;
  }
  TxBufferCache& c = tx_buffer_cache_[slot];
  if (c.count == 0) {
    // Half the cache per refill: a thread holds at most 32 idle buffers.
    c.count = backend_.alloc({c.bufs, TxBufferCache::kCapacity / 2});
    if (c.count == 0) return nullptr;
  }
  return c.bufs[--c.count];
}

void Stack::emit_link_header(Packet* pkt, const MacAddr& dst, uint16_t ethertype, uint16_t vlan) const {
  wire::store_mac(pkt->data + wire::EthernetFrame::kDstOffset, dst);
  wire::store_mac(pkt->data + wire::EthernetFrame::kSrcOffset, mac_);
  wire::store_be16(pkt->data + wire::EthernetFrame::kEtherTypeOffset, ethertype);
  pkt->l2_len = wire::EthernetFrame::kHeaderLen;
  if (!config_.vlan.enabled()) return;  // the common case
  if (const uint16_t tci = tx_tci(vlan)) {
    pkt->tx_flags |= kTxVlanInsert;
    pkt->vlan_tci = tci;
  }
}

void Stack::retag(Packet* pkt, uint16_t vlan) const {
  pkt->tx_flags &= ~kTxVlanInsert;
  if (const uint16_t tci = tx_tci(vlan)) {
    pkt->tx_flags |= kTxVlanInsert;
    pkt->vlan_tci = tci;
  }
}

// As a NIC would: the tag goes after the MACs, in the headroom every
// backend leaves in front of a TX buffer's data (backend.h).
void Stack::insert_tags(std::span<Packet*> pkts) {
  for (Packet* pkt : pkts) {
    if ((pkt->tx_flags & kTxVlanInsert) == 0) continue;
    uint8_t* tagged = pkt->data - wire::VlanTag::kLen;
    std::memmove(tagged, pkt->data, wire::EthernetFrame::kEtherTypeOffset);
    wire::store_be16(tagged + wire::EthernetFrame::kEtherTypeOffset, wire::ethertype::kVlan);
    wire::store_be16(tagged + wire::EthernetFrame::kEtherTypeOffset + 2, pkt->vlan_tci);
    pkt->data = tagged;
    pkt->len += wire::VlanTag::kLen;
    pkt->room += wire::VlanTag::kLen;
    pkt->l2_len += wire::VlanTag::kLen;
    pkt->tx_flags &= ~kTxVlanInsert;
  }
}

size_t Stack::transmit(uint16_t queue, std::span<Packet*> pkts) {
  uint64_t bytes = 0;
  for (const Packet* p : pkts) bytes += p->len;
  if (tags_in_software_) insert_tags(pkts);
  size_t sent = 0;
  std::atomic_flag& lock = tx_locks_[queue].held;
  while (lock.test_and_set(std::memory_order_acquire)) cpu_relax();
  for (int tries = 0; sent < pkts.size() && tries < kTxRetries; ++tries) {
    sent += backend_.tx_burst(queue, pkts.subspan(sent));
  }
  lock.clear(std::memory_order_release);
  if (sent < pkts.size()) {
    for (size_t i = sent; i < pkts.size(); ++i) bytes -= pkts[i]->len;
    tx_counters_.drop(DropReason::kTxRingFull, pkts.size() - sent);
    release(std::span<Packet* const>(pkts.subspan(sent)));
  }
  tx_counters_.update([&](TxCounterBlock& b) {
    b.frames.add(sent);
    b.bytes.add(bytes);
  });
  return sent;
}

void Stack::send_arp(wire::ArpOp op, const MacAddr& eth_dst, const MacAddr& target_mac, Ipv4Addr target_ip,
                     Tunnel* link, uint16_t vlan) {
  Packet* pkt = nullptr;
  if (backend_.alloc({&pkt, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return;
  }
  emit_link_header(pkt, eth_dst, wire::ethertype::kArp, link, vlan);
  const Ipv4Addr us = link != nullptr ? link->config().inner.addr : config_.address.addr;
  wire::ArpRepr{op, mac_, us, target_mac, target_ip}.emit({pkt->data + pkt->l2_len, wire::ArpRepr::kBufferLen});
  pkt->len = pkt->l2_len + static_cast<uint32_t>(wire::ArpRepr::kBufferLen);
  if (op == wire::ArpOp::kRequest) tx_counters_.update([](TxCounterBlock& b) { b.arp_requests.add(); });
  if (link != nullptr) {
    pkt = encapsulate(*link, pkt, coarse_now_ns());
    if (pkt == nullptr) return;
  }
  transmit(tx_queue_for_thread(), {&pkt, 1});
}

void Stack::send_request(Ipv4Addr target, const MacAddr* unicast_to, uint16_t vlan) {
  if (unicast_to != nullptr) return send_arp(wire::ArpOp::kRequest, *unicast_to, wire::kZeroMac, target, nullptr, vlan);
  if (resolve_vlans_.empty()) return send_arp(wire::ArpOp::kRequest, wire::kBroadcastMac, wire::kZeroMac, target);
  for (uint16_t v : resolve_vlans_) {
    send_arp(wire::ArpOp::kRequest, wire::kBroadcastMac, wire::kZeroMac, target, nullptr, v);
  }
}

void Stack::transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t vlan) {
  wire::store_mac(pkt->data + wire::EthernetFrame::kDstOffset, mac);
  if (learn_vlans_) retag(pkt, vlan);
  transmit(tx_queue_for_thread(), {&pkt, 1});
}

void Stack::drop_unresolved(Packet* pkt, Ipv4Addr /*target*/) {
  tx_counters_.drop(DropReason::kArpUnresolved);
  release(pkt);
}

int64_t Stack::build_datagram(UdpSocket& s, std::span<const iovec> iov, const Endpoint* dst_arg, OutFrame& out,
                              const Ipv6Addr* src6) {
  size_t payload_len = 0;
  for (const iovec& v : iov) payload_len += v.iov_len;

  // The IPv4 path reads the published words, not whole Endpoints: an
  // optional<Endpoint> (IPv6-sized) returned per datagram cost 15% of
  // BM_Tx's rate.
  Ipv4Addr dst_addr;
  uint16_t dst_port;
  if (dst_arg != nullptr) {
    if (dst_arg->v6 || s.ipv6_) [[unlikely]] {
      if (dst_arg->v6 && s.ipv6_ && !dst_arg->addr6.is_v4_mapped() && dst_arg->port != 0) {
        return build_datagram6(s, iov, *dst_arg, payload_len, out, src6);
      }
      Endpoint dst = *dst_arg;
      if (dst.port == 0) return -EINVAL;
      if (int rc = check_family(s, dst); rc < 0) return rc;
      if (dst.v6) return build_datagram6(s, iov, dst, payload_len, out, src6);
    }
    // (A v4-mapped destination of an IPv6 socket names an IPv4 one.)
    dst_addr = dst_arg->v6 ? dst_arg->addr6.mapped_v4().value_or(Ipv4Addr()) : dst_arg->addr;
    dst_port = dst_arg->port;
  } else {
    uint64_t rp = s.remote_packed_.load(std::memory_order_acquire);
    if (rp == 0) return -EDESTADDRREQ;
    if ((rp & UdpSocket::kEndpointV6) != 0) [[unlikely]] {
      std::optional<Endpoint> remote = s.remote();
      if (!remote) return -EDESTADDRREQ;
      return build_datagram6(s, iov, *remote, payload_len, out, src6);
    }
    dst_addr = Ipv4Addr(static_cast<uint32_t>(rp >> 16));
    dst_port = static_cast<uint16_t>(rp);
  }
  if (dst_port == 0) return -EINVAL;
  if (payload_len > kMaxUdpPayload) return -EMSGSIZE;

  uint64_t lp = s.local_packed_.load(std::memory_order_acquire);
  if (lp == 0) {  // autobind on first send, as Linux
    int rc = socket_bind(s, s.ipv6_ ? Endpoint::ipv6(Ipv6Addr(), 0) : Endpoint{Ipv4Addr::any(), 0});
    if (rc < 0 && rc != -EINVAL) return rc;  // EINVAL: another thread bound it first
    std::lock_guard lock(s.addr_lock_);
    s.explicit_port_ = false;
    lp = s.local_packed_.load(std::memory_order_acquire);
    if (lp == 0) return -EBADF;
  }
  const auto local_port = static_cast<uint16_t>(lp);
  Ipv4Addr local_addr(static_cast<uint32_t>(lp >> 16));
  if ((lp & UdpSocket::kEndpointV6) != 0) [[unlikely]] {
    // An IPv6 socket bound to an IPv6 address has no IPv4 source; bound
    // to :: it sends from ours.
    if ((lp & UdpSocket::kEndpointAny6) == 0) return -ENETUNREACH;
    local_addr = Ipv4Addr::any();
  }

  // Where it goes on the link.
  const bool broadcast = dst_addr.is_broadcast() || dst_addr == config_.address.directed_broadcast();
  const bool loopback = is_local_address(dst_addr);
  RouteResult route;
  route.link = 0;
  uint32_t path_mtu = mtu_;
  if (broadcast) {
    if (!s.broadcast()) return -EACCES;
    out.kind = OutFrame::kToMac;
    out.mac = wire::kBroadcastMac;
  } else if (loopback) {
    out.kind = OutFrame::kLoopback;
  } else if (dst_addr.is_multicast()) {
    out.kind = OutFrame::kToMac;
    out.mac = ipv4_multicast_mac(dst_addr);
    out.loop = s.multicast_loop() && multicast_->listening(dst_addr);
    out.loop_host = s.multicast_loop() && host_loop_ != nullptr && host_loop_->kernel_member(dst_addr);
    out.loop_peers =
        s.multicast_loop() && group_peers_ != nullptr && group_peers_->member(GroupKey::of(dst_addr, dst_port));
  } else {
    if (!routes_.lookup_into(dst_addr, route)) {
      tx_counters_.drop(DropReason::kTxNoRoute);
      return -ENETUNREACH;
    }
    path_mtu = route.mtu;
    out.kind = OutFrame::kToNextHop;
    out.next_hop = route.next_hop;
    out.link = route.link;
  }
  // No fragmentation (as the reference): the datagram must fit the path.
  if (payload_len + kIpUdpHeaders > path_mtu) return -EMSGSIZE;

  Packet* pkt = alloc_tx_buffer();
  if (pkt == nullptr) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    s.tx_drops_.add();
    return -ENOBUFS;
  }
  size_t l2 = link_header_len();
  bool soft_csum = loopback;
  Ipv4Addr default_src = config_.address.addr;
  if (route.link != 0) [[unlikely]] {
    // Into a tunnel: room for the outer headers, the inner checksums in
    // software (the device's offloads are for the outer ones), and the
    // source is the inner address.
    const Tunnel& t = *tunnels_[route.link - 1];
    l2 = t.encap_len();
    soft_csum = true;
    default_src = t.config().inner.addr;
  }
  const size_t frame_len = l2 + kIpUdpHeaders + payload_len;
  if (frame_len > pkt->room) {
    release(pkt);
    return -EMSGSIZE;
  }

  const bool hw_l4 = caps_.tx_udp_csum && !soft_csum;
  const bool hw_l3 = caps_.tx_ipv4_csum && !soft_csum;
  const wire::PartialChecksum payload_sum = copy_payload(iov, pkt->data + l2 + kIpUdpHeaders, !hw_l4);
  const Ipv4Addr src =
      local_addr.is_unspecified() || local_addr.is_broadcast() || local_addr.is_multicast() ? default_src : local_addr;
  std::span<uint8_t> datagram{pkt->data + l2 + Ipv4Packet::kMinHeaderLen, UdpDatagram::kHeaderLen + payload_len};
  if (hw_l4) {
    wire::UdpRepr{local_port, dst_port}.emit(datagram, src, dst_addr, wire::ChecksumMode::kPseudoHeader);
  } else {
    wire::UdpRepr{local_port, dst_port}.emit_with_payload_sum(datagram, src, dst_addr, payload_sum.folded());
  }
  uint16_t ident = s.next_ident_.load(std::memory_order_relaxed);
  s.next_ident_.store(static_cast<uint16_t>(ident + 1), std::memory_order_relaxed);
  wire::Ipv4Repr{src,
                 dst_addr,
                 wire::ip_proto::kUdp,
                 static_cast<uint16_t>(UdpDatagram::kHeaderLen + payload_len),
                 dst_addr.is_multicast() ? s.multicast_ttl() : s.ttl(),
                 s.tos(),
                 ident,
                 true}
      .emit({pkt->data + l2, Ipv4Packet::kMinHeaderLen}, !hw_l3);
  pkt->tx_flags = (hw_l4 ? kTxUdpCsum : 0u) | (hw_l3 ? kTxIpv4Csum : 0u);
  pkt->l3_len = Ipv4Packet::kMinHeaderLen;
  pkt->len = static_cast<uint32_t>(frame_len);
  out.pkt = pkt;
  return static_cast<int64_t>(payload_len);
}

int64_t Stack::build_datagram6(UdpSocket& s, std::span<const iovec> iov, const Endpoint& dst, size_t payload_len,
                               OutFrame& out, const Ipv6Addr* src6) {
  constexpr size_t kHeaders = wire::Ipv6Packet::kHeaderLen + UdpDatagram::kHeaderLen;
  if (payload_len > 65535 - UdpDatagram::kHeaderLen) return -EMSGSIZE;
  uint64_t lp = s.local_packed_.load(std::memory_order_acquire);
  if (lp == 0) {  // autobind on first send, as Linux
    int rc = socket_bind(s, Endpoint::ipv6(Ipv6Addr(), 0));
    if (rc < 0 && rc != -EINVAL) return rc;
    std::lock_guard lock(s.addr_lock_);
    s.explicit_port_ = false;
    lp = s.local_packed_.load(std::memory_order_acquire);
    if (lp == 0) return -EBADF;
  }
  if ((lp & UdpSocket::kEndpointV6) == 0) return -ENETUNREACH;  // bound or connected to IPv4
  const auto local_port = static_cast<uint16_t>(lp);
  // Bound to :: (a server's usual socket): the port is all the send needs.
  Ipv6Addr local6;
  uint32_t local_scope = 0;
  if ((lp & UdpSocket::kEndpointAny6) == 0) {
    std::optional<Endpoint> local = s.local();
    if (!local || !local->v6) return -ENETUNREACH;
    local6 = local->addr6;
    local_scope = local->scope_id;
  }

  const Ipv6Addr& to = dst.addr6;
  const bool link_scope = to.is_link_local() || (to.is_multicast() && to.multicast_scope() <= 2);
  if (link_scope) {
    // Linux: a link-local destination names its interface, unless the
    // socket's own link-local address does.
    uint32_t scope = dst.scope_id != 0 ? dst.scope_id : local_scope;
    if (scope == 0 && to.is_multicast()) scope = s.multicast_ifindex6();  // IPV6_MULTICAST_IF
    if (scope == 0) return to.is_multicast() ? -EADDRNOTAVAIL : -EINVAL;  // Linux: no route / no interface
    if (config_.ifindex != 0 && scope != config_.ifindex) return -ENETUNREACH;
  }
  uint32_t path_mtu = mtu_;
  out.v6 = true;
  if (to.is_multicast()) {
    out.kind = OutFrame::kToMac;
    out.mac = to.multicast_mac();
    out.loop = s.multicast_loop6() && multicast6_->listening(to);
    out.loop_host = s.multicast_loop6() && host_loop_ != nullptr && host_loop_->kernel_member6(to);
    out.loop_peers = s.multicast_loop6() && group_peers_ != nullptr && group_peers_->member(GroupKey::of(to, dst.port));
  } else if (is_local_address6(to)) {
    out.kind = OutFrame::kLoopback;
  } else if (link_scope) {
    path_mtu = path_mtu6(to, mtu_);
    out.kind = OutFrame::kToNextHop;
    out.next_hop6 = to;
  } else {
    RouteResult6 route;
    if (to.is_unspecified() || !routes6_.lookup_into(to, route)) {
      tx_counters_.drop(DropReason::kTxNoRoute);
      return -ENETUNREACH;
    }
    path_mtu = path_mtu6(to, route.mtu);
    out.kind = OutFrame::kToNextHop;
    out.next_hop6 = route.next_hop;
    out.link = route.link;
  }
  Ipv6Addr src = local6;
  if (src6 != nullptr && !src6->is_unspecified()) {
    // IPV6_PKTINFO: one of ours (not one DAD gave up), as Linux checks.
    const int idx = find_address6(*src6);
    if (idx < 0 || addrs6_[static_cast<size_t>(idx)].duplicate->load(std::memory_order_relaxed)) return -EINVAL;
    src = *src6;
  }
  if (src.is_unspecified() || src.is_multicast()) {
    std::optional<Ipv6Addr> chosen = select_source6(to);
    if (!chosen) {
      tx_counters_.drop(DropReason::kTxNoRoute);
      return -ENETUNREACH;
    }
    src = *chosen;
  }
  // No fragmentation: the datagram must fit the path.
  if (payload_len + kHeaders > path_mtu) return -EMSGSIZE;

  Packet* pkt = alloc_tx_buffer();
  if (pkt == nullptr) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    s.tx_drops_.add();
    return -ENOBUFS;
  }
  // Into a tunnel: room for the outer headers, the inner checksum in
  // software (as for IPv4).
  const Tunnel* link = out.link != 0 ? tunnels_[out.link - 1].get() : nullptr;
  const size_t l2 = link_header_len(link);
  const size_t frame_len = l2 + kHeaders + payload_len;
  if (frame_len > pkt->room) {
    release(pkt);
    return -EMSGSIZE;
  }
  const bool loopback = out.kind == OutFrame::kLoopback;
  const bool hw_l4 = caps_.tx_udp_csum && !loopback && link == nullptr;
  const wire::PartialChecksum payload_sum = copy_payload(iov, pkt->data + l2 + kHeaders, !hw_l4);
  std::span<uint8_t> datagram{pkt->data + l2 + wire::Ipv6Packet::kHeaderLen, UdpDatagram::kHeaderLen + payload_len};
  if (hw_l4) {
    wire::UdpRepr{local_port, dst.port}.emit(datagram, src, to, wire::ChecksumMode::kPseudoHeader);
  } else {
    wire::UdpRepr{local_port, dst.port}.emit_with_payload_sum(datagram, src, to, payload_sum.folded());
  }
  // IPV6_MULTICAST_HOPS for a group (default 1), else IPV6_UNICAST_HOPS.
  int hops = to.is_multicast() ? s.multicast_hops() : s.hop_limit();
  if (hops < 0) hops = to.is_multicast() ? 1 : config_.default_hop_limit;
  wire::Ipv6Repr{src,
                 to,
                 wire::ip_proto::kUdp,
                 static_cast<uint16_t>(UdpDatagram::kHeaderLen + payload_len),
                 static_cast<uint8_t>(hops),
                 s.tclass(),
                 0}
      .emit({pkt->data + l2, wire::Ipv6Packet::kHeaderLen});
  pkt->tx_flags = kTxIpv6 | (hw_l4 ? kTxUdpCsum : 0u);
  pkt->l3_len = wire::Ipv6Packet::kHeaderLen;
  pkt->len = static_cast<uint32_t>(frame_len);
  out.pkt = pkt;
  return static_cast<int64_t>(payload_len);
}

void Stack::push_loopback(Packet* pkt) {
  pkt->rx_flags =
      kRxIpv4CsumGood | kRxL4CsumGood | kRxLooped | ((pkt->tx_flags & kTxVlanInsert) ? kRxVlanStripped : 0u);
  pkt->tx_flags = 0;
  loopback_.push(pkt);
  if (loopback_count_.fetch_add(1, std::memory_order_acq_rel) == 0) {
    if (PollerWaker* w = poller_waker_.load(std::memory_order_acquire)) w->wake();
  }
}

void Stack::dispatch(std::span<OutFrame> frames) {
  Packet* ready[kBurst];
  size_t n_ready = 0;
  uint64_t looped = 0;
  const uint16_t queue = tx_queue_for_thread();
  const uint64_t now = coarse_now_ns();
  // A batch usually goes to one next hop: resolve it once.
  Ipv4Addr last_hop;
  uint64_t last_mac = 0;
  Ipv6Addr last_hop6;
  uint64_t last_mac6 = 0;
  TunnelHops tunnel_hops;
  for (OutFrame& f : frames) {
    Packet* pkt = f.pkt;
    const uint16_t ethertype = f.v6 ? wire::ethertype::kIpv6 : wire::ethertype::kIpv4;
    switch (f.kind) {
      case OutFrame::kLoopback:
        // To ourselves: straight back into RX through queue 0's poller,
        // flagged as a NIC would have left it on the way out and back in.
        emit_link_header(pkt, mac_, ethertype);
        push_loopback(pkt);
        ++looped;
        continue;
      case OutFrame::kToMac:
        emit_link_header(pkt, f.mac, ethertype);
        if (f.loop) loop_multicast_copy(pkt);
        if (f.loop_host) [[unlikely]] {
          host_loop_->loop_to_kernel(pkt->data + pkt->l2_len, pkt->len - pkt->l2_len, f.v6);
        }
        if (f.loop_peers) [[unlikely]] {
          // The group and port as the frame carries them (IPv4: the
          // destination at 16, IPv6: at 24; then UDP's destination port).
          const uint8_t* l3 = pkt->data + pkt->l2_len;
          const uint16_t port = wire::load_be16(l3 + pkt->l3_len + 2);
          const GroupKey key =
              f.v6 ? GroupKey::of(Ipv6Addr::load(l3 + 24), port) : GroupKey::of(Ipv4Addr::load(l3 + 16), port);
          group_peers_->send_copies(key, pkt->data, pkt->len);
        }
        break;
      case OutFrame::kToNextHop: {
        if (f.link != 0) [[unlikely]] {
          if (Packet* p = send_tunneled(f, now, tunnel_hops)) ready[n_ready++] = p;
          continue;
        }
        if (f.v6) {
          uint64_t mac6 =
              (last_mac6 != 0 && f.next_hop6 == last_hop6) ? last_mac6 : neighbors6_.lookup_packed(f.next_hop6, now);
          last_hop6 = f.next_hop6;
          last_mac6 = mac6;
          emit_link_header(pkt, wire::kZeroMac, ethertype);
          if (mac6 == 0) {
            if (!neighbors6_.enqueue_pending(f.next_hop6, pkt, now)) drop_unresolved(pkt, f.next_hop6);
            continue;
          }
          std::memcpy(pkt->data + wire::EthernetFrame::kDstOffset, &mac6, 6);
          if (learn_vlans_) [[unlikely]] {
            retag(pkt, NeighborCache6::packed_vlan(mac6));
          }
          break;
        }
        uint64_t mac = (last_mac != 0 && f.next_hop == last_hop) ? last_mac : neighbors_.lookup_packed(f.next_hop, now);
        last_hop = f.next_hop;
        last_mac = mac;
        emit_link_header(pkt, wire::kZeroMac, wire::ethertype::kIpv4);
        if (mac == 0) {
          // Held until ARP answers (or fails, and is counted then).
          if (!neighbors_.enqueue_pending(f.next_hop, pkt, now)) drop_unresolved(pkt, f.next_hop);
          continue;
        }
        std::memcpy(pkt->data + wire::EthernetFrame::kDstOffset, &mac, 6);
        if (learn_vlans_) [[unlikely]] {
          retag(pkt, NeighborCache::packed_vlan(mac));
        }
        break;
      }
    }
    ready[n_ready++] = pkt;
  }
  if (n_ready != 0) transmit(queue, {ready, n_ready});
  tx_counters_.update([&](TxCounterBlock& b) {
    b.udp_datagrams.add(frames.size());
    b.loopback.add(looped);
  });
}

int64_t Stack::socket_send(UdpSocket& s, std::span<const iovec> iov, const Endpoint* dst) {
  OutFrame f;
  int64_t rc = build_datagram(s, iov, dst, f);
  if (rc < 0) return rc;
  s.tx_datagrams_.add();
  s.tx_bytes_.add(static_cast<uint64_t>(rc));
  dispatch({&f, 1});
  return rc;
}

int64_t Stack::socket_send_batch(UdpSocket& s, std::span<SendSlot> msgs) {
  OutFrame frames[kBurst];
  size_t built = 0;
  uint64_t bytes = 0;
  int64_t first_error = 0;
  for (; built < msgs.size() && built < kBurst; ++built) {
    int64_t rc = build_datagram(s, msgs[built].iov, msgs[built].dst, frames[built], msgs[built].src6);
    if (rc < 0) {
      first_error = rc;
      break;
    }
    msgs[built].result = rc;
    bytes += static_cast<uint64_t>(rc);
  }
  if (built != 0) {
    s.tx_datagrams_.add(built);
    s.tx_bytes_.add(bytes);
    dispatch({frames, built});
  }
  // sendmmsg: the count sent, or the error when the first one failed.
  return built != 0 ? static_cast<int64_t>(built) : first_error;
}

}  // namespace dpdkudp::stack
