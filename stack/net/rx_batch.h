// The RX burst's working set, shared by the IPv4 (stack.cc) and IPv6
// (stack_ipv6.cc) receive paths. Private to stack/net.
#pragma once

#include "stack/net/stack.h"
#include "stack/wire/udp.h"

namespace dpdkudp::stack {

// Work collected while one burst is processed, flushed once at its end.
struct Stack::RxBatch {
  uint16_t queue = 0;
  uint64_t now_real_ns = 0;
  uint64_t now_mono_ns = 0;
  RxQueueCounters* counters = nullptr;
  // The tunnel the frame in hand came out of (nullptr: the interface).
  Tunnel* link = nullptr;
  // The VLAN the frame in hand was heard on, on a trunk (0: the stack's
  // own); replies and learned neighbours use it.
  uint16_t vlan = 0;
  Packet* release[kBurst * 2];
  size_t n_release = 0;
  Packet* send[kBurst * 2];
  size_t n_send = 0;
  // The run of datagrams for one socket, delivered with one queue update.
  UdpSocket* chain_socket = nullptr;
  Packet* chain_first = nullptr;
  Packet* chain_last = nullptr;
  uint32_t chain_count = 0;
  uint64_t chain_bytes = 0;
  uint64_t chain_base = 0;  // the socket's charge when the run began

  void flush_chain() {
    if (chain_socket == nullptr) return;
    chain_socket->deliver_chain(chain_first, chain_last, chain_count, chain_bytes);
    counters->udp_delivered.add(chain_count);
    chain_socket = nullptr;
  }
};

// The receive metadata of a UDP datagram whose header is at l4_off (both
// IP versions; the addresses are the caller's).
inline void set_udp_meta(PacketRxMeta& m, const wire::UdpDatagram& udp, size_t l4_off, uint64_t now_real_ns) {
  m.timestamp_ns = now_real_ns;
  m.src_port = udp.src_port();
  m.dst_port = udp.dst_port();
  m.payload_offset = static_cast<uint16_t>(l4_off + wire::UdpDatagram::kHeaderLen);
  m.payload_len = static_cast<uint16_t>(udp.length() - wire::UdpDatagram::kHeaderLen);
}

inline void Stack::enqueue_datagram(UdpSocket* s, Packet* pkt, RxBatch& batch) {
  const PacketRxMeta& m = pkt->meta;
  if (s != batch.chain_socket) {
    batch.flush_chain();
    batch.chain_socket = s;
    batch.chain_first = pkt;
    batch.chain_count = 0;
    batch.chain_bytes = 0;
    batch.chain_base = s->queued_charge();
  }
  // As Linux: an empty queue always takes one datagram; otherwise the
  // charge must fit in SO_RCVBUF.
  uint64_t queued = batch.chain_base + batch.chain_bytes;
  if (queued != 0 && queued + UdpSocket::charge_of(m) > s->rcvbuf()) {
    s->count_rx_drop();
    if (batch.chain_count == 0) batch.chain_socket = nullptr;
    return drop(pkt, DropReason::kSocketBufferFull, batch);
  }
  if (batch.chain_count != 0) batch.chain_last->next = pkt;
  batch.chain_last = pkt;
  batch.chain_count++;
  batch.chain_bytes += UdpSocket::charge_of(m);
}

inline bool Stack::answers_for_host(const RxBatch& batch) const {
  if (batch.link != nullptr) return true;
  return config_.dedicated && (port_sharing_ == nullptr || port_sharing_->answers_for_host());
}

inline void Stack::drop(Packet* pkt, DropReason reason, RxBatch& batch) {
  batch.counters->drops[static_cast<size_t>(reason)].add();
  if (batch.link != nullptr) [[unlikely]]
    batch.link->count_drop(TunnelDrop::kInner, batch.queue);
  batch.release[batch.n_release++] = pkt;
}

}  // namespace dpdkudp::stack
