// Readiness and blocking: poll/ppoll/select/pselect (negative and closed
// fds, an fd at the top of fd_set), epoll (level, EPOLLET, EPOLLONESHOT,
// EPOLLEXCLUSIVE, one fd in two sets, dup'd fds, nested), receive
// timeouts, signals and the masks of ppoll/epoll_pwait, shutdown, many
// threads on one socket, close under a blocked wait, and fork (an
// inherited epoll set).
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "udp_test_util.h"

namespace udptest {
namespace {

Fd bound_socket() {
  Fd s = udp_socket();
  EXPECT_EQ(bind_to(s.get(), any_addr()), 0) << std::strerror(errno);
  return s;
}

// Asks the peer to send `payload` to fd's port `delay_ms` from now (from
// another socket, so fd itself sends nothing).
void arrive_later(int fd, std::string_view payload, int delay_ms) {
  Fd t = udp_socket();
  const std::string opts = "to=" + std::to_string(local_port(fd)) + ",delay=" + std::to_string(delay_ms);
  ASSERT_TRUE(send_to(t.get(), peer_command(opts, payload), env().peer));
}

int drain(int fd) {
  char buf[2048];
  int n = 0;
  for (int i = 0; i < 1000 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0; ++i) {
    ++n;
  }
  EXPECT_EQ(errno, EAGAIN);
  return n;
}

// ---- poll, ppoll, select, pselect ----------------------------------------

TEST(Poll, InOnlyWhenQueuedOutAlways) {
  Fd s = bound_socket();
  pollfd p{s.get(), POLLIN | POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLOUT);
  p.events = POLLIN;
  EXPECT_EQ(::poll(&p, 1, kQuietMs), 0);
  ASSERT_TRUE(send_to(s.get(), "wake", env().peer));
  ASSERT_EQ(::poll(&p, 1, kWaitMs), 1);
  EXPECT_EQ(p.revents, POLLIN);
  p.events = POLLIN | POLLOUT;
  ASSERT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLIN | POLLOUT);
  EXPECT_EQ(drain(s.get()), 1);
  ASSERT_EQ(::poll(&p, 1, 0), 1);
  EXPECT_EQ(p.revents, POLLOUT);
}

TEST(Poll, BlockingPollWakesOnArrival) {
  Fd s = bound_socket();
  arrive_later(s.get(), "later", 300);
  pollfd p{s.get(), POLLIN, 0};
  const double t0 = monotonic_s();
  ASSERT_EQ(::poll(&p, 1, kWaitMs), 1);
  const double waited = monotonic_s() - t0;
  EXPECT_EQ(p.revents, POLLIN);
  EXPECT_GT(waited, 0.2);
  EXPECT_LT(waited, 1.5);
}

TEST(Poll, PpollInOnlyWhenQueued) {
  Fd s = bound_socket();
  pollfd p{s.get(), POLLIN | POLLOUT, 0};
  timespec zero{0, 0};
  sigset_t mask;
  sigemptyset(&mask);
  ASSERT_EQ(::ppoll(&p, 1, &zero, &mask), 1);
  EXPECT_EQ(p.revents, POLLOUT);
  arrive_later(s.get(), "ppoll", 100);
  p.events = POLLIN;
  timespec wait{2, 0};
  ASSERT_EQ(::ppoll(&p, 1, &wait, nullptr), 1);
  EXPECT_EQ(p.revents, POLLIN);
  EXPECT_EQ(drain(s.get()), 1);
  ASSERT_EQ(::ppoll(&p, 1, &zero, nullptr), 0);
}

TEST(Select, ReadableOnlyWhenQueuedWritableAlways) {
  Fd s = bound_socket();
  ASSERT_LT(s.get(), FD_SETSIZE);
  fd_set r;
  fd_set w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(s.get(), &r);
  FD_SET(s.get(), &w);
  timeval tv{0, 100000};
  ASSERT_EQ(::select(s.get() + 1, &r, &w, nullptr, &tv), 1);
  EXPECT_FALSE(FD_ISSET(s.get(), &r));
  EXPECT_TRUE(FD_ISSET(s.get(), &w));

  ASSERT_TRUE(send_to(s.get(), "select", env().peer));
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  tv = {2, 0};
  ASSERT_EQ(::select(s.get() + 1, &r, nullptr, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(s.get(), &r));
  EXPECT_EQ(drain(s.get()), 1);
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  tv = {0, 0};
  EXPECT_EQ(::select(s.get() + 1, &r, nullptr, nullptr, &tv), 0);
}

TEST(Select, PselectWakesOnArrival) {
  Fd s = bound_socket();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  timespec zero{0, 0};
  EXPECT_EQ(::pselect(s.get() + 1, &r, nullptr, nullptr, &zero, nullptr), 0);
  arrive_later(s.get(), "pselect", 200);
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  timespec wait{2, 0};
  sigset_t mask;
  sigemptyset(&mask);
  ASSERT_EQ(::pselect(s.get() + 1, &r, nullptr, nullptr, &wait, &mask), 1);
  EXPECT_TRUE(FD_ISSET(s.get(), &r));
}

// A free fd number far above what the test (or the shim's own threads)
// will open meanwhile, so it stays closed while it is polled.
int closed_fd_number() {
  for (int fd = 900; fd < 1000; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      return fd;
    }
  }
  ADD_FAILURE() << "no free fd number in 900..999";
  return 999;
}

// poll ignores an entry with a negative fd (revents 0, not counted) and
// reports POLLNVAL, counted, for a closed one: here a number that named a
// UDP socket (dup2'd there, then closed) until just before.
TEST(Poll, NegativeFdIgnoredClosedFdIsPollnval) {
  Fd s = bound_socket();
  const int gone = closed_fd_number();
  {
    Fd t = udp_socket();
    ASSERT_EQ(::dup2(t.get(), gone), gone) << std::strerror(errno);
    ASSERT_EQ(::close(gone), 0);
  }
  pollfd p[4] = {{-1, POLLIN, 0}, {s.get(), POLLIN, 0}, {gone, POLLIN, 0}, {-7, POLLIN | POLLOUT, 0}};
  ASSERT_EQ(::poll(p, 4, kQuietMs), 1);
  EXPECT_EQ(p[0].revents, 0);
  EXPECT_EQ(p[1].revents, 0);
  EXPECT_EQ(p[2].revents, POLLNVAL);
  EXPECT_EQ(p[3].revents, 0);

  ASSERT_TRUE(send_to(s.get(), "beside a closed fd", env().peer));
  // readable() just waited on s alone; the set below is another one, so
  // the shim asks the kernel about it at once although s is ready (its
  // rate limit is per set of fds, docs/compatibility.md).
  ASSERT_TRUE(readable(s.get()));
  for (pollfd& q : p) {
    q.revents = static_cast<short>(0xffff);  // poll must overwrite every revents
  }
  ASSERT_EQ(::poll(p, 4, kWaitMs), 2);
  EXPECT_EQ(p[0].revents, 0);
  EXPECT_EQ(p[1].revents, POLLIN);
  EXPECT_EQ(p[2].revents, POLLNVAL);
  EXPECT_EQ(p[3].revents, 0);
  EXPECT_EQ(drain(s.get()), 1);

  // A negative fd alone is a plain sleep to the timeout.
  pollfd only{-1, POLLIN, 0};
  EXPECT_EQ(::poll(&only, 1, 50), 0);
  EXPECT_EQ(only.revents, 0);
}

// select on a set holding a closed fd fails with EBADF.
TEST(Select, ClosedFdInTheSetIsEbadf) {
  Fd s = bound_socket();
  const int gone = closed_fd_number();
  fd_set r;
  FD_ZERO(&r);
  FD_SET(s.get(), &r);
  FD_SET(gone, &r);
  timeval tv{0, 100000};
  errno = 0;
  EXPECT_EQ(::select(gone + 1, &r, nullptr, nullptr, &tv), -1);
  EXPECT_EQ(errno, EBADF);
}

// An fd at the top of an fd_set (FD_SETSIZE - 1, as in a busy server)
// works in select as any other.
TEST(Select, SocketAtTheTopOfTheFdSet) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur < FD_SETSIZE) {
    GTEST_SKIP() << "RLIMIT_NOFILE " << lim.rlim_cur << " is below FD_SETSIZE";
  }
  constexpr int kHigh = FD_SETSIZE - 1;
  ASSERT_EQ(::fcntl(kHigh, F_GETFD), -1) << "fd " << kHigh << " is already open";
  Fd high;
  {
    Fd s = bound_socket();
    ASSERT_EQ(::dup2(s.get(), kHigh), kHigh) << std::strerror(errno);
    high.reset(kHigh);
  }  // the original closed: only the high fd names the socket now
  fd_set r;
  fd_set w;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_SET(kHigh, &r);
  FD_SET(kHigh, &w);
  timeval tv{0, 100000};
  ASSERT_EQ(::select(kHigh + 1, &r, &w, nullptr, &tv), 1);
  EXPECT_FALSE(FD_ISSET(kHigh, &r));
  EXPECT_TRUE(FD_ISSET(kHigh, &w));

  arrive_later(kHigh, "at the top", 200);
  FD_ZERO(&r);
  FD_SET(kHigh, &r);
  tv = {2, 0};
  ASSERT_EQ(::select(kHigh + 1, &r, nullptr, nullptr, &tv), 1);
  EXPECT_TRUE(FD_ISSET(kHigh, &r));
  EXPECT_EQ(recv_one(kHigh, 0), "at the top");
  ASSERT_TRUE(send_to(kHigh, "from the top", env().peer));
  EXPECT_EQ(recv_one(kHigh), "from the top");
}

