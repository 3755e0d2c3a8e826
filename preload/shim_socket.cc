#include "preload/shim_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "engine/log.h"
#include "engine/poller.h"
#include "preload/addressing.h"
#include "preload/cmsg.h"
#include "preload/doorbell.h"
#include "preload/real.h"
#include "preload/runtime.h"

namespace dpdkudp::preload {
namespace {

using stack::Endpoint;
using stack::Ipv4Addr;

std::atomic<uint32_t> g_socket_serial{0};

// The calling thread's id for dpdkudp-stat's "last reader", asked of the
// kernel once per thread: a receive pays a thread-local read, not a system
// call. A fork bumps the generation, since a forked child's thread keeps
// its parent's thread-local copy but has a tid of its own.
std::atomic<uint32_t> g_fork_generation{0};
[[maybe_unused]] const int g_tid_atfork =
    pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });

int32_t this_tid() {
  thread_local int32_t tid = 0;
  thread_local uint32_t generation = 0;
  const uint32_t now = g_fork_generation.load(std::memory_order_relaxed);
  if (tid == 0 || generation != now) {
    tid = static_cast<int32_t>(::gettid());
    generation = now;
  }
  return tid;
}

}  // namespace

ShimSocket::ShimSocket(engine::Engine& engine, stack::UdpSocket* socket, int fd)
    : engine_(engine),
      socket_(socket),
      any_fd_(fd),
      token_((uint64_t{static_cast<uint32_t>(getpid())} << 32) |
             g_socket_serial.fetch_add(1, std::memory_order_relaxed)) {
  fds_.push_back(fd);
  socket_->set_user_data(this);
  socket_->set_owner_fd(fd);
  socket_->set_notifier(this);
  last_service_ns_.store(stack::monotonic_now_ns(), std::memory_order_relaxed);
  start_watchdog();
}

