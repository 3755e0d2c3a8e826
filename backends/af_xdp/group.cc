#include "backends/af_xdp/group.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "base/clock.h"
#include "base/process.h"

namespace dpdkudp::af_xdp {
namespace {

constexpr uint32_t kMagic = 0x64785047;  // "GPxd"
constexpr uint32_t kVersion = 7;         // 4: the IPv6 maps; 5, 6: the groups maps; 7: resolving
constexpr uint32_t kHelloMagic = 0x6f6c6548;
constexpr int kJoinWaitMs = 2000;
constexpr int kWelcomeTimeoutMs = 5000;  // the holder may still be opening (EBUSY retries)
constexpr int kWatchPeriodMs = 100;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

socklen_t hub_address(const std::string& iface, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  const std::string name = "dpdkudp/af_xdp/" + iface;
  std::memcpy(addr.sun_path + 1, name.data(), std::min(name.size(), sizeof(addr.sun_path) - 1));
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + std::min(name.size(), sizeof(addr.sun_path) - 1));
}

struct Hello {
  uint32_t magic;
  uint32_t version;
  uint32_t pid;
  uint32_t reserved;
};

struct Welcome {
  uint32_t magic;
  uint32_t version;  // the holder's; a mismatch carries no fds
  uint32_t pid;      // the holder's
  uint32_t fds;      // memfd, ports, xsks, addrs, [link], queue XSKs
  uint32_t has_link;
  uint32_t queues;
};

void set_timeout(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

bool send_welcome(int fd, const Welcome& w, const std::vector<int>& fds) {
  iovec iov{const_cast<Welcome*>(&w), sizeof(w)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg == nullptr) {
      return false;
    }
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(fd, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(w));
}

// Receives the welcome; the fds it carries land in *fds (owned).
int recv_welcome(int fd, Welcome* w, std::vector<UniqueFd>* fds) {
  iovec iov{w, sizeof(*w)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 80)];
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
  if (n < 0) {
    return errno;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int got = -1;
        std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->emplace_back(got);
      }
    }
  }
  if (n != static_cast<ssize_t>(sizeof(*w))) {
    return EPROTO;
  }
  return (msg.msg_flags & MSG_CTRUNC) != 0 ? EPROTO : 0;
}

}  // namespace

// ---- SharedMutex ----

void SharedMutex::init() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&m_, &attr);
  pthread_mutexattr_destroy(&attr);
}

bool SharedMutex::lock() {
  const int r = pthread_mutex_lock(&m_);
  if (r == EOWNERDEAD) {
    pthread_mutex_consistent(&m_);
    return true;
  }
  return false;
}

// ---- GroupRegion ----

