// IPv6 in the stack: the receive path (header chain, UDP, ICMPv6, NDP),
// NDP's sending side and duplicate-address detection.
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/net/rx_batch.h"
#include "stack/net/stack.h"
#include "stack/net/tunnel.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ndp.h"
#include "stack/wire/udp.h"

namespace dpdkudp::stack {

using wire::Icmpv6Packet;
using wire::Icmpv6Repr;
using wire::Ipv6HeaderChain;
using wire::Ipv6Packet;
using wire::Ipv6Repr;
using wire::UdpDatagram;
namespace icmpv6_type = wire::icmpv6_type;

namespace {

// errno and "fatal" for an ICMPv6 error, as Linux's icmpv6_err_convert.
struct Icmp6Errno {
  int error;
  bool fatal;
};
Icmp6Errno icmp6_errno(uint8_t type, uint8_t code) {
  switch (type) {
    case icmpv6_type::kDestUnreachable: {
      static constexpr Icmp6Errno kUnreach[] = {
          {ENETUNREACH, false},   // no route
          {EACCES, true},         // administratively prohibited
          {EHOSTUNREACH, false},  // beyond the source's scope
          {EHOSTUNREACH, false},  // address unreachable
          {ECONNREFUSED, true},   // port unreachable
          {EACCES, true},         // source address failed policy
          {EACCES, true},         // reject route
      };
      if (code < std::size(kUnreach)) return kUnreach[code];
      return {EPROTO, true};
    }
    case icmpv6_type::kPacketTooBig: return {EMSGSIZE, false};
    case icmpv6_type::kParameterProblem: return {EPROTO, true};
    case icmpv6_type::kTimeExceeded: return {EHOSTUNREACH, false};
    default: return {EPROTO, false};
  }
}

// How many leading bits two addresses share (RFC 6724's CommonPrefixLen).
unsigned common_prefix_len(const Ipv6Addr& a, const Ipv6Addr& b) {
  if (uint64_t x = a.high64() ^ b.high64(); x != 0) return static_cast<unsigned>(__builtin_clzll(x));
  if (uint64_t x = a.low64() ^ b.low64(); x != 0) return 64 + static_cast<unsigned>(__builtin_clzll(x));
  return 128;
}

}  // namespace

// ---------------------------------------------------------------- addresses

std::vector<Stack::Address6> Stack::addresses6() const {
  std::vector<Address6> out;
  for (const OwnAddress6& a : addrs6_) out.push_back({a.cidr, a.duplicate->load(std::memory_order_relaxed)});
  return out;
}

std::optional<Ipv6Addr> Stack::select_source6(const Ipv6Addr& dst) const {
  if (!tunnels_.empty() && !dst.is_multicast()) {
    // Routed into a tunnel: its inner address.
    RouteResult6 r;
    if (routes6_.lookup_into(dst, r) && r.link != 0) return tunnels_[r.link - 1]->inner6();
  }
  // Same scope first (a link-local destination needs a link-local source,
  // a global one a global source), then the longest common prefix.
  const bool want_link_local = dst.is_link_local() || (dst.is_multicast() && dst.multicast_scope() <= 2);
  const OwnAddress6* best = nullptr;
  unsigned best_len = 0;
  bool best_scope = false;
  for (const OwnAddress6& a : addrs6_) {
    if (a.duplicate->load(std::memory_order_relaxed)) continue;
    bool scope = a.cidr.addr.is_link_local() == want_link_local;
    unsigned len = common_prefix_len(a.cidr.addr, dst);
    if (best == nullptr || (scope && !best_scope) || (scope == best_scope && len > best_len)) {
      best = &a;
      best_len = len;
      best_scope = scope;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->cidr.addr;
}

bool Stack::accepts_multicast6(const Ipv6Addr& group) const {
  if (group == Ipv6Addr::all_nodes()) return true;
  if (!group.is_solicited_node()) return false;
  for (const OwnAddress6& a : addrs6_) {
    if (a.cidr.addr.solicited_node() == group) return true;
  }
  return false;
}

void Stack::note_duplicate6(size_t index, const MacAddr& from) {
  // A defender with our own MAC is this interface (the kernel holding the
  // same address on it in shared setups, or our own probe looped back).
  if (from == mac_) return;
  addrs6_[index].duplicate->store(true, std::memory_order_relaxed);
}

uint32_t Stack::learned_mtu6(const Ipv6Addr& dst, uint32_t route_mtu) const {
  const uint64_t now = coarse_now_ns();
  std::lock_guard lock(pmtu6_lock_);
  for (const LearnedMtu6& e : pmtu6_) {
    if (e.dst == dst && now < e.expires_ns) return std::min(e.mtu, route_mtu);
  }
  return route_mtu;
}

void Stack::learn_mtu6(const Ipv6Addr& dst, uint32_t mtu, uint64_t now_ns) {
  // RFC 8201 §4: never below IPv6's minimum link MTU.
  mtu = std::max<uint32_t>(mtu, wire::Icmpv6Repr::kMinMtu);
  std::lock_guard lock(pmtu6_lock_);
  LearnedMtu6* slot = nullptr;
  for (LearnedMtu6& e : pmtu6_) {
    if (e.dst == dst || now_ns >= e.expires_ns) {
      slot = &e;
      break;
    }
  }
  if (slot == nullptr && pmtu6_.size() < kMaxLearnedMtu6) slot = &pmtu6_.emplace_back();
  if (slot == nullptr) {
    slot = &*std::min_element(pmtu6_.begin(), pmtu6_.end(),
                              [](const LearnedMtu6& a, const LearnedMtu6& b) { return a.expires_ns < b.expires_ns; });
  }
  *slot = LearnedMtu6{dst, mtu, now_ns + kLearnedMtuNs};
  pmtu6_count_.store(static_cast<uint32_t>(pmtu6_.size()), std::memory_order_release);
}

// ---------------------------------------------------------------- RX

void Stack::receive_ipv6(Packet* pkt, size_t l2_len, RxBatch& batch) {
  auto ip = Ipv6Packet::parse({pkt->data + l2_len, pkt->len - l2_len});
  if (!ip) return drop(pkt, DropReason::kIpMalformed, batch);
  const Ipv6Addr dst = ip->dst();
  const Ipv6Addr src = ip->src();
  const bool multicast = dst.is_multicast();
  if (batch.link != nullptr) {
    // Inside a tunnel: its inner address, and the groups NDP needs.
    const Tunnel& t = *batch.link;
    if (!t.has_inner6() ||
        (multicast ? dst != Ipv6Addr::all_nodes() && dst != t.inner6().solicited_node() : dst != t.inner6())) {
      return drop(pkt, DropReason::kIpNotOurs, batch);
    }
  } else if (multicast ? !accepts_multicast6(dst) && !multicast6_->listening(dst) : find_address6(dst) < 0) {
    return drop(pkt, DropReason::kIpNotOurs, batch);
  }
  if (src.is_multicast()) return drop(pkt, DropReason::kIpMartianSource, batch);
  if (!multicast && batch.link == nullptr) {
    int idx = find_address6(dst);
    if (addrs6_[static_cast<size_t>(idx)].duplicate->load(std::memory_order_relaxed)) {
      return drop(pkt, DropReason::kIpNotOurs, batch);
    }
  }
  auto chain = Ipv6HeaderChain::walk(*ip);
  if (!chain) return drop(pkt, DropReason::kIp6ExtensionHeader, batch);
  if (chain->fragment && !chain->atomic_fragment) return drop(pkt, DropReason::kIpFragment, batch);
  // Ethernet padding beyond the payload length is not ours to read.
  pkt->len = static_cast<uint32_t>(l2_len + Ipv6Packet::kHeaderLen + ip->payload_len());
  PacketRxMeta& m = pkt->meta;
  m.src_addr = 0;
  m.dst_addr = 0;
  m.ipv6 = 1;
  m.l3_offset = static_cast<uint16_t>(l2_len);
  m.tos = ip->traffic_class();
  m.ttl = ip->hop_limit();
  const size_t l4_off = l2_len + chain->upper_offset;
  switch (chain->upper_protocol) {
    case wire::ip_proto::kUdp: return receive_udp6(pkt, l2_len, l4_off, batch);
    case wire::ip_proto::kIcmpv6: return receive_icmp6(pkt, l2_len, l4_off, batch);
    case wire::ip_proto::kNoNextHeader: return drop(pkt, DropReason::kIpUnknownProtocol, batch);
    default: return drop(pkt, DropReason::kIpUnknownProtocol, batch);
  }
}

void Stack::receive_udp6(Packet* pkt, size_t l2_len, size_t l4_off, RxBatch& batch) {
  auto udp = UdpDatagram::parse({pkt->data + l4_off, pkt->len - l4_off});
  if (!udp) return drop(pkt, DropReason::kUdpMalformed, batch);
  const uint8_t* l3 = pkt->data + l2_len;
  const Ipv6Addr src = Ipv6Addr::load(l3 + Ipv6Packet::kSrcOffset);
  const Ipv6Addr dst = Ipv6Addr::load(l3 + Ipv6Packet::kDstOffset);
  // RFC 8200 §8.1: a zero checksum over IPv6 is an error, whatever the NIC says.
  if (udp->checksum() == 0) return drop(pkt, DropReason::kUdpZeroChecksum, batch);
  if (pkt->rx_flags & kRxL4CsumBad) return drop(pkt, DropReason::kUdpChecksum, batch);
  if (!(pkt->rx_flags & (kRxL4CsumGood | kRxL4CsumPartial)) && !udp->verify_checksum(src, dst)) {
    return drop(pkt, DropReason::kUdpChecksum, batch);
  }
  PacketRxMeta& m = pkt->meta;
  set_udp_meta(m, *udp, l4_off, batch.now_real_ns);
  if (!tunnels_.empty() && batch.link == nullptr && is_tunnel_port(m.dst_port, true)) [[unlikely]] {
    return receive_tunnel(pkt, l4_off, true, batch);
  }
  if (dst.is_multicast()) return deliver_multicast6(pkt, dst, src, batch);

  bool unconnected = false;
  UdpSocket* s = table_.lookup6(dst, m.dst_port, src, m.src_port, &unconnected);
  // Other processes on the interface see this frame too: which one takes it.
  if (port_sharing_ != nullptr && (s == nullptr || unconnected) && batch.link == nullptr) {
    if (port_sharing_->owner6(dst, m.dst_port, src, m.src_port) == PortSharing::Owner::kOtherProcess) {
      return drop(pkt, DropReason::kUdpOtherProcess, batch);
    }
  }
  if (s == nullptr) {
    if (answers_for_host(batch)) send_port_unreachable6(pkt, l2_len, batch);
    return drop(pkt, DropReason::kUdpNoSocket, batch);
  }
  enqueue_datagram(s, pkt, batch);
}

void Stack::receive_icmp6(Packet* pkt, size_t l2_len, size_t l4_off, RxBatch& batch) {
  const uint8_t* l3 = pkt->data + l2_len;
  const Ipv6Addr src = Ipv6Addr::load(l3 + Ipv6Packet::kSrcOffset);
  const Ipv6Addr dst = Ipv6Addr::load(l3 + Ipv6Packet::kDstOffset);
  std::span<const uint8_t> bytes{pkt->data + l4_off, pkt->len - l4_off};
  auto icmp = Icmpv6Packet::parse(bytes);
  if (!icmp) return drop(pkt, DropReason::kIcmpMalformed, batch);
  if (!icmp->verify_checksum(src, dst)) return drop(pkt, DropReason::kIcmpChecksum, batch);
  switch (icmp->type()) {
    case icmpv6_type::kNeighborSolicitation: return receive_ns(pkt, bytes, batch);
    case wire::mld_type::kQuery:
    case wire::mld_type::kV1Report:
    case wire::mld_type::kV1Done:
    case wire::mld_type::kV2Report: return receive_mld(pkt, bytes, batch);
    case icmpv6_type::kNeighborAdvertisement: return receive_na(pkt, bytes, batch);
    case icmpv6_type::kEchoRequest: {
      // The kernel answers in shared mode; a multicast echo is not answered
      // (as Linux's icmp_echo_ignore_multicast).
      if (!answers_for_host(batch) || dst.is_multicast()) {
        return drop(pkt, DropReason::kIcmpUnhandled, batch);
      }
      Packet* reply = nullptr;
      if (backend_.alloc({&reply, 1}) != 1) return drop(pkt, DropReason::kTxNoBuffer, batch);
      const size_t l2 = link_header_len(batch.link);
      const size_t len = l2 + Ipv6Packet::kHeaderLen + bytes.size();
      if (len > reply->room) {
        release(reply);
        return drop(pkt, DropReason::kIcmpMalformed, batch);
      }
      emit_link_header(reply, wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset), wire::ethertype::kIpv6,
                       batch.link, batch.vlan);
      uint8_t* l3_out = reply->data + l2;
      Icmpv6Repr{icmpv6_type::kEchoReply, 0, icmp->echo_ident(), icmp->echo_seq(), 0, 0, icmp->data()}.emit(
          {l3_out + Ipv6Packet::kHeaderLen, bytes.size()}, dst, src);
      Ipv6Repr{
          dst,           src, wire::ip_proto::kIcmpv6, static_cast<uint16_t>(bytes.size()), config_.default_hop_limit,
          pkt->meta.tos, 0}
          .emit({l3_out, Ipv6Packet::kHeaderLen});
      reply->l3_len = Ipv6Packet::kHeaderLen;
      reply->len = static_cast<uint32_t>(len);
      send_reply(reply, batch);
      batch.counters->icmp_echo_replies.add();
      batch.release[batch.n_release++] = pkt;
      return;
    }
    case icmpv6_type::kDestUnreachable:
    case icmpv6_type::kPacketTooBig:
    case icmpv6_type::kTimeExceeded:
    case icmpv6_type::kParameterProblem: {
      batch.counters->icmp_errors_received.add();
      uint32_t info = icmp->type() == icmpv6_type::kPacketTooBig ? icmp->mtu() : 0;
      if (icmp->type() == icmpv6_type::kParameterProblem) info = icmp->pointer();
      icmp6_error_to_socket(src, icmp->type(), icmp->code(), info, icmp->invoking_packet());
      batch.release[batch.n_release++] = pkt;
      return;
    }
    default: return drop(pkt, DropReason::kIcmpUnhandled, batch);
  }
}

void Stack::receive_ns(Packet* pkt, std::span<const uint8_t> icmp, RxBatch& batch) {
  const uint8_t* l3 = pkt->data + pkt->meta.l3_offset;
  auto ip = Ipv6Packet::parse({l3, pkt->len - pkt->meta.l3_offset});
  auto ns = wire::NdpNeighborSolicit::parse(icmp, wire::NdpIpFields::of(*ip));
  if (!ns) return drop(pkt, DropReason::kNdpMalformed, batch);
  batch.counters->ndp_received.add();
  const Ipv6Addr target = ns->target();
  const Ipv6Addr src = ip->src();
  if (batch.link != nullptr) {
    // Inside a tunnel: the inner address is ours alone (no DAD inside);
    // learn the asker and answer through the tunnel.
    Tunnel& t = *batch.link;
    const bool for_us = t.has_inner6() && target == t.inner6();
    if (!src.is_unspecified()) {
      if (auto mac = ns->source_mac()) t.neighbors6().update(src, *mac, batch.now_mono_ns, for_us);
      if (for_us) {
        const MacAddr reply_mac =
            ns->source_mac().value_or(wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset));
        send_na(target, src, reply_mac, true, true, 0, &t);
        batch.counters->ndp_adverts_sent.add();
      }
    }
    batch.release[batch.n_release++] = pkt;
    return;
  }
  const int idx = find_address6(target);
  const MacAddr eth_src = wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset);
  if (src.is_unspecified()) {
    // Another node's duplicate-address probe for one of ours (RFC 4862
    // §5.4.3): while we are still checking it, it is theirs; after, we
    // defend it (dedicated mode) with an advertisement to all nodes.
    if (idx >= 0 && batch.now_mono_ns < dad_until_ns_.load(std::memory_order_relaxed)) {
      note_duplicate6(static_cast<size_t>(idx), eth_src);
    } else if (idx >= 0 && answers_for_host(batch) && !addrs6_[static_cast<size_t>(idx)].duplicate->load()) {
      send_na(target, Ipv6Addr::all_nodes(), Ipv6Addr::all_nodes().multicast_mac(), false, true, batch.vlan);
      batch.counters->ndp_adverts_sent.add();
    }
    batch.release[batch.n_release++] = pkt;
    return;
  }
  // §7.2.3: learn the sender (an entry is made only for an NS to us).
  if (auto mac = ns->source_mac()) neighbors6_.update(src, *mac, batch.now_mono_ns, idx >= 0, batch.vlan);
  if (idx >= 0 && answers_for_host(batch) && !addrs6_[static_cast<size_t>(idx)].duplicate->load()) {
    const MacAddr reply_mac = ns->source_mac().value_or(eth_src);
    send_na(target, src, reply_mac, true, true, batch.vlan);
    batch.counters->ndp_adverts_sent.add();
  }
  batch.release[batch.n_release++] = pkt;
}

