// Real threads: pollers on both sides, several app threads sending and
// receiving on one socket. Nothing lost without a count, nothing twice.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::DropReason;
using stack::Endpoint;
using stack::UdpSocket;

TEST_F(TwoStacks, ManyThreadsOneSocketNoLossNoDuplicates) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 9999}), 0);
  server->set_rcvbuf(1u << 30);
  // Resolve ARP first so the threads measure the steady state.
  UdpSocket* warm = a_->open_udp();
  Endpoint dst{kIpB, 9999};
  ASSERT_EQ(send_string(warm, "warm", &dst), 4);
  pump();
  ASSERT_EQ(recv_string(server).data, "warm");

  constexpr int kSenders = 4;
  constexpr int kReceivers = 2;
  constexpr uint32_t kPerSender = 20000;
  std::atomic<bool> stop{false};
  std::thread poll_a([&] {
    while (!stop.load()) a_->poll(0);
  });
  std::thread poll_b([&] {
    while (!stop.load()) b_->poll(0);
  });

  std::atomic<uint64_t> send_errors{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t) {
    senders.emplace_back([&, t] {
      UdpSocket* s = a_->open_udp();
      for (uint32_t i = 0; i < kPerSender; ++i) {
        uint32_t id = static_cast<uint32_t>(t) * kPerSender + i;
        iovec iov{&id, sizeof id};
        int64_t rc;
        // ENOBUFS is the pool running dry while receivers catch up: retry,
        // as an app would after the error.
        while ((rc = s->send({&iov, 1}, &dst)) == -ENOBUFS) std::this_thread::yield();
        if (rc != sizeof id) send_errors++;
      }
    });
  }

  std::vector<std::atomic<uint8_t>> seen(kSenders * kPerSender);
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> duplicates{0};
  constexpr uint64_t kTotal = uint64_t{kSenders} * kPerSender;
  // Every datagram a send() accepted is either received or counted as
  // dropped. tx_no_buffer is not among them: that send() failed with
  // ENOBUFS and the sender tried again.
  auto counted_drops = [&] {
    auto ca = a_->counters();
    auto cb = b_->counters();
    uint64_t n = 0;
    for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
      if (static_cast<DropReason>(i) != DropReason::kTxNoBuffer) n += ca.drops[i] + cb.drops[i];
    }
    return n;
  };
  std::vector<std::thread> receivers;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int t = 0; t < kReceivers; ++t) {
    receivers.emplace_back([&] {
      while (std::chrono::steady_clock::now() < deadline && received.load() + counted_drops() < kTotal) {
        uint32_t id;
        iovec iov{&id, sizeof id};
        if (server->recv({&iov, 1}, nullptr, 0) == sizeof id) {
          if (seen[id].fetch_add(1) != 0) duplicates++;
          received++;
        }
      }
    });
  }
  for (auto& s : senders) s.join();
  for (auto& r : receivers) r.join();
  stop = true;
  poll_a.join();
  poll_b.join();

  auto ca = a_->counters();
  auto cb = b_->counters();
  std::string breakdown;
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    uint64_t d = ca.drops[i] + cb.drops[i];
    if (d != 0) {
      breakdown += std::string(stack::drop_reason_name(static_cast<DropReason>(i))) + "=" + std::to_string(d) + " ";
    }
  }
  EXPECT_EQ(send_errors.load(), 0u);
  EXPECT_EQ(duplicates.load(), 0u);
  EXPECT_EQ(received.load() + counted_drops(), kTotal)
      << "received " << received.load() << ", counted drops: " << breakdown << " still queued "
      << server->stats().queued_datagrams << ", on the wire " << pair_.b->rx_pending(0);
}

TEST_F(TwoStacks, CloseWhilePollerDeliversIsSafe) {
  std::atomic<bool> stop{false};
  std::thread poll_b([&] {
    while (!stop.load()) {
      b_->poll(0);
      b_->on_timer();
    }
  });
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kIpB, 8888};
  for (int round = 0; round < 200; ++round) {
    UdpSocket* s = b_->open_udp();
    ASSERT_EQ(s->bind({Ipv4Addr::any(), 8888}), 0);
    for (int i = 0; i < 20; ++i) {
      send_string(client, "data", &dst);
      a_->poll(0);
    }
    s->close();
  }
  stop = true;
  poll_b.join();
  b_->on_timer();
  EXPECT_EQ(b_->reclaimer().pending(), 0u);
}

}  // namespace
}  // namespace dpdkudp::test