ShimSocket* ShimSocket::adopt(engine::Engine& engine, const ShimSocket& old, int fd) {
  const stack::UdpSocket& from = *old.socket_;
  stack::UdpSocket* to = engine.stack().open_udp(from.ipv6());
  if (to == nullptr) return nullptr;
  if (from.ipv6()) to->set_v6only(from.v6only());
  to->set_rcvbuf(from.rcvbuf());
  to->set_broadcast(from.broadcast());
  to->set_reuse_addr(from.reuse_addr());
  to->set_reuse_port(from.reuse_port());
  to->set_ttl(from.ttl());
  to->set_tos(from.tos());
  to->set_recv_err(from.recv_err());
  to->set_hop_limit(from.hop_limit());
  to->set_tclass(from.tclass());
  auto* s = new ShimSocket(engine, to, fd);
  const auto copy = [](std::atomic<bool>& dst, const std::atomic<bool>& src) {
    dst.store(src.load(std::memory_order_relaxed), std::memory_order_relaxed);
  };
  copy(s->kernel_bound_, old.kernel_bound_);
  copy(s->kernel_connected_, old.kernel_connected_);
  copy(s->placed_, old.placed_);
  copy(s->kernel_placed_, old.kernel_placed_);
  copy(s->shut_rd_, old.shut_rd_);
  copy(s->shut_wr_, old.shut_wr_);
  copy(s->want_pktinfo_, old.want_pktinfo_);
  copy(s->want_timestamp_, old.want_timestamp_);
  copy(s->want_timestampns_, old.want_timestampns_);
  copy(s->want_tos_, old.want_tos_);
  copy(s->want_ttl_, old.want_ttl_);
  copy(s->want_pktinfo6_, old.want_pktinfo6_);
  copy(s->want_hoplimit6_, old.want_hoplimit6_);
  copy(s->want_tclass6_, old.want_tclass6_);
  const std::optional<stack::Endpoint> local = from.local();
  if (local && !s->kernel_only()) {
    // The kernel fd holds the port already: the reservation finds it bound.
    // Where the device steers ports (AF_XDP), the child shares its parent's
    // as with SO_REUSEPORT (AfXdpBackend::claim_port_locked).
    if (engine.backend_kind() == engine::BackendKind::kAfXdp) to->set_reuse_port(true);
    const int rc = to->bind(*local);
    if (rc != 0) {
      engine::log(engine::LogLevel::kWarn,
                  "fork: fd %d: cannot take port %u on the child's stack (%s); it stays "
                  "with the kernel path",
                  fd, local->port, std::strerror(-rc));
    } else if (engine.shared_ports() != nullptr) {
      engine.shared_ports()->share_inherited(local->port);
    }
    const std::optional<stack::Endpoint> remote = from.remote();
    if (rc == 0 && remote) to->connect(*remote);
  }
  // The group memberships and multicast options: the socket's, so the
  // child's copy has them too (each process's stack reports its own).
  to->set_multicast_ttl(from.multicast_ttl());
  to->set_multicast_loop(from.multicast_loop());
  to->set_multicast_all(from.multicast_all());
  copy(s->mcast_if_kernel_, old.mcast_if_kernel_);
  s->mcast_if_addr_.store(old.mcast_if_addr_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  stack::Stack& st = engine.stack();
  for (const stack::MulticastGroups::Membership& m : old.engine_.stack().multicast().memberships(&from)) {
    if (!m.include) {
      st.multicast_membership(*to, m.group, nullptr, true);
      for (Ipv4Addr src : m.sources) st.multicast_block(*to, m.group, src, true);
    } else {
      for (Ipv4Addr src : m.sources) st.multicast_membership(*to, m.group, &src, true);
    }
  }
  to->set_multicast_hops(from.multicast_hops());
  to->set_multicast_loop6(from.multicast_loop6());
  to->set_multicast_all6(from.multicast_all6());
  to->set_multicast_ifindex6(from.multicast_ifindex6());
  s->mcast6_if_.store(old.mcast6_if_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  for (const stack::MulticastGroups6::Membership& m : old.engine_.stack().multicast6().memberships(&from)) {
    if (!m.include) {
      st.multicast6_membership(*to, m.group, nullptr, true);
      for (const stack::Ipv6Addr& src : m.sources) st.multicast6_block(*to, m.group, src, true);
    } else {
      for (const stack::Ipv6Addr& src : m.sources) st.multicast6_membership(*to, m.group, &src, true);
    }
  }
  return s;
}

uint8_t* handoff_scratch() {
  thread_local std::unique_ptr<uint8_t[]> scratch;
  if (!scratch) scratch = std::make_unique<uint8_t[]>(kKernelScratch);
  return scratch.get();
}

void ShimSocket::announce_reading() {
  handoff_.store(false, std::memory_order_release);  // this process reads it again
  const std::optional<stack::Endpoint> local = socket_->local();
  if (!local) return;  // not bound yet: asked again at the next read
  reading_announced_.store(true, std::memory_order_relaxed);
  if (engine_.shared_ports() != nullptr) engine_.shared_ports()->note_reading(local->port);
}

void ShimSocket::release() {
  closing_.store(true, std::memory_order_release);
  stop_watchdog();
  socket_->set_notifier(nullptr);
  socket_->close();  // the stack frees it once no poller can see it
  // So does this object: a poller that loaded the notifier just before it
  // was cleared may still be in ring().
  engine_.stack().reclaimer().retire([this] { delete this; });
}

void ShimSocket::add_fd(int fd) {
  std::lock_guard lock(fds_lock_);
  fds_.push_back(fd);
}

void ShimSocket::remove_fd(int fd) {
  std::lock_guard lock(fds_lock_);
  fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  any_fd_.store(fds_.empty() ? -1 : fds_.front(), std::memory_order_release);
  if (fds_.empty()) {
    closing_.store(true, std::memory_order_release);
  } else {
    socket_->set_owner_fd(fds_.front());  // a dup that outlives the first fd
  }
}

// ---------------------------------------------------------------- readiness

short ShimSocket::stack_events(short requested) const {
  short ev = 0;
  if (socket_->has_data()) ev |= POLLIN;
  if (socket_->has_error()) ev |= POLLERR;
  if (shut_rd_.load(std::memory_order_acquire)) ev |= POLLIN | POLLRDHUP;
  if ((requested & POLLOUT) && !shut_wr_.load(std::memory_order_acquire)) ev |= POLLOUT;
  return static_cast<short>(ev & (requested | POLLERR | POLLHUP));
}

// ---------------------------------------------------------------- addressing

ShimSocket::Path ShimSocket::path_for(const Endpoint& endpoint) const {
  const Endpoint dst = endpoint.canonical();
  if (!dst.v6) return path_for(dst.addr);
  const stack::Ipv6Addr& a = dst.addr6;
  const stack::Stack& st = engine_.stack();
  if (a.is_loopback() || a.is_unspecified() || !st.ipv6_enabled()) return Path::kKernel;
  if (st.is_local_address6(a)) return st.config().dedicated ? Path::kStack : Path::kKernel;
  const bool link_scope = a.is_link_local() || (a.is_multicast() && a.multicast_scope() <= 2);
  if (link_scope && dst.scope_id != 0) {
    // Another interface's link is the kernel's.
    return static_cast<int>(dst.scope_id) != bypass_ifindex() ? Path::kKernel : Path::kStack;
  }
  // A group without a scope id goes out of IPV6_MULTICAST_IF, as IPv4's.
  if (a.is_multicast()) return mcast6_if_kernel() ? Path::kKernel : Path::kStack;
  if (link_scope) return Path::kStack;  // no scope: the stack says EINVAL, as Linux
  stack::RouteResult6 r;
  return const_cast<stack::Stack&>(st).routes6().lookup_into(a, r) ? Path::kStack : Path::kKernel;
}

ShimSocket::Path ShimSocket::path_for(Ipv4Addr dst) const {
  if (dst.is_loopback() || dst.is_unspecified()) return Path::kKernel;
  const stack::Stack& st = engine_.stack();
  if (st.is_local_address(dst)) {
    // Dedicated: the address is the stack's alone, it loops inside.
    // Shared: the kernel delivers locally to whoever holds the port.
    return st.config().dedicated ? Path::kStack : Path::kKernel;
  }
  if (dst.is_multicast()) return mcast_if_kernel_.load(std::memory_order_relaxed) ? Path::kKernel : Path::kStack;
  if (dst.is_broadcast()) return Path::kStack;
  stack::RouteResult r;
  return const_cast<stack::Stack&>(st).routes().lookup_into(dst, r) ? Path::kStack : Path::kKernel;
}

int ShimSocket::bind(int fd, const sockaddr* addr, socklen_t len) {
  Endpoint local;
  if (addr == nullptr) return fail(EFAULT);
  if (socket_->ipv6()) {
    if (int err = parse_bind6(addr, len, &local); err != 0) return fail(err);
    if (placed_on_kernel(fd, {local, std::nullopt})) return real().bind(fd, addr, len);
    const Endpoint c = local.canonical();
    const stack::Stack& st = engine_.stack();
    bool ours =
        c.v6 ? c.addr6.is_unspecified() || c.addr6.is_multicast() || st.is_local_address6(c.addr6) : is_ours(c.addr);
    if (!ours) {
      int rc = real().bind(fd, addr, len);
      if (rc == 0) kernel_bound_.store(true, std::memory_order_release);
      return rc;
    }
    int rc = socket_->bind(local);
    return rc < 0 ? fail(-rc) : 0;
  }
  if (len >= static_cast<socklen_t>(sizeof(sa_family_t)) && addr->sa_family == AF_UNSPEC &&
      len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    // Linux takes AF_UNSPEC with INADDR_ANY as AF_INET (compat).
    sockaddr_in sin;
    std::memcpy(&sin, addr, sizeof sin);
    if (sin.sin_addr.s_addr != htonl(INADDR_ANY)) return fail(EAFNOSUPPORT);
    local = Endpoint{Ipv4Addr::any(), ntohs(sin.sin_port)};
  } else if (int err = parse_dest(addr, len, &local); err != 0) {
    return fail(err);
  }
  if (placed_on_kernel(fd, {local, std::nullopt})) return real().bind(fd, addr, len);
  if (!is_ours(local.addr)) {
    // 127.0.0.1, another interface's address: only the kernel reaches it.
    int rc = real().bind(fd, addr, len);
    if (rc == 0) kernel_bound_.store(true, std::memory_order_release);
    return rc;
  }
  int rc = socket_->bind(local);
  return rc < 0 ? fail(-rc) : 0;
}

bool ShimSocket::placed_on_kernel(int fd, const engine::PlacementQuery& q) {
  const engine::OffloadRules& rules = engine_.config().offload;
  if (rules.empty() || placed_.exchange(true, std::memory_order_acq_rel)) {
    return kernel_placed_.load(std::memory_order_acquire);
  }
  if (rules.offload(q)) return false;
  // The kernel fd receives what comes in on the bypass interface too now
  // (shared mode: the kernel's address), not only what the filter let by.
  const int unused = 0;  // Linux wants an int's length even here
  real().setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
  kernel_placed_.store(true, std::memory_order_release);
  return true;
}

bool ShimSocket::is_ours(Ipv4Addr a) const {
  const stack::Stack& st = engine_.stack();
  return a.is_unspecified() || st.is_local_address(a) || a.is_broadcast() || a.is_multicast() ||
         a == st.config().address.directed_broadcast();
}

int ShimSocket::parse_any_dest(const void* name, socklen_t len, Endpoint* out, bool* no_dest) const {
  *no_dest = false;
  if (socket_->ipv6()) return parse_dest6(name, len, out, no_dest);
  return parse_dest(name, len, out);
}

sockaddr_storage ShimSocket::to_app_sockaddr(const Endpoint& e, socklen_t* len) const {
  sockaddr_storage ss{};
  if (socket_->ipv6()) {
    sockaddr_in6 sin6 = to_sockaddr6(e);
    std::memcpy(&ss, &sin6, sizeof sin6);
    *len = sizeof sin6;
  } else {
    sockaddr_in sin = to_sockaddr(e);
    std::memcpy(&ss, &sin, sizeof sin);
    *len = sizeof sin;
  }
  return ss;
}

int ShimSocket::connect(int fd, const sockaddr* addr, socklen_t len) {
  if (addr == nullptr) return fail(EFAULT);
  if (kernel_bound_.load(std::memory_order_acquire)) return real().connect(fd, addr, len);
  if (len >= static_cast<socklen_t>(sizeof(sa_family_t)) && addr->sa_family == AF_UNSPEC) {
    socket_->disconnect();
    if (kernel_connected_.exchange(false)) return real().connect(fd, addr, len);
    return 0;
  }
  Endpoint dst;
  if (socket_->ipv6()) {
    if (int err = parse_connect6(addr, len, &dst); err != 0) return fail(err);
    if (addr->sa_family == AF_INET && socket_->v6only()) return fail(EAFNOSUPPORT);
  } else if (int err = parse_dest(addr, len, &dst); err != 0) {
    return fail(err);
  }
  if (placed_on_kernel(fd, {std::nullopt, dst})) return real().connect(fd, addr, len);
  if (path_for(dst) == Path::kKernel) {
    int rc = real().connect(fd, addr, len);
    if (rc == 0) kernel_connected_.store(true, std::memory_order_release);
    return rc;
  }
  // The kernel fd stays unconnected: it must still take doorbells and
  // kernel-path datagrams (filtered to the peer on receive).
  if (kernel_connected_.exchange(false)) {  // re-connect from a kernel-path peer
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    real().connect(fd, &unspec, sizeof unspec);
  }
  int rc = socket_->connect(dst);
  return rc < 0 ? fail(-rc) : 0;
}

int ShimSocket::shutdown(int fd, int how) {
  if (kernel_only()) return real().shutdown(fd, how);
  // The kernel fd takes the shutdown too: Linux marks the socket even when
  // it then says ENOTCONN (unconnected UDP), which gives poll() its
  // POLLIN|POLLRDHUP and wakes a reader blocked on the kernel fd.
  int rc = real().shutdown(fd, how);
  int err = errno;
  if (rc != 0 && err != ENOTCONN) return rc;
  if (how != SHUT_WR) shut_rd_.store(true, std::memory_order_release);
  if (how != SHUT_RD) shut_wr_.store(true, std::memory_order_release);
  // Connected in the stack is connected for Linux: success. Unconnected:
  // the kernel's ENOTCONN, as Linux.
  if (socket_->remote()) return 0;
  errno = err;
  return rc;
}

int ShimSocket::getsockname(int fd, sockaddr* addr, socklen_t* len) {
  if (kernel_only()) return real().getsockname(fd, addr, len);
  if (len == nullptr) return fail(EFAULT);
  auto local = socket_->local();
  if (!local) return real().getsockname(fd, addr, len);  // unbound, or kernel-autobound
  if (socket_->ipv6()) {
    copy_out(to_sockaddr6(*local), addr, len);
  } else {
    copy_out(to_sockaddr(*local), addr, len);
  }
  return 0;
}

int ShimSocket::getpeername(int fd, sockaddr* addr, socklen_t* len) {
  if (kernel_only()) return real().getpeername(fd, addr, len);
  if (len == nullptr) return fail(EFAULT);
  auto remote = socket_->remote();
  if (!remote) return fail(ENOTCONN);
  if (socket_->ipv6()) {
    copy_out(to_sockaddr6(*remote), addr, len);
  } else {
    copy_out(to_sockaddr(*remote), addr, len);
  }
  return 0;
}

// ---------------------------------------------------------------- options

void ShimSocket::mirror_setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  int v = 0;
  if (value != nullptr && len >= static_cast<socklen_t>(sizeof(int))) {
    std::memcpy(&v, value, sizeof v);
  } else if (value != nullptr && len >= 1) {
    v = *static_cast<const unsigned char*>(value);
  }
  if (level == SOL_SOCKET) {
    switch (name) {
      case SO_RCVBUF:
      case SO_RCVBUFFORCE: {
        // The kernel's effective value (doubled, capped): the stack's too.
        int eff = 0;
        socklen_t l = sizeof eff;
        if (real().getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &eff, &l) == 0 && eff > 0) {
          socket_->set_rcvbuf(static_cast<uint32_t>(eff));
        }
        break;
      }
      case SO_BROADCAST: socket_->set_broadcast(v != 0); break;
      case SO_REUSEADDR: socket_->set_reuse_addr(v != 0); break;
      case SO_REUSEPORT: socket_->set_reuse_port(v != 0); break;
      case SO_TIMESTAMP: want_timestamp_.store(v != 0); break;
      case SO_TIMESTAMPNS: want_timestampns_.store(v != 0); break;
      default: break;
    }
  } else if (level == IPPROTO_IP) {
    switch (name) {
      case IP_TTL: socket_->set_ttl(static_cast<uint8_t>(v == -1 ? engine_.stack().config().default_ttl : v)); break;
      case IP_TOS: socket_->set_tos(static_cast<uint8_t>(v)); break;
      case IP_PKTINFO: want_pktinfo_.store(v != 0); break;
      case IP_RECVTOS: want_tos_.store(v != 0); break;
      case IP_RECVTTL: want_ttl_.store(v != 0); break;
      case IP_RECVERR: socket_->set_recv_err(v != 0); break;
      case IP_MULTICAST_TTL: socket_->set_multicast_ttl(static_cast<uint8_t>(v == -1 ? 1 : v)); break;
      case IP_MULTICAST_LOOP: socket_->set_multicast_loop(v != 0); break;
      case IP_MULTICAST_ALL: socket_->set_multicast_all(v != 0); break;
      default: break;
    }
  } else if (level == IPPROTO_IPV6) {
    switch (name) {
      case IPV6_V6ONLY: socket_->set_v6only(v != 0); break;  // the kernel refused it after bind already
      case IPV6_UNICAST_HOPS: socket_->set_hop_limit(v); break;
      case IPV6_TCLASS: socket_->set_tclass(static_cast<uint8_t>(v == -1 ? 0 : v)); break;
      case IPV6_RECVPKTINFO: want_pktinfo6_.store(v != 0); break;
      case IPV6_RECVHOPLIMIT: want_hoplimit6_.store(v != 0); break;
      case IPV6_RECVTCLASS: want_tclass6_.store(v != 0); break;
      case IPV6_RECVERR: socket_->set_recv_err(v != 0); break;
      case IPV6_MULTICAST_HOPS: socket_->set_multicast_hops(v); break;  // -1: the default
      case IPV6_MULTICAST_LOOP: socket_->set_multicast_loop6(v != 0); break;
      case IPV6_MULTICAST_ALL: socket_->set_multicast_all6(v != 0); break;
      case IPV6_MULTICAST_IF:
        mcast6_if_.store(v, std::memory_order_relaxed);
        socket_->set_multicast_ifindex6(static_cast<uint32_t>(v));
        break;
      default: break;
    }
  }
}

