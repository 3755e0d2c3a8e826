// AfXdpBackend, set-up and tear-down: founding or joining the interface's
// group, the XSKs of every queue and their rings, publishing them (XSKMAP,
// dedicated address, the hub); the destructor undoes it. The datapath is in
// af_xdp_datapath.cc, the port owners in port_owners.cc.
#include "backends/af_xdp/af_xdp_backend.h"

#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <new>
#include <thread>

#include "base/clock.h"
#include "base/interface.h"
#include "base/process.h"

namespace dpdkudp {

using af_xdp::ErrorSink;
using af_xdp::UniqueFd;

namespace {

constexpr uint32_t kDefaultPoolSize = 8192;
constexpr uint32_t kPoolHeadroom = 128;
constexpr int kJoinAttemptsWhileHubMoves = 100;  // x 20 ms

std::string ipv4_text(uint32_t network_order) {
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &network_order, buf, sizeof(buf));
  return buf;
}

// Maps one ring of an XSK and fills libxdp's ring view of it (the view's
// inline helpers then work as on a ring libxdp made itself).
template <typename Ring>
bool map_ring(int fd, uint64_t pgoff, const xdp_ring_offset& off, uint32_t entries, size_t entry_size, bool producer,
              Ring* ring, std::pair<void*, size_t>* map) {
  const size_t len = off.desc + entries * entry_size;
  void* mem = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, static_cast<off_t>(pgoff));
  if (mem == MAP_FAILED) {
    return false;
  }
  *map = {mem, len};
  // A fork child must not keep the mapping: it holds the socket open (and
  // with it the queue's buffer pool) for as long as the child lives.
  ::madvise(mem, len, MADV_DONTFORK);
  auto* base = static_cast<uint8_t*>(mem);
  ring->mask = entries - 1;
  ring->size = entries;
  ring->producer = reinterpret_cast<uint32_t*>(base + off.producer);
  ring->consumer = reinterpret_cast<uint32_t*>(base + off.consumer);
  ring->ring = base + off.desc;
  ring->flags = reinterpret_cast<uint32_t*>(base + off.flags);
  ring->cached_prod = __atomic_load_n(ring->producer, __ATOMIC_ACQUIRE);
  ring->cached_cons = __atomic_load_n(ring->consumer, __ATOMIC_ACQUIRE);
  if (producer) {
    ring->cached_cons += entries;  // libxdp's convention for producer rings
  }
  return true;
}

bool set_ring_size(int fd, int opt, uint32_t entries) {
  const int n = static_cast<int>(entries);
  return ::setsockopt(fd, SOL_XDP, opt, &n, sizeof(n)) == 0;
}

}  // namespace

