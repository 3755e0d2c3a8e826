#include "stack/net/stack.h"

#include "stack/net/rx_batch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include "stack/wire/arp.h"
#include "stack/wire/checksum.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv4.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace dpdkudp::stack {

using wire::ArpOp;
using wire::ArpRepr;
using wire::Ipv4Packet;
using wire::Ipv4Repr;
using wire::UdpDatagram;
using wire::UdpRepr;

namespace {

// RFC 1812 §4.3.2.3: an ICMP error carries as much of the offending
// datagram as fits in 576 bytes.
constexpr size_t kIcmpErrorMaxData = 576 - Ipv4Packet::kMinHeaderLen - wire::Icmpv4Packet::kHeaderLen;

bool is_multicast_mac(const uint8_t* mac) { return (mac[0] & 1) != 0; }

// errno and "fatal" for an ICMP error, as Linux's icmp_err_convert[].
struct IcmpErrno {
  int error;
  bool fatal;
};
IcmpErrno icmp_errno(uint8_t type, uint8_t code) {
  using namespace wire;
  if (type == icmp_type::kTimeExceeded) return {EHOSTUNREACH, false};
  if (type == icmp_type::kParameterProblem) return {EPROTO, true};
  switch (code) {
    case icmp_unreach::kNet: return {ENETUNREACH, false};
    case icmp_unreach::kHost: return {EHOSTUNREACH, false};
    case icmp_unreach::kProtocol: return {ENOPROTOOPT, true};
    case icmp_unreach::kPort: return {ECONNREFUSED, true};
    case icmp_unreach::kFragNeeded: return {EMSGSIZE, false};
    case 5: return {EOPNOTSUPP, false};  // source route failed
    case icmp_unreach::kNetUnknown: return {ENETUNREACH, true};
    case icmp_unreach::kHostUnknown: return {EHOSTDOWN, true};
    case 8: return {ENONET, true};  // host isolated
    case icmp_unreach::kNetProhibited: return {ENETUNREACH, true};
    case icmp_unreach::kHostProhibited: return {EHOSTUNREACH, true};
    case 11: return {ENETUNREACH, false};   // net unreachable for TOS
    case 12: return {EHOSTUNREACH, false};  // host unreachable for TOS
    default: return {EHOSTUNREACH, true};   // 13..15: filtered, precedence
  }
}

}  // namespace