std::unique_ptr<GroupRegion> GroupRegion::create(uint32_t queues, uint32_t ring_size, const ErrorSink& err) {
  const uint32_t rx_per_queue = 2 * ring_size;
  const uint32_t tx_frames = 2 * ring_size;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t stash_offset = round_up(sizeof(GroupHeader), 64);
  const size_t tx_stack_offset = round_up(stash_offset + size_t{queues} * rx_per_queue * sizeof(uint64_t), 64);
  const size_t tx_state_offset = round_up(tx_stack_offset + size_t{tx_frames} * 4, 64);
  const size_t umem_offset = round_up(tx_state_offset + size_t{tx_frames} * 4, page);
  const size_t umem_size = (size_t{queues} * rx_per_queue + tx_frames) * kGroupFrameSize;
  const size_t size = umem_offset + umem_size;

  UniqueFd memfd(::memfd_create("dpdkudp-af_xdp", MFD_CLOEXEC));
  if (!memfd.valid()) {
    err.fail_errno("memfd_create for the UMEM", errno);
    return nullptr;
  }
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) {
    err.fail_errno("sizing the UMEM memfd", errno);
    return nullptr;
  }
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd.get(), 0);
  if (base == MAP_FAILED) {
    err.fail_errno("mapping " + std::to_string(size >> 20) + " MiB of UMEM", errno);
    return nullptr;
  }
  // A fork child must not keep the frames the kernel writes.
  ::madvise(base, size, MADV_DONTFORK);
  std::unique_ptr<GroupRegion> region(new GroupRegion(std::move(memfd), static_cast<uint8_t*>(base), size));
  GroupHeader& h = *new (base) GroupHeader{};
  h.queues = queues;
  h.ring_size = ring_size;
  h.rx_frames_per_queue = rx_per_queue;
  h.tx_frames = tx_frames;
  h.stash_offset = stash_offset;
  h.tx_stack_offset = tx_stack_offset;
  h.tx_state_offset = tx_state_offset;
  h.umem_offset = umem_offset;
  h.umem_size = umem_size;
  h.founder_pid = static_cast<uint32_t>(::getpid());
  h.members_lock.init();
  h.steer_lock.init();
  h.tx_lock.init();
  for (uint32_t q = 0; q < kMaxQueues; ++q) {
    h.queue[q].lock.init();
  }
  // Every RX frame starts in its queue's stash (the founder moves them to
  // the fill ring), every TX frame free.
  for (uint32_t q = 0; q < queues; ++q) {
    uint64_t* stash = region->stash(q);
    for (uint32_t i = 0; i < rx_per_queue; ++i) {
      stash[i] = (region->rx_first_frame(q) + i) * kGroupFrameSize;
    }
    h.queue[q].stash_count = rx_per_queue;
  }
  uint32_t* stack = region->tx_stack();
  for (uint32_t i = 0; i < tx_frames; ++i) {
    stack[i] = tx_frames - 1 - i;
    new (&region->tx_state()[i]) std::atomic<uint32_t>(kTxFree);
  }
  h.tx_free_count = tx_frames;
  h.version = kVersion;
  __atomic_store_n(&h.magic, kMagic, __ATOMIC_RELEASE);
  return region;
}

std::unique_ptr<GroupRegion> GroupRegion::attach(UniqueFd memfd, const ErrorSink& err) {
  struct stat st {};
  if (::fstat(memfd.get(), &st) != 0 || st.st_size < static_cast<off_t>(sizeof(GroupHeader))) {
    err.fail("the AF_XDP group's memory is not what it should be");
    return nullptr;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd.get(), 0);
  if (base == MAP_FAILED) {
    err.fail_errno("mapping the AF_XDP group's UMEM", errno);
    return nullptr;
  }
  ::madvise(base, size, MADV_DONTFORK);
  std::unique_ptr<GroupRegion> region(new GroupRegion(std::move(memfd), static_cast<uint8_t*>(base), size));
  const GroupHeader& h = region->header();
  if (__atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) != kMagic || h.version != kVersion ||
      h.umem_offset + h.umem_size != size || h.queues == 0 || h.queues > kMaxQueues) {
    err.fail("the AF_XDP group on this interface was made by another dpdkudp version");
    return nullptr;
  }
  return region;
}

GroupRegion::~GroupRegion() { ::munmap(base_, size_); }

bool GroupRegion::slot_alive(const MemberSlot& m) const {
  const uint32_t pid = m.pid.load(std::memory_order_relaxed);
  if (!pid_alive(pid)) {
    return false;
  }
  // pid_alive ruled out a zombie; the start time rules out a reused pid.
  const uint64_t start = base::process_start_time(pid);
  return start == 0 || start == m.start_time.load(std::memory_order_relaxed);
}

int GroupRegion::claim_slot() {
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  const uint64_t start = base::process_start_time(pid);
  GroupHeader& h = *header_;
  h.members_lock.lock();  // nothing to repair: every field is one store
  int got = -1;
  for (uint32_t s = 0; s < kMaxMembers; ++s) {
    MemberSlot& m = h.members[s];
    if (m.state.load(std::memory_order_relaxed) == static_cast<uint32_t>(MemberState::kFree)) {
      m.pid.store(pid, std::memory_order_relaxed);
      m.start_time.store(start, std::memory_order_relaxed);
      m.reclaim_at.store(0, std::memory_order_relaxed);
      m.state.store(static_cast<uint32_t>(MemberState::kActive), std::memory_order_release);
      got = static_cast<int>(s);
      break;
    }
  }
  h.members_lock.unlock();
  return got;
}

