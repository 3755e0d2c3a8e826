// Readiness and blocking: poll/ppoll/select/pselect, epoll (level, EPOLLET,
// EPOLLONESHOT, one fd in two sets, nested), receive timeouts, signals,
// shutdown, many threads on one socket, and fork.
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
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

}  // namespace
}  // namespace udptest