Stack::Stack(Backend& backend, StackConfig config, const Clock& clock)
    : backend_(backend),
      config_(std::move(config)),
      clock_(clock),
      caps_(backend.capabilities()),
      mac_(backend.mac()),
      mtu_(config_.mtu != 0 ? std::min(config_.mtu, caps_.mtu) : caps_.mtu),
      coarse_now_ns_(clock.monotonic_ns()),
      routes_(mtu_),
      routes6_(mtu_),
      neighbors_(config_.neighbor, static_cast<NeighborHooks&>(*this)),
      neighbors6_(config_.neighbor, static_cast<NeighborHooks6&>(*this)),
      table_(reclaimer_, config_.ephemeral_low, config_.ephemeral_high),
      icmp_limiter_(config_.icmp_rate),
      tx_buffer_cache_(new TxBufferCache[kThreadSlots]),
      tx_locks_(new TxLock[std::max<uint16_t>(caps_.tx_queues, 1)]),
      rx_counters_(new RxQueueCounters[std::max<uint16_t>(caps_.rx_queues, 1)]) {
  const VlanConfig& vlan = config_.vlan;
  if (!vlan.enabled()) {
    rx_vids_.set(0);
  } else {
    rx_vids_.set(vlan.vid);
    tx_pcp_bits_ = static_cast<uint16_t>((vlan.pcp & 7u) << 13);
    switch (vlan.mode) {
      case VlanMode::kPortTagging: tx_vlan_ = vlan.vid; break;
      case VlanMode::kAccess: rx_vids_.set(0); break;  // tx_vlan_ 0: untagged
      case VlanMode::kTrunk:
        tx_vlan_ = vlan.vid;
        learn_vlans_ = true;
        for (uint16_t v : vlan.allowed) rx_vids_.set(v);
        if (vlan.native != 0) {
          rx_vids_.set(vlan.native);
          rx_vids_.set(0);
          untagged_vlan_ = vlan.native;
        }
        resolve_vlans_.push_back(vlan.vid);
        if (vlan.native != 0 && vlan.native != vlan.vid) resolve_vlans_.push_back(vlan.native);
        for (uint16_t v : vlan.allowed) {
          if (resolve_vlans_.size() == kMaxResolveVlans) break;
          if (v != vlan.vid && v != vlan.native) resolve_vlans_.push_back(v);
        }
        break;
    }
    tags_in_software_ = vlan.software || !caps_.tx_vlan_insert;
  }
  multicast_ = std::make_unique<MulticastGroups>(reclaimer_, static_cast<MulticastLink&>(*this),
                                                 config_.address.addr.value ^ (uint32_t{mac_[4]} << 8 | mac_[5]));
  multicast6_ = std::make_unique<MulticastGroups6>(reclaimer_, static_cast<MulticastLink6&>(*this),
                                                   ~config_.address.addr.value ^ (uint32_t{mac_[3]} << 16 | mac_[5]));
  routes_.add(Route{Ipv4Cidr{config_.address.network(), config_.address.prefix_len}, std::nullopt, 0, 0});
  if (config_.gateway) routes_.add(Route{Ipv4Cidr{Ipv4Addr::any(), 0}, config_.gateway, 0, 0});
  for (const Route& r : config_.routes) routes_.add(r);

  bool have_link_local = false;
  for (const wire::Ipv6Cidr& a : config_.addresses6) {
    addrs6_.push_back(OwnAddress6{a, std::make_unique<std::atomic<bool>>(false)});
    have_link_local |= a.addr.is_link_local();
    // On-link prefixes (a /128 names only itself).
    if (a.prefix_len < 128) routes6_.add(Route6{wire::Ipv6Cidr{a.network(), a.prefix_len}, std::nullopt, 0, 0});
  }
  if (!addrs6_.empty() && config_.dedicated && !have_link_local) {
    // RFC 4291 appendix A: fe80::/64 with the modified EUI-64 of the MAC.
    Ipv6Addr ll(0xfe80, 0, 0, 0, 0, 0, 0, 0);
    ll.octets[8] = static_cast<uint8_t>(mac_[0] ^ 0x02);
    ll.octets[9] = mac_[1];
    ll.octets[10] = mac_[2];
    ll.octets[11] = 0xff;
    ll.octets[12] = 0xfe;
    ll.octets[13] = mac_[3];
    ll.octets[14] = mac_[4];
    ll.octets[15] = mac_[5];
    addrs6_.push_back(OwnAddress6{wire::Ipv6Cidr{ll, 64}, std::make_unique<std::atomic<bool>>(false)});
  }
  if (!addrs6_.empty()) {
    // fe80::/10 is on-link (RFC 4291 §2.5.6); the default router last.
    routes6_.add(Route6{wire::Ipv6Cidr{Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10}, std::nullopt, 0, 0});
    if (config_.gateway6) routes6_.add(Route6{wire::Ipv6Cidr{Ipv6Addr(), 0}, config_.gateway6, 0, 0});
    for (const Route6& r : config_.routes6) routes6_.add(r);
  }
  for (const TunnelConfig& c : config_.tunnels) {
    auto t = std::make_unique<Tunnel>(*this, c, tunnels_.size(), mtu_, link_header_len(), config_.neighbor);
    t->outer_src = c.local.value_or(config_.address.addr);
    if (c.outer_v6) t->outer_src6 = c.local6 ? *c.local6 : select_source6(c.remote6).value_or(Ipv6Addr());
    // The inner subnet is on-link through the tunnel, at its MTU.
    routes_.add(Route{Ipv4Cidr{c.inner.network(), c.inner.prefix_len}, std::nullopt, t->mtu(), 0,
                      static_cast<uint16_t>(tunnels_.size() + 1)});
    if (c.inner6) {
      routes6_.add(Route6{wire::Ipv6Cidr{c.inner6->network(), c.inner6->prefix_len}, std::nullopt, t->mtu(), 0,
                          static_cast<uint16_t>(tunnels_.size() + 1)});
    }
    tunnels_.push_back(std::move(t));
  }
}

