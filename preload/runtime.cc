#include "preload/runtime.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "engine/log.h"
#include "engine/stats_shm.h"
#include "preload/doorbell.h"
#include "preload/epoll_set.h"
#include "preload/real.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {

thread_local int ShimGuard::depth_ = 0;

namespace {

// Engine state. g_state moves kUnstarted -> kRunning | kOff once. A forked
// child (its parent's engine threads do not exist there) goes to kForked
// when its inherited sockets can have the bypass on an engine of its own
// (adopt_inherited, at their first use), else to kOff: the kernel's.
enum class State { kUnstarted, kRunning, kOff, kForked };
std::atomic<State> g_state{State::kUnstarted};
std::mutex g_start_lock;
engine::Engine* g_engine = nullptr;  // never freed: threads may use it until exit
ShimPortReserver g_reserver;
int g_doorbell_fds[kDoorbellSenders] = {-1, -1, -1, -1, -1, -1, -1, -1};
// The same from ::1, for AF_INET6 sockets (an IPV6_V6ONLY kernel fd takes
// no IPv4 doorbell). -1 when the host has no IPv6 loopback.
int g_doorbell6_fds[kDoorbellSenders] = {-1, -1, -1, -1, -1, -1, -1, -1};
int g_ifindex = 0;
// Read by every thread that closes an fd, engine threads among them (the
// AF_XDP group hub's run while Engine::start has not returned yet).
std::atomic<pid_t> g_owner_pid{0};
uint64_t g_busy_poll_ns = 0;
uint64_t g_recv_spin_ns = 0;

// Registered once per process image: a forked child that starts an engine
// of its own inherits them.
bool g_process_hooks = false;
// A forked child whose inherited offloaded sockets stay on the kernel (its
// backend cannot be shared that way): said once, at their first use.
bool g_forked_on_kernel = false;
std::atomic<bool> g_forked_on_kernel_said{false};

void say_forked_on_kernel() {
  if (g_forked_on_kernel_said.exchange(true)) return;
  engine::log(engine::LogLevel::kWarn,
              "forked child %d: its inherited sockets use the kernel path (a %s engine cannot be shared with a "
              "forked child); their datagrams on the bypass path go to the process that opened them",
              static_cast<int>(getpid()), std::string(engine::to_string(g_engine->backend_kind())).c_str());
}

// Whether a forked child of this process takes its inherited sockets onto
// an engine of its own. Processes share an interface's ports through the
// port-sharing table on AF_PACKET (engine/shared_ports.h) and through the
// XDP program's port owners on AF_XDP (the child joins the interface's
// AF_XDP group and shares its parent's ports). DPDK cannot start twice in
// one process image: there the child stays on the kernel.
bool children_adopt() {
  const State state = g_state.load(std::memory_order_relaxed);
  const bool had_engine = (state == State::kRunning || state == State::kForked) && g_engine != nullptr;
  if (!had_engine) return false;
  switch (g_engine->backend_kind()) {
    case engine::BackendKind::kAfPacket:
    case engine::BackendKind::kAfPacketMmap: return g_engine->shared_ports() != nullptr;
    case engine::BackendKind::kAfXdp: return true;
    default: return false;
  }
}

void arm_handoffs();

void after_fork_in_parent() {
  // The child may adopt the sockets: until this process reads one again,
  // what its stack takes for it goes on to the holders through the shared
  // kernel fd (a parent that forked workers and only waits would
  // otherwise keep the datagrams that arrive before any worker reads).
  if (g_state.load(std::memory_order_relaxed) == State::kRunning && children_adopt()) arm_handoffs();
}

void after_fork_in_child() {
  // A child that never used its inherited sockets (kForked) passes them on
  // to its own children as they were.
  const State state = g_state.load(std::memory_order_relaxed);
  const bool had_engine = (state == State::kRunning || state == State::kForked) && g_engine != nullptr;
  const bool adoptable = children_adopt();
  g_state.store(adoptable ? State::kForked : State::kOff, std::memory_order_release);
  g_forked_on_kernel = had_engine && !adoptable;
  // fork() (not vfork: these handlers do not run there) gave the child
  // memory of its own: its closes and dups now edit its own table.
  if (adoptable) g_owner_pid.store(getpid(), std::memory_order_relaxed);
}

void stop_engine_at_exit() {
  // Join the pollers so none is mid-burst while the process tears down;
  // the stack and backend stay allocated (other atexit handlers or
  // threads may still hold sockets).
  if (g_engine == nullptr || g_state.load() != State::kRunning) return;
  g_engine->stop();
  auto c = g_engine->stack().counters();
  uint64_t drops = 0;
  for (uint64_t d : c.drops) drops += d;
  const engine::stats::DropClassTotals classes = engine::stats::drops_by_class(
      c.drops.data(), c.drops.size(),
      [](size_t i) { return stack::drop_reason_name(static_cast<stack::DropReason>(i)); });
  uint64_t tx_drops = classes[engine::stats::DropClass::kTxFailed] + classes[engine::stats::DropClass::kArpUnresolved];
  engine::log(engine::LogLevel::kInfo,
              "exit: rx_frames=%llu tx_frames=%llu udp_delivered=%llu udp_sent=%llu arp_replies=%llu "
              "icmp_echo_replies=%llu drops=%llu tx_drops=%llu app_bursts=%llu sleeper_wakes=%llu watchdog_rings=%llu "
              "handoffs=%llu/%llu/%llu",
              static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.tx_frames),
              static_cast<unsigned long long>(c.udp_delivered), static_cast<unsigned long long>(c.tx_udp_datagrams),
              static_cast<unsigned long long>(c.arp_replies_sent), static_cast<unsigned long long>(c.icmp_echo_replies),
              static_cast<unsigned long long>(drops), static_cast<unsigned long long>(tx_drops),
              static_cast<unsigned long long>(g_engine->drivers().app_bursts()),
              static_cast<unsigned long long>(g_engine->drivers().sleeper_wakes()),
              static_cast<unsigned long long>(g_engine->kernel_path().watchdog_rings.get()),
              static_cast<unsigned long long>(g_engine->kernel_path().handoff_sent.get()),
              static_cast<unsigned long long>(g_engine->kernel_path().handoff_received.get()),
              static_cast<unsigned long long>(g_engine->kernel_path().handoff_dropped.get()));
}

