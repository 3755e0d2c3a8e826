// The Stack's side of multicast (multicast.h): memberships from the
// sockets, IGMP and MLD in and out, the link filter, group datagrams to
// IPv6 sockets, and looped copies of what the stack's own sockets send to
// a group.
#include <cstring>

#include "stack/net/rx_batch.h"
#include "stack/net/stack.h"
#include "stack/wire/igmp.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/mld.h"

namespace dpdkudp::stack {

int Stack::multicast_membership(UdpSocket& s, Ipv4Addr group, const Ipv4Addr* source, bool join) {
  const uint64_t now = clock_.monotonic_ns();
  const int rc = join ? multicast_->join(&s, group, source, now) : multicast_->leave(&s, group, source, now);
  if (rc == 0 && group_peers_ != nullptr) group_peers_->memberships_changed();
  return rc;
}

int Stack::multicast6_membership(UdpSocket& s, const Ipv6Addr& group, const Ipv6Addr* source, bool join) {
  const uint64_t now = clock_.monotonic_ns();
  const int rc = join ? multicast6_->join(&s, group, source, now) : multicast6_->leave(&s, group, source, now);
  if (rc == 0 && group_peers_ != nullptr) group_peers_->memberships_changed();
  return rc;
}

std::vector<GroupKey> Stack::group_memberships() const {
  std::vector<GroupKey> out;
  const auto add = [&out](const GroupKey& k) {
    if (k.port != 0 && std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  };
  multicast_->for_each_membership([&](const Ipv4Addr& group, const UdpSocket& s) {
    if (auto local = s.local()) add(GroupKey::of(group, local->port));
  });
  multicast6_->for_each_membership([&](const Ipv6Addr& group, const UdpSocket& s) {
    if (auto local = s.local()) add(GroupKey::of(group, local->port));
  });
  return out;
}

bool Stack::inject_looped_frame(const uint8_t* frame, size_t len) {
  Packet* pkt = nullptr;
  if (backend_.alloc({&pkt, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return false;
  }
  if (pkt->room < len) {
    release(pkt);
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return false;
  }
  std::memcpy(pkt->data, frame, len);
  pkt->len = static_cast<uint32_t>(len);
  pkt->l2_len = 0;
  pkt->l3_len = 0;
  pkt->vlan_tci = 0;
  pkt->tx_flags = 0;
  push_loopback(pkt);
  return true;
}

void Stack::forward_to_peers(const Packet* pkt, const GroupKey& key) {
  // Not what we looped back ourselves (our sends, others' copies), not a
  // frame whose tag the backend took off (the copy would lose it).
  if ((pkt->rx_flags & (kRxLooped | kRxVlanStripped)) != 0 || !group_peers_->forward_received()) return;
  if (group_peers_->member(key)) group_peers_->send_copies(key, pkt->data, pkt->len);
}

// ---- IGMP out ----

void Stack::send_report(std::span<const wire::IgmpGroupRecord> records) {
  uint8_t buf[IgmpFamily::kMaxReport];
  const size_t len = wire::emit_igmp_v3_report(records, buf);
  if (len != 0) send_igmp({buf, len}, wire::kIgmpV3Routers);
}

void Stack::send_old(int version, bool leave, const Ipv4Addr& group) {
  // RFC 2236 3: v1/v2 reports to the group itself, leaves to all routers.
  uint8_t msg[8];
  const uint8_t type =
      leave ? wire::igmp_type::kV2Leave : (version == 1 ? wire::igmp_type::kV1Report : wire::igmp_type::kV2Report);
  wire::emit_igmp_v2(type, group, msg);
  send_igmp(msg, leave ? wire::kAllRouters : group);
}

void Stack::send_igmp(std::span<const uint8_t> msg, Ipv4Addr dst) {
  Packet* pkt = nullptr;
  if (backend_.alloc({&pkt, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return;
  }
  const size_t l3 = wire::kIpv4RouterAlertHeaderLen;
  if (pkt->room < link_header_len() + l3 + msg.size()) {
    release(pkt);
    return;
  }
  emit_link_header(pkt, ipv4_multicast_mac(dst), wire::ethertype::kIpv4);
  uint8_t* ip = pkt->data + pkt->l2_len;
  // TOS 0xc0 (internetwork control), as Linux sends IGMP.
  wire::emit_ipv4_router_alert_header(config_.address.addr, dst, 0xc0, 0, static_cast<uint16_t>(msg.size()), {ip, l3});
  std::memcpy(ip + l3, msg.data(), msg.size());
  pkt->l3_len = static_cast<uint16_t>(l3);
  pkt->len = static_cast<uint32_t>(pkt->l2_len + l3 + msg.size());
  pkt->tx_flags &= kTxVlanInsert;  // checksums are set: no offload asked
  tx_counters_.update([](TxCounterBlock& b) { b.igmp_sent.add(); });
  transmit(tx_queue_for_thread(), {&pkt, 1});
}

int Stack::listen_to_group(const Ipv4Addr& group, bool on) {
  // On: the device's filter first, then the steering (the other way round
  // on the way out), so a group is never steered to us and then filtered.
  if (on) {
    if (int rc = backend_.set_multicast_mac(ipv4_multicast_mac(group), true); rc != 0) return rc;
    if (port_steering_ == nullptr) return 0;
    const int err = port_steering_->steer_group(group, true);
    if (err == 0) return 0;
    backend_.set_multicast_mac(ipv4_multicast_mac(group), false);
    return -err;
  }
  if (port_steering_ != nullptr) port_steering_->steer_group(group, false);
  return backend_.set_multicast_mac(ipv4_multicast_mac(group), false);
}

void Stack::receive_igmp(Packet* pkt, size_t l2_len, size_t l3_len, RxBatch& batch) {
  const size_t off = l2_len + l3_len;
  const std::span<const uint8_t> msg{pkt->data + off, pkt->len - off};
  const std::optional<uint8_t> type = wire::igmp_message_type(msg);
  if (!type) return drop(pkt, DropReason::kIgmpMalformed, batch);
  batch.counters->igmp_received.add();
  if (*type == wire::igmp_type::kQuery && batch.link == nullptr) {
    const std::optional<wire::IgmpQuery> q = wire::parse_igmp_query(msg);
    if (!q) return drop(pkt, DropReason::kIgmpMalformed, batch);
    multicast_->on_query(*q, batch.now_mono_ns != 0 ? batch.now_mono_ns : clock_.monotonic_ns());
  }
  // Other hosts' reports and leaves: nothing to do (IGMPv3 suppresses
  // nothing; a v1/v2 host would, and answering anyway is allowed).
  batch.release[batch.n_release++] = pkt;
}

// ---- MLD ----

template <class Emit>
void Stack::send_mld(size_t len, const Ipv6Addr& dst, Emit&& emit) {
  // RFC 3810 5: from a link-local source (:: until there is one).
  Ipv6Addr src;
  for (const OwnAddress6& a : addrs6_) {
    if (a.cidr.addr.is_link_local()) {
      src = a.cidr.addr;
      break;
    }
  }
  Packet* pkt = nullptr;
  if (backend_.alloc({&pkt, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return;
  }
  const size_t l3 = wire::kIpv6MldHeaderLen;
  if (pkt->room < link_header_len() + l3 + len) {
    release(pkt);
    return;
  }
  emit_link_header(pkt, dst.multicast_mac(), wire::ethertype::kIpv6);
  uint8_t* ip = pkt->data + pkt->l2_len;
  const size_t written = emit({ip + l3, len}, src);
  if (written == 0) {
    release(pkt);
    return;
  }
  wire::emit_ipv6_mld_header(src, dst, static_cast<uint16_t>(written), {ip, l3});
  pkt->l3_len = static_cast<uint16_t>(l3);
  pkt->len = static_cast<uint32_t>(pkt->l2_len + l3 + written);
  pkt->tx_flags &= kTxVlanInsert;  // checksums are set: no offload asked
  tx_counters_.update([](TxCounterBlock& b) { b.mld_sent.add(); });
  transmit(tx_queue_for_thread(), {&pkt, 1});
}

void Stack::send_report(std::span<const wire::MldGroupRecord> records) {
  send_mld(wire::mld_v2_report_len(records), wire::kMldV2Routers, [&](std::span<uint8_t> out, const Ipv6Addr& src) {
    return wire::emit_mld_v2_report(records, src, wire::kMldV2Routers, out);
  });
}

void Stack::send_old(int /*version*/, bool leave, const Ipv6Addr& group) {
  // RFC 2710 3, 4: reports to the group itself, dones to all routers.
  const Ipv6Addr dst = leave ? wire::kAllRouters6 : group;
  const uint8_t type = leave ? wire::mld_type::kV1Done : wire::mld_type::kV1Report;
  send_mld(24, dst,
           [&](std::span<uint8_t> out, const Ipv6Addr& src) { return wire::emit_mld_v1(type, group, src, dst, out); });
}

int Stack::listen_to_group(const Ipv6Addr& group, bool on) {
  // As for IPv4: the filter, then the steering; undone the other way.
  if (on) {
    if (int rc = backend_.set_multicast_mac(group.multicast_mac(), true); rc != 0) return rc;
    if (port_steering_ == nullptr) return 0;
    const int err = port_steering_->steer_group6(group, true);
    if (err == 0) return 0;
    backend_.set_multicast_mac(group.multicast_mac(), false);
    return -err;
  }
  if (port_steering_ != nullptr) port_steering_->steer_group6(group, false);
  return backend_.set_multicast_mac(group.multicast_mac(), false);
}

void Stack::receive_mld(Packet* pkt, std::span<const uint8_t> msg, RxBatch& batch) {
  const uint8_t* l3 = pkt->data + pkt->meta.l3_offset;
  const Ipv6Addr src = Ipv6Addr::load(l3 + wire::Ipv6Packet::kSrcOffset);
  const Ipv6Addr dst = Ipv6Addr::load(l3 + wire::Ipv6Packet::kDstOffset);
  const std::optional<uint8_t> type = wire::mld_message_type(msg, src, dst);
  if (!type) return drop(pkt, DropReason::kMldMalformed, batch);
  batch.counters->mld_received.add();
  // RFC 3810 5: a query with another hop limit, or from a source that is
  // not link-local, is not one (parse_mld_query checks the source).
  if (*type == wire::mld_type::kQuery && batch.link == nullptr && pkt->meta.ttl == wire::kMldHopLimit) {
    const std::optional<wire::MldQuery> q = wire::parse_mld_query(msg, src, dst);
    if (!q) return drop(pkt, DropReason::kMldMalformed, batch);
    multicast6_->on_query(*q, batch.now_mono_ns != 0 ? batch.now_mono_ns : clock_.monotonic_ns());
  }
  // Other hosts' reports and dones: nothing to do (as for IGMP).
  batch.release[batch.n_release++] = pkt;
}

void Stack::deliver_multicast6(Packet* pkt, const Ipv6Addr& group, const Ipv6Addr& src, RxBatch& batch) {
  batch.flush_chain();
  const PacketRxMeta& m = pkt->meta;
  if (group_peers_ != nullptr) forward_to_peers(pkt, GroupKey::of(group, m.dst_port));
  bool delivered = false;
  table_.for_each_multicast6_match(group, m.dst_port, src, m.src_port, [&](UdpSocket* s) {
    if (!multicast6_->allows(s, group, src, s->multicast_all6())) return;
    delivered |= deliver_copy(s, pkt, batch);
  });
  if (!delivered) return drop(pkt, DropReason::kUdpNoSocket, batch);
  batch.release[batch.n_release++] = pkt;
}

void Stack::loop_multicast_copy(const Packet* pkt) {
  Packet* copy = nullptr;
  if (backend_.alloc({&copy, 1}) != 1) {
    tx_counters_.drop(DropReason::kTxNoBuffer);
    return;
  }
  std::memcpy(copy->data, pkt->data, pkt->len);
  copy->len = pkt->len;
  copy->l2_len = pkt->l2_len;
  copy->l3_len = pkt->l3_len;
  copy->vlan_tci = pkt->vlan_tci;
  copy->tx_flags = pkt->tx_flags;  // push_loopback reads the VLAN request
  push_loopback(copy);
}

}  // namespace dpdkudp::stack