Stack::~Stack() {
  for (auto& t : tunnels_) {
    t->neighbors().flush_pending();
    t->neighbors6().flush_pending();
  }
  neighbors_.flush_pending();
  neighbors6_.flush_pending();
  std::vector<UdpSocket*> open;
  {
    std::lock_guard lock(sockets_lock_);
    open.assign(sockets_.begin(), sockets_.end());
  }
  for (UdpSocket* s : open) s->close();
  reclaimer_.drain_all();
  while (Packet* p = loopback_.pop()) release(p);
  for (size_t i = 0; i < kThreadSlots; ++i) {
    TxBufferCache& c = tx_buffer_cache_[i];
    if (c.count != 0) release(std::span<Packet* const>(c.bufs, c.count));
  }
}

void Stack::start() {
  start_tunnels();
  if (!config_.dedicated) return;
  // Gratuitous ARP (RFC 5227 §3 announcement): sender = target = us.
  send_arp(ArpOp::kRequest, wire::kBroadcastMac, wire::kZeroMac, config_.address.addr);
  start6();
}

UdpSocket* Stack::open_udp(bool ipv6) {
  auto* s = new UdpSocket(*this, next_socket_id_.fetch_add(1, std::memory_order_relaxed), config_.default_ttl, ipv6);
  s->set_rcvbuf(config_.default_rcvbuf);
  s->scope_id_ = config_.ifindex;
  std::lock_guard lock(sockets_lock_);
  sockets_.insert(s);
  return s;
}

// ---------------------------------------------------------------- RX

size_t Stack::poll(uint16_t queue) {
  Packet* pkts[kBurst];
  size_t n = backend_.rx_burst(queue, pkts);
  if (queue == 0 && loopback_count_.load(std::memory_order_acquire) != 0) {
    size_t looped = 0;
    while (n < kBurst) {
      Packet* p = loopback_.pop();
      if (p == nullptr) break;
      pkts[n++] = p;
      ++looped;
    }
    loopback_count_.fetch_sub(static_cast<uint32_t>(looped), std::memory_order_acq_rel);
  }
  if (n == 0) return 0;

  RxBatch batch;
  batch.queue = queue;
  batch.now_real_ns = clock_.realtime_ns();
  batch.now_mono_ns = clock_.monotonic_ns();
  coarse_now_ns_.store(batch.now_mono_ns, std::memory_order_relaxed);
  batch.counters = &rx_counters_[queue];
  reclaimer_.online(queue);
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n) __builtin_prefetch(pkts[i + 1]->data);
    receive(pkts[i], batch);
  }
  batch.flush_chain();
  reclaimer_.offline(queue);

  if (batch.n_send != 0) {
    transmit(static_cast<uint16_t>(queue % std::max<uint16_t>(caps_.tx_queues, 1)), {batch.send, batch.n_send});
  }
  if (batch.n_release != 0) release(std::span<Packet* const>(batch.release, batch.n_release));
  return n;
}

void Stack::receive(Packet* pkt, RxBatch& batch) {
  batch.counters->frames.add();
  batch.counters->bytes.add(pkt->len);
  receive_frame(pkt, batch);
}

void Stack::receive_frame(Packet* pkt, RxBatch& batch) {
  if (pkt->len < wire::EthernetFrame::kHeaderLen) return drop(pkt, DropReason::kEthTruncated, batch);
  const uint8_t* p = pkt->data;
  if (!is_multicast_mac(p) && std::memcmp(p, mac_.data(), 6) != 0) {
    return drop(pkt, DropReason::kEthNotForUs, batch);
  }
  uint16_t ethertype = wire::load_be16(p + wire::EthernetFrame::kEtherTypeOffset);
  size_t l2_len = wire::EthernetFrame::kHeaderLen;
  std::optional<uint16_t> tci;
  if (pkt->rx_flags & kRxVlanStripped) tci = pkt->vlan_tci;
  if (ethertype == wire::ethertype::kVlan) {
    if (tci || pkt->len < l2_len + wire::VlanTag::kLen) return drop(pkt, DropReason::kVlanMismatch, batch);
    tci = wire::load_be16(p + l2_len);
    ethertype = wire::load_be16(p + l2_len + wire::VlanTag::kInnerTypeOffset);
    l2_len += wire::VlanTag::kLen;
  }
  // Priority-tagged frames (VID 0) count as untagged (802.1Q §6.9.1).
  const uint16_t vid = tci ? (*tci & 0x0fff) : 0;
  // (A tunnel's inner frames carry no tag.)
  if (batch.link != nullptr ? vid != 0 : !rx_vids_[vid]) return drop(pkt, DropReason::kVlanMismatch, batch);
  batch.vlan = learn_vlans_ && batch.link == nullptr ? (vid != 0 ? vid : untagged_vlan_) : 0;

  switch (ethertype) {
    case wire::ethertype::kIpv4: return receive_ipv4(pkt, l2_len, batch);
    case wire::ethertype::kArp: return receive_arp(pkt, l2_len, batch);
    case wire::ethertype::kIpv6: return receive_ipv6(pkt, l2_len, batch);
    default: return drop(pkt, DropReason::kEthUnsupported, batch);
  }
}

