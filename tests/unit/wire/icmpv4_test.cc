// ICMP for IPv4 (stack/wire/icmpv4.h).
#include "stack/wire/icmpv4.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr size_t kIcmpOffset = kEthLen + kIpLen;

Bytes echo_request_icmp() {
  return first_bytes(std::span(kEchoRequestFrame).subspan(kIcmpOffset), sizeof kEchoRequestFrame - kIcmpOffset);
}
Bytes echo_data() { return first_bytes(std::span(kEchoRequestFrame).subspan(kIcmpOffset + 8), 32); }
// The offending datagram's header + 8 bytes, as the error messages quote it.
std::span<const uint8_t> quoted() { return std::span(kUdpFrame).subspan(kEthLen, kQuotedLen); }

Bytes emit(const Icmpv4Repr& repr) {
  Bytes out(repr.buffer_len(), 0xcc);  // junk every byte must overwrite
  repr.emit(out);
  return out;
}

Bytes to_vector(std::span<const uint8_t> bytes) { return Bytes(bytes.begin(), bytes.end()); }

TEST(Icmpv4Packet, DeconstructEchoRequest) {
  Bytes bytes = echo_request_icmp();
  auto packet = Icmpv4Packet::parse(bytes);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmp_type::kEchoRequest);
  EXPECT_EQ(packet->code(), 0);
  EXPECT_EQ(packet->checksum(), 0x460c);
  EXPECT_EQ(packet->echo_ident(), 0xbeef);
  EXPECT_EQ(packet->echo_seq(), 1);
  EXPECT_EQ(packet->data().data(), bytes.data() + 8);
  EXPECT_EQ(to_vector(packet->data()), echo_data());
  EXPECT_EQ(packet->bytes().size(), 40u);
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Icmpv4Repr, ConstructEchoRequest) {
  Bytes data = echo_data();
  Icmpv4Repr repr{.type = icmp_type::kEchoRequest, .code = 0, .ident = 0xbeef, .seq = 1, .data = data};
  EXPECT_EQ(repr.buffer_len(), 40u);
  EXPECT_EQ(emit(repr), echo_request_icmp());
}

TEST(Icmpv4Repr, ConstructEchoReply) {
  Bytes data = echo_data();
  Icmpv4Repr repr{.type = icmp_type::kEchoReply, .ident = 0xbeef, .seq = 1, .data = data};
  EXPECT_EQ(emit(repr), to_vector(kEchoReplyIcmp));
}

TEST(Icmpv4Repr, ConstructEchoReplyInPlaceOfTheRequest) {
  // The stack turns a request into a reply in the same buffer: data aliases
  // the tail of out.
  Bytes buffer = echo_request_icmp();
  Icmpv4Repr repr{.type = icmp_type::kEchoReply,
                  .ident = 0xbeef,
                  .seq = 1,
                  .data = std::span(buffer).subspan(Icmpv4Packet::kHeaderLen)};
  repr.emit(buffer);
  EXPECT_EQ(buffer, to_vector(kEchoReplyIcmp));
}

TEST(Icmpv4Repr, ConstructOddLengthEcho) {
  const uint8_t data[] = {'a', 'b', 'c'};
  Icmpv4Repr repr{.type = icmp_type::kEchoRequest, .ident = 0x0102, .seq = 0xfffe, .data = data};
  Bytes out = emit(repr);
  EXPECT_EQ(out, to_vector(kOddEchoRequestIcmp));
  auto packet = Icmpv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Icmpv4Packet, DeconstructFragNeeded) {
  auto packet = Icmpv4Packet::parse(kFragNeededIcmp);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmp_type::kDestUnreachable);
  EXPECT_EQ(packet->code(), icmp_unreach::kFragNeeded);
  EXPECT_EQ(packet->next_hop_mtu(), 1400);
  EXPECT_EQ(to_vector(packet->data()), to_vector(quoted()));
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Icmpv4Repr, ConstructFragNeeded) {
  // RFC 1191 §4: unused(16) then next-hop MTU(16).
  Icmpv4Repr repr{
      .type = icmp_type::kDestUnreachable, .code = icmp_unreach::kFragNeeded, .next_hop_mtu = 1400, .data = quoted()};
  EXPECT_EQ(emit(repr), to_vector(kFragNeededIcmp));
}

TEST(Icmpv4Repr, ConstructPortUnreachableIgnoresEchoFields) {
  Icmpv4Repr repr{.type = icmp_type::kDestUnreachable,
                  .code = icmp_unreach::kPort,
                  .ident = 0xbeef,
                  .seq = 0x1234,
                  .data = quoted()};
  EXPECT_EQ(emit(repr), to_vector(kPortUnreachableIcmp));
}

TEST(Icmpv4Repr, ConstructTimeExceededZeroesTheRestField) {
  Icmpv4Repr repr{.type = icmp_type::kTimeExceeded,
                  .code = 0,
                  .ident = 0xbeef,
                  .seq = 0x1234,
                  .next_hop_mtu = 1400,
                  .data = quoted()};
  EXPECT_EQ(emit(repr), to_vector(kTimeExceededIcmp));
}

TEST(Icmpv4Packet, DeconstructParameterProblem) {
  auto packet = Icmpv4Packet::parse(kParameterProblemIcmp);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->type(), icmp_type::kParameterProblem);
  EXPECT_EQ(packet->pointer(), 8);  // the quoted header's TTL
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Icmpv4Packet, TruncatedHeaderRejected) {
  for (size_t len = 0; len < Icmpv4Packet::kHeaderLen; ++len) {
    EXPECT_FALSE(Icmpv4Packet::parse(first_bytes(echo_request_icmp(), len))) << "len " << len;
  }
}

TEST(Icmpv4Packet, HeaderOnlyHasNoData) {
  Icmpv4Repr repr{.type = icmp_type::kEchoRequest, .ident = 1, .seq = 2, .data = {}};
  Bytes out = emit(repr);
  auto packet = Icmpv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->data().empty());
  EXPECT_TRUE(packet->verify_checksum());
}

TEST(Icmpv4Packet, BadChecksumRejected) {
  for (size_t offset : {0u, 1u, 2u, 5u, 7u, 8u, 39u}) {
    Bytes bytes = echo_request_icmp();
    bytes[offset] ^= 0x10;
    auto packet = Icmpv4Packet::parse(bytes);
    ASSERT_TRUE(packet);
    EXPECT_FALSE(packet->verify_checksum()) << "offset " << offset;
  }
}

TEST(Icmpv4Packet, ChecksumCoversOnlyTheGivenBytes) {
  // The caller passes the IPv4 payload; trailing padding is not summed.
  Bytes padded = echo_request_icmp();
  size_t len = padded.size();
  padded.insert(padded.end(), {0xff, 0x01});
  auto packet = Icmpv4Packet::parse(std::span(padded).first(len));
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->bytes().size(), len);
  EXPECT_TRUE(packet->verify_checksum());
}

}  // namespace
}  // namespace dpdkudp::wire