std::unique_ptr<AfXdpBackend> AfXdpBackend::open(const AfXdpConfig& config, std::string* error) {
  const ErrorSink err("af_xdp", config.iface, error);
  if (static_cast<uint8_t>(config.mode) > static_cast<uint8_t>(XdpMode::kGeneric)) {
    err.fail("bad XDP mode " + std::to_string(static_cast<int>(config.mode)) + " (auto, native or generic)");
    return nullptr;
  }
  if (static_cast<uint8_t>(config.attach) > static_cast<uint8_t>(XdpAttach::kLibxdp)) {
    err.fail("bad XDP attach way " + std::to_string(static_cast<int>(config.attach)));
    return nullptr;
  }
  if (config.queues < 1 || config.queues > af_xdp::kMaxQueues) {
    err.fail("queues " + std::to_string(config.queues) + " out of range 1.." + std::to_string(af_xdp::kMaxQueues));
    return nullptr;
  }
  if (config.ring_size < 64 || config.ring_size > 16384 || !std::has_single_bit(config.ring_size)) {
    err.fail("ring size " + std::to_string(config.ring_size) + " is not a power of two in 64..16384");
    return nullptr;
  }

  const af_xdp::LibLogCapture log;
  const auto info = base::query_interface(config.iface, base::InterfaceNeeds::kUsableEthernet, err);
  if (!info) {
    return nullptr;
  }
  if (config.queues > info->max_queues) {
    err.fail("has " + std::to_string(info->max_queues) + " queue(s); " + std::to_string(config.queues) + " asked for");
    return nullptr;
  }
  const uint32_t max_mtu = kFrameSize - kRxKernelHeadroom - kMaxFrameOverMtu;
  if (info->mtu > max_mtu) {
    err.fail("MTU " + std::to_string(info->mtu) + " is too large for AF_XDP's 4 KiB frames (at most " +
             std::to_string(max_mtu) + ")");
    return nullptr;
  }

  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<AfXdpBackend> backend;
    try {
      backend.reset(new AfXdpBackend(config, *info));
    } catch (const std::bad_alloc&) {
      err.fail("out of memory for the packet buffers");
      return nullptr;
    } catch (const std::exception& e) {
      err.fail(std::string("packet pool: ") + e.what());
      return nullptr;
    }
    // From here on the destructor undoes whatever part was done.
    af_xdp::GroupHandles handles;
    switch (af_xdp::GroupHub::join(config.iface, &backend->hub_, &handles, err)) {
      case af_xdp::GroupHub::Join::kFailed: return nullptr;
      case af_xdp::GroupHub::Join::kMember:
        if (!backend->join(config, std::move(handles), err)) {
          return nullptr;
        }
        break;
      case af_xdp::GroupHub::Join::kFounder: {
        bool retry = false;
        if (!backend->found(config, err, log, &retry)) {
          // Our program held by a bpf_link of live processes: a group
          // whose hub is moving to another member. Join it once it has.
          if (retry && attempt < kJoinAttemptsWhileHubMoves) {
            backend.reset();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
          }
          return nullptr;
        }
        break;
      }
    }
    if (!backend->publish(config, err)) {
      return nullptr;
    }
    return backend;
  }
}

AfXdpBackend::AfXdpBackend(const AfXdpConfig& config, const base::InterfaceInfo& info)
    : info_(info),
      iface_(config.iface),
      owner_pid_(static_cast<uint32_t>(::getpid())),
      ring_size_(config.ring_size),
      queue_count_(config.queues) {
  caps_.mtu = info.mtu;
  caps_.rx_queues = config.queues;
  caps_.tx_queues = config.queues;
  caps_.max_frame = std::min(info.mtu + kMaxFrameOverMtu, kFrameSize - kTxHeadroom);
  caps_.rx_multicast = true;  // the groups map steers joined groups (steer_group)
  queues_ = std::make_unique<Queue[]>(queue_count_);
  const uint32_t buffer = (kPoolHeadroom + caps_.max_frame + 63) / 64 * 64;
  pool_ = std::make_unique<PacketPool>(PacketPoolConfig{config.pool_size != 0 ? config.pool_size : kDefaultPoolSize,
                                                        std::max<uint32_t>(2048, buffer), kPoolHeadroom,
                                                        /*prefault=*/true});
}

