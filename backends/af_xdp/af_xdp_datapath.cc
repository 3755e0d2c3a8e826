// AfXdpBackend, the datapath: RX (copies out of the UMEM, frames back to
// the fill ring), TX (UMEM frames onto the TX ring, completions reaped),
// the queue lock over the group's shared rings, and the counters.
#include "backends/af_xdp/af_xdp_backend.h"

#include <sys/socket.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace dpdkudp {

namespace {

constexpr uint32_t kTxOffloadFlags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
constexpr uint32_t kEthernetHeaderLen = 14;

}  // namespace

void AfXdpBackend::lock_queue(uint32_t queue) {
  // Nothing to repair when the last holder died inside: every change to
  // the stash or the rings is published by one store, ordered so that a
  // death in between loses frames rather than handing one out twice.
  region_->lock_queue(queue);
  // Another process may have produced on the shared fill ring since we
  // last did: our cached producer index is only a guess.
  Queue& q = queues_[queue];
  q.fill.cached_prod = __atomic_load_n(q.fill.producer, __ATOMIC_RELAXED);
  q.comp.cached_cons = __atomic_load_n(q.comp.consumer, __ATOMIC_RELAXED);
}

void AfXdpBackend::refill_locked(uint32_t queue) {
  Queue& q = queues_[queue];
  uint32_t& count = region_->stash_count(queue);
  if (count == 0) {
    return;
  }
  const uint32_t n = std::min(xsk_prod_nb_free(&q.fill, count), count);
  if (n == 0) {
    return;
  }
  uint32_t idx = 0;
  xsk_ring_prod__reserve(&q.fill, n, &idx);  // cannot fail: n are free
  const uint64_t* stash = region_->stash(queue);
  // The newest frames go back first (they are warm in the cache).
  for (uint32_t i = 0; i < n; ++i) {
    *xsk_ring_prod__fill_addr(&q.fill, idx + i) = stash[count - 1 - i];
  }
  // Off the stash before the kernel can see them on the ring.
  __atomic_store_n(&count, count - n, __ATOMIC_RELEASE);
  xsk_ring_prod__submit(&q.fill, n);
}

// ---- RX ----

size_t AfXdpBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  if (queue >= queue_count_ || out.empty()) {
    return 0;
  }
  Queue& q = queues_[queue];
  uint32_t idx = 0;
  const uint32_t n = xsk_ring_cons__peek(&q.rx, static_cast<uint32_t>(std::min(out.size(), kBurst)), &idx);
  if (n == 0) {
    // Frames another member (or an earlier burst) stashed may fit now.
    // (The shared ring's indices, not our cached ones: other threads and
    // processes move them under the queue lock.)
    const uint32_t in_fill =
        __atomic_load_n(q.fill.producer, __ATOMIC_RELAXED) - __atomic_load_n(q.fill.consumer, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&region_->stash_count(queue), __ATOMIC_RELAXED) != 0 && in_fill < q.fill.size) {
      lock_queue(queue);
      refill_locked(queue);
      region_->unlock_queue(queue);
    }
    if (xsk_ring_prod__needs_wakeup(&q.fill)) {
      ::recvfrom(q.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
    return 0;
  }
  const size_t buffers = pool_->alloc(out.first(n));
  std::array<uint64_t, kBurst> frames{};
  size_t got = 0;
  uint64_t too_long = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const xdp_desc* desc = xsk_ring_cons__rx_desc(&q.rx, idx + i);
    const uint64_t addr = xsk_umem__add_offset_to_addr(desc->addr);
    frames[i] = addr & ~uint64_t{kFrameSize - 1};
    if (i >= buffers) {
      continue;  // no buffer: dropped (counted below)
    }
    Packet* pkt = out[i];
    if (desc->len > pkt->room || addr + desc->len > region_->umem_size()) {
      ++too_long;
      pool_->free_one(pkt);
      continue;
    }
    std::memcpy(pkt->data, area_ + addr, desc->len);
    pkt->len = desc->len;
    pkt->queue = queue;
    out[got++] = pkt;
  }

  // The frames go back (the copies are in pool buffers now): onto the
  // queue's stash, then as many as fit onto the fill ring. Only then do
  // they leave our RX ring: if we die in between, they are lost, never
  // handed out twice.
  lock_queue(queue);
  uint32_t& count = region_->stash_count(queue);
  uint64_t* stash = region_->stash(queue);
  // Every frame of the queue fits in its stash; a count past that would
  // mean a frame was handed out twice: never write past the stash.
  const uint32_t room = region_->rx_frames_per_queue() - std::min(count, region_->rx_frames_per_queue());
  const uint32_t keep = std::min(n, room);
  for (uint32_t i = 0; i < keep; ++i) {
    stash[count + i] = frames[i];
  }
  __atomic_store_n(&count, count + keep, __ATOMIC_RELEASE);
  refill_locked(queue);
  region_->unlock_queue(queue);
  xsk_ring_cons__release(&q.rx, n);
  if (xsk_ring_prod__needs_wakeup(&q.fill)) {
    ::recvfrom(q.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }

  q.rx_packets.fetch_add(got, std::memory_order_relaxed);
  if (buffers < n) {
    q.rx_no_buffer.fetch_add(n - buffers, std::memory_order_relaxed);
  }
  if (too_long != 0) {
    q.rx_errors.fetch_add(too_long, std::memory_order_relaxed);
  }
  return got;
}