void Stack::receive_na(Packet* pkt, std::span<const uint8_t> icmp, RxBatch& batch) {
  const uint8_t* l3 = pkt->data + pkt->meta.l3_offset;
  auto ip = Ipv6Packet::parse({l3, pkt->len - pkt->meta.l3_offset});
  auto na = wire::NdpNeighborAdvert::parse(icmp, wire::NdpIpFields::of(*ip));
  if (!na) return drop(pkt, DropReason::kNdpMalformed, batch);
  batch.counters->ndp_received.add();
  const Ipv6Addr target = na->target();
  if (batch.link != nullptr) {
    if (auto mac = na->target_mac()) batch.link->neighbors6().update(target, *mac, batch.now_mono_ns, false);
    batch.release[batch.n_release++] = pkt;
    return;
  }
  const MacAddr eth_src = wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset);
  if (int idx = find_address6(target); idx >= 0) {
    // Someone else claims one of our addresses (RFC 4862 §5.4.4).
    if (batch.now_mono_ns < dad_until_ns_.load(std::memory_order_relaxed)) {
      note_duplicate6(static_cast<size_t>(idx), eth_src);
    }
    batch.release[batch.n_release++] = pkt;
    return;
  }
  // §7.2.5: an advertisement updates an entry we have; without the target's
  // link-layer option it says nothing we can use.
  if (auto mac = na->target_mac()) neighbors6_.update(target, *mac, batch.now_mono_ns, false, batch.vlan);
  batch.release[batch.n_release++] = pkt;
}