bool AfXdpBackend::found(const AfXdpConfig& config, const ErrorSink& err, const af_xdp::LibLogCapture& log,
                         bool* retry_as_member) {
  program_ =
      af_xdp::XdpProgram::attach(config.iface, info_.ifindex, config.mode, config.attach, err, log, retry_as_member);
  if (!program_) {
    return false;
  }
  native_ = program_->native();
  region_ = af_xdp::GroupRegion::create(queue_count_, ring_size_, err);
  if (!region_) {
    return false;
  }
  if (!take_slot(err)) {
    return false;
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
    if (native_ && config.zero_copy) {
      e = create_sockets(XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP, {}, &what);
      zero_copy_ = e == 0;
    }
    if (e != 0 && e != EBUSY) {
      e = create_sockets(XDP_COPY | XDP_USE_NEED_WAKEUP, {}, &what);
    }
  }
  if (e != 0) {
    if (e == EBUSY) {
      return err.fail(what + ": busy (another AF_XDP socket is bound to that queue)");
    }
    if (e == EPERM || e == EACCES) {
      return err.fail("permission denied creating AF_XDP sockets (needs CAP_NET_RAW and CAP_IPC_LOCK)");
    }
    if (e == EINVAL && what.find("bind") != std::string::npos) {
      return err.fail_errno(what + " (queue out of range, or the driver refuses AF_XDP)", e);
    }
    return err.fail_errno(what, e);
  }

  std::string& desc = mode_description_;
  desc = native_ ? "native" : "generic";
  desc += zero_copy_ ? " zero-copy" : " copy";
  switch (program_->way()) {
    case af_xdp::XdpProgram::Way::kLink: break;
    case af_xdp::XdpProgram::Way::kLibxdpDispatcher: desc += ", libxdp dispatcher"; break;
    case af_xdp::XdpProgram::Way::kLibxdpLegacy: desc += ", libxdp legacy"; break;
  }
  af_xdp::GroupHeader& h = region_->header();
  h.native = native_ ? 1 : 0;
  h.zero_copy = zero_copy_ ? 1 : 0;
  std::snprintf(h.mode_description, sizeof(h.mode_description), "%s", desc.c_str());
  if (config.pin_maps && program_->pin_maps(af_xdp::pin_dir_for(config.iface))) {
    pin_dir_ = program_->pin_dir();
    std::snprintf(h.pin_dir, sizeof(h.pin_dir), "%s", pin_dir_.c_str());
  }
  for (uint32_t q = 0; q < queue_count_; ++q) {
    lock_queue(q);
    refill_locked(q);
    region_->unlock_queue(q);
  }
  return true;
}

bool AfXdpBackend::join(const AfXdpConfig& config, af_xdp::GroupHandles handles, const ErrorSink& err) {
  handles_ = std::move(handles);
  region_ = af_xdp::GroupRegion::attach(std::move(handles_.memfd), err);
  if (!region_) {
    return false;
  }
  const af_xdp::GroupHeader& h = region_->header();
  const std::string founder = "pid " + std::to_string(h.founder_pid);
  if (h.queues != queue_count_ || handles_.queue_xsks.size() != queue_count_) {
    return err.fail("shares AF_XDP with " + founder + ", which uses " + std::to_string(h.queues) +
                    " queue(s); DPDKUDP_QUEUES=" + std::to_string(queue_count_) + " must match");
  }
  native_ = h.native != 0;
  if ((config.mode == XdpMode::kNative && !native_) || (config.mode == XdpMode::kGeneric && native_)) {
    return err.fail("shares AF_XDP with " + founder + ", which runs in " + (native_ ? "native" : "generic") +
                    " mode; DPDKUDP_XDP_MODE=" + std::string(to_string(config.mode)) + " cannot join it");
  }
  zero_copy_ = h.zero_copy != 0;
  ring_size_ = h.ring_size;  // the group's rings: one fill ring per queue for all
  for (const uint32_t pid : region_->reclaim_dead(base::monotonic_now_ns())) {
    forget_pid(pid);  // a member that died while nobody held the hub
  }
  if (!take_slot(err)) {
    return false;
  }

  std::string what;
  int e = create_sockets(XDP_SHARED_UMEM, handles_.queue_xsks, &what);
  if (e != 0) {
    if (e == EPERM || e == EACCES) {
      return err.fail("permission denied creating AF_XDP sockets (needs CAP_NET_RAW)");
    }
    return err.fail_errno(what, e);
  }
  // Only needed for the bind: holding another process's socket would keep
  // it (and its XSKMAP slot) alive after that process dies.
  handles_.queue_xsks.clear();
  pin_dir_ = h.pin_dir;
  mode_description_ = std::string(h.mode_description) + ", group member (slot " + std::to_string(slot_) + ")";
  return true;
}

bool AfXdpBackend::take_slot(const ErrorSink& err) {
  const int slot = region_->claim_slot();
  if (slot < 0) {
    return err.fail(std::to_string(af_xdp::kMaxMembers) +
                    " processes already share AF_XDP on this interface (the most a group takes)");
  }
  slot_ = static_cast<uint32_t>(slot);
  has_slot_ = true;
  area_ = region_->umem();
  tx_first_frame_ = region_->tx_first_frame();
  tx_count_ = region_->tx_frames();
  tx_pkts_ = std::make_unique<Packet[]>(tx_count_);
  return true;
}