// Opens the loopback sockets doorbells are sent from (one port each).
// A doorbell sender: bound to 127.0.0.1 (or ::1) on an ephemeral port.
int open_doorbell_sender(bool v6) {
  int fd = real().socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    len = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *sin;
  }
  if (real().bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    real().close(fd);
    return -1;
  }
  return fd;
}

bool open_doorbell() {
  std::string note;
  doorbell_key(&note);
  if (!note.empty()) {
    engine::log(engine::LogLevel::kWarn, "doorbell key: %s; using one of this process's own", note.c_str());
  }
  for (int& slot : g_doorbell_fds) {
    slot = open_doorbell_sender(false);
    if (slot < 0) return false;
  }
  // IPv6 senders are best effort: a host without ::1 still runs IPv4
  // (and dual-stack sockets, which take IPv4 doorbells).
  for (int& slot : g_doorbell6_fds) slot = open_doorbell_sender(true);
  return true;
}

engine::Engine* start_engine() {
  ShimGuard guard;  // everything below goes straight to libc
  // Secure execution (setuid, setgid, file capabilities: AT_SECURE): the
  // environment and the working directory belong to a less trusted caller,
  // so no configuration is read and nothing starts; every call is libc's.
  // Silent, as the dynamic loader is about what it ignores then.
  if (getauxval(AT_SECURE) != 0) return nullptr;
  auto config = engine::load_config_from_process();
  if (!config) {
    const engine::ConfigError& e = config.error();
    std::string line = e.message() + (e.require ? "; DPDKUDP_REQUIRE=1: exiting\n" : "; using the kernel\n");
    ssize_t ignored = real().write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    if (e.require) _exit(1);
    return nullptr;
  }
  engine::set_log_level(config->log);
  engine::set_log_target(config->log_target);
  std::string error;
  std::unique_ptr<engine::Engine> e;
  if (!open_doorbell()) {
    error = "cannot open the loopback doorbell socket";
  } else {
    e = engine::Engine::start(config.value(), &error);
  }
  if (!e) {
    if (config->require) {
      engine::log(engine::LogLevel::kError, "%s; DPDKUDP_REQUIRE=1: exiting", error.c_str());
      _exit(1);
    }
    engine::log(engine::LogLevel::kError, "%s; using the kernel", error.c_str());
    return nullptr;
  }
  g_ifindex = static_cast<int>(if_nametoindex(config->iface.c_str()));
  // No spin in the waits where each look is a system call
  // (Capabilities::rx_costs_syscall): they sleep on the backend's fd.
  g_recv_spin_ns = uint64_t{config->busy_poll_us} * 1000;
  g_busy_poll_ns = e->backend().capabilities().rx_costs_syscall ? 0 : g_recv_spin_ns;
  e->stack().set_port_reserver(&g_reserver);
  g_owner_pid.store(getpid(), std::memory_order_relaxed);
  g_engine = e.release();
  if (!g_process_hooks) {
    g_process_hooks = true;
    pthread_atfork(nullptr, after_fork_in_parent, after_fork_in_child);
    std::atexit(stop_engine_at_exit);
  }
  return g_engine;
}