bool ShimSocket::take_so_error(int* out) {
  int err = socket_->take_error();
  if (err == 0) return false;
  *out = err;
  if (!socket_->readable()) clear();  // the error's doorbell goes with it
  return true;
}

bool ShimSocket::ip_mtu(int* out) {
  auto remote = socket_->remote();
  if (!remote) return false;  // the kernel says ENOTCONN, as Linux
  if (remote->v6) {
    stack::Stack& st = engine_.stack();
    stack::RouteResult6 r6;
    uint32_t route_mtu = st.mtu();
    if (!remote->addr6.is_link_local()) {
      if (!st.routes6().lookup_into(remote->addr6, r6)) return false;
      route_mtu = r6.mtu;
    }
    *out = static_cast<int>(st.path_mtu6(remote->addr6, route_mtu));
    return true;
  }
  stack::RouteResult r;
  if (!engine_.stack().routes().lookup_into(remote->addr, r)) return false;
  *out = static_cast<int>(r.mtu);
  return true;
}

bool ShimSocket::fionread(int fd, int* out) {
  int64_t n = socket_->next_datagram_size();
  if (n < 0) {
    drain_doorbells(fd);  // so the kernel answers about a real datagram
    return false;
  }
  *out = static_cast<int>(n);
  return true;
}

