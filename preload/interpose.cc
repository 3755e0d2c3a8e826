// The interposed libc entry points. Each one checks, in this order: a call
// from the shim or the engine itself (straight to libc), an fd that is not
// an offloaded socket (straight to libc), then maps the call onto the
// ShimSocket. Nothing here holds protocol logic.
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "preload/epoll_set.h"
#include "preload/multicast_opts.h"
#include "preload/real.h"
#include "preload/runtime.h"
#include "preload/shim_socket.h"
#include "stack/net/clock.h"

using namespace dpdkudp::preload;

namespace {

// What arrives on the bypass interface is the stack's: the kernel fd drops
// it (shared mode would otherwise see every datagram twice). A stack
// without IPv6 leaves that interface's IPv6 to the kernel: only IPv4 goes.
// A backend that does not receive group traffic (DPDK without a multicast
// list) leaves multicast to the kernel too (the shim then joins groups
// there): IPv4 to 224.0.0.0/4 and, when the stack has IPv6, IPv6 to
// ff00::/8 pass.
void attach_bypass_filter(int fd, bool stack_has_ipv6, bool kernel_takes_groups) {
  const auto ifindex = static_cast<uint32_t>(bypass_ifindex());
  // Jumps name labels, resolved to cBPF's forward offsets at the end.
  enum Label : uint8_t { kNext, kIpv4, kDrop, kAccept };
  struct Insn {
    sock_filter insn;
    Label jt, jf;
  };
  Insn prog[12];
  unsigned short n = 0;
  unsigned short at[4] = {};
  auto stmt = [&](uint16_t code, uint32_t k) { prog[n++] = {BPF_STMT(code, k), kNext, kNext}; };
  auto jump = [&](uint32_t k, Label jt, Label jf) {
    prog[n++] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0), jt, jf};
  };
  auto jump_always = [&](Label to) { prog[n++] = {BPF_STMT(BPF_JMP | BPF_JA, 0), to, kNext}; };
  stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_IFINDEX));
  jump(ifindex, kNext, kAccept);
  stmt(BPF_LD | BPF_H | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL));
  jump(ETH_P_IP, kIpv4, kNext);
  // Anything else: the stack's when it has IPv6, else the kernel's.
  if (stack_has_ipv6 && kernel_takes_groups) {
    jump(ETH_P_IPV6, kNext, kDrop);
    // The IPv6 destination's first byte (network-relative): ff00::/8, a group.
    stmt(BPF_LD | BPF_B | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF + 24));
    jump(0xff, kAccept, kDrop);
  } else {
    jump_always(stack_has_ipv6 ? kDrop : kAccept);
  }
  at[kIpv4] = n;
  if (kernel_takes_groups) {
    // The IPv4 destination (network-relative), a group: the kernel's.
    stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF + 16));
    stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0000000u);
    jump(0xe0000000u, kAccept, kDrop);
  }
  at[kDrop] = n;
  stmt(BPF_RET | BPF_K, 0);
  at[kAccept] = n;
  stmt(BPF_RET | BPF_K, 0xffffffffu);
  sock_filter out[12];
  for (unsigned short i = 0; i < n; ++i) {
    out[i] = prog[i].insn;
    const auto to = [&](Label l) { return l == kNext ? 0u : static_cast<uint32_t>(at[l] - i - 1); };
    if (BPF_OP(out[i].code) == BPF_JA && BPF_CLASS(out[i].code) == BPF_JMP) {
      out[i].k = to(prog[i].jt);
    } else if (BPF_CLASS(out[i].code) == BPF_JMP) {
      out[i].jt = static_cast<uint8_t>(to(prog[i].jt));
      out[i].jf = static_cast<uint8_t>(to(prog[i].jf));
    }
  }
  sock_fprog fprog{n, out};
  real().setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
}

bool offloadable(int domain, int type, int protocol) {
  int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  return (domain == AF_INET || domain == AF_INET6) && base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP);
}

void install_dup(int oldfd, int newfd) {
  if (newfd >= 0 && in_owner_process()) dup_epoll_set(oldfd, newfd);
  if (newfd < 0 || !is_shim_fd(oldfd) || !in_owner_process()) return;
  if (ShimRef s = lookup(oldfd)) {
    s->add_fd(newfd);
    install(newfd, s.get());
  }
}