void Stack::icmp6_error_to_socket(const Ipv6Addr& offender, uint8_t type, uint8_t code, uint32_t info,
                                  std::span<const uint8_t> original) {
  auto quoted = Ipv6Packet::parse_quoted(original);
  if (!quoted) return;
  auto chain = Ipv6HeaderChain::walk(*quoted);
  if (!chain || chain->upper_protocol != wire::ip_proto::kUdp || !chain->has_upper_header()) return;
  if (original.size() < chain->upper_offset + UdpDatagram::kHeaderLen) return;
  const Ipv6Addr from = quoted->src();
  const Ipv6Addr to = quoted->dst();
  if (!is_local_address6(from)) return;
  if (type == icmpv6_type::kPacketTooBig) learn_mtu6(to, info, coarse_now_ns());
  const uint16_t sport = wire::load_be16(original.data() + chain->upper_offset);
  const uint16_t dport = wire::load_be16(original.data() + chain->upper_offset + 2);
  // The socket that sent it: local = (from, sport), remote = (to, dport).
  UdpSocket* s = table_.lookup6(from, sport, to, dport);
  if (s == nullptr) return;
  Icmp6Errno e = icmp6_errno(type, code);
  SocketError err;
  err.error = e.error;
  err.icmp_type = type;
  err.icmp_code = code;
  err.icmp6 = true;
  err.info = info;
  err.offender6 = offender;
  err.destination = Endpoint::ipv6(to, dport, to.is_link_local() ? config_.ifindex : 0);
  s->report_error(err, e.fatal);
}

