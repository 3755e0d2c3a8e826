// Opening the backends: what they report about the interface, and the one
// clear error line for each way opening can fail.
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include "backends/af_packet/af_packet_mmap_backend.h"
#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

using AfPacketOpen = AfPacketFixture;

// Drops CAP_NET_RAW from the calling thread's effective set. Capabilities
// are per thread on Linux and in_netns() runs fn on a thread of its own,
// so nothing else in the process loses it.
bool drop_cap_net_raw_on_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return false;
  }
  data[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

TEST_P(AfPacketOpen, ReportsTheInterface) {
  ASSERT_TRUE(net_.server_exec("ip link set " + net_.server_if + " mtu 1400"));
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->name(), mmap() ? "af_packet_mmap" : "af_packet");
  EXPECT_EQ(backend->mac(), net_.server_mac);
  const Capabilities& caps = backend->capabilities();
  EXPECT_EQ(caps.mtu, 1400u);  // read from the interface, not assumed
  EXPECT_EQ(caps.max_frame, 1418u);
  EXPECT_EQ(caps.rx_queues, 1);
  EXPECT_EQ(caps.tx_queues, 1);
  EXPECT_FALSE(caps.rx_ipv4_csum);
  EXPECT_FALSE(caps.rx_l4_csum);
  EXPECT_FALSE(caps.tx_ipv4_csum);
  EXPECT_FALSE(caps.tx_udp_csum);
  EXPECT_TRUE(caps.rx_vlan_strip);
  EXPECT_FALSE(caps.tx_vlan_insert);
  EXPECT_GE(backend->wait_fd(0), 0);
  EXPECT_EQ(backend->wait_fd(1), -1);
}

TEST_P(AfPacketOpen, MissingInterfaceIsNamed) {
  AfPacketConfig config = default_config();
  config.iface = "afp-missing9";
  std::string error;
  EXPECT_EQ(open(config, &error), nullptr);
  EXPECT_THAT(error, AllOf(HasSubstr("\"afp-missing9\""), HasSubstr("no such interface")));
}

TEST_P(AfPacketOpen, OverlongNameIsRefused) {
  AfPacketConfig config = default_config();
  config.iface = "a-name-far-too-long-for-linux";
  std::string error;
  EXPECT_EQ(open(config, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("longer than 15"));
}

TEST_P(AfPacketOpen, DownInterfaceIsReported) {
  ASSERT_TRUE(net_.server_exec("ip link set " + net_.server_if + " down"));
  std::string error;
  EXPECT_EQ(open(default_config(), &error), nullptr);
  EXPECT_THAT(error, AllOf(HasSubstr("\"" + net_.server_if + "\""), HasSubstr("down")));
}

TEST_P(AfPacketOpen, LoopbackIsNotEthernet) {
  ASSERT_TRUE(net_.server_exec("ip link set lo up"));
  AfPacketConfig config = default_config();
  config.iface = "lo";
  std::string error;
  EXPECT_EQ(open(config, &error), nullptr);
  EXPECT_THAT(error, AllOf(HasSubstr("\"lo\""), HasSubstr("not an Ethernet interface")));
}

TEST_P(AfPacketOpen, WithoutCapNetRawSaysSo) {
  std::unique_ptr<Backend> backend;
  std::string error;
  bool dropped = false;
  ASSERT_TRUE(in_netns(net_.server_ns, [&] {
    dropped = drop_cap_net_raw_on_this_thread();
    if (dropped) {
      backend = open_af_packet(default_config(), &error);
    }
  }));
  ASSERT_TRUE(dropped) << "capset failed: " << std::strerror(errno);
  EXPECT_EQ(backend, nullptr);
  EXPECT_THAT(error,
              AllOf(HasSubstr("\"" + net_.server_if + "\""), HasSubstr("permission denied"), HasSubstr("CAP_NET_RAW")));
}

TEST_P(AfPacketOpen, TooManyFilterAddressesIsRefused) {
  AfPacketConfig config = default_config();
  config.filter_ipv4.assign(201, net_.server_ip.value);
  std::string error;
  EXPECT_EQ(open(config, &error), nullptr);
  EXPECT_THAT(error, HasSubstr("filter_ipv4 has 201 addresses"));
}

TEST_P(AfPacketOpen, OpensTwiceOnOneInterface) {
  // Two backends (two processes under the shim, say) coexist.
  auto first = open_or_fail(default_config());
  auto second = open_or_fail(default_config());
  EXPECT_NE(first, nullptr);
  EXPECT_NE(second, nullptr);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketOpen, ::testing::Values(false, true), variant_name);

// Ring geometry exists only in the mmap variant.
class AfPacketMmapOpen : public AfPacketFixture {};

TEST_P(AfPacketMmapOpen, BadRingGeometryIsExplained) {
  struct Case {
    void (*tweak)(AfPacketConfig&);
    const char* expected;
  };
  const Case cases[] = {
      {[](AfPacketConfig& c) { c.rx_block_size = 5000; }, "rx_block_size 5000 is not a multiple"},
      {[](AfPacketConfig& c) { c.rx_block_count = 1; }, "rx_block_count must be at least 2"},
      {[](AfPacketConfig& c) { c.rx_block_timeout_ms = 0; }, "rx_block_timeout_ms 0"},
      {[](AfPacketConfig& c) { c.tx_frame_size = 1024; }, "tx_frame_size 1024"},
      {[](AfPacketConfig& c) { c.tx_frame_count = 0; }, "tx_frame_count must be at least 1"},
  };
  for (const Case& c : cases) {
    AfPacketConfig config = default_config();
    c.tweak(config);
    std::string error;
    EXPECT_EQ(open(config, &error), nullptr) << c.expected;
    EXPECT_THAT(error, AllOf(HasSubstr("\"" + net_.server_if + "\""), HasSubstr(c.expected)));
  }
}

TEST_P(AfPacketMmapOpen, RingMemoryStaysModest) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  auto* mm = dynamic_cast<AfPacketMmapBackend*>(backend.get());
  ASSERT_NE(mm, nullptr);
  // Defaults: 8 MiB of RX blocks + 2 MiB of TX slots.
  EXPECT_EQ(mm->ring_bytes(), (8u << 20) + (2u << 20));
  EXPECT_EQ(mm->tx_ring_frames(), 1024u);
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketMmapOpen, ::testing::Values(true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
