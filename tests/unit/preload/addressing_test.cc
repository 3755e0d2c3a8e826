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

}  // namespace
}  // namespace dpdkudp::preload