void Stack::send_port_unreachable6(const Packet* pkt, size_t l2_len, RxBatch& batch) {
  const uint8_t* l3 = pkt->data + l2_len;
  const Ipv6Addr peer = Ipv6Addr::load(l3 + Ipv6Packet::kSrcOffset);
  const Ipv6Addr us = Ipv6Addr::load(l3 + Ipv6Packet::kDstOffset);
  {
    std::lock_guard lock(icmp_limiter_lock_);
    if (!icmp_limiter_.allow6(peer, batch.now_mono_ns)) {
      batch.counters->icmp_rate_limited.add();
      return;
    }
  }
  Packet* err = nullptr;
  if (backend_.alloc({&err, 1}) != 1) return;
  const size_t l2 = link_header_len(batch.link);
  std::span<const uint8_t> quoted = Icmpv6Repr::quote({l3, pkt->len - l2_len});
  Icmpv6Repr repr{wire::icmpv6_type::kDestUnreachable, wire::icmpv6_unreach::kPort, 0, 0, 0, 0, quoted};
  const size_t icmp_len = repr.buffer_len();
  if (l2 + Ipv6Packet::kHeaderLen + icmp_len > err->room) {
    release(err);
    return;
  }
  emit_link_header(err, wire::load_mac(pkt->data + wire::EthernetFrame::kSrcOffset), wire::ethertype::kIpv6, batch.link,
                   batch.vlan);
  repr.emit({err->data + l2 + Ipv6Packet::kHeaderLen, icmp_len}, us, peer);
  Ipv6Repr{us, peer, wire::ip_proto::kIcmpv6, static_cast<uint16_t>(icmp_len), config_.default_hop_limit, 0, 0}.emit(
      {err->data + l2, Ipv6Packet::kHeaderLen});
  err->l3_len = Ipv6Packet::kHeaderLen;
  err->len = static_cast<uint32_t>(l2 + Ipv6Packet::kHeaderLen + icmp_len);
  send_reply(err, batch);
  batch.counters->icmp_unreach_sent.add();
}