// ---- fd table

struct alignas(64) Stripe {
  std::mutex lock;
};
std::array<std::atomic<ShimSocket*>, kMaxFds> g_table{};
std::array<Stripe, 64> g_stripes;

void arm_handoffs() {
  for (size_t fd = 0; fd < kMaxFds; ++fd) {
    if (g_table[fd].load(std::memory_order_relaxed) == nullptr) continue;
    std::lock_guard lock(g_stripes[fd % g_stripes.size()].lock);
    if (ShimSocket* s = g_table[fd].load(std::memory_order_acquire)) s->arm_handoff();
  }
}

}  // namespace

// A forked child's first use of an offloaded socket it inherited (or its
// first new socket): an engine of its own, and a copy of every inherited
// socket on it, at the same fds (the parent's objects are left untouched:
// its threads may have held their locks at fork). Returns the new state.
State adopt_inherited() {
  std::lock_guard lock(g_start_lock);
  if (g_state.load() != State::kForked) return g_state.load();
  {
    ShimGuard guard;
    // The parent's doorbell senders: the child opens its own.
    for (int* senders : {g_doorbell_fds, g_doorbell6_fds}) {
      for (unsigned i = 0; i < kDoorbellSenders; ++i) {
        if (senders[i] >= 0) real().close(senders[i]);
        senders[i] = -1;
      }
    }
  }
  engine::Engine* e = start_engine();
  if (e == nullptr) {
    g_state.store(State::kOff, std::memory_order_release);
    return State::kOff;
  }
  ShimGuard guard;
  std::unordered_map<ShimSocket*, ShimSocket*> adopted;
  size_t fds = 0;
  for (size_t fd = 0; fd < kMaxFds; ++fd) {
    ShimSocket* old = g_table[fd].load(std::memory_order_relaxed);
    if (old == nullptr) continue;
    auto [it, fresh] = adopted.try_emplace(old, nullptr);
    if (fresh) {
      it->second = ShimSocket::adopt(*e, *old, static_cast<int>(fd));
    } else if (it->second != nullptr) {
      it->second->add_fd(static_cast<int>(fd));
    }
    if (it->second != nullptr) it->second->ref();
    // The parent's reference stays behind with its object.
    g_table[fd].store(it->second, std::memory_order_release);
    ++fds;
  }
  adopt_epoll_sets(adopted);
  g_state.store(State::kRunning, std::memory_order_release);
  engine::log(engine::LogLevel::kInfo, "forked child %d: %zu inherited sockets (%zu fds) on its own engine",
              static_cast<int>(getpid()), adopted.size(), fds);
  return State::kRunning;
}

engine::Engine* engine_for_new_socket() {
  State s = g_state.load(std::memory_order_acquire);
  if (s == State::kRunning) return g_engine;
  if (s == State::kOff) return nullptr;
  if (s == State::kForked) return adopt_inherited() == State::kRunning ? g_engine : nullptr;
  std::lock_guard lock(g_start_lock);
  if (g_state.load() == State::kUnstarted) {
    engine::Engine* e = start_engine();
    g_state.store(e ? State::kRunning : State::kOff, std::memory_order_release);
  }
  return g_state.load() == State::kRunning ? g_engine : nullptr;
}