void GroupRegion::leave(uint32_t slot) {
  lock_tx();
  reclaim_tx_locked(slot, false);
  unlock_tx();
  GroupHeader& h = *header_;
  h.members_lock.lock();
  MemberSlot& m = h.members[slot];
  m.reclaim_at.store(base::monotonic_now_ns() + kReclaimGraceNs, std::memory_order_relaxed);
  m.state.store(static_cast<uint32_t>(MemberState::kGone), std::memory_order_release);
  h.members_lock.unlock();
}

uint32_t GroupRegion::others_alive(uint32_t slot) {
  GroupHeader& h = *header_;
  uint32_t n = 0;
  h.members_lock.lock();
  for (uint32_t s = 0; s < kMaxMembers; ++s) {
    const MemberSlot& m = h.members[s];
    if (s != slot && m.state.load(std::memory_order_relaxed) == static_cast<uint32_t>(MemberState::kActive) &&
        slot_alive(m)) {
      ++n;
    }
  }
  h.members_lock.unlock();
  return n;
}

std::vector<uint32_t> GroupRegion::reclaim_dead(uint64_t now_ns) {
  std::vector<uint32_t> dead;
  GroupHeader& h = *header_;
  h.members_lock.lock();
  for (uint32_t s = 0; s < kMaxMembers; ++s) {
    MemberSlot& m = h.members[s];
    const auto state = static_cast<MemberState>(m.state.load(std::memory_order_relaxed));
    if (state == MemberState::kActive && !slot_alive(m)) {
      lock_tx();
      reclaim_tx_locked(s, false);
      unlock_tx();
      m.reclaim_at.store(now_ns + kReclaimGraceNs, std::memory_order_relaxed);
      m.state.store(static_cast<uint32_t>(MemberState::kGone), std::memory_order_relaxed);
      dead.push_back(m.pid.load(std::memory_order_relaxed));
    } else if (state == MemberState::kGone && now_ns >= m.reclaim_at.load(std::memory_order_relaxed)) {
      // By now the kernel has sent or dropped whatever it had submitted.
      lock_tx();
      reclaim_tx_locked(s, true);
      unlock_tx();
      m.pid.store(0, std::memory_order_relaxed);
      m.state.store(static_cast<uint32_t>(MemberState::kFree), std::memory_order_release);
    }
  }
  h.members_lock.unlock();
  return dead;
}

// ---- TX frames ----

void GroupRegion::lock_tx() {
  GroupHeader& h = *header_;
  if (!h.tx_lock.lock()) {
    return;
  }
  // The last holder died inside: the states are the truth, the stack is
  // rebuilt from them (a frame whose state was already changed is where
  // its state says, one whose state was not is still free).
  uint32_t* stack = tx_stack();
  uint32_t n = 0;
  for (uint32_t f = 0; f < h.tx_frames; ++f) {
    if (tx_state()[f].load(std::memory_order_relaxed) == kTxFree) {
      stack[n++] = f;
    }
  }
  h.tx_free_count = n;
}

size_t GroupRegion::tx_take(uint32_t slot, std::span<uint32_t> out) {
  lock_tx();
  GroupHeader& h = *header_;
  const uint32_t n = std::min<uint32_t>(h.tx_free_count, static_cast<uint32_t>(out.size()));
  uint32_t* stack = tx_stack();
  const uint32_t held = state_word(kTxHeld, slot);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t f = stack[h.tx_free_count - 1 - i];
    tx_state()[f].store(held, std::memory_order_relaxed);
    out[i] = f;
  }
  h.tx_free_count -= n;
  unlock_tx();
  return n;
}

void GroupRegion::tx_give(std::span<const uint32_t> frames) {
  lock_tx();
  GroupHeader& h = *header_;
  uint32_t* stack = tx_stack();
  for (const uint32_t f : frames) {
    if (f >= h.tx_frames || tx_state()[f].load(std::memory_order_relaxed) == kTxFree) {
      continue;  // never twice on the stack
    }
    tx_state()[f].store(kTxFree, std::memory_order_relaxed);
    stack[h.tx_free_count++] = f;
  }
  unlock_tx();
}

void GroupRegion::tx_complete(std::span<const uint32_t> frames) {
  lock_tx();
  GroupHeader& h = *header_;
  uint32_t* stack = tx_stack();
  for (const uint32_t f : frames) {
    // A frame reclaimed from a dead member meanwhile is no longer
    // "submitted": its late completion changes nothing.
    if (f >= h.tx_frames || (tx_state()[f].load(std::memory_order_relaxed) & 0xff) != kTxSubmitted) {
      continue;
    }
    tx_state()[f].store(kTxFree, std::memory_order_relaxed);
    stack[h.tx_free_count++] = f;
  }
  unlock_tx();
}