// ---- epoll ----------------------------------------------------------------

Fd epoll_with(int fd, uint32_t events) {
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  EXPECT_GE(ep.get(), 0);
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  EXPECT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev), 0) << std::strerror(errno);
  return ep;
}

// epoll_wait for one event; returns its events (0 when none within ms).
uint32_t wait_event(int ep, int ms, int expect_fd) {
  epoll_event ev[4]{};
  const int n = ::epoll_wait(ep, ev, 4, ms);
  EXPECT_GE(n, 0) << std::strerror(errno);
  if (n <= 0) {
    return 0;
  }
  EXPECT_EQ(n, 1);
  EXPECT_EQ(ev[0].data.fd, expect_fd);
  return ev[0].events;
}

TEST(Epoll, LevelTriggeredReportsWhileQueued) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN);
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u);
  ASSERT_TRUE(send_to(s.get(), "lt", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(wait_event(ep.get(), 0, s.get()), static_cast<uint32_t>(EPOLLIN)) << "level: still queued";
  EXPECT_EQ(drain(s.get()), 1);
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u);
}

TEST(Epoll, OutIsAlwaysReported) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN | EPOLLOUT);
  EXPECT_EQ(wait_event(ep.get(), 0, s.get()), static_cast<uint32_t>(EPOLLOUT));
}