msghdr one_buffer(void* buf, size_t len, iovec* iov, sockaddr* addr, socklen_t addrlen) {
  *iov = {buf, len};
  msghdr m{};
  m.msg_name = addr;
  m.msg_namelen = addrlen;
  m.msg_iov = iov;
  m.msg_iovlen = 1;
  return m;
}

}  // namespace

// The library is built with hidden visibility; these are its interface.
#pragma GCC visibility push(default)
extern "C" {

int socket(int domain, int type, int protocol) {
  if (ShimGuard::active() || !offloadable(domain, type, protocol)) return real().socket(domain, type, protocol);
  dpdkudp::engine::Engine* engine = engine_for_new_socket();
  int fd = real().socket(domain, type, protocol);
  if (engine == nullptr || fd < 0 || fd >= kMaxFds) return fd;
  ShimGuard guard;
  attach_bypass_filter(fd, engine->stack().ipv6_enabled(), !engine->backend().capabilities().rx_multicast);
  auto* s = new ShimSocket(*engine, engine->stack().open_udp(domain == AF_INET6), fd);
  install(fd, s);
  return fd;
}

int close(int fd) {
  if (!ShimGuard::active() && in_owner_process()) {
    if (is_shim_fd(fd)) uninstall(fd);
    forget_epoll_set(fd);
  }
  return real().close(fd);
}

// Ranged closes (daemons closing inherited fds) must forget our sockets
// too, or a reused fd number would still look like one of them.
static void forget_range(unsigned int first, unsigned int last) {
  if (!in_owner_process()) return;
  for (unsigned int fd = first; fd <= last && fd < static_cast<unsigned int>(kMaxFds); ++fd) {
    if (is_shim_fd(static_cast<int>(fd))) uninstall(static_cast<int>(fd));
    forget_epoll_set(static_cast<int>(fd));
  }
}

int close_range(unsigned int first, unsigned int last, int flags) {
  int rc = real().close_range(first, last, flags);
  if (rc == 0 && !ShimGuard::active() && !(flags & CLOSE_RANGE_CLOEXEC)) forget_range(first, last);
  return rc;
}

void closefrom(int lowfd) {
  if (!ShimGuard::active() && lowfd >= 0) forget_range(static_cast<unsigned int>(lowfd), kMaxFds - 1);
  real().closefrom(lowfd);
}

int dup(int oldfd) {
  int fd = real().dup(oldfd);
  if (!ShimGuard::active()) install_dup(oldfd, fd);
  return fd;
}

int dup2(int oldfd, int newfd) {
  if (ShimGuard::active() || oldfd == newfd) return real().dup2(oldfd, newfd);
  int fd = real().dup2(oldfd, newfd);
  if (fd >= 0 && in_owner_process()) {
    if (is_shim_fd(newfd)) uninstall(newfd);  // dup2 closed what newfd named
    install_dup(oldfd, fd);
  }
  return fd;
}

int dup3(int oldfd, int newfd, int flags) {
  if (ShimGuard::active()) return real().dup3(oldfd, newfd, flags);
  int fd = real().dup3(oldfd, newfd, flags);
  if (fd >= 0 && in_owner_process()) {
    if (is_shim_fd(newfd)) uninstall(newfd);
    install_dup(oldfd, fd);
  }
  return fd;
}

// fcntl and fcntl64 (what _FILE_OFFSET_BITS=64 programs call) share one
// body; the asm labels give both names regardless of the header's redirect.
int dpdkudp_fcntl(int fd, int cmd, ...) __asm__("fcntl");
int dpdkudp_fcntl64(int fd, int cmd, ...) __asm__("fcntl64");

static int fcntl_impl(int fd, int cmd, void* arg) {
  int rc = real().fcntl(fd, cmd, arg);
  if (!ShimGuard::active() && rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) install_dup(fd, rc);
  return rc;
}

int dpdkudp_fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);  // int or pointer: passed on as it came
  va_end(ap);
  return fcntl_impl(fd, cmd, arg);
}

