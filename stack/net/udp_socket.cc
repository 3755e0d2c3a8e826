#include "stack/net/udp_socket.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "stack/net/stack.h"
#include "stack/wire/ipv6.h"

namespace dpdkudp::stack {

size_t copy_to_iov(std::span<const iovec> iov, const uint8_t* src, size_t len) {
  size_t done = 0;
  for (const iovec& v : iov) {
    if (done == len) break;
    size_t n = std::min(v.iov_len, len - done);
    if (n != 0) std::memcpy(v.iov_base, src + done, n);
    done += n;
  }
  return done;
}

namespace {

// A producer that was preempted between its two steps leaves a counted
// datagram unlinked for that long; wait this many pauses, then say EAGAIN.
constexpr int kHalfLinkedSpins = 4096;

}  // namespace

UdpSocket::UdpSocket(SocketOwner& owner, uint64_t id, uint8_t ttl, bool ipv6) : owner_(owner), id_(id), ipv6_(ipv6) {
  ttl_.store(ttl);
}

UdpSocket::~UdpSocket() { purge(); }

int UdpSocket::bind(Endpoint local) { return owner_.socket_bind(*this, local); }
int UdpSocket::connect(Endpoint remote) { return owner_.socket_connect(*this, remote); }
int UdpSocket::disconnect() { return owner_.socket_disconnect(*this); }
int64_t UdpSocket::send(std::span<const iovec> iov, const Endpoint* dst) { return owner_.socket_send(*this, iov, dst); }
int64_t UdpSocket::send_batch(std::span<SendSlot> msgs) { return owner_.socket_send_batch(*this, msgs); }
int64_t UdpSocket::send_from(std::span<const iovec> iov, const Endpoint* dst, const Ipv6Addr& src6) {
  SendSlot slot{iov, dst, 0, &src6};
  int64_t n = owner_.socket_send_batch(*this, {&slot, 1});
  return n < 0 ? n : slot.result;
}
void UdpSocket::close() { owner_.socket_close(*this); }

int UdpSocket::set_v6only(bool on) {
  std::lock_guard lock(addr_lock_);
  if (!ipv6_) return -ENOPROTOOPT;
  if (local_) return -EINVAL;  // as Linux: only before bind
  v6only_.store(on, std::memory_order_relaxed);
  return 0;
}

void UdpSocket::Published6::store(const Endpoint& e) {
  uint64_t h = 0;
  uint64_t l = 0;
  std::memcpy(&h, e.addr6.octets.data(), 8);
  std::memcpy(&l, e.addr6.octets.data() + 8, 8);
  hi.store(h, std::memory_order_relaxed);
  lo.store(l, std::memory_order_relaxed);
  scope.store(e.scope_id, std::memory_order_relaxed);
}

void UdpSocket::Published6::load_into(Endpoint& e) const {
  uint64_t h = hi.load(std::memory_order_relaxed);
  uint64_t l = lo.load(std::memory_order_relaxed);
  std::memcpy(e.addr6.octets.data(), &h, 8);
  std::memcpy(e.addr6.octets.data() + 8, &l, 8);
  e.scope_id = scope.load(std::memory_order_relaxed);
}

std::optional<Endpoint> UdpSocket::unpack_v6(const std::atomic<uint64_t>& packed, const Published6& v6) const {
  for (;;) {
    uint32_t seq = addr_seq_.load(std::memory_order_acquire);
    if ((seq & 1) != 0) {
      cpu_relax();
      continue;
    }
    uint64_t v = packed.load(std::memory_order_relaxed);
    Endpoint e;
    v6.load_into(e);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (addr_seq_.load(std::memory_order_relaxed) != seq) continue;
    if ((v & kEndpointValid) == 0) return std::nullopt;
    if ((v & kEndpointV6) == 0) return unpack(v);
    e.v6 = true;
    e.port = static_cast<uint16_t>(v);
    return e;
  }
}

void UdpSocket::publish_addresses() {
  // Sequence writer: odd while the words change, so a reader of an IPv6
  // endpoint never pairs one address with another's port.
  addr_seq_.store(addr_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  if (local_ && local_->v6) local6_.store(*local_);
  if (remote_ && remote_->v6) remote6_.store(*remote_);
  local_packed_.store(local_ ? pack(*local_) : 0, std::memory_order_release);
  remote_packed_.store(remote_ ? pack(*remote_) : 0, std::memory_order_release);
  addr_seq_.store(addr_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void UdpSocket::deliver_chain(Packet* first, Packet* last, uint32_t count, uint64_t bytes) {
  uint64_t prev = queued_.fetch_add(queued_pack(count, bytes), std::memory_order_acq_rel);
  queue_.push_chain(first, last);
  arrivals_.fetch_add(count, std::memory_order_acq_rel);
  if (queued_count(prev) == 0 || notify_every_arrival_.load(std::memory_order_relaxed)) notify_ring();
}

void UdpSocket::notify_ring() {
  if (SocketNotifier* n = notifier_.load(std::memory_order_acquire)) n->ring();
}

void UdpSocket::after_dequeue(uint64_t count, uint64_t bytes) {
  uint64_t prev = queued_.fetch_sub(queued_pack(count, bytes), std::memory_order_acq_rel);
  if (queued_count(prev) != count || pending_error_.load(std::memory_order_acquire) != 0) return;
  SocketNotifier* n = notifier_.load(std::memory_order_acquire);
  if (n == nullptr) return;
  // Clear, then look again: a producer that queued in between rang before
  // our clear, and its ring must not be lost.
  n->clear();
  if (readable()) n->ring();
}

Packet* UdpSocket::pop_linked() {
  for (int spins = 0; spins < kHalfLinkedSpins; ++spins) {
    if (Packet* p = queue_.pop()) return p;
    if (queued_count(queued_.load(std::memory_order_acquire)) == 0) return nullptr;
    cpu_relax();
  }
  return nullptr;
}

int64_t UdpSocket::recv(std::span<const iovec> iov, RecvInfo* info, int flags) {
  RecvSlot slot{iov, info, 0};
  int64_t n = recv_batch({&slot, 1}, flags);
  return n < 0 ? n : slot.result;
}

int64_t UdpSocket::recv_batch(std::span<RecvSlot> msgs, int flags) {
  if (msgs.empty()) return 0;
  // Linux reports a pending error before queued data (sock_error() in
  // __skb_try_recv_datagram).
  if (int err = (flags & kRecvKeepError) ? 0 : take_error(); err != 0) {
    if (!readable()) {
      if (SocketNotifier* n = notifier_.load(std::memory_order_acquire)) n->clear();
      if (readable()) notify_ring();
    }
    return -err;
  }
  const bool peek = (flags & kRecvPeek) != 0;
  Packet* done[Stack::kBurst];
  size_t received = 0;
  uint64_t charged = 0;
  {
    std::lock_guard lock(read_lock_);
    while (received < msgs.size()) {
      Packet* pkt;
      if (peek) {
        pkt = queue_.front();
      } else {
        pkt = pop_linked();
      }
      if (pkt == nullptr) break;
      const PacketRxMeta& m = pkt->meta;
      RecvSlot& slot = msgs[received];
      size_t copied = copy_to_iov(slot.iov, pkt->data + m.payload_offset, m.payload_len);
      slot.result = (flags & kRecvRealLength) ? int64_t{m.payload_len} : static_cast<int64_t>(copied);
      if (slot.info != nullptr) {
        RecvInfo& info = *slot.info;
        info.source = Endpoint{Ipv4Addr(m.src_addr), m.src_port};
        info.destination = Ipv4Addr(m.dst_addr);
        if (m.ipv6 != 0) {
          // The addresses are still in the frame's IPv6 header.
          const uint8_t* l3 = pkt->data + m.l3_offset;
          info.source.v6 = true;
          info.source.addr6 = Ipv6Addr::load(l3 + wire::Ipv6Packet::kSrcOffset);
          info.destination6 = Ipv6Addr::load(l3 + wire::Ipv6Packet::kDstOffset);
          info.source.scope_id = info.source.addr6.is_link_local() ? scope_id_ : 0;
        }
        info.timestamp_ns = m.timestamp_ns;
        info.datagram_len = m.payload_len;
        info.truncated = copied < m.payload_len;
        info.tos = m.tos;
        info.ttl = m.ttl;
      }
      ++received;
      if (peek) break;  // MSG_PEEK looks at the first datagram only
      charged += charge_of(m);
      rx_bytes_.add(m.payload_len);
      done[received - 1] = pkt;
      if (received == Stack::kBurst) break;
    }
    if (!peek && received > 0) rx_datagrams_.add(received);
  }
  if (received == 0) return -EAGAIN;
  if (!peek) {
    after_dequeue(received, charged);
    owner_.release_packets(std::span<Packet* const>(done, received));
  }
  return static_cast<int64_t>(received);
}

int64_t UdpSocket::next_datagram_size() {
  std::lock_guard lock(read_lock_);
  Packet* p = queue_.front();
  return p == nullptr ? -1 : int64_t{p->meta.payload_len};
}

void UdpSocket::report_error(const SocketError& err, bool fatal) {
  bool connected = remote().has_value();
  if (recv_err()) {
    std::lock_guard lock(error_lock_);
    size_t count = error_count_.load(std::memory_order_relaxed);
    if (count < kMaxErrorQueue) {  // bounded: an ICMP flood cannot grow it
      errors_[(error_head_ + count) % kMaxErrorQueue] = err;
      error_count_.store(count + 1, std::memory_order_release);
    }
  } else if (!fatal || !connected) {
    return;  // Linux ignores it (__udp4_lib_err)
  }
  pending_error_.store(err.error, std::memory_order_release);
  arrivals_.fetch_add(1, std::memory_order_acq_rel);
  notify_ring();
}

std::optional<SocketError> UdpSocket::pop_error() {
  std::lock_guard lock(error_lock_);
  size_t count = error_count_.load(std::memory_order_relaxed);
  if (count == 0) return std::nullopt;
  SocketError e = errors_[error_head_];
  error_head_ = (error_head_ + 1) % kMaxErrorQueue;
  error_count_.store(count - 1, std::memory_order_release);
  return e;
}

void UdpSocket::purge() {
  std::lock_guard lock(read_lock_);
  Packet* batch[Stack::kBurst];
  size_t n = 0;
  uint64_t bytes = 0;
  uint64_t count = 0;
  while (Packet* p = queue_.pop()) {
    bytes += charge_of(p->meta);
    ++count;
    batch[n++] = p;
    if (n == Stack::kBurst) {
      owner_.release_packets(std::span<Packet* const>(batch, n));
      n = 0;
    }
  }
  if (n != 0) owner_.release_packets(std::span<Packet* const>(batch, n));
  queued_.fetch_sub(queued_pack(count, bytes), std::memory_order_acq_rel);
}

SocketStats UdpSocket::stats() const {
  uint64_t q = queued_.load(std::memory_order_relaxed);
  return SocketStats{rx_datagrams_.get(), rx_bytes_.get(), rx_drops_.get(), tx_datagrams_.get(),
                     tx_bytes_.get(),     tx_drops_.get(), queued_bytes(q), queued_count(q)};
}

}  // namespace dpdkudp::stack