TEST(Epoll, BlockingWaitWakesOnArrival) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN);
  arrive_later(s.get(), "epoll later", 300);
  const double t0 = monotonic_s();
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  const double waited = monotonic_s() - t0;
  EXPECT_GT(waited, 0.2);
  EXPECT_LT(waited, 1.5);
}

// Linux wakes an edge-triggered waiter on every arrival, even when earlier
// datagrams are still queued (not only on the empty -> non-empty edge).
TEST(Epoll, EdgeTriggeredReportsEachArrival) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN | EPOLLET);
  ASSERT_TRUE(send_to(s.get(), "first", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u) << "edge: reported once per arrival";
  ASSERT_TRUE(send_to(s.get(), "second", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN))
      << "a new arrival is reported although the first is still queued";
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u);
  EXPECT_EQ(drain(s.get()), 2);
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u);
  // Drained to EAGAIN: the next arrival is reported again.
  ASSERT_TRUE(send_to(s.get(), "third", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(drain(s.get()), 1);
}

TEST(Epoll, OneshotNeedsRearming) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN | EPOLLONESHOT);
  ASSERT_TRUE(send_to(s.get(), "one", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(wait_event(ep.get(), kQuietMs, s.get()), 0u) << "disarmed after one event";
  ASSERT_TRUE(send_to(s.get(), "two", env().peer));
  EXPECT_EQ(wait_event(ep.get(), 300, s.get()), 0u) << "disarmed: new arrivals are not reported";
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.fd = s.get();
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_MOD, s.get(), &ev), 0);
  EXPECT_EQ(wait_event(ep.get(), 0, s.get()), static_cast<uint32_t>(EPOLLIN)) << "re-armed while readable";
  EXPECT_EQ(wait_event(ep.get(), 0, s.get()), 0u);
  int drained = drain(s.get());
  if (drained < 2 && readable(s.get())) {  // "two" may still be on its way
    drained += drain(s.get());
  }
  EXPECT_EQ(drained, 2);
}

TEST(Epoll, SameFdInTwoSets) {
  Fd s = bound_socket();
  Fd ep1 = epoll_with(s.get(), EPOLLIN);
  Fd ep2 = epoll_with(s.get(), EPOLLIN | EPOLLET);
  ASSERT_TRUE(send_to(s.get(), "both", env().peer));
  EXPECT_EQ(wait_event(ep1.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(wait_event(ep2.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(drain(s.get()), 1);
  EXPECT_EQ(wait_event(ep1.get(), 0, s.get()), 0u);
  EXPECT_EQ(wait_event(ep2.get(), 0, s.get()), 0u);
}

TEST(Epoll, NestedEpoll) {
  Fd s = bound_socket();
  Fd inner = epoll_with(s.get(), EPOLLIN);
  Fd outer = epoll_with(inner.get(), EPOLLIN);
  EXPECT_EQ(wait_event(outer.get(), kQuietMs, inner.get()), 0u);
  EXPECT_EQ(wait_for(inner.get(), POLLIN, 0), 0);
  ASSERT_TRUE(send_to(s.get(), "nested", env().peer));
  EXPECT_EQ(wait_event(outer.get(), kWaitMs, inner.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(wait_for(inner.get(), POLLIN, 0), POLLIN) << "poll on the inner epoll fd";
  EXPECT_EQ(wait_event(inner.get(), 0, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(drain(s.get()), 1);
  EXPECT_EQ(wait_event(outer.get(), 0, inner.get()), 0u);
}

// EPOLLEXCLUSIVE (one socket in several sets, each with its own waiter, as
// a pre-forked or multi-threaded server): epoll_ctl accepts it, an arrival
// wakes at least one waiter, and EPOLL_CTL_MOD of such a registration is
// EINVAL.
TEST(Epoll, ExclusiveWakesAtLeastOneWaiter) {
  Fd s = bound_socket();
  Fd ep1 = epoll_with(s.get(), EPOLLIN | EPOLLEXCLUSIVE);
  Fd ep2 = epoll_with(s.get(), EPOLLIN | EPOLLEXCLUSIVE);
  epoll_event mod{};
  mod.events = EPOLLIN | EPOLLEXCLUSIVE;
  mod.data.fd = s.get();
  errno = 0;
  EXPECT_EQ(::epoll_ctl(ep1.get(), EPOLL_CTL_MOD, s.get(), &mod), -1);
  EXPECT_EQ(errno, EINVAL);

  std::atomic<int> woken{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> waiters;
  for (int ep : {ep1.get(), ep2.get()}) {
    waiters.emplace_back([&, ep] {
      epoll_event ev[4]{};
      const int n = ::epoll_wait(ep, ev, 4, 1500);
      if (n < 0) {
        ++errors;
      } else if (n == 1 && ev[0].data.fd == s.get() && (ev[0].events & EPOLLIN)) {
        ++woken;
      } else if (n != 0) {
        ++errors;
      }
    });
  }
  arrive_later(s.get(), "exclusive", 300);
  for (auto& t : waiters) {
    t.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GE(woken.load(), 1);
  EXPECT_EQ(drain(s.get()), 1);
}

// A dup of the socket is a registration of its own (epoll keys on the fd
// and the open file): its events carry its own data, the socket and its
// dup in one set are two registrations, and closing the original fd keeps
// the dup's registration.
TEST(Epoll, DupRegisteredWithItsOwnData) {
  Fd s = bound_socket();
  Fd d(::dup(s.get()));
  ASSERT_GE(d.get(), 0);
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0xd0d0;
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, d.get(), &ev), 0) << std::strerror(errno);

  ASSERT_TRUE(send_to(s.get(), "to the dup", env().peer));
  epoll_event out[4]{};
  ASSERT_EQ(::epoll_wait(ep.get(), out, 4, kWaitMs), 1);
  EXPECT_EQ(out[0].data.u64, 0xd0d0u);
  EXPECT_EQ(out[0].events, static_cast<uint32_t>(EPOLLIN));

  // The original too, with other data: one arrival, two events.
  ev.data.u64 = 0x0515;
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s.get(), &ev), 0) << std::strerror(errno);
  ASSERT_EQ(::epoll_wait(ep.get(), out, 4, kWaitMs), 2);
  EXPECT_NE(out[0].data.u64, out[1].data.u64);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(out[i].data.u64 == 0xd0d0u || out[i].data.u64 == 0x0515u) << out[i].data.u64;
  }
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_DEL, s.get(), nullptr), 0);
  EXPECT_EQ(drain(d.get()), 1);

  s.reset();  // the original fd closes; the dup keeps the socket and its registration
  ASSERT_TRUE(send_to(d.get(), "after the close", env().peer));
  ASSERT_EQ(::epoll_wait(ep.get(), out, 4, kWaitMs), 1);
  EXPECT_EQ(out[0].data.u64, 0xd0d0u);
  EXPECT_EQ(recv_one(d.get(), 0), "after the close");
  EXPECT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_DEL, d.get(), nullptr), 0);
}

// The other side of the same rule (the classic epoll surprise): the fd that
// was registered is closed while a dup keeps the socket open; the
// registration stays and goes on reporting under the closed fd's data,
// and EPOLL_CTL_DEL can no longer name it (EBADF).
TEST(Epoll, RegisteredFdClosedWhileADupLivesKeepsReporting) {
  Fd s = bound_socket();
  Fd d(::dup(s.get()));
  ASSERT_GE(d.get(), 0);
  Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0x0515;
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s.get(), &ev), 0);
  const int closed = s.get();
  s.reset();
  ASSERT_TRUE(send_to(d.get(), "still registered", env().peer));
  epoll_event out[4]{};
  ASSERT_EQ(::epoll_wait(ep.get(), out, 4, kWaitMs), 1);
  EXPECT_EQ(out[0].data.u64, 0x0515u);
  EXPECT_EQ(out[0].events, static_cast<uint32_t>(EPOLLIN));
  errno = 0;
  EXPECT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_DEL, closed, nullptr), -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(drain(d.get()), 1);
  // The last fd closes: the registration goes with the socket.
  d.reset();
  EXPECT_EQ(::epoll_wait(ep.get(), out, 4, kQuietMs), 0);
}

