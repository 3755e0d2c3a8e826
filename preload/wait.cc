#include "preload/wait.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "preload/real.h"
#include "preload/runtime.h"

namespace dpdkudp::preload {
namespace {

thread_local uint64_t t_last_kernel_check = 0;
thread_local uint64_t t_last_kernel_key = 0;

// The thread's wake eventfd, made on first use, closed when the thread ends.
struct WakeFd {
  int fd = -1;
  ~WakeFd() {
    if (fd >= 0) real().close(fd);
  }
  int get() {
    if (fd < 0) fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd;
  }
};
thread_local WakeFd t_wake;

constexpr size_t kMaxSleepFds = 256;

// t, or 1 ms when t is longer (or forever): a sleep that nothing is sure
// to cut short wakes up to look again.
const timespec* at_most_1ms(const timespec* t) {
  static const timespec kSlice{0, 1'000'000};
  return (t == nullptr || t->tv_sec > 0 || t->tv_nsec > kSlice.tv_nsec) ? &kSlice : t;
}

}  // namespace

Deadline Deadline::from_ms(int ms, uint64_t now_ns) {
  Deadline d;
  if (ms < 0) return d;
  d.forever_ = false;
  d.at_ns_ = now_ns + static_cast<uint64_t>(ms) * 1'000'000u;
  return d;
}

Deadline Deadline::from_timespec(const timespec* ts, uint64_t now_ns) {
  Deadline d;
  if (ts == nullptr) return d;
  d.forever_ = false;
  d.at_ns_ = now_ns + static_cast<uint64_t>(std::max<time_t>(ts->tv_sec, 0)) * 1'000'000'000u +
             static_cast<uint64_t>(std::max<long>(ts->tv_nsec, 0));
  return d;
}

const timespec* Deadline::remaining(uint64_t now_ns, timespec* out) const {
  if (forever_) return nullptr;
  uint64_t left = at_ns_ > now_ns ? at_ns_ - now_ns : 0;
  out->tv_sec = static_cast<time_t>(left / 1'000'000'000u);
  out->tv_nsec = static_cast<long>(left % 1'000'000'000u);
  return out;
}

uint64_t wait_key(const pollfd* fds, nfds_t n) {
  uint64_t h = 1469598103934665603u;  // FNV-1a over (fd, events)
  for (nfds_t i = 0; i < n; ++i) {
    h = (h ^ static_cast<uint32_t>(fds[i].fd)) * 1099511628211u;
    h = (h ^ static_cast<uint16_t>(fds[i].events)) * 1099511628211u;
  }
  return h ^ n;
}

bool kernel_check_due(uint64_t now_ns, uint64_t key) {
  return key != t_last_kernel_key || now_ns - t_last_kernel_check >= kKernelCheckNs;
}

void note_kernel_checked(uint64_t now_ns, uint64_t key) {
  t_last_kernel_check = now_ns;
  t_last_kernel_key = key;
}

int sleep_in_kernel(engine::Engine& engine, pollfd* app_fds, nfds_t n, uint64_t key, const Deadline& deadline,
                    const sigset_t* mask, int (*recheck)(void*), void* ctx) {
  engine::Drivers& drivers = engine.drivers();
  Backend& backend = engine.backend();
  const uint16_t queues = drivers.queues();
  // The backend's wait fds let this thread drive the queues when frames
  // come; without them (DPDK poll mode) the pollers keep the queues and
  // wake us through the eventfd.
  bool covers = true;
  for (uint16_t q = 0; q < queues; ++q) covers &= backend.wait_fd(q) >= 0;
  const int wake_fd = t_wake.get();
  if (n + queues + 1 > kMaxSleepFds || wake_fd < 0) {
    // Too many to copy: wait on the application's fds alone, in short
    // slices, driving between them.
    timespec left;
    return real().ppoll(app_fds, n, at_most_1ms(deadline.remaining(stack::monotonic_now_ns(), &left)), mask);
  }
  int slot = drivers.register_sleeper(wake_fd, covers);
  if (!covers) drivers.hand_back();
  // Registered: from here a driver that delivers wakes us. Look once more
  // (frames still in a backend queue we sleep on make its fd readable, so
  // that look is only worth its cost when it is cheap).
  if (covers) {
    drivers.drive_from_app_if_worth(stack::monotonic_now_ns());
  } else {
    drivers.drive_all_from_app(stack::monotonic_now_ns());
  }
  if (int r = recheck(ctx); r != 0) {
    drivers.unregister_sleeper(slot);
    return r > 0 ? 0 : r;  // the caller looks again
  }
  pollfd fds[kMaxSleepFds];
  std::copy(app_fds, app_fds + n, fds);
  nfds_t k = n;
  if (covers) {
    for (uint16_t q = 0; q < queues; ++q) {
      backend.arm_wait(q);
      fds[k++] = {backend.wait_fd(q), POLLIN, 0};
    }
  }
  fds[k++] = {wake_fd, POLLIN, 0};
  timespec left;
  const timespec* t = deadline.remaining(stack::monotonic_now_ns(), &left);
  if (slot < 0) t = at_most_1ms(t);  // not registered: no driver will wake us
  int rc = real().ppoll(fds, k, t, mask);
  int saved = errno;
  drivers.unregister_sleeper(slot);
  if (rc < 0) {
    errno = saved;
    return -1;
  }
  if (fds[k - 1].revents & POLLIN) {
    uint64_t v;
    ssize_t ignored = real().read(wake_fd, &v, sizeof v);
    (void)ignored;
  }
  int app_ready = 0;
  for (nfds_t i = 0; i < n; ++i) {
    app_fds[i].revents = fds[i].revents;
    if (fds[i].revents != 0) ++app_ready;
  }
  // The sleep asked the kernel about every app fd.
  note_kernel_checked(stack::monotonic_now_ns(), key);
  return app_ready;
}

}  // namespace dpdkudp::preload