// ---------------------------------------------------------------- send

bool ShimSocket::placed_for_send(int fd, const msghdr* msg) {
  if (placed_.load(std::memory_order_acquire) || engine_.config().offload.empty()) return kernel_only();
  Endpoint dst;
  bool no_dest = false;
  if (msg == nullptr || msg->msg_name == nullptr || msg->msg_namelen == 0 ||
      parse_any_dest(msg->msg_name, msg->msg_namelen, &dst, &no_dest) != 0 || no_dest) {
    return false;  // the send fails or needs a connected peer: place it later
  }
  return placed_on_kernel(fd, {std::nullopt, dst});
}

ssize_t ShimSocket::sendmsg(int fd, const msghdr* msg, int flags) {
  if (kernel_only() || placed_for_send(fd, msg)) return real().sendmsg(fd, msg, flags);
  if (msg == nullptr) return fail(EFAULT);
  Endpoint dst;
  const Endpoint* dstp = nullptr;
  bool no_dest = false;
  if (msg->msg_name != nullptr && msg->msg_namelen != 0) {
    if (int err = parse_any_dest(msg->msg_name, msg->msg_namelen, &dst, &no_dest); err != 0) return fail(err);
    if (!no_dest) dstp = &dst;
  }
  if (dstp == nullptr) {
    auto remote = socket_->remote();
    if (!remote) return fail(EDESTADDRREQ);
    dst = *remote;
  }
  // IPV6_PKTINFO: a source address of ours, or another interface (the
  // kernel's then).
  SendPktinfo6 pktinfo;
  if (socket_->ipv6()) {
    if (int err = parse_send_pktinfo6(msg, &pktinfo); err != 0) return fail(err);
  }
  const bool other_iface = pktinfo.ifindex != 0 && static_cast<int>(pktinfo.ifindex) != bypass_ifindex();
  if (other_iface || path_for(dst) == Path::kKernel) {
    // The kernel path uses the same port: bind the stack first if the
    // socket is unbound, so both sides agree on it.
    if (!socket_->local()) {
      socket_->bind(socket_->ipv6() ? Endpoint::ipv6(stack::Ipv6Addr(), 0) : Endpoint{Ipv4Addr::any(), 0});
    }
    ssize_t rc;
    if (dstp == nullptr) {
      msghdr m = *msg;
      socklen_t name_len = 0;
      sockaddr_storage name = to_app_sockaddr(dst, &name_len);
      m.msg_name = &name;
      m.msg_namelen = name_len;
      rc = real().sendmsg(fd, &m, flags);
    } else {
      rc = real().sendmsg(fd, msg, flags);
    }
    if (rc >= 0) engine_.kernel_path().tx.add();
    return rc;
  }
  if (shut_wr_.load(std::memory_order_acquire)) return fail(EPIPE);
  if (flags & MSG_MORE) return fail(EOPNOTSUPP);  // no corking on the bypass path
  if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);
  const bool from_src = pktinfo.has_src && dst.canonical().v6;
  int64_t rc = from_src ? socket_->send_from({msg->msg_iov, msg->msg_iovlen}, dstp, pktinfo.src)
                        : socket_->send({msg->msg_iov, msg->msg_iovlen}, dstp);
  return rc < 0 ? fail(static_cast<int>(-rc)) : static_cast<ssize_t>(rc);
}