// SO_REUSEPORT siblings (one socket per thread, as unbound and NSD run):
// the datagram goes to one of them, and an event loop polling both gets it
// within the wait. Under the shim a sibling may wake once for nothing (its
// recv says EAGAIN, which non-blocking loops expect): the doorbell is a
// datagram the kernel spreads over the group itself, and one that lands on
// the wrong sibling is passed on. Eight pairs on eight ports, so a wake-up
// lost that way would not pass by luck.
TEST(Poll, ReusePortSiblingsGetTheDatagram) {
  const int on = 1;
  for (int pair = 0; pair < 8; ++pair) {
    Fd a = udp_socket(SOCK_NONBLOCK);
    ASSERT_EQ(::setsockopt(a.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
    ASSERT_EQ(bind_to(a.get(), any_addr()), 0);
    const uint16_t port = local_port(a.get());
    Fd b = udp_socket(SOCK_NONBLOCK);
    ASSERT_EQ(::setsockopt(b.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
    ASSERT_EQ(bind_to(b.get(), any_addr(port)), 0);
    Fd t = udp_socket();
    const std::string text = "pair " + std::to_string(pair);
    ASSERT_TRUE(send_to(t.get(), peer_command("to=" + std::to_string(port), text), env().peer));
    std::vector<std::string> got;
    int wakeups = 0;
    const double deadline = monotonic_s() + kWaitMs / 1000.0;
    while (got.empty() && monotonic_s() < deadline) {
      pollfd p[2] = {{a.get(), POLLIN, 0}, {b.get(), POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      ++wakeups;
      for (const pollfd& q : p) {
        char buf[64];
        ssize_t n = 0;
        while ((q.revents & POLLIN) && (n = ::recv(q.fd, buf, sizeof buf, 0)) >= 0) {
          got.emplace_back(buf, static_cast<size_t>(n));
        }
      }
    }
    ASSERT_EQ(got.size(), 1u) << text << ": not received within " << kWaitMs << " ms";
    EXPECT_EQ(got[0], text);
    EXPECT_LE(wakeups, 4) << text;
  }
}

// The call sequence of dig (BIND 9.18 over libuv) for one query.
TEST(Epoll, DigStyleQuerySocket) {
  Fd s = udp_socket();
  const int omit = IP_PMTUDISC_OMIT;
  const int off = 0;
  const int on = 1;
  ASSERT_EQ(::setsockopt(s.get(), IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof omit), 0);
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &off, sizeof off), 0);
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on), 0);
  ASSERT_EQ(bind_to(s.get(), any_addr()), 0);
  ASSERT_EQ(connect_to(s.get(), env().peer), 0);
  int nb = 1;
  ASSERT_EQ(::ioctl(s.get(), FIONBIO, &nb), 0);
  Fd ep = epoll_with(s.get(), EPOLLIN);
  char query[] = "dig-style query";
  iovec v{query, sizeof query - 1};
  mmsghdr m{};
  m.msg_hdr.msg_iov = &v;
  m.msg_hdr.msg_iovlen = 1;
  ASSERT_EQ(::sendmmsg(s.get(), &m, 1, 0), 1) << std::strerror(errno);
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  char buf[64];
  sockaddr_in from{};
  iovec rv{buf, sizeof buf};
  msghdr r{};
  r.msg_name = &from;
  r.msg_namelen = sizeof from;
  r.msg_iov = &rv;
  r.msg_iovlen = 1;
  ASSERT_EQ(::recvmsg(s.get(), &r, 0), static_cast<ssize_t>(v.iov_len));
  EXPECT_TRUE(same_endpoint(from, env().peer));
  ASSERT_EQ(::epoll_ctl(ep.get(), EPOLL_CTL_DEL, s.get(), nullptr), 0);
}

// libuv before 1.45 (Debian 12 ships 1.44: dig, bind9, older Node.js) calls
// sendmmsg and recvmmsg through syscall(2), not through libc, after probing
// support with sendmmsg(fd, NULL, 0, 0). They must work all the same.
TEST(Syscall, RawSendmmsgRecvmmsgLikeLibuv) {
  Fd probe = udp_socket(SOCK_NONBLOCK | SOCK_CLOEXEC);
  EXPECT_EQ(::syscall(SYS_sendmmsg, probe.get(), nullptr, 0, 0), 0L) << std::strerror(errno);

  Fd s = udp_socket();
  ASSERT_EQ(bind_to(s.get(), any_addr()), 0);
  ASSERT_EQ(connect_to(s.get(), env().peer), 0);
  char one[] = "raw-one";
  char two[] = "raw-two!";
  iovec ov[2] = {{one, 7}, {two, 8}};
  mmsghdr om[2]{};
  for (int i = 0; i < 2; ++i) {
    om[i].msg_hdr.msg_iov = &ov[i];
    om[i].msg_hdr.msg_iovlen = 1;
  }
  ASSERT_EQ(::syscall(SYS_sendmmsg, s.get(), om, 2, 0), 2L) << std::strerror(errno);

  char in[2][32];
  sockaddr_in from[2]{};
  iovec iv[2] = {{in[0], sizeof in[0]}, {in[1], sizeof in[1]}};
  mmsghdr im[2]{};
  long got = 0;
  const double deadline = monotonic_s() + 2.0;
  while (got < 2 && monotonic_s() < deadline) {
    if (!readable(s.get(), 500)) {
      continue;
    }
    for (long i = got; i < 2; ++i) {
      im[i].msg_hdr.msg_name = &from[i];
      im[i].msg_hdr.msg_namelen = sizeof from[i];
      im[i].msg_hdr.msg_iov = &iv[i];
      im[i].msg_hdr.msg_iovlen = 1;
    }
    const long n = ::syscall(SYS_recvmmsg, s.get(), &im[got], 2 - got, MSG_DONTWAIT, nullptr);
    ASSERT_GT(n, 0L) << std::strerror(errno);
    got += n;
  }
  ASSERT_EQ(got, 2L);
  EXPECT_EQ(std::string(in[0], im[0].msg_len), "raw-one");
  EXPECT_EQ(std::string(in[1], im[1].msg_len), "raw-two!");
  EXPECT_TRUE(same_endpoint(from[0], env().peer));
  EXPECT_TRUE(same_endpoint(from[1], env().peer));
}

// ---- timeouts and signals -------------------------------------------------

TEST(Timeout, RcvtimeoEndsABlockingRecv) {
  Fd s = bound_socket();
  timeval tv{0, 300000};
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  timeval got{};
  socklen_t len = sizeof got;
  ASSERT_EQ(::getsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
  EXPECT_EQ(got.tv_sec, 0);
  EXPECT_NEAR(static_cast<double>(got.tv_usec), 300000.0, 10000.0);
  char buf[16];
  const double t0 = monotonic_s();
  errno = 0;
  EXPECT_EQ(::recv(s.get(), buf, sizeof buf, 0), -1);
  const double waited = monotonic_s() - t0;
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(waited, 0.3 * 0.8);
  EXPECT_LE(waited, 0.3 * 3);
  // A datagram within the timeout is returned.
  arrive_later(s.get(), "in time", 100);
  EXPECT_EQ(::recv(s.get(), buf, sizeof buf, 0), 7);
}

std::atomic<int> g_signals{0};
void count_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

// Installs a SIGUSR1 handler for the scope of a test.
class SignalHandler {
 public:
  explicit SignalHandler(int flags) {
    struct sigaction sa {};
    sa.sa_handler = count_signal;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    EXPECT_EQ(::sigaction(SIGUSR1, &sa, &old_), 0);
    g_signals = 0;
  }
  ~SignalHandler() { ::sigaction(SIGUSR1, &old_, nullptr); }
  SignalHandler(const SignalHandler&) = delete;
  SignalHandler& operator=(const SignalHandler&) = delete;

 private:
  struct sigaction old_ {};
};

// Signals `target` after delay_ms; if the target has not said it is done
// `rescue_ms` later, sends it a datagram through the peer so that a wrong
// implementation fails the test instead of hanging it.
class Interrupter {
 public:
  Interrupter(pthread_t target, int delay_ms, uint16_t rescue_port, int rescue_ms = 2500)
      : thread_([this, target, delay_ms, rescue_port, rescue_ms] {
          std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
          ::pthread_kill(target, SIGUSR1);
          for (int waited = 0; waited < rescue_ms && !done_; waited += 10) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          if (!done_) {
            Fd t = udp_socket();
            send_to(t.get(), peer_command("to=" + std::to_string(rescue_port), "rescue"), env().peer);
          }
        }) {}
  ~Interrupter() {
    done_ = true;
    thread_.join();
  }
  Interrupter(const Interrupter&) = delete;
  Interrupter& operator=(const Interrupter&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

TEST(Signal, BlockingRecvWithoutSaRestartIsInterrupted) {
  SignalHandler handler(0);
  Fd s = bound_socket();
  char buf[16];
  const double t0 = monotonic_s();
  ssize_t n = 0;
  int err = 0;
  {
    Interrupter intr(::pthread_self(), 200, local_port(s.get()));
    errno = 0;
    n = ::recv(s.get(), buf, sizeof buf, 0);
    err = errno;
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR) << std::strerror(err);
  EXPECT_EQ(g_signals.load(), 1);
  EXPECT_LT(monotonic_s() - t0, 1.5);
}

// With SA_RESTART and no timeout the kernel restarts recv: the handler runs
// and recv goes on waiting until the datagram comes.
TEST(Signal, BlockingRecvWithSaRestartIsRestarted) {
  SignalHandler handler(SA_RESTART);
  Fd s = bound_socket();
  arrive_later(s.get(), "after the signal", 700);
  char buf[32];
  ssize_t n = 0;
  {
    Interrupter intr(::pthread_self(), 200, local_port(s.get()));
    n = ::recv(s.get(), buf, sizeof buf, 0);
  }
  EXPECT_EQ(g_signals.load(), 1);
  ASSERT_EQ(n, 16) << std::strerror(errno);
  EXPECT_EQ(std::string(buf, 16), "after the signal");
}

// A socket with SO_RCVTIMEO is never restarted (signal(7)): EINTR even with SA_RESTART.
TEST(Signal, RecvWithTimeoutIsInterruptedEvenWithSaRestart) {
  SignalHandler handler(SA_RESTART);
  Fd s = bound_socket();
  timeval tv{2, 0};
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  char buf[16];
  const double t0 = monotonic_s();
  ssize_t n = 0;
  int err = 0;
  {
    Interrupter intr(::pthread_self(), 200, local_port(s.get()));
    errno = 0;
    n = ::recv(s.get(), buf, sizeof buf, 0);
    err = errno;
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR) << std::strerror(err);
  EXPECT_LT(monotonic_s() - t0, 1.5);
}

// poll is never restarted either.
TEST(Signal, PollIsInterruptedEvenWithSaRestart) {
  SignalHandler handler(SA_RESTART);
  Fd s = bound_socket();
  pollfd p{s.get(), POLLIN, 0};
  int n = 0;
  int err = 0;
  {
    Interrupter intr(::pthread_self(), 200, local_port(s.get()));
    errno = 0;
    n = ::poll(&p, 1, kWaitMs);
    err = errno;
  }
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR);
}

// Blocks SIGUSR1 in this thread for the scope; the old mask comes back at
// the end (a signal still pending then runs its handler).
class BlockSigusr1 {
 public:
  BlockSigusr1() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    EXPECT_EQ(::pthread_sigmask(SIG_BLOCK, &s, &old_), 0);
  }
  ~BlockSigusr1() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockSigusr1(const BlockSigusr1&) = delete;
  BlockSigusr1& operator=(const BlockSigusr1&) = delete;

 private:
  sigset_t old_;
};

bool sigusr1_pending() {
  sigset_t p;
  sigemptyset(&p);
  ::sigpending(&p);
  return sigismember(&p, SIGUSR1) == 1;
}

// The mask of ppoll/epoll_pwait replaces the thread's for the wait: a
// signal it blocks stays pending and does not end the wait; one it
// unblocks ends it with EINTR, at once when it was already pending.
// wait(mask, ms) runs the call on a socket that receives nothing.
void check_wait_mask(const std::function<int(const sigset_t*, int)>& wait, uint16_t rescue_port) {
  SignalHandler handler(0);
  BlockSigusr1 block;
  sigset_t blocked;
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, nullptr, &blocked), 0);
  ASSERT_EQ(sigismember(&blocked, SIGUSR1), 1);
  sigset_t unblocked = blocked;
  sigdelset(&unblocked, SIGUSR1);

  // Blocked by the call's mask: the wait runs to its timeout.
  int rc = 0;
  int err = 0;
  {
    Interrupter intr(::pthread_self(), 100, rescue_port, 5000);
    errno = 0;
    rc = wait(&blocked, 500);
    err = errno;
  }
  EXPECT_EQ(rc, 0) << std::strerror(err);
  EXPECT_EQ(g_signals.load(), 0) << "the handler ran although the mask blocked the signal";
  EXPECT_TRUE(sigusr1_pending());

  // Pending, and the call's mask unblocks it: EINTR at once.
  const double t0 = monotonic_s();
  errno = 0;
  rc = wait(&unblocked, kWaitMs);
  err = errno;
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EINTR) << std::strerror(err);
  EXPECT_LT(monotonic_s() - t0, 1.0);
  EXPECT_EQ(g_signals.load(), 1);
  EXPECT_FALSE(sigusr1_pending());

  // Arriving during the wait, unblocked by the call's mask: EINTR.
  {
    Interrupter intr(::pthread_self(), 200, rescue_port);
    errno = 0;
    rc = wait(&unblocked, kWaitMs);
    err = errno;
  }
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EINTR) << std::strerror(err);
  EXPECT_EQ(g_signals.load(), 2);
}