void GroupRegion::reclaim_tx_locked(uint32_t slot, bool submitted_too) {
  GroupHeader& h = *header_;
  uint32_t* stack = tx_stack();
  const uint32_t held = state_word(kTxHeld, slot);
  const uint32_t submitted = state_word(kTxSubmitted, slot);
  for (uint32_t f = 0; f < h.tx_frames; ++f) {
    const uint32_t s = tx_state()[f].load(std::memory_order_relaxed);
    if (s == held || (submitted_too && s == submitted)) {
      tx_state()[f].store(kTxFree, std::memory_order_relaxed);
      stack[h.tx_free_count++] = f;
    }
  }
}

// ---- GroupHub ----

GroupHub::Join GroupHub::join(const std::string& iface, std::unique_ptr<GroupHub>* hub, GroupHandles* handles,
                              const ErrorSink& err) {
  sockaddr_un addr{};
  const socklen_t len = hub_address(iface, addr);
  const uint64_t deadline = base::monotonic_now_ns() + uint64_t{kJoinWaitMs} * 1'000'000;
  std::string last = "no answer";
  uint32_t holder = 0;
  for (;;) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
      err.fail_errno("socket(AF_UNIX) for the interface's AF_XDP group", errno);
      return Join::kFailed;
    }
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) {
      if (::listen(fd.get(), SOMAXCONN) != 0) {
        err.fail_errno("listening for the AF_XDP group", errno);
        return Join::kFailed;
      }
      hub->reset(new GroupHub(iface));
      close_in_fork_children(fd.get());
      (*hub)->listen_ = std::move(fd);
      return Join::kFounder;
    }
    if (errno != EADDRINUSE) {
      err.fail_errno("binding the AF_XDP group's name", errno);
      return Join::kFailed;
    }
    // A group exists: ask its holder.
    UniqueFd conn(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (conn.valid() && ::connect(conn.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0) {
      ucred cred{};
      socklen_t cred_len = sizeof(cred);
      if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
        holder = static_cast<uint32_t>(cred.pid);
      }
      set_timeout(conn.get(), kWelcomeTimeoutMs);
      const Hello hello{kHelloMagic, kVersion, static_cast<uint32_t>(::getpid()), 0};
      Welcome welcome{};
      std::vector<UniqueFd> fds;
      int e = ::send(conn.get(), &hello, sizeof(hello), MSG_NOSIGNAL) == sizeof(hello) ? 0 : errno;
      if (e == 0) {
        e = recv_welcome(conn.get(), &welcome, &fds);
      }
      if (e == 0 && welcome.magic == kHelloMagic && welcome.version != kVersion) {
        err.fail("the AF_XDP group on this interface (pid " + std::to_string(welcome.pid) +
                 ") runs another dpdkudp version; one version per interface");
        return Join::kFailed;
      }
      const size_t want = kHandedMaps + 1 + welcome.has_link + welcome.queues;
      if (e == 0 && welcome.magic == kHelloMagic && welcome.fds == want && fds.size() == want) {
        size_t i = 0;
        handles->memfd = std::move(fds[i++]);
        handles->ports_map = std::move(fds[i++]);
        handles->xsks_map = std::move(fds[i++]);
        handles->addrs_map = std::move(fds[i++]);
        handles->ports6_map = std::move(fds[i++]);
        handles->addrs6_map = std::move(fds[i++]);
        handles->groups_map = std::move(fds[i++]);
        handles->groups6_map = std::move(fds[i++]);
        handles->resolving_map = std::move(fds[i++]);
        handles->resolving6_map = std::move(fds[i++]);
        if (welcome.has_link != 0) {
          handles->link = std::move(fds[i++]);
          close_in_fork_children(handles->link.get());
        }
        while (i < fds.size()) {
          handles->queue_xsks.push_back(std::move(fds[i++]));
        }
        hub->reset(new GroupHub(iface));  // takes the name over when the holder goes
        return Join::kMember;
      }
      // The holder gave up opening, or exited: another takes the name.
      last = e != 0 ? std::string(std::strerror(e)) : std::string("a malformed answer");
    }
    if (base::monotonic_now_ns() >= deadline) {
      err.fail("AF_XDP group on this interface: its holder" +
               (holder != 0 ? " pid " + std::to_string(holder) : std::string()) + " did not answer (" + last + ")");
      return Join::kFailed;
    }
    ::usleep(10'000);
  }
}

