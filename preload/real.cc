#include "preload/real.h"

#include <dlfcn.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dpdkudp::preload {
namespace {

RealCalls g_real;
std::once_flag g_once;

template <typename F>
void resolve(F& slot, const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    // Raw syscalls: write() here would be our own interposer.
    const char msg[] = "dpdkudp: cannot find the real libc function ";
    ::syscall(SYS_write, STDERR_FILENO, msg, sizeof msg - 1);
    ::syscall(SYS_write, STDERR_FILENO, name, std::strlen(name));
    ::syscall(SYS_write, STDERR_FILENO, "\n", 1);
    std::abort();
  }
  slot = reinterpret_cast<F>(p);
}

void resolve_all() {
  RealCalls r;
  resolve(r.socket, "socket");
  resolve(r.bind, "bind");
  resolve(r.connect, "connect");
  resolve(r.close, "close");
  resolve(r.shutdown, "shutdown");
  resolve(r.send, "send");
  resolve(r.sendto, "sendto");
  resolve(r.sendmsg, "sendmsg");
  resolve(r.sendmmsg, "sendmmsg");
  resolve(r.recv, "recv");
  resolve(r.recvfrom, "recvfrom");
  resolve(r.recvmsg, "recvmsg");
  resolve(r.recvmmsg, "recvmmsg");
  resolve(r.read, "read");
  resolve(r.write, "write");
  resolve(r.readv, "readv");
  resolve(r.writev, "writev");
  resolve(r.getsockname, "getsockname");
  resolve(r.getpeername, "getpeername");
  resolve(r.getsockopt, "getsockopt");
  resolve(r.setsockopt, "setsockopt");
  resolve(r.fcntl, "fcntl");
  resolve(r.ioctl, "ioctl");
  resolve(r.dup, "dup");
  resolve(r.dup2, "dup2");
  resolve(r.dup3, "dup3");
  resolve(r.poll, "poll");
  resolve(r.ppoll, "ppoll");
  resolve(r.select, "select");
  resolve(r.pselect, "pselect");
  resolve(r.epoll_ctl, "epoll_ctl");
  resolve(r.epoll_wait, "epoll_wait");
  resolve(r.epoll_pwait, "epoll_pwait");
  r.epoll_pwait2 = reinterpret_cast<decltype(r.epoll_pwait2)>(dlsym(RTLD_NEXT, "epoll_pwait2"));
  resolve(r.syscall, "syscall");
  resolve(r.close_range, "close_range");
  resolve(r.closefrom, "closefrom");
  g_real = r;
}

}  // namespace

const RealCalls& real() {
  std::call_once(g_once, resolve_all);
  return g_real;
}

__attribute__((constructor)) static void resolve_early() { real(); }

}  // namespace dpdkudp::preload