int dpdkudp_fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_impl(fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (!ShimGuard::active() && request == FIONREAD) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only()) {
      int n;
      if (s->fionread(fd, &n)) {
        if (arg == nullptr) {
          errno = EFAULT;
          return -1;
        }
        std::memcpy(arg, &n, sizeof n);
        return 0;
      }
    }
  }
  return real().ioctl(fd, request, arg);
}

int bind(int fd, const sockaddr* addr, socklen_t len) {
  if (ShimGuard::active()) return real().bind(fd, addr, len);
  if (ShimRef s = lookup(fd); s && !s->kernel_only()) return s->bind(fd, addr, len);
  return real().bind(fd, addr, len);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  if (ShimGuard::active()) return real().connect(fd, addr, len);
  if (ShimRef s = lookup(fd)) return s->connect(fd, addr, len);
  return real().connect(fd, addr, len);
}

int shutdown(int fd, int how) {
  if (ShimGuard::active()) return real().shutdown(fd, how);
  if (ShimRef s = lookup(fd)) return s->shutdown(fd, how);
  return real().shutdown(fd, how);
}

int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  if (ShimGuard::active()) return real().getsockname(fd, addr, len);
  if (ShimRef s = lookup(fd)) return s->getsockname(fd, addr, len);
  return real().getsockname(fd, addr, len);
}

int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  if (ShimGuard::active()) return real().getpeername(fd, addr, len);
  if (ShimRef s = lookup(fd)) return s->getpeername(fd, addr, len);
  return real().getpeername(fd, addr, len);
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  if (level == IPPROTO_IP && (name == IP_MULTICAST_IF || is_membership_option(name)) && !ShimGuard::active()) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only()) {
      int rc = 0;
      if (s->set_multicast_option(fd, name, value, len, &rc)) return rc;
    }
  }
  if (level == IPPROTO_IPV6 && is_membership_option6(name) && !ShimGuard::active()) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only()) {
      int rc = 0;
      if (s->set_multicast_option6(name, value, len, &rc)) return rc;
    }
  }
  int rc = real().setsockopt(fd, level, name, value, len);
  if (rc == 0 && !ShimGuard::active()) {
    if (ShimRef s = lookup(fd)) s->mirror_setsockopt(fd, level, name, value, len);
  }
  return rc;
}

int getsockopt(int fd, int level, int name, void* value, socklen_t* len) {
  if (!ShimGuard::active() && level == SOL_SOCKET && name == SO_ERROR) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only()) {
      int err;
      if (value != nullptr && len != nullptr && *len >= static_cast<socklen_t>(sizeof err) && s->take_so_error(&err)) {
        std::memcpy(value, &err, sizeof err);
        *len = sizeof err;
        return 0;
      }
    }
  }
  if (!ShimGuard::active() &&
      ((level == IPPROTO_IP && name == IP_MTU) || (level == IPPROTO_IPV6 && name == IPV6_MTU))) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only()) {
      int mtu;
      if (value != nullptr && len != nullptr && *len >= static_cast<socklen_t>(sizeof mtu) && s->ip_mtu(&mtu)) {
        std::memcpy(value, &mtu, sizeof mtu);
        *len = sizeof mtu;
        return 0;
      }
    }
  }
  if (!ShimGuard::active() && level == IPPROTO_IP && name == IP_MULTICAST_IF) {
    if (ShimRef s = lookup(fd); s && !s->kernel_only() && s->get_multicast_if(value, len)) return 0;
  }
  return real().getsockopt(fd, level, name, value, len);
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  if (ShimGuard::active()) return real().sendmsg(fd, msg, flags);
  if (ShimRef s = lookup(fd)) return s->sendmsg(fd, msg, flags);
  return real().sendmsg(fd, msg, flags);
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* addr, socklen_t addrlen) {
  if (ShimGuard::active()) return real().sendto(fd, buf, len, flags, addr, addrlen);
  if (ShimRef s = lookup(fd)) {
    if (addr != nullptr && !s->kernel_only() && addrlen < static_cast<socklen_t>(sizeof(sockaddr_in))) {
      errno = EINVAL;  // udp_sendmsg: a name too short for sockaddr_in
      return -1;
    }
    iovec iov;
    msghdr m = one_buffer(const_cast<void*>(buf), len, &iov, const_cast<sockaddr*>(addr), addr ? addrlen : 0);
    return s->sendmsg(fd, &m, flags);
  }
  return real().sendto(fd, buf, len, flags, addr, addrlen);
}

