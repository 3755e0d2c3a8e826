// Fixtures for stack tests over the in-memory pair backend.
//   StackOnWire: one stack on side a; the test plays the wire on side b
//     (inject() frames into a, rx_burst() what a sent).
//   TwoStacks:   a stack on each side, back to back.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/pair/pair_backend.h"
#include "stack/net/stack.h"
#include "tests/support/packets.h"

namespace dpdkudp::test {

using wire::Ipv4Addr;

inline constexpr wire::Ipv4Addr kIpA{198, 18, 0, 1};
inline constexpr wire::Ipv4Addr kIpB{198, 18, 0, 2};
inline constexpr wire::Ipv4Addr kGateway{198, 18, 0, 254};
inline constexpr MacAddr kMacA = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr MacAddr kMacB = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

inline stack::StackConfig config_for(wire::Ipv4Addr ip) {
  stack::StackConfig c;
  c.address = wire::Ipv4Cidr{ip, 24};
  c.gateway = kGateway;
  return c;
}

inline PairConfig pair_config() {
  PairConfig c;
  c.a.mac = kMacA;
  c.b.mac = kMacB;
  return c;
}

// recv() into a string; "" with rc < 0 on error.
struct Received {
  int64_t rc = 0;
  std::string data;
  stack::RecvInfo info;
};
inline Received recv_string(stack::UdpSocket* s, size_t cap = 2048, int flags = 0) {
  Received r;
  r.data.resize(cap);
  iovec iov{r.data.data(), cap};
  r.rc = s->recv({&iov, 1}, &r.info, flags);
  r.data.resize(r.rc > 0 ? std::min<size_t>(static_cast<size_t>(r.rc), cap) : 0);
  return r;
}

inline int64_t send_string(stack::UdpSocket* s, std::string_view data, const stack::Endpoint* dst = nullptr) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  return s->send({&iov, 1}, dst);
}

class StackOnWire : public ::testing::Test {
 protected:
  explicit StackOnWire(stack::StackConfig config = config_for(kIpA), PairConfig pc = pair_config()) {
    pair_ = make_pair(pc);
    stack_ = std::make_unique<stack::Stack>(*pair_.a, std::move(config), clock_);
  }
  ~StackOnWire() override {
    drain_wire();
    stack_.reset();
  }

  // Feeds a frame to the stack as if from the wire and processes it.
  void feed(const Bytes& frame) {
    ASSERT_TRUE(pair_.a->inject(frame));
    while (stack_->poll(0) != 0) {}
  }
  // Frames the stack put on the wire since the last call.
  std::vector<Bytes> wire_frames() {
    std::vector<Bytes> out;
    Packet* pkts[32];
    size_t n;
    while ((n = pair_.b->rx_burst(0, pkts)) != 0) {
      for (size_t i = 0; i < n; ++i) out.emplace_back(pkts[i]->data, pkts[i]->data + pkts[i]->len);
      pair_.b->release({pkts, n});
    }
    return out;
  }
  void drain_wire() { wire_frames(); }
  // Answers the stack's ARP request for ip (as ip's owner with mac).
  void answer_arp(wire::Ipv4Addr ip, const MacAddr& mac) {
    feed(FrameBuilder().src_mac(mac).dst_mac(kMacA).src_ip(ip).dst_ip(kIpA).arp(wire::ArpOp::kReply));
  }

  stack::ManualClock clock_;
  BackendPair pair_;
  std::unique_ptr<stack::Stack> stack_;
};

class TwoStacks : public ::testing::Test {
 protected:
  explicit TwoStacks(PairConfig pc = pair_config(), stack::StackConfig ca = config_for(kIpA),
                     stack::StackConfig cb = config_for(kIpB)) {
    pair_ = make_pair(pc);
    a_ = std::make_unique<stack::Stack>(*pair_.a, std::move(ca), clock_);
    b_ = std::make_unique<stack::Stack>(*pair_.b, std::move(cb), clock_);
  }
  ~TwoStacks() override {
    a_.reset();
    b_.reset();
  }
  // Polls both sides until nothing moves (bounded).
  void pump() {
    for (int i = 0; i < 1000; ++i) {
      size_t n = a_->poll(0) + b_->poll(0);
      if (n == 0 && i > 0) return;
    }
  }

  stack::ManualClock clock_;
  BackendPair pair_;
  std::unique_ptr<stack::Stack> a_;
  std::unique_ptr<stack::Stack> b_;
};

}  // namespace dpdkudp::test
