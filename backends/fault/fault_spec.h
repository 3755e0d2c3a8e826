// What the fault-injecting backend (fault_backend.h) does: per direction,
// the probability of each fault per frame, the delay, and the seed. Header
// only: the configuration (engine/config.cc, DPDKUDP_FAULTS) parses into it
// without linking the backend.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace dpdkudp {

enum class FaultKind : uint8_t { kDrop, kDuplicate, kReorder, kDelay, kTruncate, kCorrupt };
inline constexpr size_t kFaultKinds = 6;
// The DPDKUDP_FAULTS spellings, in FaultKind order.
inline constexpr std::array<std::string_view, kFaultKinds> kFaultKindNames = {"drop",  "dup",      "reorder",
                                                                              "delay", "truncate", "corrupt"};

struct FaultRates {
  // Probability per frame, 0..1, in FaultKind order. Drawn one after the
  // other: a dropped frame meets no other fault; a duplicated one is sent
  // twice and may also be truncated or corrupted (both copies); a delayed
  // or reordered one is held (delay: for FaultSpec::delay_us; reorder:
  // until the next frame has gone, at most delay_us).
  std::array<double, kFaultKinds> p{};

  double operator[](FaultKind k) const { return p[static_cast<size_t>(k)]; }
  bool any() const {
    for (double v : p) {
      if (v > 0) return true;
    }
    return false;
  }
  friend bool operator==(const FaultRates&, const FaultRates&) = default;
};

struct FaultSpec {
  FaultRates rx;
  FaultRates tx;
  uint32_t delay_us = 1000;
  uint64_t seed = 1;

  bool any() const { return rx.any() || tx.any(); }
  friend bool operator==(const FaultSpec&, const FaultSpec&) = default;
};

// "rx.drop=0.01,tx.corrupt=0.001,delay_us=1000,seed=1" (rates that are 0
// left out); "" when there are none.
inline std::string to_string(const FaultSpec& spec) {
  if (!spec.any()) return {};
  std::string out;
  auto add = [&out](std::string_view dir, const FaultRates& r) {
    for (size_t k = 0; k < kFaultKinds; ++k) {
      if (r.p[k] <= 0) continue;
      char rate[32];
      std::snprintf(rate, sizeof rate, "%g", r.p[k]);
      out += std::string(dir) + "." + std::string(kFaultKindNames[k]) + "=" + rate + ",";
    }
  };
  add("rx", spec.rx);
  add("tx", spec.tx);
  return out + "delay_us=" + std::to_string(spec.delay_us) + ",seed=" + std::to_string(spec.seed);
}

}  // namespace dpdkudp