int ShimSocket::sendmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags) {
  if (kernel_only() || (msgs != nullptr && n != 0 && placed_for_send(fd, &msgs[0].msg_hdr))) {
    return real().sendmmsg(fd, msgs, n, flags);
  }
  if (msgs == nullptr && n != 0) return fail(EFAULT);
  if (n > UIO_MAXIOV) n = UIO_MAXIOV;  // as Linux
  unsigned int sent = 0;
  while (sent < n) {
    // A run of plain datagrams for the bypass path goes to the stack as one
    // burst (one backend hand-off); anything else (kernel path, errors to
    // report, MSG_MORE) takes sendmsg one at a time.
    stack::UdpSocket::SendSlot slots[stack::Stack::kBurst];
    Endpoint dsts[stack::Stack::kBurst];
    size_t k = 0;
    bool plain = !(flags & MSG_MORE) && !shut_wr_.load(std::memory_order_acquire);
    auto remote = socket_->remote();
    for (; plain && k < stack::Stack::kBurst && sent + k < n; ++k) {
      const msghdr& m = msgs[sent + k].msg_hdr;
      if (m.msg_iovlen > IOV_MAX || m.msg_controllen != 0) break;  // control messages: sendmsg's path
      const Endpoint* dstp = nullptr;
      Endpoint dst;
      bool no_dest = false;
      if (m.msg_name != nullptr && m.msg_namelen != 0) {
        if (parse_any_dest(m.msg_name, m.msg_namelen, &dsts[k], &no_dest) != 0) break;
        if (!no_dest) {
          dst = dsts[k];
          dstp = &dsts[k];
        }
      }
      if (dstp == nullptr) {
        if (!remote) break;
        dst = *remote;
      }
      if (path_for(dst) != Path::kStack) break;
      slots[k] = stack::UdpSocket::SendSlot{{m.msg_iov, m.msg_iovlen}, dstp, 0};
    }
    if (k == 0) {
      ssize_t rc = sendmsg(fd, &msgs[sent].msg_hdr, flags);
      if (rc < 0) {
        if (sent == 0) return -1;
        break;  // as Linux: the count so far; the error shows on the next call
      }
      msgs[sent].msg_len = static_cast<unsigned int>(rc);
      ++sent;
      continue;
    }
    int64_t rc = socket_->send_batch({slots, k});
    if (rc < 0) {
      if (sent == 0) return fail(static_cast<int>(-rc));
      break;
    }
    for (int64_t i = 0; i < rc; ++i) msgs[sent + i].msg_len = static_cast<unsigned int>(slots[i].result);
    sent += static_cast<unsigned int>(rc);
    if (static_cast<size_t>(rc) < k) break;  // the failed one reports on the next call
  }
  return static_cast<int>(sent);
}

