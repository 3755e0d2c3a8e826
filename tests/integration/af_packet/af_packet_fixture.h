// The fixture every AF_PACKET test uses: a fresh veth pair between two
// namespaces (netns.h), the backend opened in the server namespace, and
// kernel sockets in the client namespace to talk to it. Parameterised on
// the variant: false = plain socket, true = mmap rings.
//
// Without root the namespaces cannot be made and every test FAILS with the
// reason; nothing is skipped.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/af_packet/af_packet.h"
#include "tests/support/netns.h"
#include "tests/support/packets.h"

namespace dpdkudp::test {

using namespace std::chrono_literals;

// A received frame copied out of its Packet (which went back to the pool).
struct RxFrame {
  Bytes bytes;
  uint32_t rx_flags = 0;
  uint16_t vlan_tci = 0;
};

class AfPacketFixture : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override;
  void TearDown() override;

  bool mmap() const { return GetParam(); }

  // iface = server veth, the variant under test, filter = the server IP.
  AfPacketConfig default_config() const;
  // Opens in the server namespace. nullptr (and *error) on failure.
  std::unique_ptr<Backend> open(const AfPacketConfig& config, std::string* error = nullptr) const;
  // open() that records a test failure with the error when it fails.
  std::unique_ptr<Backend> open_or_fail(const AfPacketConfig& config) const;

  // Kernel sockets in the client namespace, closed in TearDown().
  // UDP bound to client_ip:port (0: any port), 2 s receive timeout.
  int client_udp(uint16_t port = 0);
  // A packet socket on the client veth that only sends: injects any frame.
  int client_raw();
  void inject(std::span<const uint8_t> frame);
  void send_udp(int fd, wire::Ipv4Addr dst, uint16_t port, std::span<const uint8_t> payload);

  // A frame builder addressed client -> server.
  FrameBuilder to_server() const;
  // A frame builder addressed server -> client.
  FrameBuilder to_client() const;

  // Receives until `count` frames came or `timeout` passed, then keeps
  // listening for `settle` to catch frames that should not have come.
  std::vector<RxFrame> receive(Backend& backend, size_t count, std::chrono::milliseconds timeout = 2000ms,
                               std::chrono::milliseconds settle = 0ms);
  // Drains whatever is waiting (frames and their wake-ups), for `quiet`
  // without a frame, bounded by 2 s.
  size_t drain(Backend& backend, std::chrono::milliseconds quiet = 30ms);

  VethPair net_;

 private:
  std::vector<int> fds_;
  int raw_fd_ = -1;
};

// Payload bytes that depend on the sequence number and position, so a
// misplaced or stale byte shows.
Bytes patterned_payload(uint32_t seq, size_t len);

// "plain" / "mmap" in test names.
std::string variant_name(const ::testing::TestParamInfo<bool>& info);

}  // namespace dpdkudp::test
