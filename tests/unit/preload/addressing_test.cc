#include "preload/addressing.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace dpdkudp::preload {
namespace {

using stack::Endpoint;
using stack::Ipv4Addr;

sockaddr_in sin_of(const char* ip, uint16_t port, sa_family_t family = AF_INET) {
  sockaddr_in sin{};
  sin.sin_family = family;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin.sin_addr);
  return sin;
}

TEST(Addressing, FailSetsErrnoAndReturnsMinusOne) {
  errno = 0;
  EXPECT_EQ(fail(EAGAIN), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(Addressing, ToSockaddrIsNetworkOrder) {
  sockaddr_in sin = to_sockaddr(Endpoint{Ipv4Addr(198, 18, 0, 2), 5353});
  EXPECT_EQ(sin.sin_family, AF_INET);
  EXPECT_EQ(ntohs(sin.sin_port), 5353);
  EXPECT_EQ(ntohl(sin.sin_addr.s_addr), Ipv4Addr(198, 18, 0, 2).value);
}

TEST(Addressing, PackTargetIsAddressThenPort) {
  EXPECT_EQ(pack_target(sin_of("198.18.0.2", 53)), (uint64_t{Ipv4Addr(198, 18, 0, 2).value} << 16) | 53);
}

TEST(Addressing, ParseDestAcceptsInetAndUnspec) {
  Endpoint e;
  sockaddr_in sin = sin_of("198.18.1.1", 9000);
  ASSERT_EQ(parse_dest(&sin, sizeof sin, &e), 0);
  EXPECT_EQ(e, (Endpoint{Ipv4Addr(198, 18, 1, 1), 9000}));
  // udp_sendmsg takes AF_UNSPEC as AF_INET.
  sin = sin_of("198.18.1.2", 9001, AF_UNSPEC);
  ASSERT_EQ(parse_dest(&sin, sizeof sin, &e), 0);
  EXPECT_EQ(e, (Endpoint{Ipv4Addr(198, 18, 1, 2), 9001}));
}

TEST(Addressing, ParseDestRejectsAsLinuxDoes) {
  Endpoint e{Ipv4Addr(1, 2, 3, 4), 7};
  sockaddr_in sin = sin_of("198.18.1.1", 9000);
  EXPECT_EQ(parse_dest(&sin, sizeof sin - 1, &e), EINVAL);
  EXPECT_EQ(parse_dest(&sin, 0, &e), EINVAL);
  sin.sin_family = AF_INET6;
  EXPECT_EQ(parse_dest(&sin, sizeof sin, &e), EAFNOSUPPORT);
  sin.sin_family = AF_UNIX;
  EXPECT_EQ(parse_dest(&sin, sizeof sin, &e), EAFNOSUPPORT);
  EXPECT_EQ(e, (Endpoint{Ipv4Addr(1, 2, 3, 4), 7})) << "a rejected destination must not be written";
}

TEST(Addressing, CopyOutTruncatesAndReportsTheFullSize) {
  const sockaddr_in sin = sin_of("198.18.0.9", 4242);
  sockaddr_storage big{};
  socklen_t len = sizeof big;
  copy_out(sin, reinterpret_cast<sockaddr*>(&big), &len);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(std::memcmp(&big, &sin, sizeof sin), 0);

  // A 4-byte buffer gets the first 4 bytes (family, port); *len says 16,
  // and nothing past the buffer is touched.
  unsigned char small[8];
  std::memset(small, 0xee, sizeof small);
  len = 4;
  copy_out(sin, reinterpret_cast<sockaddr*>(small), &len);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  EXPECT_EQ(std::memcmp(small, &sin, 4), 0);
  for (size_t i = 4; i < sizeof small; ++i) EXPECT_EQ(small[i], 0xee) << i;

  // Null buffer: only the length.
  len = 0;
  copy_out(sin, nullptr, &len);
  EXPECT_EQ(len, sizeof(sockaddr_in));
  copy_out(sin, reinterpret_cast<sockaddr*>(&big), nullptr);  // no crash
}

sockaddr_in6 sin6_of(const char* ip, uint16_t port, uint32_t scope = 0) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  sin6.sin6_scope_id = scope;
  inet_pton(AF_INET6, ip, &sin6.sin6_addr);
  return sin6;
}

TEST(Addressing6, ToSockaddr6MapsIpv4AndKeepsTheScope) {
  sockaddr_in6 mapped = to_sockaddr6(Endpoint{Ipv4Addr(198, 18, 0, 2), 53});
  EXPECT_EQ(mapped.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(mapped.sin6_port), 53);
  sockaddr_in6 want = sin6_of("::ffff:198.18.0.2", 53);
  EXPECT_EQ(std::memcmp(&mapped.sin6_addr, &want.sin6_addr, 16), 0);
  EXPECT_EQ(mapped.sin6_scope_id, 0u);
  sockaddr_in6 ll = to_sockaddr6(Endpoint::ipv6(stack::Ipv6Addr(0xfe80, 0, 0, 0, 0, 0, 0, 1), 7, 3));
  EXPECT_EQ(ll.sin6_scope_id, 3u);
  EXPECT_EQ(ll.sin6_flowinfo, 0u);
}

TEST(Addressing6, SendDestinationsFollowUdpv6Sendmsg) {
  Endpoint e;
  bool none = false;
  sockaddr_in6 s6 = sin6_of("2001:2::1", 9, 4);
  ASSERT_EQ(parse_dest6(&s6, sizeof s6, &e, &none), 0);
  EXPECT_FALSE(none);
  EXPECT_TRUE(e.v6);
  EXPECT_EQ(e.port, 9);
  EXPECT_EQ(e.scope_id, 4u);
  // RFC 2133's 24-byte form: no scope id read.
  ASSERT_EQ(parse_dest6(&s6, kSin6LenRfc2133, &e, &none), 0);
  EXPECT_EQ(e.scope_id, 0u);
  EXPECT_EQ(parse_dest6(&s6, kSin6LenRfc2133 - 1, &e, &none), EINVAL);
  // AF_INET is taken as an IPv4 destination; AF_UNSPEC means none.
  sockaddr_in s4 = sin_of("198.18.0.2", 53);
  ASSERT_EQ(parse_dest6(&s4, sizeof s4, &e, &none), 0);
  EXPECT_FALSE(e.v6);
  EXPECT_EQ(e.addr, Ipv4Addr(198, 18, 0, 2));
  EXPECT_EQ(parse_dest6(&s4, sizeof s4 - 1, &e, &none), EINVAL);
  sockaddr_in6 unspec{};
  ASSERT_EQ(parse_dest6(&unspec, sizeof unspec, &e, &none), 0);
  EXPECT_TRUE(none);
  sockaddr_in6 other = s6;
  other.sin6_family = AF_UNIX;
  EXPECT_EQ(parse_dest6(&other, sizeof other, &e, &none), EINVAL);
}

TEST(Addressing6, BindAndConnectRules) {
  Endpoint e;
  sockaddr_in6 s6 = sin6_of("::", 53);
  ASSERT_EQ(parse_bind6(&s6, sizeof s6, &e), 0);
  EXPECT_TRUE(e.v6);
  EXPECT_TRUE(e.addr6.is_unspecified());
  EXPECT_EQ(parse_bind6(&s6, kSin6LenRfc2133 - 1, &e), EINVAL);
  sockaddr_in s4 = sin_of("198.18.0.2", 53);
  sockaddr_in6 as_big{};
  std::memcpy(&as_big, &s4, sizeof s4);
  EXPECT_EQ(parse_bind6(&as_big, sizeof as_big, &e), EAFNOSUPPORT);  // inet6_bind: AF_INET6 only
  // connect: AF_INET is IPv4 (ip6_datagram_connect hands it to IPv4).
  ASSERT_EQ(parse_connect6(&s4, sizeof s4, &e), 0);
  EXPECT_FALSE(e.v6);
  EXPECT_EQ(parse_connect6(&s4, sizeof s4 - 1, &e), EINVAL);
  sockaddr_in6 other = s6;
  other.sin6_family = AF_UNIX;
  EXPECT_EQ(parse_connect6(&other, sizeof other, &e), EAFNOSUPPORT);
  EXPECT_EQ(parse_connect6(&s6, 10, &e), EINVAL);
}

TEST(Addressing6, SameAddressComparesFamilyAddressAndPort) {
  sockaddr_storage a{};
  sockaddr_storage b{};
  sockaddr_in6 x = sin6_of("2001:2::1", 9);
  std::memcpy(&a, &x, sizeof x);
  std::memcpy(&b, &x, sizeof x);
  EXPECT_TRUE(same_address(a, b));
  reinterpret_cast<sockaddr_in6&>(b).sin6_port = htons(10);
  EXPECT_FALSE(same_address(a, b));
  sockaddr_in v4 = sin_of("198.18.0.1", 9);
  std::memcpy(&b, &v4, sizeof v4);
  EXPECT_FALSE(same_address(a, b));
}

}  // namespace
}  // namespace dpdkudp::preload