void GroupHub::start(GroupRegion* region, std::vector<int> give_fds, int link_fd,
                     std::function<void(uint32_t)> on_dead) {
  region_ = region;
  give_fds_ = std::move(give_fds);
  link_fd_ = link_fd;
  on_dead_ = std::move(on_dead);
  stop_event_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  thread_ = std::make_unique<std::thread>([this] { run(); });
}

void GroupHub::stop() {
  if (thread_) {
    const uint64_t one = 1;
    if (::write(stop_event_.get(), &one, sizeof(one)) < 0) {
      // eventfd write cannot fail with a valid fd and a counter far from max
    }
    thread_->join();
    thread_.reset();
  }
  keep_in_fork_children(listen_.get());
  listen_.reset();  // another member takes the name over
}

void GroupHub::abandon() {
  // The thread was not copied into this fork child: never join it, never
  // let std::thread's destructor see it. Our copy of the listening fd was
  // closed right after fork (close_in_fork_children): its number may name
  // another file now.
  (void)thread_.release();
  (void)listen_.release();
}

GroupHub::~GroupHub() { stop(); }

void GroupHub::run() {
  sockaddr_un addr{};
  const socklen_t len = hub_address(iface_, addr);
  uint64_t next_scan = 0;
  for (;;) {
    pollfd fds[2] = {{stop_event_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
    const nfds_t n = listen_.valid() ? 2 : 1;
    const int r = ::poll(fds, n, kWatchPeriodMs);
    if (r > 0 && (fds[0].revents & POLLIN) != 0) {
      return;
    }
    if (!listen_.valid()) {
      // The holder may have gone: try to take the name over.
      UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (fd.valid() && ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) == 0 &&
          ::listen(fd.get(), SOMAXCONN) == 0) {
        close_in_fork_children(fd.get());
        listen_ = std::move(fd);
      }
      continue;
    }
    if (r > 0 && (fds[1].revents & POLLIN) != 0) {
      serve_one();
    }
    const uint64_t now = base::monotonic_now_ns();
    if (now >= next_scan) {
      next_scan = now + uint64_t{kWatchPeriodMs} * 1'000'000;
      for (const uint32_t pid : region_->reclaim_dead(now)) {
        on_dead_(pid);
      }
    }
  }
}

void GroupHub::serve_one() {
  UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!conn.valid()) {
    return;
  }
  // Blocking with a short timeout from here: a newcomer that says nothing
  // does not hold up the others for long.
  const int flags = ::fcntl(conn.get(), F_GETFL);
  ::fcntl(conn.get(), F_SETFL, flags & ~O_NONBLOCK);
  set_timeout(conn.get(), 500);
  Hello hello{};
  if (::recv(conn.get(), &hello, sizeof(hello), MSG_WAITALL) != sizeof(hello) || hello.magic != kHelloMagic) {
    return;  // a probe, or not one of us
  }
  Welcome w{};
  w.magic = kHelloMagic;
  w.version = kVersion;
  w.pid = static_cast<uint32_t>(::getpid());
  if (hello.version != kVersion) {
    send_welcome(conn.get(), w, {});
    return;
  }
  // The region and the maps, the link, then the queues' XSKs.
  constexpr size_t kFixed = kHandedMaps + 1;
  std::vector<int> fds(give_fds_.begin(), give_fds_.begin() + kFixed);
  w.has_link = link_fd_ >= 0 ? 1 : 0;
  if (link_fd_ >= 0) {
    fds.push_back(link_fd_);
  }
  fds.insert(fds.end(), give_fds_.begin() + kFixed, give_fds_.end());
  w.queues = static_cast<uint32_t>(give_fds_.size() - kFixed);
  w.fds = static_cast<uint32_t>(fds.size());
  send_welcome(conn.get(), w, fds);
}

}  // namespace dpdkudp::af_xdp