ssize_t send(int fd, const void* buf, size_t len, int flags) { return sendto(fd, buf, len, flags, nullptr, 0); }

int sendmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags) {
  if (ShimGuard::active()) return real().sendmmsg(fd, msgs, n, flags);
  if (ShimRef s = lookup(fd)) return s->sendmmsg(fd, msgs, n, flags);
  return real().sendmmsg(fd, msgs, n, flags);
}

ssize_t write(int fd, const void* buf, size_t len) {
  if (!ShimGuard::active()) {
    if (ShimRef s = lookup(fd)) {
      iovec iov;
      msghdr m = one_buffer(const_cast<void*>(buf), len, &iov, nullptr, 0);
      return s->sendmsg(fd, &m, 0);
    }
  }
  return real().write(fd, buf, len);
}

ssize_t writev(int fd, const iovec* iov, int iovcnt) {
  if (!ShimGuard::active() && iovcnt >= 0) {
    if (ShimRef s = lookup(fd)) {
      msghdr m{};
      m.msg_iov = const_cast<iovec*>(iov);
      m.msg_iovlen = static_cast<size_t>(iovcnt);
      return s->sendmsg(fd, &m, 0);
    }
  }
  return real().writev(fd, iov, iovcnt);
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  if (ShimGuard::active()) return real().recvmsg(fd, msg, flags);
  if (ShimRef s = lookup(fd)) return s->recvmsg(fd, msg, flags);
  return real().recvmsg(fd, msg, flags);
}

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* addr, socklen_t* addrlen) {
  if (ShimGuard::active()) return real().recvfrom(fd, buf, len, flags, addr, addrlen);
  if (ShimRef s = lookup(fd)) {
    iovec iov;
    msghdr m = one_buffer(buf, len, &iov, addr, (addr && addrlen) ? *addrlen : 0);
    ssize_t n = s->recvmsg(fd, &m, flags);
    if (n >= 0 && addr && addrlen) *addrlen = m.msg_namelen;
    return n;
  }
  return real().recvfrom(fd, buf, len, flags, addr, addrlen);
}

ssize_t recv(int fd, void* buf, size_t len, int flags) { return recvfrom(fd, buf, len, flags, nullptr, nullptr); }

int recvmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags, timespec* timeout) {
  if (ShimGuard::active()) return real().recvmmsg(fd, msgs, n, flags, timeout);
  if (ShimRef s = lookup(fd)) return s->recvmmsg(fd, msgs, n, flags, timeout);
  return real().recvmmsg(fd, msgs, n, flags, timeout);
}

ssize_t read(int fd, void* buf, size_t len) {
  if (!ShimGuard::active()) {
    if (ShimRef s = lookup(fd)) {
      iovec iov;
      msghdr m = one_buffer(buf, len, &iov, nullptr, 0);
      return s->recvmsg(fd, &m, 0);
    }
  }
  return real().read(fd, buf, len);
}

ssize_t readv(int fd, const iovec* iov, int iovcnt) {
  if (!ShimGuard::active() && iovcnt >= 0) {
    if (ShimRef s = lookup(fd)) {
      msghdr m{};
      m.msg_iov = const_cast<iovec*>(iov);
      m.msg_iovlen = static_cast<size_t>(iovcnt);
      return s->recvmsg(fd, &m, 0);
    }
  }
  return real().readv(fd, iov, iovcnt);
}

// The raw ppoll/pselect6/epoll_pwait* take the kernel's sigset (8 bytes on
// x86_64) and its size; any other size is the kernel's EINVAL.
static bool kernel_sigset_size_ok(const void* mask, long size) {
  return mask == nullptr || size == static_cast<long>(_NSIG / 8);
}