bool AfXdpBackend::publish(const AfXdpConfig& config, const ErrorSink& err) {
  // Dedicated mode: the address is ours (ARP, ICMP, unbound ports), unless
  // a live process of the group already serves it: an ancestor (a forked
  // child that took its sockets over serves their ports, the process that
  // opened them keeps the address), or another process (refused).
  dedicated_ = config.dedicated;
  if (config.dedicated && config.ipv4 != 0) {
    const uint32_t addr = htonl(config.ipv4);
    af_xdp::Owner owner{};
    const bool served =
        bpf_map_lookup_elem(addrs_fd(), &addr, &owner) == 0 && owner.pid != owner_pid_ && af_xdp::pid_alive(owner.pid);
    if (served && !base::is_ancestor(owner.pid)) {
      return err.fail("address " + ipv4_text(addr) + " is already served in dedicated mode by pid " +
                      std::to_string(owner.pid) + " (one process per dedicated address)");
    }
    if (!served) {
      owner = {owner_pid_, slot_};
      if (const int r = bpf_map_update_elem(addrs_fd(), &addr, &owner, BPF_ANY); r != 0) {
        return err.fail_errno("registering the dedicated address", r);
      }
      dedicated_ipv4_ = addr;
    }
  }
  // The same for the IPv6 addresses (NDP, ICMPv6, unbound ports), with the
  // link-local one the stack adds in dedicated mode when none is given
  // (fe80::/64, the modified EUI-64 of the MAC: RFC 4291 appendix A).
  std::vector<std::array<uint8_t, 16>> served6 =
      config.dedicated ? config.ipv6 : std::vector<std::array<uint8_t, 16>>{};
  const bool has_link_local = std::any_of(served6.begin(), served6.end(), [](const std::array<uint8_t, 16>& a) {
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
  });
  if (!served6.empty() && !has_link_local) {
    const MacAddr m = info_.mac;
    served6.push_back(
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]});
  }
  for (const std::array<uint8_t, 16>& a : served6) {
    af_xdp::Addr6Key key{};
    std::memcpy(key.addr, a.data(), sizeof key.addr);
    af_xdp::Owner owner{};
    if (bpf_map_lookup_elem(addrs6_fd(), &key, &owner) == 0 && owner.pid != owner_pid_ &&
        af_xdp::pid_alive(owner.pid)) {
      if (base::is_ancestor(owner.pid)) {
        continue;  // an ancestor keeps it, as the IPv4 one
      }
      return err.fail("an IPv6 address is already served in dedicated mode by pid " + std::to_string(owner.pid) +
                      " (one process per dedicated address)");
    }
    owner = {owner_pid_, slot_};
    if (const int r = bpf_map_update_elem(addrs6_fd(), &key, &owner, BPF_ANY); r != 0) {
      return err.fail_errno("registering a dedicated IPv6 address", r);
    }
    dedicated_ipv6_.push_back(key);
  }
  for (uint32_t q = 0; q < queue_count_; ++q) {
    const uint32_t index = slot_ * af_xdp::kMaxQueues + q;
    const int fd = queues_[q].fd;
    if (const int r = bpf_map_update_elem(xsks_fd(), &index, &fd, BPF_ANY); r != 0) {
      return err.fail_errno("putting the XSK of queue " + std::to_string(q) + " in the XSKMAP", r);
    }
  }
  membership_fd_ = af_xdp::UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!membership_fd_.valid()) {
    return err.fail_errno("opening the packet socket that holds multicast memberships", errno);
  }
  std::vector<int> give = {region_->memfd(), ports_fd(),  xsks_fd(),    addrs_fd(),     ports6_fd(),
                           addrs6_fd(),      groups_fd(), groups6_fd(), resolving_fd(), resolving6_fd()};
  for (uint32_t q = 0; q < queue_count_; ++q) {
    give.push_back(queues_[q].fd);
  }
  hub_->start(region_.get(), std::move(give), link_fd(), [this](uint32_t pid) { forget_pid(pid); });
  return true;
}