int AfXdpBackend::wait_fd(uint16_t queue) const { return queue < queue_count_ ? queues_[queue].fd : -1; }

// ---- TX ----

void AfXdpBackend::reset_tx_packet(Packet& pkt, uint32_t tx_index) const {
  pkt = Packet{};
  pkt.data = frame_data(tx_first_frame_ + tx_index) + kTxHeadroom;
  pkt.room = kFrameSize - kTxHeadroom;
  pkt.backend_cookie = tx_index;
}

size_t AfXdpBackend::alloc(std::span<Packet*> out) {
  std::array<uint32_t, kBurst> frames{};
  size_t n = 0;
  bool reaped = false;
  while (n < out.size()) {
    const size_t want = std::min(out.size() - n, kBurst);
    size_t got = region_->tx_take(slot_, std::span<uint32_t>(frames.data(), want));
    if (got < want && !reaped) {
      // Frames may be waiting on completion rings nobody reaped yet.
      reaped = true;
      for (uint16_t q = 0; q < queue_count_; ++q) {
        reap_completions(q);
      }
      got += region_->tx_take(slot_, std::span<uint32_t>(frames.data() + got, want - got));
    }
    for (size_t i = 0; i < got; ++i) {
      Packet& pkt = tx_pkts_[frames[i]];
      reset_tx_packet(pkt, frames[i]);
      out[n + i] = &pkt;
    }
    n += got;
    if (got < want) {
      break;
    }
  }
  return n;
}

void AfXdpBackend::release(std::span<Packet* const> pkts) {
  std::array<Packet*, kBurst> pooled{};
  std::array<uint32_t, kBurst> frames{};
  size_t n = 0;
  size_t n_frames = 0;
  for (Packet* pkt : pkts) {
    if (is_tx_frame(pkt)) {
      frames[n_frames++] = static_cast<uint32_t>(pkt - tx_pkts_.get());
      if (n_frames == frames.size()) {
        region_->tx_give(std::span<const uint32_t>(frames.data(), n_frames));
        n_frames = 0;
      }
      continue;
    }
    pooled[n++] = pkt;
    if (n == pooled.size()) {
      pool_->free(std::span<Packet* const>(pooled.data(), n));
      n = 0;
    }
  }
  if (n != 0) {
    pool_->free(std::span<Packet* const>(pooled.data(), n));
  }
  if (n_frames != 0) {
    region_->tx_give(std::span<const uint32_t>(frames.data(), n_frames));
  }
}