bool forked_child_pending() { return g_state.load(std::memory_order_acquire) == State::kForked; }

void adopt_inherited_sockets() {
  if (!ShimGuard::active() && forked_child_pending()) adopt_inherited();
}

engine::Engine* running_engine() {
  return g_state.load(std::memory_order_acquire) == State::kRunning ? g_engine : nullptr;
}

int bypass_ifindex() { return g_ifindex; }
int doorbell_fd(unsigned sender, bool v6) { return (v6 ? g_doorbell6_fds : g_doorbell_fds)[sender % kDoorbellSenders]; }

int fresh_doorbell_fd(bool v6) { return open_doorbell_sender(v6); }
uint64_t busy_poll_ns() { return g_busy_poll_ns; }
uint64_t recv_spin_ns() { return g_recv_spin_ns; }

ShimRef& ShimRef::operator=(ShimRef&& o) noexcept {
  if (this != &o) {
    if (s_) s_->unref();
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

ShimRef::~ShimRef() {
  if (s_) s_->unref();
}

bool is_shim_fd(int fd) {
  return fd >= 0 && fd < kMaxFds && g_table[static_cast<size_t>(fd)].load(std::memory_order_acquire) != nullptr;
}

ShimRef lookup(int fd) {
  // The common case for a shim process: not one of ours, no lock. A
  // forked child adopts its inherited sockets here, at the first use of
  // one, or leaves them all to the kernel.
  if (!is_shim_fd(fd)) return {};
  State state = g_state.load(std::memory_order_acquire);
  if (state == State::kForked) [[unlikely]] {
    state = adopt_inherited();
  }
  if (state != State::kRunning) {
    if (g_forked_on_kernel && !ShimGuard::active()) say_forked_on_kernel();
    return {};
  }
  std::lock_guard lock(g_stripes[static_cast<size_t>(fd) % g_stripes.size()].lock);
  ShimSocket* s = g_table[static_cast<size_t>(fd)].load(std::memory_order_acquire);
  if (s == nullptr) return {};
  s->ref();
  return ShimRef(s);
}

bool in_owner_process() { return getpid() == g_owner_pid.load(std::memory_order_relaxed); }

void install(int fd, ShimSocket* s) {
  if (fd < 0 || fd >= kMaxFds) return;
  ShimSocket* old;
  {
    std::lock_guard lock(g_stripes[static_cast<size_t>(fd) % g_stripes.size()].lock);
    s->ref();
    old = g_table[static_cast<size_t>(fd)].exchange(s, std::memory_order_acq_rel);
  }
  // The fd was closed behind our back (a raw syscall) and its number
  // reused: forget the old socket's claim on it.
  if (old != nullptr) {
    old->remove_fd(fd);
    old->unref();
  }
}

void uninstall(int fd) {
  if (fd < 0 || fd >= kMaxFds) return;
  // A forked child leaves the parent's sockets alone: freeing one would
  // touch the stack, whose locks the parent's threads may have held at
  // fork time. Before it adopts them, a closed fd is only forgotten.
  State state = g_state.load(std::memory_order_acquire);
  if (state == State::kForked) {
    std::lock_guard lock(g_start_lock);  // not while another thread adopts
    if (g_state.load() == State::kForked) {
      g_table[static_cast<size_t>(fd)].store(nullptr, std::memory_order_release);
      return;
    }
    state = g_state.load();
  }
  if (state != State::kRunning) return;
  ShimSocket* s;
  {
    std::lock_guard lock(g_stripes[static_cast<size_t>(fd) % g_stripes.size()].lock);
    s = g_table[static_cast<size_t>(fd)].exchange(nullptr, std::memory_order_acq_rel);
  }
  if (s != nullptr) {
    s->remove_fd(fd);
    if (s->closed()) forget_socket_in_epoll_sets(s);  // as Linux: the last close leaves every epoll set
    s->unref();
  }
}

}  // namespace dpdkudp::preload
