// Who drives a queue: application threads in a wait (run to completion) and
// the poller as the backstop, over the in-memory pair backend.
#include "engine/driver.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "engine/poller.h"
#include "stack/net/clock.h"
#include "tests/support/stack_pair.h"

namespace dpdkudp::engine {
namespace {

using namespace std::chrono_literals;
using stack::Endpoint;
using wire::Ipv4Addr;

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// Only b is driven here: a knows b's MAC without ARP.
struct DriverFixture : ::testing::Test, test::TwoStacks {
  DriverFixture() : TwoStacks(Arp::kAKnowsB) {
    db = std::make_unique<Drivers>(*b, 1);
    server = b->open_udp();
    EXPECT_EQ(server->bind({Ipv4Addr::any(), 5000}), 0);
    client = a->open_udp();
  }
  void send_one() {
    char payload[] = "x";
    iovec iov{payload, 1};
    Endpoint dst{Ipv4Addr(198, 18, 0, 2), 5000};
    ASSERT_EQ(client->send({&iov, 1}, &dst), 1);
  }

  std::unique_ptr<Drivers> db;
  stack::UdpSocket* server = nullptr;
  stack::UdpSocket* client = nullptr;
};

TEST_F(DriverFixture, OneDriverPerQueue) {
  send_one();
  bool busy = false;
  // Another thread holds the queue: this one takes nothing and says so.
  db->with_queue(0, [&] { EXPECT_EQ(db->try_drive(0, &busy), 0u); });
  EXPECT_TRUE(busy);
  EXPECT_FALSE(server->has_data());
  EXPECT_EQ(db->try_drive(0, &busy), 1u);
  EXPECT_FALSE(busy);
  EXPECT_TRUE(server->has_data());
}

TEST_F(DriverFixture, ADeliveryWakesARegisteredSleeper) {
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  std::thread sleeper([&] {
    int slot = db->register_sleeper(efd, true);
    ASSERT_GE(slot, 0);
    pollfd p{efd, POLLIN, 0};
    // Without the driver's wake this sleeps the whole 5 s.
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    db->unregister_sleeper(slot);
  });
  while (!db->has_sleepers()) std::this_thread::yield();
  send_one();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(db->drive_all_from_app(now_ns()), 1u);  // this thread drives; the sleeper is told
  sleeper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(db->sleeper_wakes(), 1u);
  ::close(efd);
}

TEST_F(DriverFixture, NothingDeliveredWakesNobody) {
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int slot = db->register_sleeper(efd, true);
  std::thread other([&] { EXPECT_EQ(db->try_drive(0), 0u); });
  other.join();
  EXPECT_EQ(db->sleeper_wakes(), 0u);
  db->unregister_sleeper(slot);
  EXPECT_FALSE(db->has_sleepers());
  ::close(efd);
}

TEST_F(DriverFixture, TheApplicationCoversAQueueUntilItHandsItBack) {
  EXPECT_FALSE(db->app_covers(0, now_ns()));
  uint64_t t = now_ns();
  db->drive_all_from_app(t);
  EXPECT_TRUE(db->app_covers(0, t + 1000));
  EXPECT_FALSE(db->app_covers(0, t + Drivers::kAppGraceNs + 1)) << "grace period over: the poller takes it";
  db->drive_all_from_app(t);
  db->hand_back();
  EXPECT_FALSE(db->app_covers(0, t + 1000)) << "handed back: at once";
  int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  int slot = db->register_sleeper(efd, /*covers_queues=*/true);
  EXPECT_TRUE(db->app_covers(0, t + 10 * Drivers::kAppGraceNs)) << "asleep on the queue's wait fd";
  db->unregister_sleeper(slot);
  slot = db->register_sleeper(efd, /*covers_queues=*/false);
  EXPECT_FALSE(db->app_covers(0, t + 10 * Drivers::kAppGraceNs)) << "asleep where it cannot see the queue";
  db->unregister_sleeper(slot);
  ::close(efd);
}

// The poller steps back while the application covers the queue and takes
// over once it stops.
TEST_F(DriverFixture, ThePollerIsTheBackstop) {
  PollerConfig pc;
  pc.busy_poll_ns = 0;
  // Its timer wakes it every 20 ms: a frame alone may not. The pair
  // backend's wait fd is an eventfd that whichever thread runs an empty
  // rx_burst after a wake-up clears, so the application's next drive can
  // clear it before the sleeping poller sees it (a kernel wait fd stays
  // readable while frames wait; the pair's does not).
  pc.timer_period_ns = 20'000'000;
  pc.yield_to_app = true;
  Poller poller(*b, *pair.b, *db, 0, pc);
  b->set_poller_waker(&poller);
  db->set_poller_kick([&](uint16_t) { poller.kick(); });
  poller.start();
  // The application drives (every 100 us) for 50 ms, a frame in the
  // middle: whenever the poller wakes (the frame, its timer), it finds the
  // queue covered and steps back.
  auto start = std::chrono::steady_clock::now();
  bool sent = false;
  while (std::chrono::steady_clock::now() < start + 50ms) {
    if (!sent && std::chrono::steady_clock::now() > start + 10ms) {
      send_one();
      sent = true;
    }
    db->drive_all_from_app(now_ns());
    std::this_thread::sleep_for(100us);
  }
  EXPECT_GT(poller.yields(), 0u);
  char buf[8];
  iovec iov{buf, sizeof buf};
  ASSERT_EQ(server->recv({&iov, 1}, nullptr, 0), 1) << "delivered while the application drove";
  ASSERT_FALSE(server->has_data());
  // It stops and hands back: the next frame is delivered by the poller.
  db->hand_back();
  send_one();
  auto t0 = std::chrono::steady_clock::now();
  while (!server->has_data() && std::chrono::steady_clock::now() - t0 < 2s) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(server->has_data());
  poller.stop();
  b->set_poller_waker(nullptr);
}

}  // namespace
}  // namespace dpdkudp::engine
