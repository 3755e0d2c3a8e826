// Two stacks over a bad link (the fault-injecting backend around each side
// of the in-memory pair): datagrams are lost, duplicated, reordered,
// truncated and damaged, ARP requests and replies with them. What must hold
// is what holds on Linux: a datagram delivered is a datagram sent, whole;
// every frame taken in is delivered, consumed or counted under a drop
// reason; ARP recovers from lost replies; no buffer leaks.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "backends/fault/fault_backend.h"
#include "backends/pair/pair_backend.h"
#include "stack/net/stack.h"
#include "tests/unit/stack/stack_fixture.h"

namespace dpdkudp::test {
namespace {

constexpr uint16_t kPort = 5300;

// The payload of datagram seq: its number, then bytes that follow from it,
// up to 1400 bytes in all.
std::string payload_of(uint32_t seq) {
  std::string s = "seq=" + std::to_string(seq) + ";";
  const size_t len = std::max<size_t>(s.size(), 1 + (seq * 7919u) % 1400);
  for (uint32_t i = 0; s.size() < len; ++i) s.push_back(static_cast<char>('a' + (seq + i * 31) % 26));
  s.resize(len);
  return s;
}
// The number a payload claims (-1: none), for checking it whole.
long seq_of(const std::string& p) {
  if (p.rfind("seq=", 0) != 0) return -1;
  return std::strtol(p.c_str() + 4, nullptr, 10);
}

const wire::Ipv6Addr kIp6A{0x2001, 2, 0, 0, 0, 0, 0, 0xa};
const wire::Ipv6Addr kIp6B{0x2001, 2, 0, 0, 0, 0, 0, 0xb};

class BadLink : public ::testing::Test {
 protected:
  // With IPv6 addresses too (2001:2::a and ::b), for NDP.
  void build(const FaultSpec& a_faults, const FaultSpec& b_faults) {
    pair_ = make_pair(pair_config());
    pool_ = &pair_.a->pool();
    a_backend_ = std::make_unique<FaultBackend>(std::move(pair_.a), a_faults);
    b_backend_ = std::make_unique<FaultBackend>(std::move(pair_.b), b_faults);
    stack::StackConfig ca = config_for(kIpA), cb = config_for(kIpB);
    ca.addresses6 = {wire::Ipv6Cidr{kIp6A, 64}};
    cb.addresses6 = {wire::Ipv6Cidr{kIp6B, 64}};
    a_ = std::make_unique<stack::Stack>(*a_backend_, ca, clock_);
    b_ = std::make_unique<stack::Stack>(*b_backend_, cb, clock_);
  }

  void TearDown() override {
    a_.reset();
    b_.reset();
    // The pool goes with the last side: look at it while both live.
    if (pool_ != nullptr) {
      a_backend_->release_held();
      b_backend_->release_held();
      EXPECT_EQ(pool_->in_use(), 0u) << "packet buffers leaked";
    }
  }
  void pump() {
    for (int i = 0; i < 1000; ++i) {
      if (a_->poll(0) + b_->poll(0) == 0 && i > 0) return;
    }
  }
  void tick(uint64_t ns) {
    clock_.advance(ns);
    a_->on_timer();
    b_->on_timer();
    pump();
  }

  // For the helpers outside the fixture.
 public:
  void rebuild(const FaultSpec& a_faults) {
    b_.reset();
    a_.reset();
    if (pool_ != nullptr) {
      a_backend_->release_held();
      b_backend_->release_held();
      EXPECT_EQ(pool_->in_use(), 0u) << "packet buffers leaked";
    }
    build(a_faults, FaultSpec{});
  }
  stack::Stack* a() { return a_.get(); }
  stack::Stack* b() { return b_.get(); }
  FaultBackend& a_faults() { return *a_backend_; }
  void pump_both() { pump(); }
  void tick_both(uint64_t ns) { tick(ns); }

