// Small helpers shared by the pair backend tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "backends/pair/pair_backend.h"

namespace dpdkudp::test {

// A pool buffer holding a copy of frame, with optional TX offload request.
inline Packet* packet_with(Backend& side, std::span<const uint8_t> frame, uint32_t tx_flags = 0, uint16_t l2_len = 0,
                           uint16_t l3_len = 0, uint16_t vlan_tci = 0) {
  Packet* pkt = nullptr;
  if (side.alloc(std::span<Packet*>(&pkt, 1)) != 1) {
    ADD_FAILURE() << "pool empty";
    return nullptr;
  }
  std::copy(frame.begin(), frame.end(), pkt->data);
  pkt->len = static_cast<uint32_t>(frame.size());
  pkt->tx_flags = tx_flags;
  pkt->l2_len = l2_len;
  pkt->l3_len = l3_len;
  pkt->vlan_tci = vlan_tci;
  return pkt;
}

inline std::vector<uint8_t> bytes_of(const Packet* pkt) { return {pkt->data, pkt->data + pkt->len}; }

// Sends one packet; returns whether tx_burst took it.
inline bool send_one(Backend& side, Packet* pkt, uint16_t queue = 0) {
  return side.tx_burst(queue, std::span<Packet* const>(&pkt, 1)) == 1;
}

// Receives exactly one frame from queue (fails the test otherwise).
inline Packet* receive_one(Backend& side, uint16_t queue = 0) {
  Packet* pkt = nullptr;
  const size_t n = side.rx_burst(queue, std::span<Packet*>(&pkt, 1));
  EXPECT_EQ(n, 1u);
  return n == 1 ? pkt : nullptr;
}

inline std::vector<Packet*> drain(Backend& side, uint16_t queue = 0) {
  std::vector<Packet*> all;
  Packet* burst[32];
  for (;;) {
    const size_t n = side.rx_burst(queue, burst);
    if (n == 0) {
      return all;
    }
    all.insert(all.end(), burst, burst + n);
  }
}

}  // namespace dpdkudp::test