// ---------------------------------------------------------------- NDP TX

template <typename Fill>
void Stack::send_icmp6(const MacAddr& eth_dst, const Ipv6Addr& src, const Ipv6Addr& dst, size_t len, Fill fill,
                       uint16_t vlan, Tunnel* link) {
  Packet* pkt = nullptr;
  if (backend_.alloc({&pkt, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return;
  }
  emit_link_header(pkt, eth_dst, wire::ethertype::kIpv6, link, vlan);
  uint8_t* l3 = pkt->data + pkt->l2_len;
  fill(std::span<uint8_t>{l3 + Ipv6Packet::kHeaderLen, len});
  Ipv6Repr{src, dst, wire::ip_proto::kIcmpv6, static_cast<uint16_t>(len), wire::kNdpHopLimit, 0, 0}.emit(
      {l3, Ipv6Packet::kHeaderLen});
  pkt->l3_len = Ipv6Packet::kHeaderLen;
  pkt->len = pkt->l2_len + static_cast<uint32_t>(Ipv6Packet::kHeaderLen + len);
  if (link != nullptr) {
    pkt = encapsulate(*link, pkt, coarse_now_ns());
    if (pkt == nullptr) return;
  }
  transmit(tx_queue_for_thread(), {&pkt, 1});
}

void Stack::send_ns(const Ipv6Addr& target, const MacAddr* unicast_to, bool dad, uint16_t vlan, Tunnel* link) {
  // §7.2.2: to the target's solicited-node group, or to the target itself
  // when confirming a known entry; from the address the traffic will use
  // (DAD: from ::, without our link-layer address).
  std::optional<Ipv6Addr> src = dad    ? std::optional<Ipv6Addr>(Ipv6Addr())
                                : link ? std::optional<Ipv6Addr>(link->inner6())
                                       : select_source6(target);
  if (!src) return;
  const Ipv6Addr dst = unicast_to != nullptr ? target : target.solicited_node();
  const MacAddr eth_dst = unicast_to != nullptr ? *unicast_to : dst.multicast_mac();
  wire::NdpNeighborSolicitRepr ns{target, dad ? std::nullopt : std::optional<MacAddr>(mac_)};
  send_icmp6(
      eth_dst, *src, dst, ns.buffer_len(), [&](std::span<uint8_t> out) { ns.emit(out, *src, dst); }, vlan, link);
  tx_counters_.update([](TxCounterBlock& b) { b.ndp_solicits.add(); });
}

void Stack::send_na(const Ipv6Addr& target, const Ipv6Addr& dst, const MacAddr& eth_dst, bool solicited,
                    bool override_flag, uint16_t vlan, Tunnel* link) {
  wire::NdpNeighborAdvertRepr na{target, false, solicited, override_flag, mac_};
  send_icmp6(
      eth_dst, target, dst, na.buffer_len(), [&](std::span<uint8_t> out) { na.emit(out, target, dst); }, vlan, link);
}

void Stack::send_request(Ipv6Addr target, const MacAddr* unicast_to, uint16_t vlan) {
  if (unicast_to != nullptr || resolve_vlans_.empty()) return send_ns(target, unicast_to, false, vlan);
  for (uint16_t v : resolve_vlans_) send_ns(target, nullptr, false, v);  // as for ARP
}

void Stack::drop_unresolved(Packet* pkt, Ipv6Addr /*target*/) {
  tx_counters_.drop(DropReason::kNdpUnresolved);
  release(pkt);
}

void Stack::start6() {
  if (addrs6_.empty()) return;
  // Optimistic duplicate-address detection (RFC 4429): the addresses are
  // used at once; a probe is sent for each, and another node that claims
  // one within the window (RFC 4862's RetransTimer, 1 s) takes it from us.
  dad_until_ns_.store(clock_.monotonic_ns() + config_.neighbor.retrans_ns, std::memory_order_relaxed);
  for (const OwnAddress6& a : addrs6_) send_ns(a.cidr.addr, nullptr, true);
  // Then say where we are (RFC 4861 §7.2.6), without override: an optimistic
  // address must not overwrite another node's entry (RFC 4429 §3.3).
  for (const OwnAddress6& a : addrs6_) {
    send_na(a.cidr.addr, Ipv6Addr::all_nodes(), Ipv6Addr::all_nodes().multicast_mac(), false, false);
  }
}

}  // namespace dpdkudp::stack