TEST(Signal, PpollMaskDecidesWhatInterrupts) {
  Fd s = bound_socket();
  check_wait_mask(
      [&](const sigset_t* mask, int ms) {
    pollfd p{s.get(), POLLIN, 0};
    timespec t{ms / 1000, (ms % 1000) * 1'000'000L};
    return ::ppoll(&p, 1, &t, mask);
      },
      local_port(s.get()));
}

TEST(Signal, EpollPwaitMaskDecidesWhatInterrupts) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN);
  check_wait_mask(
      [&](const sigset_t* mask, int ms) {
    epoll_event ev[4];
    return ::epoll_pwait(ep.get(), ev, 4, ms, mask);
      },
      local_port(s.get()));
}

// ---- shutdown -------------------------------------------------------------
// A common way to stop a receiver thread: shutdown() wakes its blocked recv,
// which returns 0. Linux does it even on an unconnected socket, where
// shutdown() itself fails with ENOTCONN but still marks the socket shut down.

// Blocks a thread in recv on fd, calls shutdown(fd, how) 200 ms later and
// returns {shutdown's result, its errno, recv's result, seconds recv took
// after the shutdown}.
struct ShutdownResult {
  int rc;
  int err;
  ssize_t recv_result;
  double recv_delay;
};
ShutdownResult shutdown_blocked_reader(int fd, int how) {
  timeval tv{3, 0};  // a bound in case the wake-up never comes
  EXPECT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  std::atomic<ssize_t> result{-2};
  std::atomic<double> returned_at{0};
  std::thread reader([&] {
    char buf[16];
    result = ::recv(fd, buf, sizeof buf, 0);
    returned_at = monotonic_s();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double t0 = monotonic_s();
  errno = 0;
  const int rc = ::shutdown(fd, how);
  const int err = errno;
  reader.join();
  return {rc, err, result.load(), returned_at.load() - t0};
}

TEST(Shutdown, ConnectedReadShutdownWakesABlockedRecv) {
  Fd s = udp_socket();
  ASSERT_EQ(connect_to(s.get(), env().peer), 0);
  const ShutdownResult r = shutdown_blocked_reader(s.get(), SHUT_RD);
  EXPECT_EQ(r.rc, 0) << std::strerror(r.err);
  EXPECT_EQ(r.recv_result, 0);
  EXPECT_LT(r.recv_delay, 1.0);
  // Readable (and RDHUP) from now on; a blocking recv returns 0 at once...
  EXPECT_EQ(wait_for(s.get(), POLLIN | POLLRDHUP, 0), POLLIN | POLLRDHUP);
  char buf[4];
  const double t0 = monotonic_s();
  EXPECT_EQ(::recv(s.get(), buf, sizeof buf, 0), 0);
  EXPECT_LT(monotonic_s() - t0, 1.0);
  // ...but a nonblocking one says EAGAIN (Linux checks the shutdown only
  // on the way to sleeping).
  errno = 0;
  EXPECT_EQ(::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  // Sending still works.
  EXPECT_EQ(::send(s.get(), "x", 1, 0), 1);
}

TEST(Shutdown, UnconnectedFailsWithEnotconnButStillWakesTheReader) {
  Fd s = bound_socket();
  const ShutdownResult r = shutdown_blocked_reader(s.get(), SHUT_RDWR);
  EXPECT_EQ(r.rc, -1);
  EXPECT_EQ(r.err, ENOTCONN);
  EXPECT_EQ(r.recv_result, 0) << "the blocked recv was not woken";
  EXPECT_LT(r.recv_delay, 1.0);
  EXPECT_EQ(wait_for(s.get(), POLLIN | POLLRDHUP, 0), POLLIN | POLLRDHUP | POLLHUP);
}

// ---- threads --------------------------------------------------------------

TEST(Threads, FourSendersTwoReceiversNoDuplicates) {
  constexpr int kSenders = 4;
  constexpr int kPerSender = 500;
  constexpr int kTotal = kSenders * kPerSender;
  constexpr int kWindow = 128;  // datagrams in flight, so no queue overflows by design
  Fd s = bound_socket();
  int big = 1 << 20;
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  timeval tv{0, 200000};
  ASSERT_EQ(::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);

  std::vector<std::atomic<int>> seen(kTotal);
  std::atomic<int> sent{0};
  std::atomic<int> received{0};
  std::atomic<int> duplicates{0};
  std::atomic<int> malformed{0};
  std::atomic<int> senders_done{0};
  std::atomic<double> last_rx{monotonic_s()};
  const double deadline = monotonic_s() + 20.0;

  std::vector<std::thread> threads;
  for (int t = 0; t < kSenders; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerSender && monotonic_s() < deadline; ++i) {
        const double wait_until = monotonic_s() + 1.0;  // losses must not stall the window
        while (sent - received >= kWindow && monotonic_s() < wait_until) {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        const int id = t * kPerSender + i;
        std::string msg = pattern(32, static_cast<unsigned>(id));
        std::memcpy(msg.data(), &id, sizeof id);
        if (::sendto(s.get(), msg.data(), msg.size(), 0, sa(&env().peer), sizeof env().peer) == 32) {
          ++sent;
        }
      }
      ++senders_done;
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      char buf[64];
      while (received < kTotal && monotonic_s() < deadline) {
        if (senders_done == kSenders && monotonic_s() - last_rx > 1.0) {
          break;
        }
        const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
        if (n < 0) {
          continue;  // the 200 ms timeout: look at the stop conditions again
        }
        int id = -1;
        std::memcpy(&id, buf, sizeof id);
        if (n != 32 || id < 0 || id >= kTotal) {
          ++malformed;
          continue;
        }
        std::string want = pattern(32, static_cast<unsigned>(id));
        std::memcpy(want.data(), &id, sizeof id);
        if (std::string(buf, 32) != want) {
          ++malformed;
        }
        if (seen[static_cast<size_t>(id)].fetch_add(1) != 0) {
          ++duplicates;
        }
        ++received;
        last_rx = monotonic_s();
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(sent.load(), kTotal);
  EXPECT_EQ(duplicates.load(), 0);
  EXPECT_EQ(malformed.load(), 0);
  EXPECT_GE(received.load(), kTotal * 9 / 10) << "received " << received.load() << " of " << kTotal;
  std::printf("threads: sent %d received %d\n", sent.load(), received.load());
}

// close() of a socket while another thread waits on it: Linux does not
// wake the waiter. A poll ends at its timeout reporting POLLNVAL (the fd
// is looked up again then); an epoll_wait ends at its timeout with nothing
// (the last close took the socket out of the set).
struct BlockedWaitResult {
  int rc = -2;
  int err = 0;
  short revents = 0;
};
BlockedWaitResult close_under_a_blocked_wait(bool use_epoll) {
  Fd s = bound_socket();
  Fd ep = epoll_with(s.get(), EPOLLIN);
  BlockedWaitResult r;
  // The numbers, not the Fd objects: s.reset() below writes s.
  const int sfd = s.get();
  const int epfd = ep.get();
  std::thread waiter([&r, use_epoll, sfd, epfd] {
    if (use_epoll) {
      epoll_event ev[4]{};
      r.rc = ::epoll_wait(epfd, ev, 4, 1000);
    } else {
      pollfd p{sfd, POLLIN, 0};
      r.rc = ::poll(&p, 1, 1000);
      r.revents = p.revents;
    }
    r.err = errno;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double t0 = monotonic_s();
  s.reset();
  waiter.join();  // bounded: the wait's own 1 s timeout
  EXPECT_LT(monotonic_s() - t0, 3.0);
  return r;
}

TEST(Threads, CloseUnderABlockedPoll) {
  const BlockedWaitResult r = close_under_a_blocked_wait(false);
  EXPECT_EQ(r.rc, 1) << std::strerror(r.err);
  EXPECT_EQ(r.revents, POLLNVAL);
}

TEST(Threads, CloseUnderABlockedEpollWait) {
  const BlockedWaitResult r = close_under_a_blocked_wait(true);
  EXPECT_EQ(r.rc, 0) << std::strerror(r.err);
}

// ---- fork -----------------------------------------------------------------

int wait_child(pid_t pid) {
  int status = -1;
  for (int i = 0; i < 500; ++i) {  // at most 5 s
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  ADD_FAILURE() << "child " << pid << " did not exit within 5 s";
  return -1;
}

TEST(Fork, ChildExitsParentSocketKeepsWorking) {
  Fd s = bound_socket();
  Fd c = udp_socket();
  ASSERT_EQ(connect_to(c.get(), env().peer), 0);
  ASSERT_EQ(echo(s.get(), "before fork"), "before fork");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::_exit(0);
  }
  EXPECT_EQ(wait_child(pid), 0);
  EXPECT_EQ(echo(s.get(), "after fork"), "after fork");
  ASSERT_EQ(::send(c.get(), "connected", 9, 0), 9);
  EXPECT_EQ(recv_one(c.get()), "connected");
}

TEST(Fork, ForkExecTrue) {
  Fd s = bound_socket();
  ASSERT_EQ(echo(s.get(), "before exec"), "before exec");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl("/bin/true", "true", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  EXPECT_EQ(wait_child(pid), 0);
  EXPECT_EQ(echo(s.get(), "after exec"), "after exec");
}

// The child of a fork waits on the epoll set it inherited and sees the
// socket become readable. The datagram comes over loopback, which reaches
// the socket in the child too (under the shim a forked child runs on the
// kernel; bypass traffic keeps going to the parent, docs/compatibility.md).
// The parent's own set keeps working afterwards.
TEST(Fork, ChildWaitsOnTheInheritedEpollSet) {
  Fd s = bound_socket();
  const uint16_t port = local_port(s.get());
  Fd ep = epoll_with(s.get(), EPOLLIN);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    epoll_event ev[4]{};
    const int n = ::epoll_wait(ep.get(), ev, 4, kWaitMs);
    if (n != 1) ::_exit(n == 0 ? 10 : 11);
    if (ev[0].data.fd != s.get() || ev[0].events != static_cast<uint32_t>(EPOLLIN)) ::_exit(12);
    char buf[32];
    const ssize_t got = ::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT);
    ::_exit(got == 9 && std::memcmp(buf, "to child!", 9) == 0 ? 0 : 13);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Fd t = udp_socket();
  ASSERT_TRUE(send_to(t.get(), "to child!", loopback_addr(port)));
  EXPECT_EQ(wait_child(pid), 0)
      << "10: no event in the child, 11: epoll_wait failed, 12: wrong event, 13: wrong datagram";
  EXPECT_EQ(wait_event(ep.get(), 0, s.get()), 0u) << "the child took the datagram";
  ASSERT_TRUE(send_to(s.get(), "parent again", env().peer));
  EXPECT_EQ(wait_event(ep.get(), kWaitMs, s.get()), static_cast<uint32_t>(EPOLLIN));
  EXPECT_EQ(recv_one(s.get(), 0), "parent again");
}

}  // namespace
}  // namespace udptest