int AfXdpBackend::create_sockets(uint16_t bind_flags, const std::vector<UniqueFd>& share_fds, std::string* what) {
  const bool member = !share_fds.empty();
  for (uint16_t q = 0; q < queue_count_; ++q) {
    Queue& queue = queues_[q];
    const std::string where = " of queue " + std::to_string(q);
    queue.fd = ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (queue.fd < 0) {
      const int e = errno;
      *what = "creating the AF_XDP socket" + where;
      destroy_sockets();
      return e;
    }
    const int fd = queue.fd;
    af_xdp::close_in_fork_children(fd);
    auto fail = [&](const std::string& step) {
      const int e = errno != 0 ? errno : EINVAL;
      *what = step.find("queue") == std::string::npos ? step + where : step;
      destroy_sockets();
      return e;
    };
    if (!member && q == 0) {
      xdp_umem_reg reg{};
      reg.addr = reinterpret_cast<uintptr_t>(area_);
      reg.len = region_->umem_size();
      reg.chunk_size = kFrameSize;
      reg.headroom = 0;
      if (::setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) != 0) {
        return fail("registering the UMEM");
      }
    }
    // A member's socket on a queue the group already serves shares that
    // queue's fill and completion rings; the founder makes them.
    if (!member && (!set_ring_size(fd, XDP_UMEM_FILL_RING, ring_size_) ||
                    !set_ring_size(fd, XDP_UMEM_COMPLETION_RING, ring_size_))) {
      return fail("sizing the fill/completion rings");
    }
    if (!set_ring_size(fd, XDP_RX_RING, ring_size_) || !set_ring_size(fd, XDP_TX_RING, ring_size_)) {
      return fail("sizing the RX/TX rings");
    }
    xdp_mmap_offsets off{};
    socklen_t off_len = sizeof(off);
    if (::getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &off_len) != 0) {
      return fail("reading the ring offsets");
    }
    auto map_umem_rings = [&] {
      return map_ring(fd, XDP_UMEM_PGOFF_FILL_RING, off.fr, ring_size_, sizeof(uint64_t), true, &queue.fill,
                      &queue.maps[2]) &&
             map_ring(fd, XDP_UMEM_PGOFF_COMPLETION_RING, off.cr, ring_size_, sizeof(uint64_t), false, &queue.comp,
                      &queue.maps[3]);
    };
    if (!member && !map_umem_rings()) {
      return fail("mapping the fill/completion rings");
    }
    sockaddr_xdp addr{};
    addr.sxdp_family = AF_XDP;
    addr.sxdp_ifindex = static_cast<uint32_t>(info_.ifindex);
    addr.sxdp_queue_id = q;
    if (member) {
      addr.sxdp_flags = XDP_SHARED_UMEM;
      addr.sxdp_shared_umem_fd = static_cast<uint32_t>(share_fds[q].get());
    } else if (q == 0) {
      addr.sxdp_flags = bind_flags;
    } else {
      // The founder's other queues: the same UMEM, a buffer pool each.
      addr.sxdp_flags = XDP_SHARED_UMEM;
      addr.sxdp_shared_umem_fd = static_cast<uint32_t>(queues_[0].fd);
    }
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      return fail("binding an AF_XDP socket to queue " + std::to_string(q));
    }
    // A member maps the queue's shared fill/completion rings through its
    // own bound socket (Linux 6.x: older kernels refuse it).
    if (member && !map_umem_rings()) {
      return fail(
          "mapping the group's shared fill/completion rings (this kernel does not map "
          "them for a socket bound with XDP_SHARED_UMEM)");
    }
    if (!map_ring(fd, XDP_PGOFF_RX_RING, off.rx, ring_size_, sizeof(xdp_desc), false, &queue.rx, &queue.maps[0]) ||
        !map_ring(fd, XDP_PGOFF_TX_RING, off.tx, ring_size_, sizeof(xdp_desc), true, &queue.tx, &queue.maps[1])) {
      return fail("mapping the RX/TX rings");
    }
  }
  return 0;
}

void AfXdpBackend::destroy_sockets() {
  for (uint16_t q = 0; q < queue_count_; ++q) {
    Queue& queue = queues_[q];
    for (auto& [mem, len] : queue.maps) {
      if (mem != nullptr) {
        ::munmap(mem, len);
        mem = nullptr;
      }
    }
    if (queue.fd >= 0) {
      af_xdp::keep_in_fork_children(queue.fd);
      ::close(queue.fd);
      queue.fd = -1;
    }
    queue.rx = {};
    queue.tx = {};
    queue.fill = {};
    queue.comp = {};
  }
}

