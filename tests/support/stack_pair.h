// Two stacks back to back over the in-memory pair backend, the set-up the
// engine's tests share: a at 198.18.0.1/24, b at 198.18.0.2/24.
#pragma once

#include <memory>

#include "backends/pair/pair_backend.h"
#include "stack/net/clock.h"
#include "stack/net/stack.h"

namespace dpdkudp::test {

struct TwoStacks {
  enum class Arp { kResolve, kAKnowsB };
  // kAKnowsB: a holds b's MAC as a permanent neighbour, for tests that
  // drive b alone (a would never see an ARP answer).
  explicit TwoStacks(Arp arp = Arp::kResolve) : pair(make_pair()) {
    stack::StackConfig a_cfg, b_cfg;
    a_cfg.address = *wire::Ipv4Cidr::parse("198.18.0.1/24");
    b_cfg.address = *wire::Ipv4Cidr::parse("198.18.0.2/24");
    a = std::make_unique<stack::Stack>(*pair.a, a_cfg, clock);
    b = std::make_unique<stack::Stack>(*pair.b, b_cfg, clock);
    if (arp == Arp::kAKnowsB) {
      a->neighbors().insert(wire::Ipv4Addr(198, 18, 0, 2), pair.b->mac(), clock.monotonic_ns(), true);
    }
  }

  stack::SystemClock clock;
  BackendPair pair;
  std::unique_ptr<stack::Stack> a, b;
};

}  // namespace dpdkudp::test