// ---------------------------------------------------------------- receive

ssize_t ShimSocket::fill_from_stack(msghdr* msg, int flags, int64_t n, const stack::RecvInfo& info) {
  socket_->note_reader(this_tid());
  msg->msg_flags = 0;
  if (msg->msg_name != nullptr) {
    socklen_t from_len = 0;
    sockaddr_storage from = to_app_sockaddr(info.source, &from_len);
    std::memcpy(msg->msg_name, &from, std::min<size_t>(msg->msg_namelen, from_len));
    msg->msg_namelen = from_len;
  }
  if (info.truncated) msg->msg_flags |= MSG_TRUNC;
  RecvCmsgWants wants;
  wants.pktinfo = want_pktinfo_.load(std::memory_order_relaxed);
  wants.ttl = want_ttl_.load(std::memory_order_relaxed);
  wants.tos = want_tos_.load(std::memory_order_relaxed);
  wants.timestampns = want_timestampns_.load(std::memory_order_relaxed);
  wants.timestamp = want_timestamp_.load(std::memory_order_relaxed);
  wants.pktinfo6 = want_pktinfo6_.load(std::memory_order_relaxed);
  wants.hoplimit6 = want_hoplimit6_.load(std::memory_order_relaxed);
  wants.tclass6 = want_tclass6_.load(std::memory_order_relaxed);
  if (wants.pktinfo || wants.pktinfo6) {
    wants.ifindex = bypass_ifindex();
    wants.local_addr = engine_.stack().config().address.addr.value;
  }
  write_recv_cmsgs(msg, wants, info);
  (void)flags;
  return static_cast<ssize_t>(n);
}