 protected:
  stack::ManualClock clock_;
  BackendPair pair_;
  PacketPool* pool_ = nullptr;
  std::unique_ptr<FaultBackend> a_backend_, b_backend_;
  std::unique_ptr<stack::Stack> a_, b_;
};

TEST_F(BadLink, DatagramsAreLostNeverDamagedAndEveryFrameHasAFate) {
  FaultSpec faults;
  faults.rx.p = {0.05, 0.05, 0.05, 0, 0.05, 0.10};  // drop dup reorder delay truncate corrupt
  faults.tx.p = {0.05, 0.05, 0.05, 0, 0.05, 0.10};
  faults.seed = 11;
  FaultSpec b_faults = faults;
  b_faults.seed = 12;
  build(faults, b_faults);
  stack::UdpSocket* rx = b_->open_udp();
  ASSERT_EQ(rx->bind({Ipv4Addr::any(), kPort}), 0);
  rx->set_rcvbuf(64 << 20);
  stack::UdpSocket* tx = a_->open_udp();
  const stack::Endpoint dst{kIpB, kPort};
  const stack::CounterSnapshot before = b_->counters();

  constexpr uint32_t kCount = 3000;
  std::map<long, int> delivered;
  size_t received = 0;
  for (uint32_t seq = 0; seq < kCount; ++seq) {
    const std::string p = payload_of(seq);
    const int64_t rc = send_string(tx, p, &dst);
    // Held while ARP resolves (EAGAIN never: the queue holds 101), or gone
    // with a failed resolution: both are losses, as on Linux.
    EXPECT_TRUE(rc == static_cast<int64_t>(p.size()) || rc < 0) << rc;
    pump();
    if (seq % 16 == 0) tick(100'000'000);  // ARP retries, reorder hold-backs
    for (;;) {
      Received r = recv_string(rx, 2048);
      if (r.rc < 0) break;
      ++received;
      const long s = seq_of(r.data);
      ASSERT_GE(s, 0) << "a damaged datagram was delivered: " << r.data.substr(0, 40);
      ASSERT_EQ(r.data, payload_of(static_cast<uint32_t>(s))) << "datagram " << s << " delivered damaged";
      ++delivered[s];
    }
  }
  // Most arrive (about 0.95*0.95 survive each side's drops and damage).
  EXPECT_GT(delivered.size(), kCount * 6 / 10);
  EXPECT_LT(delivered.size(), kCount);
  EXPECT_GT(received, delivered.size()) << "no duplicate was delivered (the link duplicates 5% each way)";

  // Every frame b took in has a fate.
  const stack::CounterSnapshot after = b_->counters();
  const uint64_t frames = after.rx_frames - before.rx_frames;
  uint64_t fates = (after.udp_delivered - before.udp_delivered) + (after.arp_received - before.arp_received) +
                   (after.icmp_echo_replies - before.icmp_echo_replies) +
                   (after.icmp_errors_received - before.icmp_errors_received);
  for (size_t i = 0; i < after.drops.size(); ++i) fates += after.drops[i] - before.drops[i];
  EXPECT_GE(fates, frames);
  // The damage was caught where it should be.
  using stack::DropReason;
  EXPECT_GT(after.drop(DropReason::kUdpChecksum) + after.drop(DropReason::kIpChecksum), 0u);
  EXPECT_GT(after.drop(DropReason::kIpMalformed) + after.drop(DropReason::kUdpMalformed) +
                after.drop(DropReason::kEthTruncated),
            0u);
  const FaultCounts fa = a_backend_->counts(), fb = b_backend_->counts();
  EXPECT_GT(fa.tx[static_cast<size_t>(FaultKind::kCorrupt)] + fb.rx[static_cast<size_t>(FaultKind::kCorrupt)], 100u);
  rx->close();
  tx->close();
  tick(1'000'000'000);
}

// Half of what a receives is lost, ARP replies (or NDP advertisements)
// among it. Each round is a fresh pair of stacks (a neighbour not yet
// known) and a datagram that waits on resolution; a resolution that fails
// (max_probes = 3 requests unanswered) drops its datagram, counted, and the
// program sends again, as it would on Linux.
void resolution_recovers(BadLink& t, bool ipv6) {
  uint64_t replies_lost = 0, failed_attempts = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    FaultSpec lossy;
    lossy.rx.p[static_cast<size_t>(FaultKind::kDrop)] = 0.5;
    lossy.seed = seed;
    t.rebuild(lossy);
    stack::UdpSocket* rx = t.b()->open_udp(ipv6);
    const stack::Endpoint local =
        ipv6 ? stack::Endpoint::ipv6(wire::Ipv6Addr(), kPort) : stack::Endpoint{Ipv4Addr::any(), kPort};
    ASSERT_EQ(rx->bind(local), 0);
    stack::UdpSocket* tx = t.a()->open_udp(ipv6);
    const stack::Endpoint dst = ipv6 ? stack::Endpoint::ipv6(kIp6B, kPort) : stack::Endpoint{kIpB, kPort};
    bool arrived = false;
    for (int attempt = 0; attempt < 4 && !arrived; ++attempt) {
      ASSERT_EQ(send_string(tx, "hello", &dst), 5);
      t.pump_both();
      for (int i = 0; i < 5 && !arrived; ++i) {
        arrived = recv_string(rx).rc == 5;
        if (!arrived) t.tick_both(1'000'000'000);  // a retry each second
      }
    }
    EXPECT_TRUE(arrived) << (ipv6 ? "NDP" : "ARP") << ", seed " << seed;
    replies_lost += t.a_faults().counts().rx[static_cast<size_t>(FaultKind::kDrop)];
    failed_attempts +=
        t.a()->counters().drop(ipv6 ? stack::DropReason::kNdpUnresolved : stack::DropReason::kArpUnresolved);
    rx->close();
    tx->close();
    t.tick_both(1'000'000'000);
  }
  EXPECT_GT(replies_lost, 10u) << "too few replies lost for the test to mean anything";
  EXPECT_GT(failed_attempts, 0u) << "no resolution ever failed: the seeds do not test the retry by the program";
}

TEST_F(BadLink, ArpRecoversFromLostReplies) { resolution_recovers(*this, false); }
TEST_F(BadLink, NdpRecoversFromLostAdvertisements) { resolution_recovers(*this, true); }

}  // namespace
}  // namespace dpdkudp::test
