#include "backends/af_xdp/af_xdp_backend.h"

#include <arpa/inet.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

namespace dpdkudp {

using af_xdp::ErrorSink;

namespace {

constexpr uint32_t kTxOffloadFlags = kTxIpv4Csum | kTxUdpCsum | kTxVlanInsert;
constexpr uint32_t kDefaultPoolSize = 8192;
constexpr uint32_t kPoolHeadroom = 128;
constexpr uint32_t kEthernetHeaderLen = 14;

uint64_t steer_key(uint32_t addr, uint16_t port) { return (uint64_t{addr} << 16) | port; }

}  // namespace

std::unique_ptr<AfXdpBackend> AfXdpBackend::open(const AfXdpConfig& config, std::string* error) {
  const ErrorSink err(config.iface, error);
  if (static_cast<uint8_t>(config.mode) > static_cast<uint8_t>(XdpMode::kGeneric)) {
    err.fail("bad XDP mode " + std::to_string(static_cast<int>(config.mode)) +
             " (auto, native or generic)");
    return nullptr;
  }
  if (static_cast<uint8_t>(config.attach) > static_cast<uint8_t>(XdpAttach::kLibxdp)) {
    err.fail("bad XDP attach way " + std::to_string(static_cast<int>(config.attach)));
    return nullptr;
  }
  if (config.queues < 1 || config.queues > af_xdp::kMaxQueues) {
    err.fail("queues " + std::to_string(config.queues) + " out of range 1.." +
             std::to_string(af_xdp::kMaxQueues));
    return nullptr;
  }
  if (config.ring_size < 64 || config.ring_size > 16384 || !std::has_single_bit(config.ring_size)) {
    err.fail("ring size " + std::to_string(config.ring_size) +
             " is not a power of two in 64..16384");
    return nullptr;
  }

  const af_xdp::LibLogCapture log;
  const auto info = af_xdp::query_interface(config.iface, err);
  if (!info) {
    return nullptr;
  }
  if (config.queues > info->max_queues) {
    err.fail("has " + std::to_string(info->max_queues) + " queue(s); " +
             std::to_string(config.queues) + " asked for");
    return nullptr;
  }
  const uint32_t max_mtu = kFrameSize - kRxKernelHeadroom - kMaxFrameOverMtu;
  if (info->mtu > max_mtu) {
    err.fail("MTU " + std::to_string(info->mtu) +
             " is too large for AF_XDP's 4 KiB frames (at most " + std::to_string(max_mtu) + ")");
    return nullptr;
  }

  auto lock = af_xdp::InterfaceLock::acquire(config.iface, err);
  if (!lock) {
    return nullptr;
  }
  auto program = af_xdp::XdpProgram::attach(config.iface, info->ifindex, config.mode,
                                            config.attach, err, log);
  if (!program) {
    return nullptr;
  }

  std::unique_ptr<AfXdpBackend> backend;
  try {
    backend.reset(new AfXdpBackend(config, *info, std::move(*lock), std::move(program)));
  } catch (const std::bad_alloc&) {
    err.fail("out of memory for the packet buffers");
    return nullptr;
  } catch (const std::exception& e) {
    err.fail(std::string("packet pool: ") + e.what());
    return nullptr;
  }
  // From here on the destructor undoes everything.
  if (!backend->map_umem(err)) {
    return nullptr;
  }

  // Zero-copy needs driver support and native mode; copy mode works on
  // every interface. The first socket's bind decides for all.
  std::string what;
  int e = EBUSY;
  // A queue stays busy for a moment after the previous owner's sockets
  // close (the kernel releases their buffer pool from a work queue): a
  // restarted process retries for up to 2 s before calling it taken.
  for (int attempt = 0; attempt < 200 && e == EBUSY; ++attempt) {
    if (attempt != 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    e = EOPNOTSUPP;
    if (backend->native_ && config.zero_copy) {
      e = backend->create_sockets(XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP, &what);
      backend->zero_copy_ = e == 0;
    }
    if (e != 0 && e != EBUSY) {
      e = backend->create_sockets(XDP_COPY | XDP_USE_NEED_WAKEUP, &what);
    }
  }
  if (e != 0) {
    if (e == EBUSY) {
      err.fail(what + ": busy (another AF_XDP socket is bound to that queue)");
    } else if (e == EPERM || e == EACCES) {
      err.fail("permission denied creating AF_XDP sockets (needs CAP_NET_RAW and CAP_IPC_LOCK)");
    } else if (e == EINVAL && what.find("bind") != std::string::npos) {
      err.fail_errno(what + " (queue out of range, or the driver refuses AF_XDP)", e);
    } else {
      err.fail_errno(what, e);
    }
    return nullptr;
  }

  // Publish: sockets into the XSKMAP, then the configuration.
  const int xsks_fd = backend->program_->xsks_fd();
  for (uint32_t q = 0; q < backend->queue_count_; ++q) {
    const int fd = backend->queues_[q].fd;
    const int r = bpf_map_update_elem(xsks_fd, &q, &fd, BPF_ANY);
    if (r != 0) {
      err.fail_errno("putting the XSK of queue " + std::to_string(q) + " in the XSKMAP", r);
      return nullptr;
    }
  }
  af_xdp::SteerConfig steer{};
  steer.owner_pid = backend->owner_pid_;
  steer.dedicated = config.dedicated ? 1 : 0;
  steer.ipv4 = htonl(config.ipv4);
  const uint32_t zero = 0;
  if (const int r = bpf_map_update_elem(backend->program_->config_fd(), &zero, &steer, BPF_ANY);
      r != 0) {
    err.fail_errno("writing the XDP program's configuration", r);
    return nullptr;
  }
  if (config.pin_maps) {
    backend->program_->pin_maps(af_xdp::pin_dir_for(config.iface));
  }

  std::string& desc = backend->mode_description_;
  desc = backend->native_ ? "native" : "generic";
  desc += backend->zero_copy_ ? " zero-copy" : " copy";
  switch (backend->program_->way()) {
    case af_xdp::XdpProgram::Way::kLink: break;
    case af_xdp::XdpProgram::Way::kLibxdpDispatcher: desc += ", libxdp dispatcher"; break;
    case af_xdp::XdpProgram::Way::kLibxdpLegacy: desc += ", libxdp legacy"; break;
  }
  return backend;
}

AfXdpBackend::AfXdpBackend(const AfXdpConfig& config, const af_xdp::InterfaceInfo& info,
                           af_xdp::InterfaceLock lock,
                           std::unique_ptr<af_xdp::XdpProgram> program)
    : info_(info),
      iface_(config.iface),
      owner_pid_(static_cast<uint32_t>(::getpid())),
      ring_size_(config.ring_size),
      native_(program->native()),
      lock_(std::move(lock)),
      program_(std::move(program)),
      queue_count_(config.queues) {
  caps_.mtu = info.mtu;
  caps_.rx_queues = config.queues;
  caps_.tx_queues = config.queues;
  caps_.max_frame = std::min(info.mtu + kMaxFrameOverMtu, kFrameSize - kTxHeadroom);

  tx_count_ = 2 * ring_size_;
  tx_first_frame_ = uint64_t{queue_count_} * kRxFramesPerRingSlot * ring_size_;
  tx_pkts_ = std::make_unique<Packet[]>(tx_count_);
  tx_free_ = std::make_unique<pair::BoundedMpmcRing<uint32_t>>(size_t{tx_count_} * 2);
  for (uint32_t i = 0; i < tx_count_; ++i) {
    tx_free_->try_push(i);
  }
  queues_ = std::make_unique<Queue[]>(queue_count_);
  for (uint16_t q = 0; q < queue_count_; ++q) {
    queues_[q].rx_first_frame = uint64_t{q} * kRxFramesPerRingSlot * ring_size_;
    queues_[q].fill_pending.reserve(size_t{kRxFramesPerRingSlot} * ring_size_);
  }
  const uint32_t buffer = (kPoolHeadroom + caps_.max_frame + 63) / 64 * 64;
  pool_ = std::make_unique<PacketPool>(PacketPoolConfig{
      config.pool_size != 0 ? config.pool_size : kDefaultPoolSize,
      std::max<uint32_t>(2048, buffer), kPoolHeadroom});
}

bool AfXdpBackend::map_umem(const ErrorSink& err) {
  area_size_ = (tx_first_frame_ + tx_count_) * kFrameSize;
  void* area = ::mmap(nullptr, area_size_, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) {
    const int e = errno;
    const size_t mib = area_size_ >> 20;
    area_size_ = 0;
    return err.fail_errno("mapping " + std::to_string(mib) + " MiB of UMEM", e);
  }
  area_ = static_cast<uint8_t*>(area);
  // A fork child must not share (or copy) the frames the kernel writes.
  ::madvise(area_, area_size_, MADV_DONTFORK);
  return true;
}

int AfXdpBackend::create_sockets(uint16_t bind_flags, std::string* what) {
  xsk_umem_config umem_config{};
  umem_config.fill_size = ring_size_;
  umem_config.comp_size = ring_size_;
  umem_config.frame_size = kFrameSize;
  umem_config.frame_headroom = 0;
  umem_config.flags = 0;
  Queue& first = queues_[0];
  int r = xsk_umem__create(&umem_, area_, area_size_, &first.fill, &first.comp, &umem_config);
  if (r != 0) {
    umem_ = nullptr;
    *what = "registering the UMEM";
    return -r;
  }
  xsk_socket_config socket_config{};
  socket_config.rx_size = ring_size_;
  socket_config.tx_size = ring_size_;
  socket_config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  socket_config.xdp_flags = 0;
  socket_config.bind_flags = bind_flags;
  for (uint16_t q = 0; q < queue_count_; ++q) {
    Queue& queue = queues_[q];
    r = xsk_socket__create_shared(&queue.xsk, iface_.c_str(), q, umem_, &queue.rx, &queue.tx,
                                  &queue.fill, &queue.comp, &socket_config);
    if (r != 0) {
      queue.xsk = nullptr;
      *what = "binding an AF_XDP socket to queue " + std::to_string(q);
      destroy_sockets();
      return -r;
    }
    queue.fd = xsk_socket__fd(queue.xsk);
    ++sockets_made_;
  }
  for (uint16_t q = 0; q < queue_count_; ++q) {
    fill_rx_frames(queues_[q]);
  }
  return 0;
}

void AfXdpBackend::destroy_sockets() {
  for (uint16_t q = 0; q < queue_count_; ++q) {
    Queue& queue = queues_[q];
    if (queue.xsk != nullptr) {
      xsk_socket__delete(queue.xsk);
      queue.xsk = nullptr;
      queue.fd = -1;
    }
    queue.rx = {};
    queue.tx = {};
    queue.fill = {};
    queue.comp = {};
  }
  sockets_made_ = 0;
  if (umem_ != nullptr) {
    xsk_umem__delete(umem_);
    umem_ = nullptr;
  }
}

void AfXdpBackend::fill_rx_frames(Queue& q) {
  // Twice as many frames as the fill ring holds: the ring starts full and
  // the rest wait, so the ring is topped up as fast as the kernel frees it.
  q.fill_pending.clear();
  for (uint64_t i = 0; i < uint64_t{kRxFramesPerRingSlot} * ring_size_; ++i) {
    q.fill_pending.push_back(frame_addr(q.rx_first_frame + i));
  }
  refill(q);
}

void AfXdpBackend::refill(Queue& q) {
  const size_t pending = q.fill_pending.size();
  if (pending == 0) {
    return;
  }
  const uint32_t n = std::min<uint32_t>(xsk_prod_nb_free(&q.fill, static_cast<uint32_t>(pending)),
                                        static_cast<uint32_t>(pending));
  if (n == 0) {
    return;
  }
  uint32_t idx = 0;
  xsk_ring_prod__reserve(&q.fill, n, &idx);  // cannot fail: n are free
  // The newest frames go back first (they are warm in the cache).
  for (uint32_t i = 0; i < n; ++i) {
    *xsk_ring_prod__fill_addr(&q.fill, idx + i) = q.fill_pending[pending - 1 - i];
  }
  xsk_ring_prod__submit(&q.fill, n);
  q.fill_pending.resize(pending - n);
}

AfXdpBackend::~AfXdpBackend() {
  const af_xdp::LibLogCapture log;
  if (static_cast<uint32_t>(::getpid()) != owner_pid_) {
    program_->disown();  // a fork child: the parent still runs on it
  }
  // Stop steering first (the kernel gets everything again), then the
  // sockets, the memory, and last the interface lock.
  program_.reset();
  destroy_sockets();
  if (area_ != nullptr) {
    ::munmap(area_, area_size_);
  }
}

// ---- RX ----

size_t AfXdpBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  if (queue >= queue_count_ || out.empty()) {
    return 0;
  }
  Queue& q = queues_[queue];
  uint32_t idx = 0;
  const uint32_t n =
      xsk_ring_cons__peek(&q.rx, static_cast<uint32_t>(std::min(out.size(), kBurst)), &idx);
  if (n == 0) {
    refill(q);
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
    if (desc->len > pkt->room) {
      ++too_long;
      pool_->free_one(pkt);
      continue;
    }
    std::memcpy(pkt->data, area_ + addr, desc->len);
    pkt->len = desc->len;
    pkt->queue = queue;
    out[got++] = pkt;
  }
  xsk_ring_cons__release(&q.rx, n);

  // The frames go back (the copies are in pool buffers now).
  for (uint32_t i = 0; i < n; ++i) {
    q.fill_pending.push_back(frames[i]);
  }
  refill(q);
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

int AfXdpBackend::wait_fd(uint16_t queue) const {
  return queue < queue_count_ ? queues_[queue].fd : -1;
}

// ---- TX ----

void AfXdpBackend::reset_tx_packet(Packet& pkt, uint32_t tx_index) const {
  pkt = Packet{};
  pkt.data = frame_data(tx_first_frame_ + tx_index) + kTxHeadroom;
  pkt.room = kFrameSize - kTxHeadroom;
  pkt.backend_cookie = tx_index;
}

size_t AfXdpBackend::pop_tx_frames(std::span<uint32_t> out) {
  size_t n = 0;
  while (n < out.size() && tx_free_->try_pop(out[n])) {
    ++n;
  }
  return n;
}

size_t AfXdpBackend::alloc(std::span<Packet*> out) {
  std::array<uint32_t, kBurst> frames{};
  size_t n = 0;
  bool reaped = false;
  while (n < out.size()) {
    const size_t want = std::min(out.size() - n, kBurst);
    size_t got = pop_tx_frames(std::span<uint32_t>(frames.data(), want));
    if (got < want && !reaped) {
      // Frames may be waiting on completion rings nobody reaped yet.
      reaped = true;
      for (uint16_t q = 0; q < queue_count_; ++q) {
        reap_completions(queues_[q]);
      }
      got += pop_tx_frames(std::span<uint32_t>(frames.data() + got, want - got));
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
  size_t n = 0;
  for (Packet* pkt : pkts) {
    if (is_tx_frame(pkt)) {
      tx_free_->try_push(static_cast<uint32_t>(pkt - tx_pkts_.get()));
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
}

void AfXdpBackend::reap_completions(Queue& q) {
  if (q.comp_lock.test_and_set(std::memory_order_acquire)) {
    return;  // someone else is reaping this queue
  }
  for (;;) {
    uint32_t idx = 0;
    const uint32_t n = xsk_ring_cons__peek(&q.comp, 256, &idx);
    if (n == 0) {
      break;
    }
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t addr =
          xsk_umem__add_offset_to_addr(*xsk_ring_cons__comp_addr(&q.comp, idx + i));
      const uint64_t frame = addr / kFrameSize;
      if (frame >= tx_first_frame_ && frame < tx_first_frame_ + tx_count_) {
        tx_free_->try_push(static_cast<uint32_t>(frame - tx_first_frame_));
      }
    }
    xsk_ring_cons__release(&q.comp, n);
  }
  q.comp_lock.clear(std::memory_order_release);
}

void AfXdpBackend::kick_tx(Queue& q) {
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
    reap_completions(q);
  }
}

bool AfXdpBackend::tx_frame_ok(const Packet& pkt) const {
  if (pkt.len < kEthernetHeaderLen || pkt.len > caps_.max_frame ||
      (pkt.tx_flags & kTxOffloadFlags) != 0) {
    return false;
  }
  if (!is_tx_frame(&pkt)) {
    return true;  // copied into a frame
  }
  // A UMEM frame's data may have moved within its frame, never out of it.
  const uint8_t* base = frame_data(tx_first_frame_ + static_cast<uint64_t>(&pkt - tx_pkts_.get()));
  return pkt.data >= base && static_cast<size_t>(pkt.data - base) + pkt.len <= kFrameSize;
}

size_t AfXdpBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  if (queue >= queue_count_) {
    return 0;
  }
  Queue& q = queues_[queue];
  reap_completions(q);
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
  while (done < pkts.size() && !stalled) {
    const uint32_t room = xsk_prod_nb_free(&q.tx, static_cast<uint32_t>(kBurst));
    const size_t limit = std::min<size_t>({room, kBurst, pkts.size() - done});
    if (limit == 0) {
      break;  // TX ring full: the caller keeps the rest
    }
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
      if (is_tx_frame(pkt)) {
        staged[n++] = {static_cast<uint64_t>(pkt->data - area_), pkt->len};
      } else {
        uint32_t frame = 0;
        if (!tx_free_->try_pop(frame)) {
          stalled = true;  // no TX frame to copy into: the caller keeps it
          break;
        }
        uint8_t* dst = frame_data(tx_first_frame_ + frame) + kTxHeadroom;
        std::memcpy(dst, pkt->data, pkt->len);
        staged[n++] = {static_cast<uint64_t>(dst - area_), pkt->len};
        copied[n_copied++] = pkt;
      }
      ++done;
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
    kick_tx(q);
    reap_completions(q);
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

// ---- steering ----

int AfXdpBackend::steer(uint32_t addr, uint16_t port, bool on) {
  const std::lock_guard<std::mutex> guard(steer_mutex_);
  lock_.drain_probes();
  const int fd = program_->ports_fd();
  af_xdp::PortKey key{};
  key.addr = htonl(addr);
  key.port = htons(port);
  const uint64_t local = steer_key(addr, port);
  auto it = steered_.find(local);
  if (on) {
    if (it != steered_.end()) {
      ++it->second;
      return 0;
    }
    uint32_t owner = 0;
    if (bpf_map_lookup_elem(fd, &key, &owner) == 0 && owner != owner_pid_ &&
        af_xdp::pid_alive(owner)) {
      return EADDRINUSE;
    }
    // Absent, or left by a dead process: ours now.
    const int r = bpf_map_update_elem(fd, &key, &owner_pid_, BPF_ANY);
    if (r != 0) {
      return r == -E2BIG ? ENOSPC : -r;
    }
    steered_.emplace(local, 1);
    return 0;
  }
  if (it == steered_.end()) {
    return ENOENT;
  }
  if (--it->second > 0) {
    return 0;
  }
  steered_.erase(it);
  uint32_t owner = 0;
  if (bpf_map_lookup_elem(fd, &key, &owner) == 0 && owner == owner_pid_) {
    const int r = bpf_map_delete_elem(fd, &key);
    if (r != 0 && r != -ENOENT) {
      return -r;
    }
  }
  return 0;
}

}  // namespace dpdkudp