void AfXdpBackend::reap_completions(uint32_t queue) {
  Queue& q = queues_[queue];
  // A cheap look first: the shared completion ring is often empty.
  if (__atomic_load_n(q.comp.producer, __ATOMIC_ACQUIRE) == __atomic_load_n(q.comp.consumer, __ATOMIC_RELAXED)) {
    return;
  }
  std::array<uint32_t, 256> done{};
  lock_queue(queue);
  uint32_t idx = 0;
  const uint32_t n = xsk_ring_cons__peek(&q.comp, static_cast<uint32_t>(done.size()), &idx);
  size_t count = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const uint64_t addr = xsk_umem__add_offset_to_addr(*xsk_ring_cons__comp_addr(&q.comp, idx + i));
    const uint64_t frame = addr / kFrameSize;
    if (frame >= tx_first_frame_ && frame < tx_first_frame_ + tx_count_) {
      done[count++] = static_cast<uint32_t>(frame - tx_first_frame_);
    }
  }
  // Off the ring first: a death before the frames are free loses them
  // (their states stay "submitted"), it never frees one twice.
  xsk_ring_cons__release(&q.comp, n);
  region_->unlock_queue(queue);
  if (count != 0) {
    region_->tx_complete(std::span<const uint32_t>(done.data(), count));
  }
}

void AfXdpBackend::kick_tx(uint32_t queue) {
  Queue& q = queues_[queue];
  // Copy mode sends at most 32 frames per call (the kernel's TX batch) and
  // says EAGAIN when more wait; reaping between calls frees the completion
  // ring it needs.
  for (int i = 0; i < 64; ++i) {
    if (!xsk_ring_prod__needs_wakeup(&q.tx)) {
      return;
    }
    if (::sendto(q.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) {
      return;
    }
    const int e = errno;
    if (e != EAGAIN && e != EINTR) {
      return;  // EBUSY, ENOBUFS, ENETDOWN: try again on the next burst
    }
    reap_completions(queue);
  }
}

bool AfXdpBackend::tx_frame_ok(const Packet& pkt) const {
  if (pkt.len < kEthernetHeaderLen || pkt.len > caps_.max_frame || (pkt.tx_flags & kTxOffloadFlags) != 0) {
    return false;
  }
  if (!is_tx_frame(&pkt)) {
    return true;  // copied into a frame
  }
  // A UMEM frame's data may have moved within its frame, never out of it.
  const uint8_t* base = frame_data(tx_first_frame_ + static_cast<uint64_t>(&pkt - tx_pkts_.get()));
  return pkt.data >= base && static_cast<size_t>(pkt.data - base) + pkt.len <= kFrameSize;
}

void AfXdpBackend::note_resolution(const Packet& pkt) const {
  // Ethernet, at most one tag, then an ARP request or a Neighbor
  // Solicitation (ICMPv6 135 right after the IPv6 header, as NDP sends it).
  const uint8_t* f = pkt.data;
  size_t off = 12;
  if (pkt.len < off + 2) {
    return;
  }
  uint16_t type = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
  if (type == 0x8100 || type == 0x88a8) {
    off += 4;
    if (pkt.len < off + 2) {
      return;
    }
    type = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
  }
  const uint8_t* l3 = f + off + 2;
  const size_t l3_len = pkt.len - off - 2;
  const af_xdp::Owner me{owner_pid_, slot_};
  if (type == 0x0806 && l3_len >= 28 && l3[6] == 0 && l3[7] == 1) {
    uint32_t target = 0;  // the target protocol address, network order
    std::memcpy(&target, l3 + 24, sizeof target);
    bpf_map_update_elem(resolving_fd(), &target, &me, BPF_ANY);
  } else if (type == 0x86dd && l3_len >= 40 + 24 && l3[6] == 58 && l3[40] == 135) {
    af_xdp::Addr6Key target{};
    std::memcpy(target.addr, l3 + 40 + 8, sizeof target.addr);
    bpf_map_update_elem(resolving6_fd(), &target, &me, BPF_ANY);
  }
}

size_t AfXdpBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  if (queue >= queue_count_) {
    return 0;
  }
  Queue& q = queues_[queue];
  reap_completions(queue);
  size_t done = 0;
  uint64_t sent = 0;
  uint64_t errors = 0;
  bool stalled = false;
  struct Staged {
    uint64_t addr;
    uint32_t len;
  };
  std::array<Staged, kBurst> staged{};
  std::array<Packet*, kBurst> copied{};
  std::array<uint32_t, kBurst> spare{};  // TX frames taken for copies
  while (done < pkts.size() && !stalled) {
    const uint32_t room = xsk_prod_nb_free(&q.tx, static_cast<uint32_t>(kBurst));
    const size_t limit = std::min<size_t>({room, kBurst, pkts.size() - done});
    if (limit == 0) {
      break;  // TX ring full: the caller keeps the rest
    }
    // Packets that are not UMEM frames are copied into one: take the
    // frames for them in one go.
    size_t want = 0;
    for (size_t i = done; i < done + limit; ++i) {
      want += is_tx_frame(pkts[i]) ? 0 : 1;
    }
    size_t n_spare = want == 0 ? 0 : region_->tx_take(slot_, std::span<uint32_t>(spare.data(), want));
    size_t used_spare = 0;
    size_t n = 0;
    size_t n_copied = 0;
    while (n < limit && done < pkts.size()) {
      Packet* pkt = pkts[done];
      if (!tx_frame_ok(*pkt)) {
        ++errors;
        release(std::span<Packet* const>(&pkt, 1));
        ++done;
        continue;
      }
      if (dedicated_) [[unlikely]] {
        note_resolution(*pkt);
      }
      if (is_tx_frame(pkt)) {
        const auto frame = static_cast<uint32_t>(pkt - tx_pkts_.get());
        region_->tx_mark_submitted(frame, slot_);
        staged[n++] = {static_cast<uint64_t>(pkt->data - area_), pkt->len};
      } else {
        if (used_spare == n_spare) {
          stalled = true;  // no TX frame to copy into: the caller keeps it
          break;
        }
        const uint32_t frame = spare[used_spare++];
        uint8_t* dst = frame_data(tx_first_frame_ + frame) + kTxHeadroom;
        std::memcpy(dst, pkt->data, pkt->len);
        region_->tx_mark_submitted(frame, slot_);
        staged[n++] = {static_cast<uint64_t>(dst - area_), pkt->len};
        copied[n_copied++] = pkt;
      }
      ++done;
    }
    if (used_spare < n_spare) {
      region_->tx_give(std::span<const uint32_t>(spare.data() + used_spare, n_spare - used_spare));
    }
    if (n == 0) {
      continue;
    }
    uint32_t idx = 0;
    const uint32_t reserved = xsk_ring_prod__reserve(&q.tx, static_cast<uint32_t>(n), &idx);
    // Single producer and n <= room: the reservation cannot fall short.
    for (uint32_t i = 0; i < reserved; ++i) {
      xdp_desc* desc = xsk_ring_prod__tx_desc(&q.tx, idx + i);
      desc->addr = staged[i].addr;
      desc->len = staged[i].len;
      desc->options = 0;
    }
    xsk_ring_prod__submit(&q.tx, reserved);
    sent += reserved;
    if (n_copied != 0) {
      pool_->free(std::span<Packet* const>(copied.data(), n_copied));
    }
  }
  if (sent != 0) {
    kick_tx(queue);
    reap_completions(queue);
  }
  q.tx_packets.fetch_add(sent, std::memory_order_relaxed);
  if (errors != 0) {
    q.tx_errors.fetch_add(errors, std::memory_order_relaxed);
  }
  return done;
}

