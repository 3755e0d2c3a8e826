#include "backends/af_xdp/interface_lock.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace dpdkudp::af_xdp {
namespace {

// sun_path[0] == '\0': an abstract name, length given by the address size.
socklen_t abstract_address(const std::string& iface, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  const std::string name = "dpdkudp/af_xdp/" + iface;
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

// The pid of the process holding the name, 0 when it cannot be learned.
uint32_t holder_pid(const sockaddr_un& addr, socklen_t len) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe.valid() ||
      ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    return 0;
  }
  ucred cred{};
  socklen_t cred_len = sizeof(cred);
  if (::getsockopt(probe.get(), SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0) {
    return 0;
  }
  return static_cast<uint32_t>(cred.pid);
}

}  // namespace

std::optional<InterfaceLock> InterfaceLock::acquire(const std::string& iface,
                                                    const ErrorSink& err) {
  sockaddr_un addr{};
  const socklen_t len = abstract_address(iface, addr);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    err.fail_errno("socket(AF_UNIX) for the interface lock", errno);
    return std::nullopt;
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int e = errno;
    if (e != EADDRINUSE) {
      err.fail_errno("interface lock", e);
      return std::nullopt;
    }
    const uint32_t pid = holder_pid(addr, len);
    if (pid == 0) {
      err.fail("AF_XDP already used by another process (one process per interface)");
    } else if (!pid_alive(pid)) {
      err.fail("AF_XDP still held by a process forked from pid " + std::to_string(pid) +
               ", which has exited (one process per interface)");
    } else {
      err.fail("AF_XDP already used by pid " + std::to_string(pid) +
               " (one process per interface)");
    }
    return std::nullopt;
  }
  // Listening makes the holder's pid readable with SO_PEERCRED. Nobody
  // accepts: a probe's connection waits in the backlog until it closes.
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    err.fail_errno("interface lock: listen", errno);
    return std::nullopt;
  }
  return InterfaceLock(std::move(fd));
}

void InterfaceLock::drain_probes() {
  for (;;) {
    const int probe = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (probe < 0) {
      return;
    }
    ::close(probe);
  }
}

}  // namespace dpdkudp::af_xdp
