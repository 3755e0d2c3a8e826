// Rate limiting of the ICMP errors we send, modelled on Linux: a global
// token bucket (net.ipv4.icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50)
// and a per-destination one (net.ipv4.icmp_ratelimit = 1000 ms, burst of
// 6 as XRLIM_BURST_FACTOR). Echo replies are not limited, as in Linux's
// default icmp_ratemask. Used only by the poller thread: no locking.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

class IcmpRateLimiter {
 public:
  struct Config {
    uint32_t msgs_per_sec = 1000;
    uint32_t msgs_burst = 50;
    uint64_t per_dest_interval_ns = 1'000'000'000;
    uint32_t per_dest_burst = 6;
  };

  IcmpRateLimiter() : IcmpRateLimiter(Config{}) {}
  explicit IcmpRateLimiter(Config c) : config_(c), global_tokens_(c.msgs_burst) {}

  // The same for an IPv6 destination: its 128 bits folded to a key. Two
  // addresses that fold alike share a bucket, which is only stricter.
  bool allow6(const wire::Ipv6Addr& dst, uint64_t now_ns) {
    uint32_t key = 0;
    for (size_t i = 0; i < wire::Ipv6Addr::kLen; i += 4) {
      key = (key * 0x01000193u) ^ wire::load_be32(dst.octets.data() + i);
    }
    return allow(wire::Ipv4Addr(key), now_ns);
  }

  // True when an error to dst may be sent now (and takes the tokens).
  bool allow(wire::Ipv4Addr dst, uint64_t now_ns) {
    // Global bucket, refilled at msgs_per_sec.
    if (global_last_ns_ != 0) {
      uint64_t earned = (now_ns - global_last_ns_) * config_.msgs_per_sec / 1'000'000'000;
      if (earned > 0) {
        global_tokens_ = static_cast<uint32_t>(std::min<uint64_t>(config_.msgs_burst, global_tokens_ + earned));
        global_last_ns_ = now_ns;
      }
    } else {
      global_last_ns_ = now_ns;
    }
    if (global_tokens_ == 0) return false;

    // Per destination: tokens are time, capped at burst * interval; each
    // message costs one interval. A table slot is shared by hash: a
    // collision only makes the limit stricter.
    Peer& p = peers_[hash(dst)];
    uint64_t cap = config_.per_dest_interval_ns * config_.per_dest_burst;
    if (p.addr != dst) {
      p = Peer{dst, cap, now_ns};
    } else {
      p.tokens_ns = std::min(cap, p.tokens_ns + (now_ns - p.last_ns));
      p.last_ns = now_ns;
    }
    if (p.tokens_ns < config_.per_dest_interval_ns) return false;
    p.tokens_ns -= config_.per_dest_interval_ns;
    --global_tokens_;
    return true;
  }

 private:
  struct Peer {
    wire::Ipv4Addr addr;
    uint64_t tokens_ns = 0;
    uint64_t last_ns = 0;
  };
  static size_t hash(wire::Ipv4Addr a) { return (a.value * 0x9e3779b1u) >> 24; }

  Config config_;
  uint32_t global_tokens_;
  uint64_t global_last_ns_ = 0;
  std::array<Peer, 256> peers_{};
};

}  // namespace dpdkudp::stack