AfXdpBackend::~AfXdpBackend() {
  const af_xdp::LibLogCapture log;
  if (static_cast<uint32_t>(::getpid()) != owner_pid_) {
    // A fork child: the parent still runs on all of it. Change nothing
    // shared. The XSKs, the link and the hub name were closed right after
    // fork (close_in_fork_children): forget their numbers.
    if (hub_) {
      hub_->abandon();
    }
    if (program_) {
      program_->abandon_in_child();
    }
    (void)handles_.link.release();
    for (uint16_t q = 0; q < queue_count_; ++q) {
      queues_[q].fd = -1;
    }
    program_.reset();
    destroy_sockets();
    return;
  }
  if (hub_) {
    hub_->stop();  // another member takes the name over
  }
  // Stop steering first (the kernel gets our ports again), then the
  // sockets; then give our frames back to the group.
  if (region_ && has_slot_) {
    {
      const std::lock_guard<std::mutex> guard(steer_mutex_);
      region_->lock_steer();
      for (const auto& [key, count] : steered_) {
        af_xdp::PortKey pkey{};
        pkey.addr = htonl(static_cast<uint32_t>(key >> 16));
        pkey.port = htons(static_cast<uint16_t>(key & 0xffff));
        drop_port_owner_locked(ports_fd(), pkey, owner_pid_);
      }
      for (const auto& [local, count] : steered6_) {
        af_xdp::Port6Key pkey{};
        std::memcpy(pkey.addr, local.first.data(), sizeof pkey.addr);
        pkey.port = htons(local.second);
        drop_port_owner_locked(ports6_fd(), pkey, owner_pid_);
      }
      if (dedicated_ipv4_ != 0) {
        drop_addr_owner_locked(dedicated_ipv4_, owner_pid_);
      }
      for (const af_xdp::Addr6Key& addr : dedicated_ipv6_) {
        af_xdp::Owner owner{};
        if (bpf_map_lookup_elem(addrs6_fd(), &addr, &owner) == 0 && owner.pid == owner_pid_) {
          bpf_map_delete_elem(addrs6_fd(), &addr);
        }
      }
      for (const auto& [group, count] : groups_) {
        drop_port_owner_locked(groups_fd(), htonl(group), owner_pid_);
      }
      if (!groups_.empty()) {
        drop_port_owner_locked(groups_fd(), htonl(kAllSystemsGroup), owner_pid_);
      }
      drop_resolving_locked<uint32_t>(resolving_fd(), owner_pid_);
      drop_resolving_locked<af_xdp::Addr6Key>(resolving6_fd(), owner_pid_);
      for (const auto& [group, count] : groups6_) {
        drop_port_owner_locked(groups6_fd(), group6_key(group), owner_pid_);
      }
      if (!groups6_.empty()) {
        drop_port_owner_locked(groups6_fd(), group6_key(kAllNodesGroup), owner_pid_);
      }
      region_->unlock_steer();
      steered_.clear();
      steered6_.clear();
      groups_.clear();
      groups6_.clear();
    }
    for (uint32_t q = 0; q < queue_count_; ++q) {
      const uint32_t index = slot_ * af_xdp::kMaxQueues + q;
      bpf_map_delete_elem(xsks_fd(), &index);
    }
  }
  destroy_sockets();
  if (region_ && has_slot_) {
    const bool last = region_->others_alive(slot_) == 0;
    region_->leave(slot_);
    if (!last) {
      // The others keep the program (their own link fds) and the pins.
      if (program_) {
        program_->disown();
      }
    } else if (!program_ && !pin_dir_.empty()) {
      af_xdp::unpin_maps(pin_dir_);
    }
  }
  program_.reset();  // the founder's, when last: unpin, detach
  af_xdp::keep_in_fork_children(handles_.link.get());
  handles_.link.reset();
}

}  // namespace dpdkudp