// ---- stats ----

BackendStats AfXdpBackend::stats() const {
  BackendStats s;
  for (uint16_t i = 0; i < queue_count_; ++i) {
    const Queue& q = queues_[i];
    s.rx_packets += q.rx_packets.load(std::memory_order_relaxed);
    s.tx_packets += q.tx_packets.load(std::memory_order_relaxed);
    s.rx_no_buffer += q.rx_no_buffer.load(std::memory_order_relaxed);
    s.rx_errors += q.rx_errors.load(std::memory_order_relaxed);
    s.tx_errors += q.tx_errors.load(std::memory_order_relaxed);
    xdp_statistics kernel{};
    socklen_t len = sizeof(kernel);
    if (q.fd >= 0 && ::getsockopt(q.fd, SOL_XDP, XDP_STATISTICS, &kernel, &len) == 0) {
      // rx_dropped also counts the fill-ring-empty drops: count those once,
      // as no buffer.
      const uint64_t empty = kernel.rx_fill_ring_empty_descs;
      s.rx_missed += kernel.rx_ring_full + (kernel.rx_dropped > empty ? kernel.rx_dropped - empty : 0);
      s.rx_no_buffer += empty;
      s.rx_errors += kernel.rx_invalid_descs;
      s.tx_errors += kernel.tx_invalid_descs;
    }
  }
  return s;
}

}  // namespace dpdkudp
