// The adaptive poller over the in-memory pair backend: it delivers, it
// goes to sleep when idle, and a frame or a loopback send wakes it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "backends/pair/pair_backend.h"
#include "engine/poller.h"
#include "tests/support/stack_pair.h"

namespace dpdkudp::engine {
namespace {

using namespace std::chrono_literals;
using stack::Endpoint;
using wire::Ipv4Addr;

// Waits (bounded) for cond; false on timeout.
template <typename F>
bool eventually(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

// The pollers' timer period, and how long a test waits for an event to be
// delivered: far apart, so a test that passes was woken by the event, never
// by the timer.
constexpr std::chrono::nanoseconds kTimerPeriod = 10s;
constexpr std::chrono::milliseconds kDeliveryBound = 1000ms;
static_assert(kDeliveryBound * 5 <= kTimerPeriod);

struct PollerFixture : ::testing::Test, test::TwoStacks {
  PollerFixture() {
    PollerConfig pc;
    pc.busy_poll_ns = 0;  // sleep as soon as idle
    pc.timer_period_ns = static_cast<uint64_t>(kTimerPeriod.count());
    da = std::make_unique<Drivers>(*a, 1);
    db = std::make_unique<Drivers>(*b, 1);
    pa = std::make_unique<Poller>(*a, *pair.a, *da, 0, pc);
    pb = std::make_unique<Poller>(*b, *pair.b, *db, 0, pc);
    pa->set_timer_hook([this] { a_timer_runs.fetch_add(1); });
    a->set_poller_waker(pa.get());
    b->set_poller_waker(pb.get());
    pa->start();
    pb->start();
  }
  ~PollerFixture() override {
    pa->stop();
    pb->stop();
  }

  std::atomic<uint64_t> a_timer_runs{0};  // pa's timer: once at start, then every kTimerPeriod
  std::unique_ptr<Drivers> da, db;
  std::unique_ptr<Poller> pa, pb;
};

int64_t send_str(stack::UdpSocket* s, const std::string& text, const Endpoint& dst) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  return s->send({&iov, 1}, &dst);
}

std::string recv_str(stack::UdpSocket* s) {
  char buf[256];
  iovec iov{buf, sizeof buf};
  int64_t n = s->recv({&iov, 1}, nullptr, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

TEST_F(PollerFixture, IdlePollersSleepAndFramesWakeThem) {
  ASSERT_TRUE(eventually([&] { return pa->sleeps() > 0 && pb->sleeps() > 0; }));
  stack::UdpSocket* server = b->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 5000}), 0);
  stack::UdpSocket* client = a->open_udp();
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(send_str(client, "ping " + std::to_string(i), {Ipv4Addr(198, 18, 0, 2), 5000}), 6 + (i > 9));
    std::string got;
    ASSERT_TRUE(eventually([&] { return !(got = recv_str(server)).empty(); })) << "datagram " << i;
    EXPECT_EQ(got, "ping " + std::to_string(i));
    std::this_thread::sleep_for(2ms);  // let the pollers fall asleep again
  }
  EXPECT_GT(pb->wakeups(), 10u);  // woken by the backend's fd, not by spinning
}

TEST_F(PollerFixture, LoopbackSendWakesTheSleepingPoller) {
  // Asleep after its first timer run, with the next one kTimerPeriod away.
  ASSERT_TRUE(eventually([&] { return pa->sleeps() > 0; }));
  const uint64_t timer_runs = a_timer_runs.load();
  stack::UdpSocket* server = a->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 6000}), 0);
  stack::UdpSocket* client = a->open_udp();
  ASSERT_EQ(send_str(client, "to myself", {Ipv4Addr(198, 18, 0, 1), 6000}), 9);
  std::string got;
  // Only the wake delivers it within the bound; and the timer did not run
  // in between (the poller did not wake on its own).
  ASSERT_TRUE(eventually([&] { return !(got = recv_str(server)).empty(); }, kDeliveryBound));
  EXPECT_EQ(got, "to myself");
  EXPECT_EQ(a_timer_runs.load(), timer_runs) << "delivered by a timer run, not by the wake-up";
}

TEST_F(PollerFixture, StopIsIdempotentAndLeavesTheStackUsable) {
  pa->stop();
  pa->stop();
  stack::UdpSocket* s = a->open_udp();
  EXPECT_EQ(s->bind({Ipv4Addr::any(), 7000}), 0);
  a->poll(0);  // the caller may drive it by hand after the poller stopped
}

}  // namespace
}  // namespace dpdkudp::engine
