#include "stack/net/udp_table.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace dpdkudp::stack {

UdpTable::UdpTable(Reclaimer& reclaimer, uint16_t ephemeral_low, uint16_t ephemeral_high)
    : reclaimer_(reclaimer),
      ephemeral_low_(ephemeral_low),
      ephemeral_high_(ephemeral_high),
      buckets_(new std::atomic<Bucket*>[65536]),
      rng_state_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1) {
  for (size_t i = 0; i < 65536; ++i) buckets_[i].store(nullptr, std::memory_order_relaxed);
}

UdpTable::~UdpTable() {
  for (size_t i = 0; i < 65536; ++i) delete buckets_[i].load(std::memory_order_relaxed);
}

int UdpTable::score(const UdpBinding& e, Ipv4Addr dst, Ipv4Addr src, uint16_t src_port) {
  if ((e.families & kFamilyV4) == 0) return -1;
  int s = 0;
  if (!e.local_addr.is_unspecified()) {
    if (e.local_addr != dst) return -1;
    s += 4;
  }
  if (!e.remote_addr.is_unspecified()) {
    if (e.remote_addr != src) return -1;
    s += 4;
  }
  if (e.remote_port != 0) {
    if (e.remote_port != src_port) return -1;
    s += 4;
  }
  return s;
}

int UdpTable::score6(const UdpBinding& e, const Ipv6Addr& dst, const Ipv6Addr& src, uint16_t src_port) {
  if ((e.families & kFamilyV6) == 0) return -1;
  int s = 0;
  if (!e.local6.is_unspecified()) {
    if (e.local6 != dst) return -1;
    s += 4;
  }
  if (!e.remote6.is_unspecified()) {
    if (e.remote6 != src) return -1;
    s += 4;
  }
  if (e.remote_port != 0) {
    if (e.remote_port != src_port) return -1;
    s += 4;
  }
  return s;
}

template <typename Score>
const UdpBinding* UdpTable::pick(const Bucket* b, uint32_t flow_hash, Score score) const {
  const auto& entries = b->entries;
  int best = -1;
  const UdpBinding* winner = nullptr;
  unsigned group = 0;  // reuseport sockets sharing the best score
  for (const UdpBinding& e : entries) {
    int s = score(e);
    if (s < 0) continue;
    if (s > best || (s == best && !e.reuse_port && e.order > winner->order)) {
      best = s;
      winner = &e;
      group = e.reuse_port ? 1 : 0;
    } else if (s == best && e.reuse_port && winner->reuse_port) {
      ++group;
    }
  }
  if (winner == nullptr || group <= 1) return winner;
  // Spread a reuseport group by flow so one flow always lands on one socket.
  unsigned pick = flow_hash % group;
  for (const UdpBinding& e : entries) {
    if (e.reuse_port && score(e) == best && pick-- == 0) return &e;
  }
  return winner;
}

UdpSocket* UdpTable::lookup(Ipv4Addr dst, uint16_t dst_port, Ipv4Addr src, uint16_t src_port, bool* unconnected) const {
  const Bucket* b = buckets_[dst_port].load(std::memory_order_acquire);
  if (b == nullptr) return nullptr;
  const auto& entries = b->entries;
  if (entries.size() == 1) {  // the common case: one socket on the port
    return found(score(entries[0], dst, src, src_port) >= 0 ? &entries[0] : nullptr, unconnected);
  }
  uint32_t h = source_hash(src, src_port) ^ dst.value;
  h ^= h >> 15;
  return found(pick(b, h, [&](const UdpBinding& e) { return score(e, dst, src, src_port); }), unconnected);
}

UdpSocket* UdpTable::lookup6(const Ipv6Addr& dst, uint16_t dst_port, const Ipv6Addr& src, uint16_t src_port,
                             bool* unconnected) const {
  const Bucket* b = buckets_[dst_port].load(std::memory_order_acquire);
  if (b == nullptr) return nullptr;
  const auto& entries = b->entries;
  if (entries.size() == 1) {
    return found(score6(entries[0], dst, src, src_port) >= 0 ? &entries[0] : nullptr, unconnected);
  }
  uint32_t h = source_hash6(src, src_port);
  h ^= h >> 15;
  return found(pick(b, h, [&](const UdpBinding& e) { return score6(e, dst, src, src_port); }), unconnected);
}

