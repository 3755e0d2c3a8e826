// Overlay endpoints: decapsulation on RX, encapsulation on TX, ARP inside
// an Ethernet overlay (tunnel.h).
#include <algorithm>
#include <cstring>

#include "stack/net/rx_batch.h"
#include "stack/net/stack.h"
#include "stack/net/tunnel.h"
#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tunnel.h"
#include "stack/wire/udp.h"

namespace dpdkudp::stack {

using wire::EthernetFrame;
using wire::Ipv4Packet;
using wire::UdpDatagram;

namespace {

constexpr uint8_t kOuterTtl = 64;  // Linux's vxlan/geneve/fou default (ttl 0: the route's hop limit)

size_t tunnel_header_len(TunnelKind kind) {
  switch (kind) {
    case TunnelKind::kVxlan: return wire::VxlanHeader::kLen;
    case TunnelKind::kGeneve: return wire::GeneveHeader::kFixedLen;  // we send no options
    case TunnelKind::kGue: return wire::GueHeader::kLen;
  }
  return 0;
}

}  // namespace

std::string_view tunnel_drop_name(TunnelDrop d) {
  switch (d) {
    case TunnelDrop::kMalformed: return "malformed";
    case TunnelDrop::kNoMatch: return "no_match";
    case TunnelDrop::kUnsupported: return "unsupported";
    case TunnelDrop::kInner: return "inner";
    case TunnelDrop::kCount: break;
  }
  return "?";
}

size_t tunnel_overhead(const TunnelConfig& c) {
  return (c.outer_v6 ? wire::Ipv6Packet::kHeaderLen : Ipv4Packet::kMinHeaderLen) + UdpDatagram::kHeaderLen +
         tunnel_header_len(c.kind) + (c.kind != TunnelKind::kGue ? EthernetFrame::kHeaderLen : 0);
}

Tunnel::Tunnel(Stack& stack, const TunnelConfig& config, size_t index, uint32_t underlay_mtu, size_t underlay_l2,
               const NeighborConfig& neighbor)
    : stack_(stack),
      config_(config),
      index_(index),
      outer_l2_(underlay_l2),
      encap_len_(underlay_l2 + tunnel_overhead(config)),
      mtu_(0),
      neighbors_(neighbor, static_cast<NeighborHooks&>(*this)),
      neighbors6_(neighbor, static_cast<NeighborHooks6&>(*this)),
      rx_(new RxBlock[std::max<uint16_t>(stack.caps_.rx_queues, 1)]),
      tx_(new TxBlock[kThreadSlots + 1]),
      rx_queues_(std::max<uint16_t>(stack.caps_.rx_queues, 1)) {
  for (size_t i = 0; i <= kThreadSlots; ++i) tx_[i].ident = static_cast<uint16_t>(i << 10);
  // Linux's vxlan device: the underlay's MTU less the overhead (50 bytes
  // over IPv4), unless a smaller one is asked for.
  const uint32_t overhead = static_cast<uint32_t>(tunnel_overhead(config));
  const uint32_t fit = underlay_mtu > overhead ? underlay_mtu - overhead : 0;
  mtu_ = config.mtu != 0 ? std::min(config.mtu, fit) : fit;
}

TunnelCounterSnapshot Tunnel::counters() const {
  TunnelCounterSnapshot s;
  for (size_t q = 0; q < rx_queues_; ++q) {
    s.rx_frames += rx_[q].frames.get();
    s.rx_bytes += rx_[q].bytes.get();
    for (size_t i = 0; i < kTunnelDropCount; ++i) s.drops[i] += rx_[q].drops[i].get();
  }
  for (size_t t = 0; t <= kThreadSlots; ++t) {
    s.tx_frames += tx_[t].frames.get();
    s.tx_bytes += tx_[t].bytes.get();
  }
  return s;
}

uint16_t Tunnel::count_tx(uint64_t bytes) {
  const size_t slot = this_thread_slot();
  auto count = [bytes](TxBlock& b) {
    b.frames.add();
    b.bytes.add(bytes);
    return b.ident++;
  };
  if (slot < kThreadSlots) [[likely]] {
    return count(tx_[slot]);
  }
  std::lock_guard lock(tx_overflow_lock_);
  return count(tx_[kThreadSlots]);
}

void Tunnel::send_request(wire::Ipv4Addr target, const MacAddr* unicast_to, uint16_t /*vlan: none inside*/) {
  stack_.send_arp(wire::ArpOp::kRequest, unicast_to ? *unicast_to : wire::kBroadcastMac, wire::kZeroMac, target, this);
}

void Tunnel::transmit_resolved(Packet* pkt, const MacAddr& mac, uint16_t /*vlan: none inside*/) {
  wire::store_mac(pkt->data + encap_len_ - EthernetFrame::kHeaderLen + EthernetFrame::kDstOffset, mac);
  if (Packet* p = stack_.encapsulate(*this, pkt, stack_.coarse_now_ns())) {
    stack_.transmit(stack_.tx_queue_for_thread(), {&p, 1});
  }
}

void Tunnel::drop_unresolved(Packet* pkt, wire::Ipv4Addr /*target*/) {
  stack_.tx_counters_.drop(DropReason::kArpUnresolved);
  stack_.release(pkt);
}

void Tunnel::send_request(wire::Ipv6Addr target, const MacAddr* unicast_to, uint16_t /*vlan: none inside*/) {
  stack_.send_ns(target, unicast_to, false, 0, this);
}

void Tunnel::drop_unresolved(Packet* pkt, wire::Ipv6Addr /*target*/) {
  stack_.tx_counters_.drop(DropReason::kNdpUnresolved);
  stack_.release(pkt);
}

// ---------------------------------------------------------------- Stack

void Stack::start_tunnels() {
  for (auto& t : tunnels_) {
    const TunnelConfig& c = t->config();
    if (port_steering_ != nullptr) {
      // AF_XDP: the outer port comes to the stack as a bound socket's does.
      int err = c.outer_v6 ? port_steering_->steer6(c.local6.value_or(Ipv6Addr()), c.outer_port(), true, false)
                           : port_steering_->steer(c.local.value_or(Ipv4Addr::any()), c.outer_port(), true, false);
      (void)err;  // the engine checked the port when it configured the tunnel
    }
    // Announce the inner address inside the overlay (gratuitous ARP).
    if (t->ethernet()) send_arp(wire::ArpOp::kRequest, wire::kBroadcastMac, wire::kZeroMac, c.inner.addr, t.get());
  }
}

Tunnel* Stack::tunnel_by_inner6(const Ipv6Addr& addr) const {
  for (const auto& t : tunnels_) {
    if (t->has_inner6() && t->inner6() == addr) return t.get();
  }
  return nullptr;
}

bool Stack::is_tunnel_local(Ipv4Addr addr) const {
  for (const auto& t : tunnels_) {
    if (!t->config().outer_v6 && t->outer_src == addr) return true;
  }
  return false;
}

const wire::Ipv4Cidr& Stack::rx_address(const RxBatch& batch) const {
  return batch.link != nullptr ? batch.link->config().inner : config_.address;
}

void Stack::receive_tunnel(Packet* pkt, size_t l4_off, bool outer_v6, RxBatch& batch) {
  const uint16_t port = pkt->meta.dst_port;
  Tunnel* first = nullptr;  // the port's first tunnel: drops are counted there
  for (auto& t : tunnels_) {
    if (t->config().outer_port() == port && t->config().outer_v6 == outer_v6) {
      first = t.get();
      break;
    }
  }
  if (first == nullptr) return drop(pkt, DropReason::kTunnelNoMatch, batch);  // (callers checked the port)
  const size_t hdr_off = l4_off + UdpDatagram::kHeaderLen;
  const std::span<const uint8_t> body{pkt->data + hdr_off, pkt->meta.payload_len};
  auto fail = [&](TunnelDrop d, DropReason r) {
    first->count_drop(d, batch.queue);
    drop(pkt, r, batch);
  };
  size_t inner_off = 0;
  uint32_t vni = 0;
  bool has_vni = true;
  bool gue_ipv6 = false;  // GUE variant 0 carrying IPv6 (protocol 41)
  switch (first->config().kind) {
    case TunnelKind::kVxlan: {
      auto h = wire::VxlanHeader::parse(body);
      if (!h) return fail(TunnelDrop::kMalformed, DropReason::kTunnelMalformed);
      vni = h->vni();
      inner_off = hdr_off + wire::VxlanHeader::kLen;
      break;
    }
    case TunnelKind::kGeneve: {
      auto h = wire::GeneveHeader::parse(body);
      if (!h || h->protocol() != wire::kEtherTypeTeb) {
        return fail(TunnelDrop::kMalformed, DropReason::kTunnelMalformed);
      }
      // RFC 8926 §3.5: a critical option we do not understand (we
      // understand none) drops the packet; OAM frames are not data.
      if (h->oam() || h->critical()) return fail(TunnelDrop::kUnsupported, DropReason::kTunnelUnsupported);
      vni = h->vni();
      inner_off = hdr_off + h->header_len();
      break;
    }
    case TunnelKind::kGue: {
      wire::GueHeader::Error e{};
      auto h = wire::GueHeader::parse(body, &e);
      if (!h) {
        return e == wire::GueHeader::Error::kControl || e == wire::GueHeader::Error::kBadProtocol
                   ? fail(TunnelDrop::kUnsupported, DropReason::kTunnelUnsupported)
                   : fail(TunnelDrop::kMalformed, DropReason::kTunnelMalformed);
      }
      if (h->protocol() != wire::ip_proto::kIpip && h->protocol() != wire::ip_proto::kIpv6) {
        return fail(TunnelDrop::kUnsupported, DropReason::kTunnelUnsupported);
      }
      gue_ipv6 = h->protocol() == wire::ip_proto::kIpv6;
      has_vni = false;
      inner_off = hdr_off + h->header_len();
      break;
    }
  }
  Tunnel* t = first;
  if (has_vni) {
    t = nullptr;
    for (auto& c : tunnels_) {
      const TunnelConfig& tc = c->config();
      if (tc.outer_port() == port && tc.outer_v6 == outer_v6 && tc.kind == first->config().kind && tc.vni == vni) {
        t = c.get();
        break;
      }
    }
    if (t == nullptr) return fail(TunnelDrop::kNoMatch, DropReason::kTunnelNoMatch);
  }
  const size_t end = hdr_off + pkt->meta.payload_len;
  const size_t inner_len = end - inner_off;
  t->count_rx(inner_len, batch.queue);
  // The device's checksum and tag facts were about the outer frame.
  pkt->rx_flags = 0;
  pkt->vlan_tci = 0;
  batch.link = t;
  if (t->ethernet()) {
    // The inner frame becomes the packet (as a NIC's decapsulation would
    // leave it); backends reset data when they recycle a buffer.
    pkt->data += inner_off;
    pkt->len = static_cast<uint32_t>(inner_len);
    receive_frame(pkt, batch);
  } else {
    // GUE carries IP: keep an Ethernet header's room in front (replies
    // read no link address from it).
    pkt->data += inner_off - EthernetFrame::kHeaderLen;
    pkt->len = static_cast<uint32_t>(inner_len + EthernetFrame::kHeaderLen);
    if (gue_ipv6) {
      receive_ipv6(pkt, EthernetFrame::kHeaderLen, batch);
    } else {
      receive_ipv4(pkt, EthernetFrame::kHeaderLen, batch);
    }
  }
  batch.link = nullptr;
}

void Stack::emit_link_header(Packet* pkt, const MacAddr& dst, uint16_t ethertype, const Tunnel* link,
                             uint16_t vlan) const {
  if (link == nullptr) return emit_link_header(pkt, dst, ethertype, vlan);
  if (link->ethernet()) {
    uint8_t* eth = pkt->data + link->encap_len() - EthernetFrame::kHeaderLen;
    wire::store_mac(eth + EthernetFrame::kDstOffset, dst);
    wire::store_mac(eth + EthernetFrame::kSrcOffset, mac_);
    wire::store_be16(eth + EthernetFrame::kEtherTypeOffset, ethertype);
  }
  pkt->l2_len = static_cast<uint16_t>(link->encap_len());
}

void Stack::send_reply(Packet* pkt, RxBatch& batch) {
  if (batch.link != nullptr) {
    pkt = encapsulate(*batch.link, pkt, batch.now_mono_ns);
    if (pkt == nullptr) return;
  }
  batch.send[batch.n_send++] = pkt;
}

Packet* Stack::send_tunneled(const OutFrame& f, uint64_t now_ns, TunnelHops& hops) {
  Tunnel& t = *tunnels_[f.link - 1];
  Packet* pkt = f.pkt;
  hops.use_for(t);
  if (!t.ethernet()) return encapsulate(t, pkt, now_ns, &hops);
  if (f.v6) [[unlikely]] {
    const uint64_t mac6 = t.neighbors6().lookup_packed(f.next_hop6, now_ns);
    emit_link_header(pkt, wire::kZeroMac, wire::ethertype::kIpv6, &t, 0);
    if (mac6 == 0) {
      if (!t.neighbors6().enqueue_pending(f.next_hop6, pkt, now_ns)) drop_unresolved(pkt, f.next_hop6);
      return nullptr;
    }
    std::memcpy(pkt->data + t.encap_len() - EthernetFrame::kHeaderLen + EthernetFrame::kDstOffset, &mac6, 6);
    return encapsulate(t, pkt, now_ns, &hops);
  }
  if (hops.inner_mac == 0 || hops.inner_hop != f.next_hop) {
    hops.inner_hop = f.next_hop;
    hops.inner_mac = t.neighbors().lookup_packed(f.next_hop, now_ns);
  }
  const uint64_t mac = hops.inner_mac;
  emit_link_header(pkt, wire::kZeroMac, wire::ethertype::kIpv4, &t, 0);
  if (mac == 0) {
    // Held until ARP inside the overlay answers; encapsulated then.
    if (!t.neighbors().enqueue_pending(f.next_hop, pkt, now_ns)) drop_unresolved(pkt, f.next_hop);
    return nullptr;
  }
  std::memcpy(pkt->data + t.encap_len() - EthernetFrame::kHeaderLen + EthernetFrame::kDstOffset, &mac, 6);
  return encapsulate(t, pkt, now_ns, &hops);
}

Packet* Stack::encapsulate(Tunnel& t, Packet* pkt, uint64_t now_ns, TunnelHops* hops) {
  if (hops != nullptr) hops->use_for(t);
  const TunnelConfig& c = t.config();
  const size_t inner_ip = t.encap_len();
  const size_t inner_start = inner_ip - (t.ethernet() ? EthernetFrame::kHeaderLen : 0);
  const size_t inner_len = pkt->len - inner_start;
  const size_t l2 = t.outer_l2_len();
  const size_t ip_len = c.outer_v6 ? wire::Ipv6Packet::kHeaderLen : Ipv4Packet::kMinHeaderLen;
  uint8_t* udp = pkt->data + l2 + ip_len;
  const size_t udp_len = inner_len + (inner_start - l2 - ip_len);
  uint8_t* hdr = udp + UdpDatagram::kHeaderLen;
  // The inner packet's family: the inner EtherType, or (GUE) the IP version.
  const uint8_t* ip = pkt->data + inner_ip;
  const uint16_t inner_type = t.ethernet()        ? wire::load_be16(pkt->data + inner_ip - 2)
                              : (ip[0] >> 4) == 6 ? wire::ethertype::kIpv6
                                                  : wire::ethertype::kIpv4;
  switch (c.kind) {
    case TunnelKind::kVxlan: wire::emit_vxlan(hdr, c.vni); break;
    case TunnelKind::kGeneve: wire::emit_geneve(hdr, c.vni, wire::kEtherTypeTeb, {}); break;
    case TunnelKind::kGue:
      wire::emit_gue(hdr, inner_type == wire::ethertype::kIpv6 ? wire::ip_proto::kIpv6 : wire::ip_proto::kIpip);
      break;
  }
  // ECMP/RSS entropy: the outer source port follows the inner flow.
  uint32_t hash;
  if (inner_type == wire::ethertype::kIpv4) {
    const size_t ihl = size_t{static_cast<uint8_t>(ip[0] & 0x0f)} * 4;
    const uint32_t ports = ip[Ipv4Packet::kProtocolOffset] == wire::ip_proto::kUdp && inner_len >= ihl + 4
                               ? wire::load_be32(ip + ihl)
                               : ip[Ipv4Packet::kProtocolOffset];
    hash = wire::flow_hash(wire::load_be32(ip + Ipv4Packet::kSrcOffset), wire::load_be32(ip + Ipv4Packet::kDstOffset),
                           ports);
  } else if (inner_type == wire::ethertype::kIpv6) {
    // The addresses folded to a word each; the ports when UDP follows the
    // fixed header directly.
    const Ipv6Addr src = Ipv6Addr::load(ip + wire::Ipv6Packet::kSrcOffset);
    const Ipv6Addr dst = Ipv6Addr::load(ip + wire::Ipv6Packet::kDstOffset);
    auto fold = [](const Ipv6Addr& a) {
      const uint64_t x = a.high64() ^ a.low64();
      return static_cast<uint32_t>(x ^ (x >> 32));
    };
    const uint8_t next = ip[wire::Ipv6Packet::kNextHeaderOffset];
    const size_t l4 = wire::Ipv6Packet::kHeaderLen;
    const uint32_t ports =
        next == wire::ip_proto::kUdp && inner_len >= l4 + 4 + (t.ethernet() ? EthernetFrame::kHeaderLen : 0)
            ? wire::load_be32(ip + l4)
            : next;
    hash = wire::flow_hash(fold(src), fold(dst), ports);
  } else {
    hash = wire::flow_hash(0, 0, inner_type);  // ARP: one flow
  }
  const uint16_t sport = wire::flow_source_port(hash, config_.ephemeral_low, config_.ephemeral_high);
  const std::span<uint8_t> datagram{udp, udp_len};
  const bool hw_l4 = caps_.tx_udp_csum;
  auto no_route = [&]() -> Packet* {
    tx_counters_.drop(DropReason::kTxNoRoute);
    release(pkt);
    return nullptr;
  };
  // The outer next hop through the interface's table of that family: the
  // frame now, or held for ARP/NDP (or dropped and counted).
  auto hand_off = [&](auto& cache, const auto& next_hop) -> Packet* {
    pkt->l3_len = static_cast<uint16_t>(ip_len);
    uint64_t mac = hops != nullptr ? hops->outer_mac : 0;
    if (mac == 0) {
      mac = cache.lookup_packed(next_hop, now_ns);
      if (hops != nullptr) hops->outer_mac = mac;
    }
    if (mac == 0) {
      if (!cache.enqueue_pending(next_hop, pkt, now_ns)) drop_unresolved(pkt, next_hop);
      return nullptr;
    }
    std::memcpy(pkt->data + EthernetFrame::kDstOffset, &mac, 6);
    if (learn_vlans_) retag(pkt, NeighborCache::packed_vlan(mac));
    return pkt;
  };
  const bool routed = hops != nullptr && hops->outer_routed;
  if (!c.outer_v6) {
    Ipv4Addr next_hop = routed ? hops->outer_hop : Ipv4Addr();
    if (!routed) {
      RouteResult r;
      if (!routes_.lookup_into(c.remote, r) || r.link != 0) return no_route();
      next_hop = r.next_hop;
      if (hops != nullptr) {
        hops->outer_routed = true;
        hops->outer_hop = next_hop;
      }
    }
    const uint16_t ident = t.count_tx(inner_len);
    const wire::ChecksumMode mode = !c.outer_csum
                                        ? wire::ChecksumMode::kNone
                                        : (hw_l4 ? wire::ChecksumMode::kPseudoHeader : wire::ChecksumMode::kFull);
    wire::UdpRepr{sport, c.outer_port()}.emit(datagram, t.outer_src, c.remote, mode);
    const bool hw_l3 = caps_.tx_ipv4_csum;
    wire::Ipv4Repr{t.outer_src, c.remote, wire::ip_proto::kUdp, static_cast<uint16_t>(udp_len), kOuterTtl, 0,
                   ident,       false}
        .emit({pkt->data + l2, Ipv4Packet::kMinHeaderLen}, !hw_l3);
    pkt->tx_flags = (hw_l3 ? kTxIpv4Csum : 0u) | (c.outer_csum && hw_l4 ? kTxUdpCsum : 0u);
    emit_link_header(pkt, wire::kZeroMac, wire::ethertype::kIpv4);
    return hand_off(neighbors_, next_hop);
  }
  Ipv6Addr next_hop6 = routed ? hops->outer_hop6 : Ipv6Addr();
  if (!routed) {
    RouteResult6 r;
    if (!routes6_.lookup_into(c.remote6, r) || r.link != 0) return no_route();
    next_hop6 = r.next_hop;
    if (hops != nullptr) {
      hops->outer_routed = true;
      hops->outer_hop6 = next_hop6;
    }
  }
  t.count_tx(inner_len);
  // RFC 8200 §8.1: the checksum is mandatory over IPv6 (RFC 6935's
  // zero-checksum exception is not taken).
  wire::UdpRepr{sport, c.outer_port()}.emit(datagram, t.outer_src6, c.remote6,
                                            hw_l4 ? wire::ChecksumMode::kPseudoHeader : wire::ChecksumMode::kFull);
  // The flow label carries the same entropy (RFC 6438).
  wire::Ipv6Repr{t.outer_src6,
                 c.remote6,
                 wire::ip_proto::kUdp,
                 static_cast<uint16_t>(udp_len),
                 kOuterTtl,
                 0,
                 hash & wire::Ipv6Packet::kFlowLabelMask}
      .emit({pkt->data + l2, wire::Ipv6Packet::kHeaderLen});
  pkt->tx_flags = kTxIpv6 | (hw_l4 ? kTxUdpCsum : 0u);
  emit_link_header(pkt, wire::kZeroMac, wire::ethertype::kIpv6);
  return hand_off(neighbors6_, next_hop6);
}

}  // namespace dpdkudp::stack
