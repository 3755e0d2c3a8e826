// The adaptive poller over the in-memory pair backend: it delivers, it
// goes to sleep when idle, and a frame or a loopback send wakes it.
#include <gtest/gtest.h>

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

struct PollerFixture : ::testing::Test, test::TwoStacks {
  PollerFixture() {
    PollerConfig pc;
    pc.busy_poll_ns = 0;            // sleep as soon as idle
    // Long: a test that passes must have been woken by the event, never
    // by the timer.
    pc.timer_period_ns = 10'000'000'000;
    da = std::make_unique<Drivers>(*a, 1);
    db = std::make_unique<Drivers>(*b, 1);
    pa = std::make_unique<Poller>(*a, *pair.a, *da, 0, pc);
    pb = std::make_unique<Poller>(*b, *pair.b, *db, 0, pc);
    a->set_poller_waker(pa.get());
    b->set_poller_waker(pb.get());
    pa->start();
    pb->start();
  }
  ~PollerFixture() override {
    pa->stop();
    pb->stop();
  }

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
  ASSERT_TRUE(eventually([&] { return pa->sleeps() > 0; }));
  stack::UdpSocket* server = a->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 6000}), 0);
  stack::UdpSocket* client = a->open_udp();
  ASSERT_EQ(send_str(client, "to myself", {Ipv4Addr(198, 18, 0, 1), 6000}), 9);
  std::string got;
  // Bounded far below the timer period (10 s): only the wake delivers it.
  ASSERT_TRUE(eventually([&] { return !(got = recv_str(server)).empty(); }, 1000ms));
  EXPECT_EQ(got, "to myself");
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