void Stack::receive_arp(Packet* pkt, size_t l2_len, RxBatch& batch) {
  auto view = wire::ArpPacket::parse({pkt->data + l2_len, pkt->len - l2_len});
  std::optional<ArpRepr> arp = view ? ArpRepr::parse(*view) : std::nullopt;
  if (!arp) return drop(pkt, DropReason::kArpMalformed, batch);
  batch.counters->arp_received.add();
  const Ipv4Addr us = rx_address(batch).addr;
  // Inside a tunnel the overlay's neighbours, and the address is ours alone.
  NeighborCache& cache = batch.link != nullptr ? batch.link->neighbors() : neighbors_;
  const bool answer = answers_for_host(batch);
  bool to_us = arp->target_ip == us;
  // RFC 826 merge: refresh what we know; create an entry only when the
  // packet is for us. A sender of 0.0.0.0 is an RFC 5227 probe: learn
  // nothing from it.
  if (!arp->sender_ip.is_unspecified() && arp->sender_ip != us) {
    cache.update(arp->sender_ip, arp->sender_mac, batch.now_mono_ns, to_us, batch.vlan);
  }
  if (to_us && arp->op == ArpOp::kRequest && answer) {
    send_arp(ArpOp::kReply, arp->sender_mac, arp->sender_mac, arp->sender_ip, batch.link, batch.vlan);
    batch.counters->arp_replies_sent.add();
  }
  batch.release[batch.n_release++] = pkt;
}

void Stack::receive_ipv4(Packet* pkt, size_t l2_len, RxBatch& batch) {
  auto ip = Ipv4Packet::parse({pkt->data + l2_len, pkt->len - l2_len});
  if (!ip) return drop(pkt, DropReason::kIpMalformed, batch);
  if (pkt->rx_flags & kRxIpv4CsumBad) return drop(pkt, DropReason::kIpChecksum, batch);
  if (!(pkt->rx_flags & kRxIpv4CsumGood) && !ip->verify_checksum()) {
    return drop(pkt, DropReason::kIpChecksum, batch);
  }
  Ipv4Addr dst = ip->dst();
  const Ipv4Cidr& ours = rx_address(batch);
  bool broadcast = dst.is_broadcast() || dst == ours.directed_broadcast();
  const bool multicast = dst.is_multicast();
  if (multicast) {
    // A group the interface listens to, or all-systems (queries).
    if (batch.link != nullptr || (dst != wire::kAllSystems && !multicast_->listening(dst))) {
      return drop(pkt, DropReason::kIpNotOurs, batch);
    }
  } else if (dst != ours.addr && !broadcast) {
    // Another of our addresses (a tunnel's inner or outer one: the weak
    // host model, and datagrams looped back to an inner address).
    if (tunnels_.empty() || batch.link != nullptr || (!is_local_address(dst) && !is_tunnel_local(dst))) {
      if (batch.link == nullptr) last_foreign_dst_.store(dst.value, std::memory_order_relaxed);
      return drop(pkt, DropReason::kIpNotOurs, batch);
    }
  }
  Ipv4Addr src = ip->src();
  if (src.is_broadcast() || src.is_multicast() || src == config_.address.directed_broadcast()) {
    return drop(pkt, DropReason::kIpMartianSource, batch);
  }
  if (ip->is_fragment()) return drop(pkt, DropReason::kIpFragment, batch);
  // Ethernet padding beyond the IP total length is not ours to read.
  pkt->len = static_cast<uint32_t>(l2_len + ip->total_len());
  pkt->meta.src_addr = src.value;
  pkt->meta.dst_addr = dst.value;
  pkt->meta.tos = ip->tos();
  pkt->meta.ttl = ip->ttl();
  pkt->meta.ipv6 = 0;
  switch (ip->protocol()) {
    case wire::ip_proto::kUdp: return receive_udp(pkt, l2_len, ip->header_len(), batch);
    case wire::ip_proto::kIcmp:
      // icmp_echo_ignore_broadcasts (which covers groups too)
      if (broadcast || multicast) return drop(pkt, DropReason::kIcmpUnhandled, batch);
      return receive_icmp(pkt, l2_len, ip->header_len(), batch);
    case wire::ip_proto::kIgmp:
      if (!multicast && dst != ours.addr) return drop(pkt, DropReason::kIpNotOurs, batch);
      return receive_igmp(pkt, l2_len, ip->header_len(), batch);
    default: return drop(pkt, DropReason::kIpUnknownProtocol, batch);
  }
}