// One non-blocking attempt: the stack's queue, then the kernel fd. -1 with
// errno EAGAIN when neither has a datagram.
ssize_t ShimSocket::recv_once(int fd, msghdr* msg, int flags, bool stack_only) {
  if (flags & MSG_ERRQUEUE) {
    auto err = socket_->pop_error();
    if (!err) return real().recvmsg(fd, msg, flags | MSG_DONTWAIT);
    write_recv_error(msg, *err, socket_->ipv6());
    return 0;
  }

  stack::RecvInfo info;
  int sflags = ((flags & MSG_PEEK) ? stack::kRecvPeek : 0) | ((flags & MSG_TRUNC) ? stack::kRecvRealLength : 0);
  int64_t n = socket_->recv({msg->msg_iov, msg->msg_iovlen}, &info, sflags);
  if (n >= 0) return fill_from_stack(msg, flags, n, info);
  if (n != -EAGAIN) return fail(static_cast<int>(-n));
  if (stack_only) return fail(EAGAIN);

  // The kernel side: loopback and other-interface traffic, doorbells and
  // hand-offs. Each datagram lands in this thread's scratch first (a
  // doorbell or a hand-off must never reach the application as data,
  // whatever the size of its buffer), then is copied out.
  auto remote = socket_->remote();
  size_t capacity = 0;
  for (size_t i = 0; i < msg->msg_iovlen; ++i) capacity += msg->msg_iov[i].iov_len;
  socklen_t remote_len = 0;
  const sockaddr_storage remote_name = remote ? to_app_sockaddr(*remote, &remote_len) : sockaddr_storage{};
  uint8_t* buf = handoff_scratch();
  const std::span<const iovec> user_iov{msg->msg_iov, msg->msg_iovlen};
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage from{};
    iovec scratch{buf, kKernelScratch};
    msghdr m = *msg;
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_iov = &scratch;
    m.msg_iovlen = 1;
    ssize_t k = real().recvmsg(fd, &m, (flags & ~MSG_TRUNC) | MSG_DONTWAIT);
    if (k < 0) {
      // The kernel queue is empty: no doorbell of ours is pending (one
      // counted but dropped by a full queue would otherwise hold the count
      // up). A ring racing this sends after counting: it arrives and is
      // taken, and the count never goes below zero.
      if (errno == EAGAIN && doorbells_.load(std::memory_order_relaxed) != 0) {
        doorbells_.store(0, std::memory_order_relaxed);
      }
      return -1;
    }
    const size_t len = static_cast<size_t>(k);
    DoorbellMsg bell{};
    const bool doorbell = parse_doorbell(from, buf, k, doorbell_key(), &bell);
    stack::RecvInfo handed;
    const uint8_t* payload = nullptr;
    const bool handoff = !doorbell && parse_handoff(from, buf, len, doorbell_key(), &handed, &payload);
    bool unwanted = doorbell;
    if (handoff) {
      unwanted = remote && !(handed.source.v6 == remote->v6 && handed.source.port == remote->port &&
                             (remote->v6 ? handed.source.addr6 == remote->addr6 : handed.source.addr == remote->addr));
    } else if (!doorbell) {
      unwanted = remote && !same_address(from, remote_name);
    }
    if (unwanted) {
      if (flags & MSG_PEEK) {  // peeked: take it off for real
        char byte;
        real().recv(fd, &byte, 1, MSG_DONTWAIT);
      }
      if (doorbell) {
        take_doorbell(&bell);
        // It may announce what the stack queued after we looked: look again
        // before saying EAGAIN, or that datagram would sit there with no
        // doorbell left to say so (the wedge).
        int64_t again = socket_->recv({msg->msg_iov, msg->msg_iovlen}, &info, sflags);
        if (again >= 0) return fill_from_stack(msg, flags, again, info);
        if (again != -EAGAIN) return fail(static_cast<int>(-again));
      }
      continue;
    }
    if (handoff) {
      // Another holder's datagram (after a fork): as the stack would have
      // given it.
      const size_t copied = stack::copy_to_iov(user_iov, payload, handed.datagram_len);
      handed.truncated = copied < handed.datagram_len;
      if (!(flags & MSG_PEEK)) engine_.kernel_path().handoff_received.add();
      return fill_from_stack(msg, flags,
                             (flags & MSG_TRUNC) ? int64_t{handed.datagram_len} : static_cast<int64_t>(copied), handed);
    }
    const size_t copied = stack::copy_to_iov(user_iov, buf, len);
    if (msg->msg_name != nullptr) {
      std::memcpy(msg->msg_name, &from, std::min<size_t>(msg->msg_namelen, m.msg_namelen));
    }
    msg->msg_namelen = m.msg_namelen;
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = (m.msg_flags & ~MSG_TRUNC) | (copied < len || (m.msg_flags & MSG_TRUNC) ? MSG_TRUNC : 0);
    if (!(flags & MSG_PEEK)) engine_.kernel_path().rx.add();
    socket_->note_reader(this_tid());
    return (flags & MSG_TRUNC) ? k : static_cast<ssize_t>(copied);
  }
  return fail(EAGAIN);
}

