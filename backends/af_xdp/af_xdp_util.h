// Small pieces the AF_XDP backend shares: the one-line error, an owning fd,
// the interface facts, and capture of libbpf/libxdp log lines (they print
// to stderr by default; we fold the last warning into our one error line).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "backends/api/backend.h"

namespace dpdkudp::af_xdp {

// Writes `af_xdp: interface "X": reason` to *out (when given).
class ErrorSink {
 public:
  ErrorSink(std::string iface, std::string* out) : iface_(std::move(iface)), out_(out) {}
  bool fail(const std::string& reason) const;
  // Appends ": strerror(err)" to what (err positive or negative).
  bool fail_errno(const std::string& what, int err) const;
  const std::string& iface() const { return iface_; }

 private:
  std::string iface_;
  std::string* out_;
};

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset();

 private:
  int fd_ = -1;
};

struct InterfaceInfo {
  int ifindex = 0;
  MacAddr mac{};
  uint32_t mtu = 1500;
  uint32_t max_queues = 1;  // ETHTOOL_GCHANNELS (1 when the driver has none)
};

// Interface facts in the calling thread's network namespace. Fails (with
// the reason in err) when it does not exist, is not Ethernet, or is down.
std::optional<InterfaceInfo> query_interface(const std::string& name, const ErrorSink& err);

// Inode of the calling thread's network namespace (0 when unknown), and
// whether it is the one of pid 1 (the host's, or the container's).
uint64_t netns_inode();
bool in_pid1_netns();

// While alive, libbpf and libxdp log lines go to a buffer instead of
// stderr (process-wide: the constructor takes a global mutex, so opens
// are serialised). last_warning() is the last non-debug line.
class LibLogCapture {
 public:
  LibLogCapture();
  ~LibLogCapture();
  LibLogCapture(const LibLogCapture&) = delete;
  LibLogCapture& operator=(const LibLogCapture&) = delete;

  std::string last_warning() const;
  // " (libbpf: ...)" when there is a last warning, else "".
  std::string detail() const;
};

// True when pid names a live process (kill(pid, 0) is not ESRCH).
bool pid_alive(uint32_t pid);

// Fds a fork child must not keep: an XSK (it would keep the socket, and
// its XSKMAP slot, alive after the parent dies: a black hole for the
// parent's ports), the bpf_link (the program would stay attached), the
// group's hub name (newcomers would wait on a child that never answers).
// A registered fd is closed in every child right after fork()
// (pthread_atfork); the child's copy of the owning object must then not
// close it again (it checks fork_child_of()). Unregister before closing.
void close_in_fork_children(int fd);
void keep_in_fork_children(int fd);

}  // namespace dpdkudp::af_xdp
