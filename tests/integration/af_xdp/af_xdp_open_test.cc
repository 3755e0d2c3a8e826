// Opening and closing: the modes on veth, what is left on the interface
// (nothing, after close), pinned maps, and every refusal as one line.
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include "tests/integration/af_xdp/af_xdp_fixture.h"

namespace dpdkudp::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST_F(AfXdpTest, NativeModeOnVeth) {
  AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kNative));
  ASSERT_NE(opened.backend, nullptr);
  // veth has native XDP but no zero-copy AF_XDP: copy mode.
  EXPECT_EQ(opened.mode_description, "native copy");
  EXPECT_EQ(opened.backend->name(), "af_xdp");
  EXPECT_EQ(opened.backend->mac(), net_.server_mac);
  const Capabilities& caps = opened.backend->capabilities();
  EXPECT_EQ(caps.mtu, 1500u);
  EXPECT_EQ(caps.max_frame, 1518u);
  EXPECT_EQ(caps.rx_queues, 1);
  EXPECT_EQ(caps.tx_queues, 1);
  EXPECT_FALSE(caps.rx_l4_csum || caps.tx_udp_csum || caps.tx_ipv4_csum || caps.rx_ipv4_csum);
  EXPECT_GE(opened.backend->wait_fd(0), 0);
  EXPECT_EQ(opened.backend->wait_fd(1), -1);
  const std::string link = server_link();
  EXPECT_THAT(link, HasSubstr(" xdp "));
  EXPECT_THAT(link, HasSubstr("name xdp_udp_steer"));
}

TEST_F(AfXdpTest, GenericMode) {
  AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kGeneric));
  ASSERT_NE(opened.backend, nullptr);
  EXPECT_EQ(opened.mode_description, "generic copy");
  EXPECT_THAT(server_link(), HasSubstr("xdpgeneric"));
}

TEST_F(AfXdpTest, AutoPicksNativeOnVeth) {
  AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kAuto));
  ASSERT_NE(opened.backend, nullptr);
  EXPECT_EQ(opened.mode_description, "native copy");
}

TEST_F(AfXdpTest, AutoFallsBackToGenericWhenNativeIsRefused) {
  // A bridge has no native XDP (no ndo_bpf); generic works on anything.
  std::string error;
  ASSERT_TRUE(net_.server_exec("ip link add dum0 type bridge", &error)) << error;
  ASSERT_TRUE(net_.server_exec("ip link set dum0 up", &error)) << error;
  AfXdpConfig config = shared_config(XdpMode::kNative);
  config.iface = "dum0";
  AfXdpOpened native = open(config, &error);
  EXPECT_EQ(native.backend, nullptr);
  EXPECT_EQ(error,
            "af_xdp: interface \"dum0\": cannot attach the XDP program: native mode: "
            "Operation not supported (the driver has no native XDP)");
  const std::string dummy_link = "ip -n " + net_.server_ns + " link show dev dum0";
  EXPECT_THAT(run_command(dummy_link).output, ::testing::Not(HasSubstr("prog/xdp")));

  config.mode = XdpMode::kAuto;
  AfXdpOpened opened = open_or_fail(config);
  ASSERT_NE(opened.backend, nullptr);
  EXPECT_EQ(opened.mode_description, "generic copy");
  EXPECT_THAT(run_command(dummy_link).output, HasSubstr("xdpgeneric"));
}

TEST_F(AfXdpTest, DestructionDetachesAndUnpins) {
  // A test namespace is not pid 1's: /sys/fs/bpf/dpdkudp/netns-<inode>/xdp0.
  uint64_t inode = 0;
  in_netns(net_.server_ns, [&] {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) == 0) {
      inode = st.st_ino;
    }
  });
  ASSERT_NE(inode, 0u);
  const std::string dir = "/sys/fs/bpf/dpdkudp/netns-" + std::to_string(inode) + "/xdp0";
  auto exists = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  };
  {
    AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kNative));
    ASSERT_NE(opened.backend, nullptr);
    EXPECT_TRUE(xdp_attached());
    EXPECT_TRUE(exists(dir + "/ports"));
    EXPECT_TRUE(exists(dir + "/xsks"));
    EXPECT_TRUE(exists(dir + "/addrs"));
  }
  EXPECT_FALSE(xdp_attached()) << server_link();
  EXPECT_THAT(server_link(), ::testing::Not(HasSubstr("xdp ")));
  EXPECT_FALSE(exists(dir));
  EXPECT_FALSE(exists("/sys/fs/bpf/dpdkudp/netns-" + std::to_string(inode)));
  // And the interface can be opened again at once (the kernel frees the
  // queue's buffer pool a moment after the sockets close: open retries).
  AfXdpOpened again = open_or_fail(shared_config(XdpMode::kGeneric));
  EXPECT_NE(again.backend, nullptr);
}

