// The Stack's side of IPv4 multicast (multicast.h): memberships from the
// sockets, IGMP in and out, the link filter, and looped copies of what the
// stack's own sockets send to a group.
#include <cstring>

#include "stack/net/rx_batch.h"
#include "stack/net/stack.h"
#include "stack/wire/igmp.h"
#include "stack/wire/ipv4.h"

namespace dpdkudp::stack {

int Stack::multicast_membership(UdpSocket& s, Ipv4Addr group, const Ipv4Addr* source, bool join) {
  const uint64_t now = clock_.monotonic_ns();
  return join ? multicast_->join(&s, group, source, now) : multicast_->leave(&s, group, source, now);
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

int Stack::listen_to_group(Ipv4Addr group, bool on) {
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
