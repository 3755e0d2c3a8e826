// The kernel's group lists as /proc/net/igmp and /proc/net/igmp6 print
// them (text as this kernel writes it), read for one interface.
#include "engine/host_multicast_loop.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpdkudp::engine {
namespace {

using stack::Ipv4Addr;
using stack::Ipv6Addr;

TEST(HostMulticastLoop, ReadsOneInterfacesIpv4Groups) {
  const std::string igmp =
      "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
      "1\tlo        :     1      V3\n"
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
      "7\tdus1234   :     3      V3\n"
      "\t\t\t\t0212C6EF     1 0:00000000\t\t0\n"
      "\t\t\t\t0112C6EF     2 0:00000000\t\t1\n"
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
      "9\tabcdefghijklmno:     1      V2\n"
      "\t\t\t\t0312C6EF     1 0:00000000\t\t0\n";
  EXPECT_EQ(HostMulticastLoopImpl::parse_igmp(igmp, "dus1234"),
            (std::vector<Ipv4Addr>{Ipv4Addr(239, 198, 18, 2), Ipv4Addr(239, 198, 18, 1), Ipv4Addr(224, 0, 0, 1)}));
  // A 15-character name runs into the colon.
  EXPECT_EQ(HostMulticastLoopImpl::parse_igmp(igmp, "abcdefghijklmno"),
            (std::vector<Ipv4Addr>{Ipv4Addr(239, 198, 18, 3)}));
  EXPECT_EQ(HostMulticastLoopImpl::parse_igmp(igmp, "lo"), (std::vector<Ipv4Addr>{Ipv4Addr(224, 0, 0, 1)}));
  EXPECT_TRUE(HostMulticastLoopImpl::parse_igmp(igmp, "eth9").empty());
  EXPECT_TRUE(HostMulticastLoopImpl::parse_igmp(igmp, "Device").empty());
  EXPECT_TRUE(
      HostMulticastLoopImpl::parse_igmp("7\tdus1234   :     1      V3\n\t\t\t\tZZ12C6EF     1\n", "dus1234").empty());
}

TEST(HostMulticastLoop, ReadsOneInterfacesIpv6Groups) {
  const std::string igmp6 =
      "1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
      "7    dus1234         ff320030200100020000000000000001     1 00000004 0\n"
      "7    dus1234         ff020000000000000000000000000001     1 0000000C 0\n"
      "8    dus12345        ff320030200100020000000000000002     1 00000004 0\n";
  EXPECT_EQ(
      HostMulticastLoopImpl::parse_igmp6(igmp6, "dus1234"),
      (std::vector<Ipv6Addr>{Ipv6Addr(0xff32, 0x30, 0x2001, 2, 0, 0, 0, 1), Ipv6Addr(0xff02, 0, 0, 0, 0, 0, 0, 1)}));
  EXPECT_EQ(HostMulticastLoopImpl::parse_igmp6(igmp6, "dus12345"),
            (std::vector<Ipv6Addr>{Ipv6Addr(0xff32, 0x30, 0x2001, 2, 0, 0, 0, 2)}));
  EXPECT_TRUE(HostMulticastLoopImpl::parse_igmp6("7    dus1234  ff02xx\n", "dus1234").empty());
}

}  // namespace
}  // namespace dpdkudp::engine
