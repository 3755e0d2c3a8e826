// The waits through syscall(2), as event loops built on raw system calls
// make them: poll, ppoll, select, pselect6, epoll_wait, epoll_pwait,
// epoll_pwait2 and epoll_ctl. Each must see a datagram that is queued on
// an offloaded socket; a raw call that reached the kernel directly would
// see only the socket's kernel side, which holds nothing.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>

#include <cstring>
#include <string>

#include "udp_test_util.h"

namespace udptest {
namespace {

constexpr long kKernelSigsetSize = _NSIG / 8;

// A bound socket with one datagram queued, known readable through the
// libc poll (the same program's ordinary view of it).
Fd socket_with_one_datagram() {
  Fd s = udp_socket();
  EXPECT_EQ(bind_to(s.get(), any_addr()), 0) << std::strerror(errno);
  EXPECT_TRUE(send_to(s.get(), "raw-wait", env().peer));
  EXPECT_TRUE(readable(s.get(), kWaitMs));
  return s;
}

// Asks the peer to send to fd's port delay_ms from now (from another socket).
void arrive_later(int fd, int delay_ms) {
  Fd t = udp_socket();
  const std::string opts = "to=" + std::to_string(local_port(fd)) + ",delay=" + std::to_string(delay_ms);
  ASSERT_TRUE(send_to(t.get(), peer_command(opts, "later"), env().peer));
}

TEST(RawWait, PollSeesAQueuedDatagram) {
  Fd s = socket_with_one_datagram();
  pollfd p{s.get(), POLLIN, 0};
  ASSERT_EQ(::syscall(SYS_poll, &p, 1, 0), 1L) << std::strerror(errno);
  EXPECT_EQ(p.revents, POLLIN);
}

TEST(RawWait, PpollSeesAQueuedDatagramAndWritesTheTimeLeft) {
  Fd s = socket_with_one_datagram();
  pollfd p{s.get(), POLLIN, 0};
  timespec ts{1, 0};
  sigset_t mask;
  sigemptyset(&mask);
  ASSERT_EQ(::syscall(SYS_ppoll, &p, 1, &ts, &mask, kKernelSigsetSize), 1L) << std::strerror(errno);
  EXPECT_EQ(p.revents, POLLIN);
  // The raw call writes back what was not slept (nearly all of it here).
  EXPECT_EQ(ts.tv_sec, 0);
  EXPECT_GT(ts.tv_nsec, 500'000'000L);

  char buf[64];
  ASSERT_EQ(::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT), 8L);
  timespec short_wait{0, 100'000'000};
  ASSERT_EQ(::syscall(SYS_ppoll, &p, 1, &short_wait, nullptr, 0), 0L);
  EXPECT_EQ(short_wait.tv_sec, 0);
  EXPECT_EQ(short_wait.tv_nsec, 0);
}

TEST(RawWait, PpollRejectsAWrongSigsetSize) {
  Fd s = socket_with_one_datagram();
  pollfd p{s.get(), POLLIN, 0};
  sigset_t mask;
  sigemptyset(&mask);
  timespec ts{0, 0};
  EXPECT_EQ(::syscall(SYS_ppoll, &p, 1, &ts, &mask, 4), -1L);
  EXPECT_EQ(errno, EINVAL);
}

TEST(RawWait, SelectAndPselect6SeeAQueuedDatagram) {
  Fd s = socket_with_one_datagram();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  timeval tv{0, 0};
  ASSERT_EQ(::syscall(SYS_select, s.get() + 1, &r, nullptr, nullptr, &tv), 1L) << std::strerror(errno);
  EXPECT_TRUE(FD_ISSET(s.get(), &r));

  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  timespec ts{0, 0};
  sigset_t mask;
  sigemptyset(&mask);
  const unsigned long sig[2] = {reinterpret_cast<unsigned long>(&mask), static_cast<unsigned long>(kKernelSigsetSize)};
  ASSERT_EQ(::syscall(SYS_pselect6, s.get() + 1, &r, nullptr, nullptr, &ts, sig), 1L) << std::strerror(errno);
  EXPECT_TRUE(FD_ISSET(s.get(), &r));
}

TEST(RawWait, EpollFamilySeesAQueuedDatagram) {
  Fd s = socket_with_one_datagram();
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  ASSERT_GE(ep.get(), 0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0x5eed;
  ASSERT_EQ(::syscall(SYS_epoll_ctl, ep.get(), EPOLL_CTL_ADD, s.get(), &ev), 0L) << std::strerror(errno);

  epoll_event out[4]{};
  ASSERT_EQ(::syscall(SYS_epoll_wait, ep.get(), out, 4, 0), 1L) << std::strerror(errno);
  EXPECT_EQ(out[0].data.u64, 0x5eedu);
  EXPECT_EQ(out[0].events, static_cast<uint32_t>(EPOLLIN));

  sigset_t mask;
  sigemptyset(&mask);
  out[0] = {};
  ASSERT_EQ(::syscall(SYS_epoll_pwait, ep.get(), out, 4, 0, &mask, kKernelSigsetSize), 1L) << std::strerror(errno);
  EXPECT_EQ(out[0].data.u64, 0x5eedu);

#ifdef SYS_epoll_pwait2
  timespec zero{0, 0};
  out[0] = {};
  long rc = ::syscall(SYS_epoll_pwait2, ep.get(), out, 4, &zero, &mask, kKernelSigsetSize);
  if (rc == -1 && errno == ENOSYS) {
    GTEST_SKIP() << "this kernel has no epoll_pwait2";
  }
  ASSERT_EQ(rc, 1L) << std::strerror(errno);
  EXPECT_EQ(out[0].data.u64, 0x5eedu);
#endif

  // Removed through the raw call: nothing is reported any more.
  ASSERT_EQ(::syscall(SYS_epoll_ctl, ep.get(), EPOLL_CTL_DEL, s.get(), nullptr), 0L) << std::strerror(errno);
  EXPECT_EQ(::syscall(SYS_epoll_wait, ep.get(), out, 4, 0), 0L);
}

TEST(RawWait, BlockingEpollWaitWakesOnArrival) {
  Fd s = udp_socket();
  ASSERT_EQ(bind_to(s.get(), any_addr()), 0);
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = s.get();
  ASSERT_EQ(::syscall(SYS_epoll_ctl, ep.get(), EPOLL_CTL_ADD, s.get(), &ev), 0L);
  arrive_later(s.get(), 200);
  epoll_event out{};
  const double t0 = monotonic_s();
  ASSERT_EQ(::syscall(SYS_epoll_wait, ep.get(), &out, 1, kWaitMs), 1L) << std::strerror(errno);
  const double waited = monotonic_s() - t0;
  EXPECT_EQ(out.data.fd, s.get());
  EXPECT_GT(waited, 0.1);
  EXPECT_LT(waited, 1.5);
}

}  // namespace
}  // namespace udptest
