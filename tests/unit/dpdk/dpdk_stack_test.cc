// The stack itself over DPDK: two stacks on the crossed net_ring pair (what
// one port sends the other receives), mbufs travelling by reference from
// one stack's TX to the other's socket queue and back to their pool.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "backends/dpdk/dpdk_backend.h"
#include "stack/net/stack.h"
#include "tests/unit/dpdk/dpdk_test_env.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

using stack::Endpoint;
using stack::UdpSocket;

class StacksOverDpdk : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    a_backend_ = DpdkBackend::open(test_config(dpdk_env().pair_a), &error);
    ASSERT_NE(a_backend_, nullptr) << error;
    b_backend_ = DpdkBackend::open(test_config(dpdk_env().pair_b), &error);
    ASSERT_NE(b_backend_, nullptr) << error;
    a_free_ = a_backend_->pool_available();
    b_free_ = b_backend_->pool_available();
    a_ = std::make_unique<stack::Stack>(*a_backend_, config_for(kIpA), clock_);
    b_ = std::make_unique<stack::Stack>(*b_backend_, config_for(kIpB), clock_);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (a_backend_ && b_backend_) {
      // Every mbuf home again: nothing leaked on either side.
      EXPECT_EQ(a_backend_->pool_available(), a_free_);
      EXPECT_EQ(b_backend_->pool_available(), b_free_);
    }
  }
  void pump() {
    for (int i = 0; i < 1000; ++i) {
      const size_t n = a_->poll(0) + b_->poll(0);
      if (n == 0 && i > 0) return;
    }
  }

  stack::ManualClock clock_;
  std::unique_ptr<DpdkBackend> a_backend_;
  std::unique_ptr<DpdkBackend> b_backend_;
  uint32_t a_free_ = 0;
  uint32_t b_free_ = 0;
  std::unique_ptr<stack::Stack> a_;
  std::unique_ptr<stack::Stack> b_;
};

TEST_F(StacksOverDpdk, ArpThenEchoOfEverySize) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({Ipv4Addr::any(), 7}), 0);
  UdpSocket* client = a_->open_udp();
  ASSERT_EQ(client->connect({kIpB, 7}), 0);
  size_t echoed = 0;
  for (size_t size = 1; size <= 1472; size += 13) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 31 + size) & 0xff);
    ASSERT_EQ(send_string(client, payload), static_cast<int64_t>(size));
    pump();
    Received got = recv_string(server);
    ASSERT_EQ(got.data, payload) << "size " << size;
    EXPECT_EQ(got.info.source.addr, kIpA);
    ASSERT_EQ(send_string(server, got.data, &got.info.source), static_cast<int64_t>(size));
    pump();
    ASSERT_EQ(recv_string(client).data, payload) << "size " << size;
    ++echoed;
  }
  EXPECT_EQ(a_->neighbors().lookup(kIpB, clock_.monotonic_ns()), b_backend_->mac());
  EXPECT_EQ(a_->counters().drops, (stack::CounterSnapshot{}.drops));
  EXPECT_EQ(b_->counters().drops, (stack::CounterSnapshot{}.drops));
  EXPECT_GE(b_backend_->stats().rx_packets, echoed);
}

TEST_F(StacksOverDpdk, DatagramsWaitOnTheSocketInTheirMbufs) {
  UdpSocket* server = b_->open_udp();
  ASSERT_EQ(server->bind({kIpB, 9000}), 0);
  UdpSocket* client = a_->open_udp();
  Endpoint dst{kIpB, 9000};
  ASSERT_EQ(send_string(client, "prime", &dst), 5);  // ARP first
  pump();
  ASSERT_EQ(recv_string(server).data, "prime");
  const uint32_t a_free = a_backend_->pool_available();
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(send_string(client, "queued " + std::to_string(i), &dst),
              static_cast<int64_t>(7 + std::to_string(i).size()));
  }
  pump();
  // The 50 datagrams sit on b's socket in a's mbufs (no copy on the way);
  // the sending thread's buffer cache (up to 32) blurs the count a little.
  EXPECT_LE(a_backend_->pool_available() + 50, a_free + 32);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(recv_string(server).data, "queued " + std::to_string(i));
  }
}

}  // namespace
}  // namespace dpdkudp::test