void Stack::receive_udp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch) {
  size_t l4_off = l2_len + l3_len;
  auto udp = UdpDatagram::parse({pkt->data + l4_off, pkt->len - l4_off});
  if (!udp) return drop(pkt, DropReason::kUdpMalformed, batch);
  Ipv4Addr src(pkt->meta.src_addr);
  Ipv4Addr dst(pkt->meta.dst_addr);
  if (pkt->rx_flags & kRxL4CsumBad) return drop(pkt, DropReason::kUdpChecksum, batch);
  if (!(pkt->rx_flags & (kRxL4CsumGood | kRxL4CsumPartial)) && !udp->verify_checksum(src, dst)) {
    return drop(pkt, DropReason::kUdpChecksum, batch);
  }
  PacketRxMeta& m = pkt->meta;
  set_udp_meta(m, *udp, l4_off, batch.now_real_ns);

  if (!tunnels_.empty() && batch.link == nullptr && is_tunnel_port(m.dst_port, false) &&
      (dst == config_.address.addr || is_tunnel_local(dst))) [[unlikely]] {
    return receive_tunnel(pkt, l4_off, false, batch);
  }
  if (dst != config_.address.addr && !is_local_address(dst)) return deliver_broadcast(pkt, batch);

  bool unconnected = false;
  UdpSocket* s = table_.lookup(dst, m.dst_port, src, m.src_port, &unconnected);
  // Other processes on the interface see this frame too: which one takes it.
  if (port_sharing_ != nullptr && (s == nullptr || unconnected) && batch.link == nullptr) {
    if (port_sharing_->owner(dst, m.dst_port, src, m.src_port) == PortSharing::Owner::kOtherProcess) {
      return drop(pkt, DropReason::kUdpOtherProcess, batch);
    }
  }
  if (s == nullptr) {
    if (answers_for_host(batch)) send_port_unreachable(pkt, l2_len, batch);
    return drop(pkt, DropReason::kUdpNoSocket, batch);
  }
  enqueue_datagram(s, pkt, batch);
}

void Stack::deliver_broadcast(Packet* pkt, RxBatch& batch) {
  batch.flush_chain();
  const PacketRxMeta& m = pkt->meta;
  bool delivered = false;
  const Ipv4Addr group(m.dst_addr);
  const bool multicast = group.is_multicast();
  if (multicast && group_peers_ != nullptr) forward_to_peers(pkt, GroupKey::of(group, m.dst_port));
  table_.for_each_broadcast_match(Ipv4Addr(m.dst_addr), m.dst_port, Ipv4Addr(m.src_addr), m.src_port,
                                  [&](UdpSocket* s) {
    if (multicast && !multicast_->allows(s, group, Ipv4Addr(m.src_addr), s->multicast_all())) return;
    delivered |= deliver_copy(s, pkt, batch);
  });
  if (!delivered) return drop(pkt, DropReason::kUdpNoSocket, batch);
  batch.release[batch.n_release++] = pkt;
}

bool Stack::deliver_copy(UdpSocket* s, const Packet* pkt, RxBatch& batch) {
  const PacketRxMeta& m = pkt->meta;
  const uint64_t queued = s->queued_charge();
  if (queued != 0 && queued + UdpSocket::charge_of(m) > s->rcvbuf()) {
    s->count_rx_drop();
    batch.counters->drops[static_cast<size_t>(DropReason::kSocketBufferFull)].add();
    return false;
  }
  Packet* copy = nullptr;
  if (backend_.alloc({&copy, 1}) != 1) {
    batch.counters->drops[static_cast<size_t>(DropReason::kTxNoBuffer)].add();
    return false;
  }
  std::memcpy(copy->data, pkt->data, pkt->len);
  copy->len = pkt->len;
  copy->meta = m;
  s->deliver_chain(copy, copy, 1, UdpSocket::charge_of(m));
  batch.counters->udp_delivered.add();
  return true;
}

