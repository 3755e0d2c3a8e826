#include "preload/doorbell.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

namespace dpdkudp::preload {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

const DoorbellMsg kBell{kDoorbellMagic, 2, 0, (uint64_t{4242} << 32) | 7};

TEST(Doorbell, ARealOneIsRecognised) {
  DoorbellMsg out{};
  ASSERT_TRUE(parse_doorbell(loopback(40000), &kBell, sizeof kBell, &out));
  EXPECT_EQ(out.token, kBell.token);
  EXPECT_EQ(out.hops, 2);
}

TEST(Doorbell, WrongLengthIsAnApplicationDatagram) {
  unsigned char buf[sizeof kBell + 1] = {};
  std::memcpy(buf, &kBell, sizeof kBell);
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, sizeof kBell - 1, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, sizeof kBell + 1, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, 0, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, -1, &out));
}

TEST(Doorbell, WrongMagicIsAnApplicationDatagram) {
  DoorbellMsg m = kBell;
  m.magic ^= 1;
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(loopback(40000), &m, sizeof m, &out));
}

TEST(Doorbell, OnlyFromLoopback) {
  // The same 16 bytes from a peer on the network are the peer's datagram.
  sockaddr_in from = loopback(40000);
  inet_pton(AF_INET, "198.18.0.1", &from.sin_addr);
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, &out));
  from = loopback(40000);
  inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, &out));
  from = loopback(40000);
  from.sin_family = AF_INET6;
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, &out));
}

TEST(Doorbell, GatherHeadAcrossIovecs) {
  unsigned char bytes[sizeof kBell];
  std::memcpy(bytes, &kBell, sizeof kBell);
  unsigned char a[3], b[5], c[20];
  std::memcpy(a, bytes, 3);
  std::memcpy(b, bytes + 3, 5);
  std::memcpy(c, bytes + 8, 8);
  iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 3;
  DoorbellMsg out{};
  ASSERT_TRUE(gather_head(m, sizeof kBell, &out));
  EXPECT_EQ(std::memcmp(&out, &kBell, sizeof kBell), 0);
}

TEST(Doorbell, GatherHeadNeedsExactlyOneDoorbell) {
  unsigned char buf[8] = {};
  iovec iov{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  DoorbellMsg out{};
  EXPECT_FALSE(gather_head(m, 8, &out));                    // not a doorbell's size
  EXPECT_FALSE(gather_head(m, sizeof(DoorbellMsg), &out));  // the buffers hold only 8
}

}  // namespace
}  // namespace dpdkudp::preload
