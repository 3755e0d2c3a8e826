// set_multicast_mac: the packet socket's PACKET_MR_MULTICAST membership
// puts the address on the interface's multicast list (what a NIC filters
// on), counted, and takes it off with the last off or with the socket.

#include <cerrno>
#include <string>

#include <gmock/gmock.h>

#include "tests/integration/af_packet/af_packet_fixture.h"

namespace dpdkudp::test {
namespace {

constexpr MacAddr kGroupMac = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
constexpr MacAddr kOtherGroupMac = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x16};

class AfPacketMulticast : public AfPacketFixture {
 protected:
  bool listed(const MacAddr& mac) const { return net_.server_lists_multicast(mac); }
};

TEST_P(AfPacketMulticast, OnPutsTheAddressOnTheInterfaceAndOffTakesItOff) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  ASSERT_FALSE(listed(kGroupMac));
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, true), 0);
  EXPECT_TRUE(listed(kGroupMac));
  EXPECT_FALSE(listed(kOtherGroupMac));
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, false), 0);
  EXPECT_FALSE(listed(kGroupMac));
}

TEST_P(AfPacketMulticast, CountedOnsNeedAsManyOffs) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, true), 0);
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, true), 0);
  ASSERT_EQ(backend->set_multicast_mac(kOtherGroupMac, true), 0);
  EXPECT_TRUE(listed(kGroupMac));
  EXPECT_TRUE(listed(kOtherGroupMac));
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, false), 0);
  EXPECT_TRUE(listed(kGroupMac)) << "one on still counts";
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, false), 0);
  EXPECT_FALSE(listed(kGroupMac));
  EXPECT_TRUE(listed(kOtherGroupMac));
  EXPECT_EQ(backend->set_multicast_mac(kGroupMac, false), -EADDRNOTAVAIL) << "an off without an on";
  ASSERT_EQ(backend->set_multicast_mac(kOtherGroupMac, false), 0);
  EXPECT_FALSE(listed(kOtherGroupMac));
}

TEST_P(AfPacketMulticast, ClosingTheBackendLeaves) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  ASSERT_EQ(backend->set_multicast_mac(kGroupMac, true), 0);
  ASSERT_TRUE(listed(kGroupMac));
  backend.reset();
  EXPECT_FALSE(listed(kGroupMac));
}

TEST_P(AfPacketMulticast, TwoBackendsOnOneInterfaceEachCount) {
  auto first = open_or_fail(default_config());
  auto second = open_or_fail(default_config());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(first->set_multicast_mac(kGroupMac, true), 0);
  ASSERT_EQ(second->set_multicast_mac(kGroupMac, true), 0);
  ASSERT_EQ(first->set_multicast_mac(kGroupMac, false), 0);
  EXPECT_TRUE(listed(kGroupMac)) << "the second backend still wants it";
  ASSERT_EQ(second->set_multicast_mac(kGroupMac, false), 0);
  EXPECT_FALSE(listed(kGroupMac));
}

TEST_P(AfPacketMulticast, AUnicastAddressIsRefused) {
  auto backend = open_or_fail(default_config());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->set_multicast_mac(net_.client_mac, true), -EINVAL);
  EXPECT_FALSE(listed(net_.client_mac));
}

INSTANTIATE_TEST_SUITE_P(Variants, AfPacketMulticast, ::testing::Values(false, true), variant_name);

}  // namespace
}  // namespace dpdkudp::test