TEST_F(AfXdpTest, MissingInterface) {
  AfXdpConfig config = shared_config(XdpMode::kAuto);
  config.iface = "nosuch0";
  std::string error;
  EXPECT_EQ(open(config, &error).backend, nullptr);
  EXPECT_EQ(error, "af_xdp: interface \"nosuch0\": no such interface");
}

TEST_F(AfXdpTest, InterfaceDown) {
  std::string error;
  ASSERT_TRUE(net_.server_exec("ip link set dev " + net_.server_if + " down", &error)) << error;
  EXPECT_EQ(open(shared_config(XdpMode::kAuto), &error).backend, nullptr);
  EXPECT_EQ(error, "af_xdp: interface \"xdp0\": interface is down (ip link set xdp0 up)");
}

TEST_F(AfXdpTest, BadConfigurationIsRefusedBeforeTouchingTheInterface) {
  std::string error;
  AfXdpConfig bad_mode = shared_config(XdpMode::kAuto);
  bad_mode.mode = static_cast<XdpMode>(7);
  EXPECT_EQ(open(bad_mode, &error).backend, nullptr);
  EXPECT_EQ(error, "af_xdp: interface \"xdp0\": bad XDP mode 7 (auto, native or generic)");

  AfXdpConfig bad_ring = shared_config(XdpMode::kAuto);
  bad_ring.ring_size = 1000;
  EXPECT_EQ(open(bad_ring, &error).backend, nullptr);
  EXPECT_THAT(error, HasSubstr("ring size 1000 is not a power of two in 64..16384"));

  AfXdpConfig bad_queues = shared_config(XdpMode::kAuto);
  bad_queues.queues = 0;
  EXPECT_EQ(open(bad_queues, &error).backend, nullptr);
  EXPECT_THAT(error, HasSubstr("queues 0 out of range 1..64"));

  // veth made with one queue.
  AfXdpConfig too_many = shared_config(XdpMode::kAuto);
  too_many.queues = 2;
  EXPECT_EQ(open(too_many, &error).backend, nullptr);
  EXPECT_EQ(error, "af_xdp: interface \"xdp0\": has 1 queue(s); 2 asked for");

  EXPECT_FALSE(xdp_attached());
  EXPECT_NE(open(shared_config(XdpMode::kAuto), &error).backend, nullptr) << error;
}

TEST_F(AfXdpTest, MtuTooLargeForFrames) {
  std::string error;
  ASSERT_TRUE(net_.server_exec("ip link set dev " + net_.server_if + " mtu 9000", &error)) << error;
  EXPECT_EQ(open(shared_config(XdpMode::kAuto), &error).backend, nullptr);
  EXPECT_EQ(error,
            "af_xdp: interface \"xdp0\": MTU 9000 is too large for AF_XDP's 4 KiB frames "
            "(at most 3822)");
  EXPECT_FALSE(xdp_attached());
}

TEST_F(AfXdpTest, ForeignXdpProgramIsNotTouched) {
  std::string error;
  ASSERT_TRUE(net_.server_exec(
      "ip link set dev " + net_.server_if + " xdpgeneric obj " + AF_XDP_TEST_PASS_OBJECT + " sec xdp", &error))
      << error;
  ASSERT_TRUE(xdp_attached());
  EXPECT_EQ(open(shared_config(XdpMode::kAuto), &error).backend, nullptr);
  EXPECT_THAT(error, StartsWith("af_xdp: interface \"xdp0\": a foreign XDP program "
                                "\"xdp_pass_test\" (id "));
  EXPECT_THAT(error, HasSubstr("generic mode) is attached; remove it (ip link set dev xdp0 xdp "
                               "off) or use another backend"));
  // Still there, still the only one; and once it is gone we can start.
  EXPECT_THAT(server_link(), HasSubstr("name xdp_pass_test"));
  ASSERT_TRUE(net_.server_exec("ip link set dev " + net_.server_if + " xdpgeneric off", &error)) << error;
  EXPECT_NE(open(shared_config(XdpMode::kAuto), &error).backend, nullptr) << error;
}

}  // namespace
}  // namespace dpdkudp::test
