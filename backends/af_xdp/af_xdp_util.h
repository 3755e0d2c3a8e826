// Small pieces the AF_XDP backend shares: the network namespace it runs in,
// fds kept out of fork children, and capture of libbpf/libxdp log lines
// (they print to stderr by default; we fold the last warning into our one
// error line). The one-line error, the owning fd and the interface facts
// come from base/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "backends/api/backend.h"
#include "base/error_sink.h"
#include "base/unique_fd.h"

namespace dpdkudp::af_xdp {

// The backend's error lines read `af_xdp: interface "X": reason`.
using base::ErrorSink;
using base::UniqueFd;

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

// True when pid names a live process (kill(pid, 0) is not ESRCH, and it is
// not a zombie).
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