void Stack::receive_icmp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch) {
  size_t l4_off = l2_len + l3_len;
  auto icmp = wire::Icmpv4Packet::parse({pkt->data + l4_off, pkt->len - l4_off});
  if (!icmp) return drop(pkt, DropReason::kIcmpMalformed, batch);
  if (!icmp->verify_checksum()) return drop(pkt, DropReason::kIcmpChecksum, batch);
  Ipv4Addr peer(pkt->meta.src_addr);
  switch (icmp->type()) {
    case wire::icmp_type::kEchoRequest: {
      // Shared mode: the kernel answers for the interface's address.
      if (!answers_for_host(batch)) return drop(pkt, DropReason::kIcmpUnhandled, batch);
      Packet* reply = nullptr;
      size_t l2 = link_header_len(batch.link);
      size_t len = l2 + Ipv4Packet::kMinHeaderLen + icmp->bytes().size();
      if (backend_.alloc({&reply, 1}) != 1) return drop(pkt, DropReason::kTxNoBuffer, batch);
      if (len > reply->room) {
        release(reply);
        return drop(pkt, DropReason::kIcmpMalformed, batch);
      }
      emit_link_header(reply, wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset), wire::ethertype::kIpv4,
                       batch.link, batch.vlan);
      wire::Icmpv4Repr{wire::icmp_type::kEchoReply, 0, icmp->echo_ident(), icmp->echo_seq(), 0, icmp->data()}.emit(
          {reply->data + l2 + Ipv4Packet::kMinHeaderLen, icmp->bytes().size()});
      Ipv4Repr{Ipv4Addr(pkt->meta.dst_addr),  // the address pinged (one of ours)
               peer,
               wire::ip_proto::kIcmp,
               static_cast<uint16_t>(icmp->bytes().size()),
               config_.default_ttl,
               pkt->meta.tos,
               0,
               false}
          .emit({reply->data + l2, Ipv4Packet::kMinHeaderLen}, !caps_.tx_ipv4_csum);
      if (caps_.tx_ipv4_csum) reply->tx_flags |= kTxIpv4Csum;
      reply->l3_len = Ipv4Packet::kMinHeaderLen;
      reply->len = static_cast<uint32_t>(len);
      send_reply(reply, batch);
      batch.counters->icmp_echo_replies.add();
      batch.release[batch.n_release++] = pkt;
      return;
    }
    case wire::icmp_type::kDestUnreachable:
    case wire::icmp_type::kTimeExceeded:
    case wire::icmp_type::kParameterProblem:
      batch.counters->icmp_errors_received.add();
      icmp_error_to_socket(peer, icmp->type(), icmp->code(), icmp->next_hop_mtu(), icmp->data());
      batch.release[batch.n_release++] = pkt;
      return;
    default: return drop(pkt, DropReason::kIcmpUnhandled, batch);
  }
}

void Stack::icmp_error_to_socket(Ipv4Addr offender, uint8_t type, uint8_t code, uint16_t mtu,
                                 std::span<const uint8_t> original) {
  // The quoted datagram may be cut short of its total length: read its
  // header and the 8 bytes of UDP header RFC 792 guarantees.
  if (original.size() < Ipv4Packet::kMinHeaderLen) return;
  size_t ihl = size_t{original[0] & 0x0fu} * 4;
  if ((original[0] >> 4) != 4 || ihl < Ipv4Packet::kMinHeaderLen || original.size() < ihl + 8) return;
  if (original[Ipv4Packet::kProtocolOffset] != wire::ip_proto::kUdp) return;
  Ipv4Addr from = Ipv4Addr::load(original.data() + Ipv4Packet::kSrcOffset);
  Ipv4Addr to = Ipv4Addr::load(original.data() + Ipv4Packet::kDstOffset);
  uint16_t sport = wire::load_be16(original.data() + ihl);
  uint16_t dport = wire::load_be16(original.data() + ihl + 2);
  if (!is_local_address(from)) return;
  // The socket that sent it: local = (from, sport), remote = (to, dport).
  UdpSocket* s = table_.lookup(from, sport, to, dport);
  if (s == nullptr) return;
  IcmpErrno e = icmp_errno(type, code);
  SocketError err;
  err.error = e.error;
  err.icmp_type = type;
  err.icmp_code = code;
  err.info = mtu;
  err.offender = offender;
  err.destination = Endpoint{to, dport};
  s->report_error(err, e.fatal);
}