bool UdpTable::conflicts(const Bucket* b, const UdpAddressing& local, bool reuse_addr, bool reuse_port) const {
  if (b == nullptr) return false;
  for (const UdpBinding& e : b->entries) {
    uint8_t shared = e.families & local.families;
    bool overlap = false;
    if ((shared & kFamilyV4) != 0) {
      overlap |= e.local_addr.is_unspecified() || local.local_addr.is_unspecified() || e.local_addr == local.local_addr;
    }
    if ((shared & kFamilyV6) != 0) {
      overlap |= e.local6.is_unspecified() || local.local6.is_unspecified() || e.local6 == local.local6;
    }
    if (!overlap) continue;
    if (e.reuse_addr && reuse_addr) continue;
    if (e.reuse_port && reuse_port) continue;
    return true;
  }
  return false;
}

void UdpTable::publish(uint16_t port, std::unique_ptr<Bucket> next) {
  if (next && next->entries.empty()) next.reset();
  Bucket* old = buckets_[port].exchange(next.release(), std::memory_order_acq_rel);
  if (old != nullptr) reclaimer_.retire([old] { delete old; });
}

std::optional<uint16_t> UdpTable::pick_ephemeral(const UdpAddressing& local, bool reuse_addr, bool reuse_port) {
  uint32_t span = uint32_t{ephemeral_high_} - ephemeral_low_ + 1;
  // xorshift64: a random starting point, as Linux does, so ports are not
  // predictable; then a linear scan for a free port.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  uint32_t start = static_cast<uint32_t>(rng_state_ % span);
  // First choice: a port nobody uses; else one we may share.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < span; ++i) {
      auto port = static_cast<uint16_t>(ephemeral_low_ + (start + i) % span);
      const Bucket* b = buckets_[port].load(std::memory_order_relaxed);
      if (pass == 0 ? b == nullptr : !conflicts(b, local, reuse_addr, reuse_port)) return port;
    }
  }
  return std::nullopt;
}

int UdpTable::bind(UdpSocket* socket, const UdpAddressing& local, uint16_t port, bool reuse_addr, bool reuse_port) {
  std::lock_guard lock(mutex_);
  if (port == 0) {
    auto picked = pick_ephemeral(local, reuse_addr, reuse_port);
    if (!picked) return -EAGAIN;
    port = *picked;
  } else if (conflicts(buckets_[port].load(std::memory_order_relaxed), local, reuse_addr, reuse_port)) {
    return -EADDRINUSE;
  }
  auto next = std::make_unique<Bucket>();
  if (const Bucket* b = buckets_[port].load(std::memory_order_relaxed)) next->entries = b->entries;
  UdpBinding e;
  e.socket = socket;
  e.families = local.families;
  e.local_addr = local.local_addr;
  e.local6 = local.local6;
  e.reuse_addr = reuse_addr;
  e.reuse_port = reuse_port;
  e.order = next_order_++;
  next->entries.push_back(e);
  publish(port, std::move(next));
  ++sockets_;
  return port;
}

void UdpTable::update(UdpSocket* socket, uint16_t port, const UdpAddressing& a) {
  std::lock_guard lock(mutex_);
  const Bucket* b = buckets_[port].load(std::memory_order_relaxed);
  if (b == nullptr) return;
  auto next = std::make_unique<Bucket>(*b);
  for (UdpBinding& e : next->entries) {
    if (e.socket == socket) {
      e.families = a.families;
      e.local_addr = a.local_addr;
      e.remote_addr = a.remote_addr;
      e.local6 = a.local6;
      e.remote6 = a.remote6;
      e.remote_port = a.remote_port;
    }
  }
  publish(port, std::move(next));
}

void UdpTable::unbind(UdpSocket* socket, uint16_t port) {
  std::lock_guard lock(mutex_);
  const Bucket* b = buckets_[port].load(std::memory_order_relaxed);
  if (b == nullptr) return;
  auto next = std::make_unique<Bucket>();
  for (const UdpBinding& e : b->entries) {
    if (e.socket != socket) next->entries.push_back(e);
  }
  if (next->entries.size() != b->entries.size()) --sockets_;
  publish(port, std::move(next));
}

size_t UdpTable::socket_count() const {
  std::lock_guard lock(mutex_);
  return sockets_;
}

}  // namespace dpdkudp::stack
