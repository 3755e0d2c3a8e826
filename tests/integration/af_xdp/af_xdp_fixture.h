// The fixture every AF_XDP test uses: a fresh veth pair between two network
// namespaces (tests/support/netns.h, 198.18.X.0/24), the backend
// opened in the server namespace, and kernel sockets on both sides.
//
//   server ns: veth "xdp0", the backend under test (no kernel IPv4 address
//              unless a test adds one with add_server_address(): shared
//              mode, where the kernel keeps the address)
//   client ns: veth "xdp1", 198.18.X.1/24, kernel stack, TX checksum
//              offload off, a static neighbour entry for the server
//
// Without root the namespaces cannot be made: every test FAILS with the
// reason, nothing is skipped.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backends/af_xdp/af_xdp.h"
#include "tests/support/netns.h"
#include "tests/support/packets.h"

namespace dpdkudp::test {

using namespace std::chrono_literals;

struct RxFrame {
  Bytes bytes;
  uint16_t queue = 0;
};

class AfXdpTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Shared mode (dedicated = false), ipv4 = the server address.
  AfXdpConfig shared_config(XdpMode mode) const;
  AfXdpConfig dedicated_config(XdpMode mode) const;
  // Opens in the server namespace; error gets the failure line.
  AfXdpOpened open(const AfXdpConfig& config, std::string* error = nullptr) const;
  // open() recording a test failure when it fails.
  AfXdpOpened open_or_fail(const AfXdpConfig& config) const;

  // Gives the server veth its kernel address (shared mode).
  void add_server_address();
  // `ip -n <server ns> link show dev xdp0` (the "xdp"/"xdpgeneric" flag
  // and a "prog/xdp" line while a program is attached).
  std::string server_link() const;
  bool xdp_attached() const { return server_link().find("prog/xdp") != std::string::npos; }

  // Kernel UDP sockets bound to <ns address>:port, 100 ms receive timeout,
  // closed in TearDown().
  int client_udp(uint16_t port = 0);
  int server_udp(uint16_t port);  // needs add_server_address()
  void send_udp(int fd, wire::Ipv4Addr dst, uint16_t port, std::span<const uint8_t> payload);
  // Reads datagrams from fd until `count` came or timeout passed.
  std::vector<Bytes> read_udp(int fd, size_t count, std::chrono::milliseconds timeout = 1000ms);
  // A packet socket on the client veth that only sends.
  void inject(std::span<const uint8_t> frame);

  FrameBuilder to_server() const;
  FrameBuilder to_client() const;

  // Receives (every queue) until `count` frames came or `timeout` passed,
  // then keeps listening for `settle` to catch frames that should not come.
  std::vector<RxFrame> receive(Backend& backend, size_t count, std::chrono::milliseconds timeout = 2000ms,
                               std::chrono::milliseconds settle = 0ms);
  // Sends one frame through alloc + tx_burst on queue 0.
  ::testing::AssertionResult transmit(Backend& backend, std::span<const uint8_t> frame);

  VethPair net_;

 private:
  std::string pin_dir_;  // the server namespace's directory under bpffs
  std::vector<int> fds_;
  int raw_fd_ = -1;
};

// A child process (forked in the server namespace) that opens the backend,
// steers `port` on any address, takes `hold_tx` TX frames and keeps them,
// then waits to be killed: asleep, or (busy) receiving, taking and giving
// back TX frames without pause, so that a SIGKILL likely lands inside one
// of the group's locks. Killed (SIGKILL) and reaped in the destructor at
// the latest.
class OwnerProcess {
 public:
  OwnerProcess(const VethPair& net, const AfXdpConfig& config, uint16_t port, uint32_t hold_tx = 0, bool busy = false,
               uint32_t share = 0);  // PortShare flags
  ~OwnerProcess() { kill(); }
  OwnerProcess(const OwnerProcess&) = delete;
  OwnerProcess& operator=(const OwnerProcess&) = delete;

  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  // The child's mode_description once ready.
  const std::string& description() const { return description_; }
  pid_t pid() const { return pid_; }
  void kill();

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
  std::string error_;
  std::string description_;
};

// Data-path tests run in both XDP modes.
class AfXdpModeTest : public AfXdpTest, public ::testing::WithParamInterface<XdpMode> {};
std::string mode_name(const ::testing::TestParamInfo<XdpMode>& info);

Bytes patterned_payload(uint32_t seq, size_t len);

}  // namespace dpdkudp::test