bool ShimSocket::wait_readable(int fd) {
  // The app waits here: for the busy-poll time it drives the queues itself
  // (run to completion; the thread model only watches the queue), then
  // sleeps on the kernel fd, which the doorbell wakes.
  const bool drive = engine_.inline_waits();
  const uint64_t spin_until = stack::monotonic_now_ns() + recv_spin_ns();
  for (;;) {
    uint64_t now = stack::monotonic_now_ns();
    if (drive) engine_.drivers().drive_all_from_app(now);
    if (socket_->readable()) return true;
    if (now >= spin_until) break;
    stack::cpu_relax();
  }
  // Say we sleep before the last look: a driver that delivers after it
  // sees us and rings.
  blocked_readers_.fetch_add(1, std::memory_order_seq_cst);
  if (drive) engine_.drivers().hand_back();  // the pollers take over now
  if (socket_->readable()) {
    blocked_readers_.fetch_sub(1, std::memory_order_seq_cst);
    return true;
  }
  // A blocking peek on the kernel fd sleeps exactly as the app's own recv
  // would have: SO_RCVTIMEO (EAGAIN), signals with or without SA_RESTART
  // (EINTR or a transparent restart) and shutdown (returns 0) are the
  // kernel's own behaviour.
  char byte;
  ssize_t n = real().recv(fd, &byte, 1, MSG_PEEK);
  int saved = errno;
  blocked_readers_.fetch_sub(1, std::memory_order_seq_cst);
  errno = saved;
  return n >= 0;
}

ssize_t ShimSocket::recvmsg(int fd, msghdr* msg, int flags) {
  if (kernel_only()) return real().recvmsg(fd, msg, flags);
  note_serviced(stack::monotonic_now_ns());
  if (msg == nullptr) return fail(EFAULT);
  if (msg->msg_iovlen > IOV_MAX) return fail(EMSGSIZE);
  // With SO_RCVTIMEO the whole wait is bounded by one timeout; a doorbell
  // with nothing behind it (already drained) just loops.
  int blocking = (flags & MSG_DONTWAIT) ? 0 : -1;  // -1: not asked yet (one fcntl per call at most)
  for (;;) {
    ssize_t n = recv_once(fd, msg, flags);
    if (n >= 0 || errno != EAGAIN) return n;
    if (blocking < 0) {
      int fl = real().fcntl(fd, F_GETFL);
      blocking = (fl >= 0 && (fl & O_NONBLOCK)) ? 0 : 1;
    }
    if (blocking == 0) return fail(EAGAIN);
    if (shut_rd_.load(std::memory_order_acquire)) {
      // As Linux after SHUT_RD: a blocking receive returns 0 instead of
      // sleeping; a non-blocking one still says EAGAIN.
      msg->msg_flags = 0;
      return 0;
    }
    if (!wait_readable(fd)) return -1;
  }
}

int ShimSocket::recvmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags, timespec* timeout) {
  if (kernel_only()) return real().recvmmsg(fd, msgs, n, flags, timeout);
  uint64_t deadline = timeout ? stack::monotonic_now_ns() + static_cast<uint64_t>(timeout->tv_sec) * 1'000'000'000u +
                                    static_cast<uint64_t>(timeout->tv_nsec)
                              : 0;
  unsigned int got = 0;
  int f = flags & ~MSG_WAITFORONE;
  for (; got < n; ++got) {
    // A non-blocking batch, once it has a datagram, takes what the stack
    // has queued and returns: the kernel fd (kernel-path datagrams,
    // doorbells) is looked at again on the next call, saving a syscall.
    ssize_t rc = got != 0 && (f & MSG_DONTWAIT) ? recv_once(fd, &msgs[got].msg_hdr, f, /*stack_only=*/true)
                                                : recvmsg(fd, &msgs[got].msg_hdr, f);
    if (rc < 0) {
      if (got == 0) return -1;
      break;
    }
    msgs[got].msg_len = static_cast<unsigned int>(rc);
    if (flags & MSG_WAITFORONE) f |= MSG_DONTWAIT;
    // Linux checks the timeout only between datagrams, as here.
    if (timeout && stack::monotonic_now_ns() >= deadline) {
      ++got;
      break;
    }
  }
  return static_cast<int>(got);
}

}  // namespace dpdkudp::preload
