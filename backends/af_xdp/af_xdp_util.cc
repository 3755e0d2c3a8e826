#include "backends/af_xdp/af_xdp_util.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "base/process.h"

namespace dpdkudp::af_xdp {

uint64_t netns_inode() {
  struct stat st {};
  if (::stat("/proc/thread-self/ns/net", &st) != 0) {
    return 0;
  }
  return st.st_ino;
}

bool in_pid1_netns() {
  struct stat ours {};
  struct stat init {};
  return ::stat("/proc/thread-self/ns/net", &ours) == 0 && ::stat("/proc/1/ns/net", &init) == 0 &&
         ours.st_ino == init.st_ino && ours.st_dev == init.st_dev;
}

namespace {

constexpr size_t kForkFds = 512;
std::atomic<int> g_fork_fds[kForkFds];
std::once_flag g_fork_once;

void close_registered_fds_in_child() {
  // Only async-signal-safe calls here: the child of a threaded process.
  for (auto& slot : g_fork_fds) {
    const int fd = slot.load(std::memory_order_relaxed);
    if (fd >= 0) {
      ::close(fd);
      slot.store(-1, std::memory_order_relaxed);
    }
  }
}

}  // namespace

void close_in_fork_children(int fd) {
  if (fd < 0) {
    return;
  }
  std::call_once(g_fork_once, [] {
    for (auto& slot : g_fork_fds) {
      slot.store(-1, std::memory_order_relaxed);
    }
    ::pthread_atfork(nullptr, nullptr, close_registered_fds_in_child);
  });
  for (auto& slot : g_fork_fds) {
    int expected = -1;
    if (slot.compare_exchange_strong(expected, fd, std::memory_order_acq_rel)) {
      return;
    }
  }
  // Full (hundreds of queues): that fd stays in children, as any fd would.
}

void keep_in_fork_children(int fd) {
  if (fd < 0) {
    return;
  }
  for (auto& slot : g_fork_fds) {
    int expected = fd;
    if (slot.compare_exchange_strong(expected, -1, std::memory_order_acq_rel)) {
      return;
    }
  }
}

bool pid_alive(uint32_t pid) {
  if (pid == 0) {
    return false;
  }
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
    return false;
  }
  // A zombie (killed, not yet reaped by its parent) has closed its sockets
  // already: it serves nothing.
  const uint64_t start = base::process_start_time(pid);
  return start == 0 || base::process_running(pid, start);
}

// ---- libbpf / libxdp log capture ----

namespace {

// Held for a LibLogCapture's lifetime; recursive because a backend that
// fails half-way through open() is destroyed inside the open's capture.
std::recursive_mutex g_capture_mutex;
int g_capture_depth = 0;     // guarded by g_capture_mutex
std::string g_last_warning;  // guarded by g_capture_mutex
libbpf_print_fn_t g_old_libbpf = nullptr;
libxdp_print_fn_t g_old_libxdp = nullptr;

void record(const char* prefix, const char* format, va_list args) {
  char line[512];
  std::vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.empty()) {
    return;
  }
  if (text.rfind(prefix, 0) != 0) {
    text = prefix + text;
  }
  g_last_warning = std::move(text);
}

int capture_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level != LIBBPF_DEBUG) {
    record("libbpf: ", format, args);
  }
  return 0;
}

int capture_libxdp(enum libxdp_print_level level, const char* format, va_list args) {
  if (level == LIBXDP_WARN) {
    record("libxdp: ", format, args);
  }
  return 0;
}

}  // namespace

LibLogCapture::LibLogCapture() {
  g_capture_mutex.lock();
  if (g_capture_depth++ == 0) {
    g_last_warning.clear();
    g_old_libbpf = libbpf_set_print(capture_libbpf);
    g_old_libxdp = libxdp_set_print(capture_libxdp);
  }
}

LibLogCapture::~LibLogCapture() {
  if (--g_capture_depth == 0) {
    libbpf_set_print(g_old_libbpf);
    libxdp_set_print(g_old_libxdp);
  }
  g_capture_mutex.unlock();
}

std::string LibLogCapture::last_warning() const { return g_last_warning; }

std::string LibLogCapture::detail() const {
  return g_last_warning.empty() ? std::string() : " (" + g_last_warning + ")";
}

}  // namespace dpdkudp::af_xdp