void Stack::send_port_unreachable(const Packet* pkt, size_t l2_len, RxBatch& batch) {
  Ipv4Addr peer(pkt->meta.src_addr);
  {
    std::lock_guard lock(icmp_limiter_lock_);
    if (!icmp_limiter_.allow(peer, batch.now_mono_ns)) {
      batch.counters->icmp_rate_limited.add();
      return;
    }
  }
  Packet* err = nullptr;
  if (backend_.alloc({&err, 1}) != 1) return;
  size_t l2 = link_header_len(batch.link);
  size_t quoted = std::min<size_t>(pkt->len - l2_len, kIcmpErrorMaxData);
  size_t icmp_len = wire::Icmpv4Packet::kHeaderLen + quoted;
  emit_link_header(err, wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset), wire::ethertype::kIpv4, batch.link,
                   batch.vlan);
  wire::Icmpv4Repr{wire::icmp_type::kDestUnreachable, wire::icmp_unreach::kPort, 0, 0, 0, {pkt->data + l2_len, quoted}}
      .emit({err->data + l2 + Ipv4Packet::kMinHeaderLen, icmp_len});
  Ipv4Repr{Ipv4Addr(pkt->meta.dst_addr),
           peer,
           wire::ip_proto::kIcmp,
           static_cast<uint16_t>(icmp_len),
           config_.default_ttl,
           0xc0,
           0,
           false}  // Linux sends ICMP errors with TOS 0xc0 (internetwork control)
      .emit({err->data + l2, Ipv4Packet::kMinHeaderLen}, !caps_.tx_ipv4_csum);
  if (caps_.tx_ipv4_csum) err->tx_flags |= kTxIpv4Csum;
  err->l3_len = Ipv4Packet::kMinHeaderLen;
  err->len = static_cast<uint32_t>(l2 + Ipv4Packet::kMinHeaderLen + icmp_len);
  send_reply(err, batch);
  batch.counters->icmp_unreach_sent.add();
}

void Stack::on_timer() {
  uint64_t now = clock_.monotonic_ns();
  coarse_now_ns_.store(now, std::memory_order_relaxed);
  neighbors_.on_timer(now);
  neighbors6_.on_timer(now);
  multicast_->on_timer(now);
  multicast6_->on_timer(now);
  for (auto& t : tunnels_) {
    t->neighbors().on_timer(now);
    t->neighbors6().on_timer(now);
  }
  reclaimer_.reclaim();
}

CounterSnapshot Stack::counters() const {
  CounterSnapshot s;
  for (size_t q = 0; q < std::max<uint16_t>(caps_.rx_queues, 1); ++q) {
    const RxQueueCounters& c = rx_counters_[q];
    s.rx_frames += c.frames.get();
    s.rx_bytes += c.bytes.get();
    s.udp_delivered += c.udp_delivered.get();
    s.arp_replies_sent += c.arp_replies_sent.get();
    s.arp_received += c.arp_received.get();
    s.icmp_echo_replies += c.icmp_echo_replies.get();
    s.icmp_errors_received += c.icmp_errors_received.get();
    s.icmp_unreach_sent += c.icmp_unreach_sent.get();
    s.icmp_rate_limited += c.icmp_rate_limited.get();
    s.ndp_received += c.ndp_received.get();
    s.ndp_adverts_sent += c.ndp_adverts_sent.get();
    s.igmp_received += c.igmp_received.get();
    s.mld_received += c.mld_received.get();
    for (size_t i = 0; i < kDropReasonCount; ++i) s.drops[i] += c.drops[i].get();
  }
  s.tx_frames = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.frames; });
  s.tx_bytes = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.bytes; });
  s.tx_udp_datagrams = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.udp_datagrams; });
  s.arp_requests_sent = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.arp_requests; });
  s.ndp_solicits_sent = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.ndp_solicits; });
  s.loopback = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.loopback; });
  s.igmp_sent = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.igmp_sent; });
  s.mld_sent = tx_counters_.sum([](const TxCounterBlock& b) -> const LocalCounter& { return b.mld_sent; });
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    s.drops[i] += tx_counters_.sum([i](const TxCounterBlock& b) -> const LocalCounter& { return b.drops[i]; });
  }
  return s;
}

}  // namespace dpdkudp::stack