// The raw ppoll and pselect6 write the time not slept back, as the
// libc wrappers (which pass a copy) do not.
static void write_back_left(timespec* ts, uint64_t started_ns) {
  if (ts == nullptr) return;
  uint64_t total = static_cast<uint64_t>(ts->tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts->tv_nsec);
  uint64_t spent = dpdkudp::stack::monotonic_now_ns() - started_ns;
  uint64_t left = total > spent ? total - spent : 0;
  ts->tv_sec = static_cast<time_t>(left / 1'000'000'000u);
  ts->tv_nsec = static_cast<long>(left % 1'000'000'000u);
}

// Some programs skip the libc wrappers: libuv (Node.js, BIND 9's netmgr)
// calls sendmmsg/recvmmsg through syscall(2), and event loops built on
// raw system calls do the same for their waits. Those calls are caught
// here and go where the wrapper would have gone; the rest goes on
// untouched.
long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  if (ShimGuard::active()) return real().syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
  auto ptr = [&](int i) { return reinterpret_cast<void*>(a[i]); };
  auto i32 = [&](int i) { return static_cast<int>(a[i]); };
  switch (number) {
    case SYS_sendmmsg:
    case SYS_recvmmsg:
      if (ShimRef s = lookup(i32(0))) {
        auto* msgs = static_cast<mmsghdr*>(ptr(1));
        auto n = static_cast<unsigned int>(a[2]);
        if (number == SYS_sendmmsg) return s->sendmmsg(i32(0), msgs, n, i32(3));
        return s->recvmmsg(i32(0), msgs, n, i32(3), static_cast<timespec*>(ptr(4)));
      }
      break;
    case SYS_poll: return poll(static_cast<pollfd*>(ptr(0)), static_cast<nfds_t>(a[1]), i32(2));
    case SYS_ppoll: {
      if (!kernel_sigset_size_ok(ptr(3), a[4])) break;
      auto* ts = static_cast<timespec*>(ptr(2));
      uint64_t started = dpdkudp::stack::monotonic_now_ns();
      int rc = ppoll(static_cast<pollfd*>(ptr(0)), static_cast<nfds_t>(a[1]), ts, static_cast<sigset_t*>(ptr(3)));
      write_back_left(ts, started);
      return rc;
    }
    case SYS_select:
      return select(i32(0), static_cast<fd_set*>(ptr(1)), static_cast<fd_set*>(ptr(2)), static_cast<fd_set*>(ptr(3)),
                    static_cast<timeval*>(ptr(4)));
    case SYS_pselect6: {
      // The sixth argument points at {const sigset_t* mask, size_t size}.
      const auto* m = static_cast<const unsigned long*>(ptr(5));
      const auto* mask = m ? reinterpret_cast<const sigset_t*>(m[0]) : nullptr;
      if (m && !kernel_sigset_size_ok(mask, static_cast<long>(m[1]))) break;
      auto* ts = static_cast<timespec*>(ptr(4));
      uint64_t started = dpdkudp::stack::monotonic_now_ns();
      int rc = pselect(i32(0), static_cast<fd_set*>(ptr(1)), static_cast<fd_set*>(ptr(2)), static_cast<fd_set*>(ptr(3)),
                       ts, mask);
      write_back_left(ts, started);
      return rc;
    }
    case SYS_epoll_wait: return epoll_wait(i32(0), static_cast<epoll_event*>(ptr(1)), i32(2), i32(3));
    case SYS_epoll_pwait:
      if (!kernel_sigset_size_ok(ptr(4), a[5])) break;
      return epoll_pwait(i32(0), static_cast<epoll_event*>(ptr(1)), i32(2), i32(3), static_cast<sigset_t*>(ptr(4)));
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
      if (!kernel_sigset_size_ok(ptr(4), a[5])) break;
      return epoll_pwait2(i32(0), static_cast<epoll_event*>(ptr(1)), i32(2), static_cast<timespec*>(ptr(3)),
                          static_cast<sigset_t*>(ptr(4)));
#endif
    case SYS_epoll_ctl: return epoll_ctl(i32(0), i32(1), i32(2), static_cast<epoll_event*>(ptr(3)));
    default: break;
  }
  return real().syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

// _FORTIFY_SOURCE entry points: glibc's own versions call the internal
// functions, past our interposers, so they are interposed too.
[[noreturn]] void __chk_fail(void);

ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) __chk_fail();
  return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, sockaddr* addr, socklen_t* addrlen) {
  if (len > buflen) __chk_fail();
  return recvfrom(fd, buf, len, flags, addr, addrlen);
}

ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  if (len > buflen) __chk_fail();
  return read(fd, buf, len);
}

}  // extern "C"
#pragma GCC visibility pop
