// Ownership of an interface's AF_XDP steering: one process at a time.
//
// The lock is a listening AF_UNIX socket bound to an abstract name derived
// from the interface name. Abstract names live in the network namespace,
// like interface names, so the lock is per (namespace, interface) and
// needs no shared filesystem (`ip netns exec` gives each command its own
// /sys, hence its own /sys/fs/bpf). The kernel frees the name when the
// last fd closes, whatever way the process ends (SIGKILL included), so a
// dead owner never holds an interface. A second process learns the owner's
// pid from SO_PEERCRED by connecting to the name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "backends/af_xdp/af_xdp_util.h"

namespace dpdkudp::af_xdp {

class InterfaceLock {
 public:
  // Takes the lock for iface in the calling thread's network namespace.
  // When another process (or this one) holds it, fails with
  // "AF_XDP already used by pid N".
  static std::optional<InterfaceLock> acquire(const std::string& iface, const ErrorSink& err);

  InterfaceLock(InterfaceLock&&) = default;
  InterfaceLock& operator=(InterfaceLock&&) = default;

  // Closes the connections other processes' probes left in the backlog.
  void drain_probes();

 private:
  explicit InterfaceLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace dpdkudp::af_xdp
